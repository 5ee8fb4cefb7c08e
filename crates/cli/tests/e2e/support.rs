//! Starting the real server and talking to it with real clients.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

/// A running `flowwatch serve` on 127.0.0.1 with its own data directory.
pub struct Server {
    child: Option<Child>,
    pub endpoint: String,
    pub data_dir: PathBuf,
    _tmp: Option<tempfile::TempDir>,
}

impl Server {
    /// Starts a server on a fresh data directory.
    pub fn start() -> Self {
        let tmp = tempfile::tempdir().expect("tempdir");
        let dir = tmp.path().join("data");
        let mut server = Self::start_in(&dir, &[]);
        server._tmp = Some(tmp);
        server
    }

    /// Starts a server on `data_dir` with extra arguments.
    pub fn start_in(data_dir: &Path, extra: &[&str]) -> Self {
        let mut child = Command::new(binary())
            .args([
                "serve",
                "--listen",
                "127.0.0.1:0",
                "--log",
                "warn",
                "--data-dir",
            ])
            .arg(data_dir)
            .args(extra)
            // The root key is the tests' credentials (`aws_env`).
            .env("FLOWWATCH_ROOT_ACCESS_KEY_ID", ACCESS_KEY_ID)
            .env("FLOWWATCH_ROOT_SECRET_ACCESS_KEY", SECRET_ACCESS_KEY)
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start flowwatch");
        let stdout = child.stdout.take().expect("stdout");
        let mut lines = BufReader::new(stdout).lines();
        let deadline = Instant::now() + Duration::from_secs(60);
        let endpoint = loop {
            assert!(Instant::now() < deadline, "flowwatch did not start");
            match lines.next() {
                Some(Ok(line)) => {
                    if let Some(url) = line.strip_prefix("flowwatch listening on ") {
                        break url.trim().to_owned();
                    }
                }
                _ => panic!("flowwatch exited before listening"),
            }
        };
        // Keep draining stdout so the server never blocks on a full pipe.
        std::thread::spawn(move || for _ in lines {});
        Self {
            child: Some(child),
            endpoint,
            data_dir: data_dir.to_owned(),
            _tmp: None,
        }
    }

    /// Kills the server with SIGKILL (no flush, no goodbye).
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Stops the server with SIGTERM and waits for its graceful shutdown.
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = Command::new("kill")
                .args(["-TERM", &child.id().to_string()])
                .status();
            let status = child.wait().expect("wait");
            assert!(status.success(), "graceful shutdown failed: {status}");
        }
    }

    /// Runs `aws <args> --endpoint-url ...` and returns its exit status, stdout (as JSON when it
    /// parses) and stderr.
    pub fn aws(&self, args: &[&str]) -> AwsOutput {
        self.aws_with(&[], args)
    }

    /// Runs `aws ...` with some of `aws_env` replaced (other credentials, say).
    pub fn aws_with(&self, env: &[(&str, &str)], args: &[&str]) -> AwsOutput {
        let output = Command::new("aws")
            .args(args)
            .args(["--endpoint-url", &self.endpoint, "--output", "json"])
            .envs(aws_env())
            .envs(env.iter().copied())
            .output()
            .expect("run the aws CLI (pip install awscli)");
        let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
        AwsOutput {
            success: output.status.success(),
            json: serde_json::from_str(&stdout).unwrap_or(Value::Null),
            stdout,
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        }
    }

    /// Runs `aws ...` and fails the test unless it succeeds.
    pub fn aws_ok(&self, args: &[&str]) -> Value {
        let out = self.aws(args);
        assert!(out.success, "aws {args:?} failed: {}", out.stderr);
        out.json
    }

    /// Creates role `name` with the VPC Flow Logs user guide's trust policy and permissions
    /// (`fixtures/flow-logs-*.json`, verbatim but for the account and region) through the aws
    /// CLI, and returns its ARN: what a flow log delivering to CloudWatch Logs needs.
    pub fn flow_logs_role(&self, name: &str) -> String {
        let trust = format!("file://{}", fixture("flow-logs-trust.json").display());
        let permissions = format!("file://{}", fixture("flow-logs-permissions.json").display());
        let role = self.aws_ok(&[
            "iam",
            "create-role",
            "--role-name",
            name,
            "--assume-role-policy-document",
            &trust,
        ]);
        self.aws_ok(&[
            "iam",
            "put-role-policy",
            "--role-name",
            name,
            "--policy-name",
            "flow-logs-delivery",
            "--policy-document",
            &permissions,
        ]);
        role["Role"]["Arn"].as_str().expect("role ARN").to_owned()
    }

    /// Runs `aws ...`, expects it to fail with `code`, and returns the message.
    pub fn aws_err(&self, args: &[&str], code: &str) -> String {
        let out = self.aws(args);
        assert!(!out.success, "aws {args:?} should have failed");
        assert!(
            out.stderr.contains(&format!("({code})")),
            "aws {args:?}: expected {code}, got {}",
            out.stderr
        );
        out.stderr
    }

    /// Runs a Python script with boto3 pointed at the server; the script exits non-zero on
    /// failure.
    pub fn python(&self, script: &str) {
        let output = Command::new("python3")
            .arg("-c")
            .arg(script)
            .env("FLOWWATCH_ENDPOINT", &self.endpoint)
            .envs(aws_env())
            .output()
            .expect("run python3");
        assert!(
            output.status.success(),
            "python failed:\n{}\n{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
    }
}

