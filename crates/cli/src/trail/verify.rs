//! The digest-chain walk of `flowwatch trail verify` (spec `cloudtrail-iam.md` B.3).
//!
//! Per region, the trail's digests are taken newest first. From each digest not reached yet
//! the chain is followed through `previousDigestS3Object`: each digest is checked (its
//! signature over the string to sign, with the public key its fingerprint names; its key and
//! bucket; and that the newer digest's `previousDigestHashValue` and `previousDigestSignature`
//! are its SHA-256 and signature), and so is every log file it lists (SHA-256 of the
//! uncompressed bytes). A link to a digest that is not there is reported missing; the walk
//! goes on from the next older digest. A null link is the chain's start.

use std::collections::{BTreeMap, HashSet};
use std::fmt::Write as _;
use std::io::Read;
use std::path::{Path, PathBuf};

use anyhow::Context;
use flowwatch_security::trail_files::{
    self, DigestFile, fingerprint, parse_digest_name, sha256_hex, verify_signature,
};
use flowwatch_storage::SIGNATURE_SUFFIX;

/// Largest uncompressed file read (a digest or a log file).
const MAX_FILE_BYTES: u64 = 1 << 30;

/// The directory `prefix` names inside the bucket directory.
pub(super) fn under_prefix(dir: &Path, prefix: &str) -> PathBuf {
    prefix
        .split('/')
        .filter(|p| !p.is_empty())
        .fold(dir.to_owned(), |d, p| d.join(p))
}

/// The names of the directories in `dir`, sorted (none when `dir` does not exist).
pub(super) fn subdirs(dir: &Path) -> anyhow::Result<Vec<String>> {
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(e).with_context(|| format!("reading {}", dir.display())),
    };
    let mut names = Vec::new();
    for entry in entries {
        let entry = entry.with_context(|| format!("reading {}", dir.display()))?;
        if entry.file_type().is_ok_and(|t| t.is_dir()) {
            names.push(entry.file_name().to_string_lossy().into_owned());
        }
    }
    names.sort();
    Ok(names)
}

/// Every file under `dir`, recursively.
fn files_under(dir: &Path, out: &mut Vec<PathBuf>) -> anyhow::Result<()> {
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(e).with_context(|| format!("reading {}", dir.display())),
    };
    for entry in entries {
        let entry = entry.with_context(|| format!("reading {}", dir.display()))?;
        let path = entry.path();
        if entry.file_type().is_ok_and(|t| t.is_dir()) {
            files_under(&path, out)?;
        } else {
            out.push(path);
        }
    }
    Ok(())
}

/// What was found, file by file.
#[derive(Debug, Default)]
pub(crate) struct Report {
    digests_valid: usize,
    digests_invalid: usize,
    digests_missing: usize,
    logs_valid: usize,
    logs_invalid: usize,
    logs_missing: usize,
    oldest_ms: Option<i64>,
    newest_ms: Option<i64>,
}

impl Report {
    pub(crate) fn all_valid(&self) -> bool {
        self.digests_invalid + self.digests_missing + self.logs_invalid + self.logs_missing == 0
    }

    pub(crate) fn summary(&self) -> String {
        let mut out = String::new();
        let window = match (self.oldest_ms, self.newest_ms) {
            (Some(o), Some(n)) => format!(
                "{} to {}",
                trail_files::time_text(o),
                trail_files::time_text(n)
            ),
            _ => "no digest files".to_owned(),
        };
        let _ = writeln!(out, "Results found for {window}:\n");
        let line = |kind: &str, valid: usize, invalid: usize, missing: usize| {
            let total = valid + invalid + missing;
            let mut line = format!("{valid}/{total} {kind} files valid");
            if invalid > 0 {
                let _ = write!(line, ", {invalid}/{total} {kind} files INVALID");
            }
            if missing > 0 {
                let _ = write!(line, ", {missing}/{total} {kind} files MISSING");
            }
            line
        };
        let _ = writeln!(
            out,
            "{}",
            line(
                "digest",
                self.digests_valid,
                self.digests_invalid,
                self.digests_missing
            )
        );
        let _ = writeln!(
            out,
            "{}",
            line("log", self.logs_valid, self.logs_invalid, self.logs_missing)
        );
        out
    }
}

/// How a file turned out.
enum Verdict {
    Valid,
    Invalid(String),
    Missing,
}

