//! The root user's access key: from the environment or flags, else the config file, else the
//! data directory's `root-credentials` file, else created on first start (printed once on
//! stderr and stored in that file, mode 0600).

use std::io::Write;
use std::path::Path;

use anyhow::Context;
use flowwatch_engine::RootCredentials;
use flowwatch_security::SecretKey;
use rand::Rng;

/// Name of the file in the data directory holding the generated root key.
pub(crate) const FILE_NAME: &str = "root-credentials";

/// Finds (or creates) the root key. `given` is the pair from flags / environment / config.
pub(crate) fn resolve(
    data_dir: &Path,
    given: (Option<String>, Option<String>),
) -> anyhow::Result<RootCredentials> {
    match given {
        (Some(id), Some(secret)) => {
            anyhow::ensure!(
                !id.is_empty() && !secret.is_empty(),
                "the root access key id and secret must not be empty"
            );
            return Ok(RootCredentials {
                access_key_id: id,
                secret_access_key: SecretKey::new(secret),
            });
        }
        (None, None) => {}
        _ => anyhow::bail!(
            "set both FLOWWATCH_ROOT_ACCESS_KEY_ID and FLOWWATCH_ROOT_SECRET_ACCESS_KEY (or neither)"
        ),
    }
    let path = data_dir.join(FILE_NAME);
    if path.exists() {
        return read(&path);
    }
    let created = generate();
    write(&path, &created)?;
    eprintln!(
        "flowwatch: created the root credentials of this data directory (kept in {}, mode 0600; \
         shown only now):\n  export AWS_ACCESS_KEY_ID={}\n  export AWS_SECRET_ACCESS_KEY={}",
        path.display(),
        created.access_key_id,
        created.secret_access_key.expose()
    );
    Ok(created)
}

fn read(path: &Path) -> anyhow::Result<RootCredentials> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    let mut id = None;
    let mut secret = None;
    for line in text.lines() {
        if let Some((key, value)) = line.split_once('=') {
            match key.trim() {
                "aws_access_key_id" => id = Some(value.trim().to_owned()),
                "aws_secret_access_key" => secret = Some(value.trim().to_owned()),
                _ => {}
            }
        }
    }
    match (id, secret) {
        (Some(id), Some(secret)) if !id.is_empty() && !secret.is_empty() => Ok(RootCredentials {
            access_key_id: id,
            secret_access_key: SecretKey::new(secret),
        }),
        _ => anyhow::bail!(
            "{} must hold aws_access_key_id = ... and aws_secret_access_key = ...",
            path.display()
        ),
    }
}

fn write(path: &Path, credentials: &RootCredentials) -> anyhow::Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options
        .open(path)
        .with_context(|| format!("creating {}", path.display()))?;
    writeln!(
        file,
        "# flowwatch root credentials (the account root: allowed everything)\n\
         [default]\naws_access_key_id = {}\naws_secret_access_key = {}",
        credentials.access_key_id,
        credentials.secret_access_key.expose()
    )
    .and_then(|()| file.sync_all())
    .with_context(|| format!("writing {}", path.display()))
}

/// A new key: `AKIA` and 16 base-32 characters; a 40-character secret.
fn generate() -> RootCredentials {
    const ID: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    const SECRET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut rng = rand::rng();
    let mut pick = |alphabet: &[u8], n: usize| -> String {
        (0..n)
            .map(|_| alphabet[rng.random_range(0..alphabet.len())] as char)
            .collect()
    };
    let id = format!("AKIA{}", pick(ID, 16));
    let secret = pick(SECRET, 40);
    RootCredentials {
        access_key_id: id,
        secret_access_key: SecretKey::new(secret),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn created_once_then_read_back() {
        let dir = tempfile::tempdir().unwrap();
        let first = resolve(dir.path(), (None, None)).unwrap();
        assert!(first.access_key_id.starts_with("AKIA"));
        assert_eq!(first.access_key_id.len(), 20);
        assert_eq!(first.secret_access_key.expose().len(), 40);
        let again = resolve(dir.path(), (None, None)).unwrap();
        assert_eq!(again.access_key_id, first.access_key_id);
        assert_eq!(again.secret_access_key, first.secret_access_key);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(dir.path().join(FILE_NAME))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        let given = resolve(dir.path(), (Some("AKIAX".into()), Some("s".into()))).unwrap();
        assert_eq!(given.access_key_id, "AKIAX");
        assert!(resolve(dir.path(), (Some("AKIAX".into()), None)).is_err());
    }
}