/// The `flowwatch` binary under test: `FLOWWATCH_BIN` when set (an installed build, or a copy
/// taken when several worktrees share one target directory), else the one cargo built.
pub fn binary() -> PathBuf {
    std::env::var_os("FLOWWATCH_BIN")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_BIN_EXE_flowwatch")))
}

impl Drop for Server {
    fn drop(&mut self) {
        self.kill();
    }
}

/// The root access key every test server starts with.
pub const ACCESS_KEY_ID: &str = "AKIAFLOWWATCHTEST";
/// Its secret.
pub const SECRET_ACCESS_KEY: &str = "flowwatch-test-secret";

/// Signs a raw request for real (SigV4 with the tests' root key) just before it is sent.
pub trait SignExt {
    /// Signs with every header the request has, for the service its protocol names (Logs for
    /// `Logs_20140328.*` targets, SNS for `Version=2010-03-31` forms, else CloudWatch).
    fn signed(self) -> Self;
    /// The same with another secret, a chosen timestamp and service.
    fn signed_as(self, secret: &str, time: chrono::DateTime<chrono::Utc>) -> Self;
}

impl SignExt for reqwest::RequestBuilder {
    fn signed(self) -> Self {
        self.signed_as(SECRET_ACCESS_KEY, chrono::Utc::now())
    }

    fn signed_as(self, secret: &str, time: chrono::DateTime<chrono::Utc>) -> Self {
        let (client, request) = self.build_split();
        let mut request = request.expect("a request to sign");
        let url = request.url().clone();
        let amz_date = time.format("%Y%m%dT%H%M%SZ").to_string();
        request
            .headers_mut()
            .insert("x-amz-date", amz_date.parse().expect("date"));
        let body = request
            .body()
            .and_then(|b| b.as_bytes())
            .unwrap_or_default()
            .to_vec();
        let host = match url.port() {
            Some(port) => format!("{}:{port}", url.host_str().unwrap_or_default()),
            None => url.host_str().unwrap_or_default().to_owned(),
        };
        let mut headers = vec![("host".to_owned(), host)];
        headers.extend(request.headers().iter().map(|(n, v)| {
            (
                n.as_str().to_owned(),
                String::from_utf8_lossy(v.as_bytes()).into_owned(),
            )
        }));
        let target = request
            .headers()
            .get("x-amz-target")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default();
        let query = url.query().unwrap_or_default();
        let service = if target.starts_with("Logs_") {
            "logs"
        } else if [query.as_bytes(), &body]
            .iter()
            .any(|t| String::from_utf8_lossy(t).contains("Version=2010-03-31"))
        {
            "sns"
        } else {
            "monitoring"
        };
        let hash = flowwatch_security::sigv4::sha256_hex(&body);
        let signable = flowwatch_security::sigv4::Request {
            method: request.method().as_str(),
            path: url.path(),
            query,
            headers: &headers,
            body_sha256: &hash,
        };
        let auth =
            flowwatch_security::sigv4::sign(&signable, ACCESS_KEY_ID, secret, "us-east-1", service);
        request
            .headers_mut()
            .insert("authorization", auth.parse().expect("authorization"));
        reqwest::RequestBuilder::from_parts(client, request)
    }
}

/// Credentials and region for real clients; nothing leaves 127.0.0.1.
pub fn aws_env() -> Vec<(&'static str, &'static str)> {
    vec![
        ("AWS_ACCESS_KEY_ID", ACCESS_KEY_ID),
        ("AWS_SECRET_ACCESS_KEY", SECRET_ACCESS_KEY),
        ("AWS_DEFAULT_REGION", "us-east-1"),
        ("AWS_REGION", "us-east-1"),
        ("AWS_CONFIG_FILE", "/dev/null"),
        ("AWS_SHARED_CREDENTIALS_FILE", "/dev/null"),
        ("AWS_EC2_METADATA_DISABLED", "true"),
        ("AWS_PAGER", ""),
    ]
}

/// What one aws CLI run printed.
#[derive(Debug)]
pub struct AwsOutput {
    pub success: bool,
    pub json: Value,
    #[allow(dead_code, reason = "shown when a test fails")]
    pub stdout: String,
    pub stderr: String,
}

/// Now in epoch milliseconds.
pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock")
        .as_millis() as i64
}

/// A file of `tests/e2e/fixtures`.
pub fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/e2e/fixtures")
        .join(name)
}