/// What one region's check needs.
pub(crate) struct Checker<'a> {
    pub(crate) dir: &'a Path,
    pub(crate) bucket: &'a str,
    pub(crate) account: &'a str,
    pub(crate) trail: &'a str,
    /// DER PKCS#1 public keys.
    pub(crate) keys: &'a [Vec<u8>],
    pub(crate) start_ms: i64,
    pub(crate) end_ms: i64,
    pub(crate) verbose: bool,
}

/// What a newer digest says of the one before it.
struct Link {
    hash: Option<String>,
    signature: Option<String>,
}

impl Checker<'_> {
    fn location(&self, key: &str) -> String {
        format!("s3://{}/{key}", self.bucket)
    }

    fn print(&self, kind: &str, key: &str, verdict: &Verdict) {
        match verdict {
            Verdict::Valid if self.verbose => println!("{kind}\t{}\tvalid", self.location(key)),
            Verdict::Valid => {}
            Verdict::Invalid(why) => println!("{kind}\t{}\tINVALID: {why}", self.location(key)),
            Verdict::Missing => println!("{kind}\t{}\tINVALID: not found", self.location(key)),
        }
    }

    /// The local path of `key`, unless the key leaves the bucket directory.
    fn path_of(&self, key: &str) -> Option<PathBuf> {
        let parts: Vec<&str> = key.split('/').collect();
        if parts
            .iter()
            .any(|p| p.is_empty() || *p == "." || *p == "..")
        {
            return None;
        }
        Some(parts.iter().fold(self.dir.to_owned(), |d, p| d.join(p)))
    }

    /// The key of a file under the bucket directory.
    fn key_of(&self, path: &Path) -> Option<String> {
        let rel = path.strip_prefix(self.dir).ok()?;
        let parts: Vec<String> = rel
            .components()
            .map(|c| c.as_os_str().to_string_lossy().into_owned())
            .collect();
        Some(parts.join("/"))
    }

    /// Checks the digests of one region (`digest_dir` is `…/CloudTrail-Digest/<region>`).
    pub(crate) fn check_region(
        &self,
        digest_dir: &Path,
        region: &str,
        report: &mut Report,
    ) -> anyhow::Result<()> {
        let mut files = Vec::new();
        files_under(digest_dir, &mut files)?;
        // Newest first: by end time, then key.
        let mut digests: BTreeMap<(i64, String), ()> = BTreeMap::new();
        for path in files {
            let Some(name) = path.file_name().and_then(|n| n.to_str()) else {
                continue;
            };
            let Some((trail, _home, end)) = parse_digest_name(name, self.account, region) else {
                continue;
            };
            if trail == self.trail
                && (self.start_ms..=self.end_ms).contains(&end)
                && let Some(key) = self.key_of(&path)
            {
                digests.insert((end, key), ());
            }
        }
        let mut visited = HashSet::new();
        for (end, key) in digests.keys().rev() {
            if visited.contains(key) {
                continue;
            }
            self.follow(key.clone(), *end, None, &mut visited, report)?;
        }
        Ok(())
    }

    /// Follows a chain from `key` (reached through `link`, from a newer digest).
    fn follow(
        &self,
        mut key: String,
        mut end_ms: i64,
        mut link: Option<Link>,
        visited: &mut HashSet<String>,
        report: &mut Report,
    ) -> anyhow::Result<()> {
        loop {
            if !visited.insert(key.clone()) {
                return Ok(());
            }
            report.oldest_ms = Some(report.oldest_ms.map_or(end_ms, |o| o.min(end_ms)));
            report.newest_ms = Some(report.newest_ms.map_or(end_ms, |n| n.max(end_ms)));
            let Some(bytes) = self.path_of(&key).and_then(|p| read_gz(&p).transpose()) else {
                self.print("Digest file", &key, &Verdict::Missing);
                report.digests_missing += 1;
                return Ok(());
            };
            let (verdict, digest) = match bytes {
                Ok(bytes) => self.check_digest(&key, &bytes, link.as_ref()),
                Err(why) => (Verdict::Invalid(why), None),
            };
            self.print("Digest file", &key, &verdict);
            match verdict {
                Verdict::Valid => report.digests_valid += 1,
                _ => report.digests_invalid += 1,
            }
            let Some(digest) = digest else {
                return Ok(());
            };
            for file in &digest.log_files {
                let verdict = self.check_log_file(file);
                self.print("Log file", &file.s3_object, &verdict);
                match verdict {
                    Verdict::Valid => report.logs_valid += 1,
                    Verdict::Invalid(_) => report.logs_invalid += 1,
                    Verdict::Missing => report.logs_missing += 1,
                }
            }
            let Some(previous) = digest.previous_digest_s3_object.clone() else {
                return Ok(()); // the chain's start
            };
            let previous_end = previous
                .rsplit('/')
                .next()
                .and_then(|name| {
                    let region = previous.split('/').rev().nth(4)?;
                    parse_digest_name(name, self.account, region)
                })
                .map(|(_, _, end)| end);
            match previous_end {
                Some(e) if e < self.start_ms => return Ok(()), // before the range asked for
                Some(e) => end_ms = e,
                None => {}
            }
            if digest
                .previous_digest_s3_bucket
                .as_deref()
                .is_some_and(|b| b != self.bucket)
            {
                println!(
                    "Digest file\ts3://{}/{previous}\tnot checked: in another bucket",
                    digest
                        .previous_digest_s3_bucket
                        .as_deref()
                        .unwrap_or_default()
                );
                return Ok(());
            }
            link = Some(Link {
                hash: digest.previous_digest_hash_value.clone(),
                signature: digest.previous_digest_signature.clone(),
            });
            key = previous;
        }
    }

    /// Checks one digest's bytes; returns the verdict and the digest when it parses.
    fn check_digest(
        &self,
        key: &str,
        bytes: &[u8],
        link: Option<&Link>,
    ) -> (Verdict, Option<DigestFile>) {
        let digest: DigestFile = match serde_json::from_slice(bytes) {
            Ok(d) => d,
            Err(e) => return (Verdict::Invalid(format!("not a digest file: {e}")), None),
        };
        let verdict = self.digest_verdict(key, &digest, &sha256_hex(bytes), link);
        (verdict, Some(digest))
    }

    /// Whether a parsed digest, whose uncompressed bytes hash to `hash`, is valid.
    fn digest_verdict(
        &self,
        key: &str,
        digest: &DigestFile,
        hash: &str,
        link: Option<&Link>,
    ) -> Verdict {
        let invalid = |why: &str| Verdict::Invalid(why.to_owned());
        if let Some(link) = link
            && link.hash.as_deref() != Some(hash)
        {
            return invalid("hash value doesn't match the next digest's previousDigestHashValue");
        }
        if digest.digest_s3_object != key || digest.digest_s3_bucket != self.bucket {
            return invalid(&format!(
                "digest names another location (s3://{}/{})",
                digest.digest_s3_bucket, digest.digest_s3_object
            ));
        }
        let Some(signature) = self.path_of(key).and_then(|p| {
            std::fs::read_to_string(format!("{}{SIGNATURE_SUFFIX}", p.display())).ok()
        }) else {
            return invalid(&format!("signature not found ({key}{SIGNATURE_SUFFIX})"));
        };
        let signature = signature.trim();
        if let Some(link) = link
            && link.signature.as_deref() != Some(signature)
        {
            return invalid("signature doesn't match the next digest's previousDigestSignature");
        }
        let Some(public_key) = self
            .keys
            .iter()
            .find(|k| fingerprint(k) == digest.digest_public_key_fingerprint)
        else {
            return invalid(&format!(
                "no public key with fingerprint {}",
                digest.digest_public_key_fingerprint
            ));
        };
        match verify_signature(public_key, &digest.string_to_sign(hash), signature) {
            Ok(()) => Verdict::Valid,
            Err(e) => invalid(&format!("invalid signature ({e})")),
        }
    }

    fn check_log_file(&self, file: &trail_files::LogFileEntry) -> Verdict {
        if file.s3_bucket != self.bucket {
            return Verdict::Invalid(format!("in another bucket ({})", file.s3_bucket));
        }
        let Some(path) = self.path_of(&file.s3_object) else {
            return Verdict::Invalid("key leaves the bucket".into());
        };
        match read_gz(&path) {
            Ok(None) => Verdict::Missing,
            Err(why) => Verdict::Invalid(why),
            Ok(Some(bytes)) if sha256_hex(&bytes) == file.hash_value => Verdict::Valid,
            Ok(Some(_)) => Verdict::Invalid("hash value doesn't match".into()),
        }
    }
}

/// The uncompressed bytes of a gzip file; `None` when it does not exist.
fn read_gz(path: &Path) -> Result<Option<Vec<u8>>, String> {
    let file = match std::fs::File::open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(format!("not readable: {e}")),
    };
    let mut out = Vec::new();
    flate2::read::GzDecoder::new(file)
        .take(MAX_FILE_BYTES)
        .read_to_end(&mut out)
        .map_err(|e| format!("not gzip: {e}"))?;
    Ok(Some(out))
}

#[cfg(test)]
mod tests;
