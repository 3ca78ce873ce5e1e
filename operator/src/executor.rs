//! Executors: what turns a task's payload into a result.
//!
//! One small trait ([`Executor`]) with four kinds, chosen per task kind in the config:
//!
//! - `exec`: runs a command with the payload on stdin; the result is its stdout. A timeout, an
//!   output-size limit, and a non-zero exit are failures.
//! - `http`: POSTs the payload to a URL; the result is the response body (2xx only).
//! - `sha256`: the SHA-256 of the payload (Exact tasks; demos and tests).
//! - `echo`: the payload itself (tests and demos; for a Numeric task the payload is the number).
//!
//! The executor's output is text or bytes; [`encode_result`] turns it into the bytes the chain
//! expects: an Exact result as is (at most `max_result_bytes`), a Numeric result parsed as a
//! decimal number and encoded with the task's scale by the client's codec. A failure of any kind
//! is a missed duty: the agent never commits a result it did not get.

use std::process::Stdio;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{anyhow, bail, Context, Result};
use async_trait::async_trait;
use nodeop_app::crypto::sha256;
use nodeop_app::modules::tasks::{TaskKind, TaskPayload};
use serde::{Deserialize, Serialize};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// A task handed to an executor.
#[derive(Clone, Debug)]
pub struct Job {
    pub task_id: u64,
    pub kind: TaskKind,
    pub payload: Vec<u8>,
}

#[async_trait]
pub trait Executor: Send + Sync {
    /// A short name for logs and metrics.
    fn name(&self) -> String;
    /// The raw output for `job` (before [`encode_result`]).
    async fn execute(&self, job: &Job) -> Result<Vec<u8>>;
}

/// An executor's configuration (`[executors.exact]`, `[executors.numeric]`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum ExecutorConfig {
    Exec {
        /// Program and arguments.
        command: Vec<String>,
        #[serde(default = "default_timeout_ms")]
        timeout_ms: u64,
        #[serde(default = "default_max_output")]
        max_output_bytes: usize,
        /// Drop one trailing newline from stdout (most programs print one).
        #[serde(default = "yes")]
        trim_newline: bool,
    },
    Http {
        url: String,
        #[serde(default = "default_timeout_ms")]
        timeout_ms: u64,
        #[serde(default = "default_max_output")]
        max_output_bytes: usize,
    },
    Sha256,
    Echo,
}

fn default_timeout_ms() -> u64 {
    5_000
}
fn default_max_output() -> usize {
    1_024
}
fn yes() -> bool {
    true
}

pub fn build(config: &ExecutorConfig) -> Result<Arc<dyn Executor>> {
    Ok(match config.clone() {
        ExecutorConfig::Exec {
            command,
            timeout_ms,
            max_output_bytes,
            trim_newline,
        } => {
            if command.is_empty() {
                bail!("an exec executor needs a command");
            }
            Arc::new(ExecExecutor {
                command,
                timeout: Duration::from_millis(timeout_ms),
                max_output_bytes,
                trim_newline,
            })
        }
        ExecutorConfig::Http {
            url,
            timeout_ms,
            max_output_bytes,
        } => Arc::new(HttpExecutor {
            client: http_client(Duration::from_millis(timeout_ms))?,
            url,
            max_output_bytes,
        }),
        ExecutorConfig::Sha256 => Arc::new(Sha256Executor),
        ExecutorConfig::Echo => Arc::new(EchoExecutor),
    })
}

pub fn http_client(timeout: Duration) -> Result<reqwest::Client> {
    reqwest::Client::builder()
        .timeout(timeout)
        .build()
        .context("building an HTTP client")
}

pub struct ExecExecutor {
    pub command: Vec<String>,
    pub timeout: Duration,
    pub max_output_bytes: usize,
    pub trim_newline: bool,
}

#[async_trait]
impl Executor for ExecExecutor {
    fn name(&self) -> String {
        format!("exec:{}", self.command[0])
    }

    async fn execute(&self, job: &Job) -> Result<Vec<u8>> {
        let mut child = tokio::process::Command::new(&self.command[0])
            .args(&self.command[1..])
            .env("NODEOP_TASK_ID", job.task_id.to_string())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .with_context(|| format!("starting {:?}", self.command))?;
        let mut stdin = child.stdin.take().context("the child's stdin")?;
        let mut stdout = child.stdout.take().context("the child's stdout")?;
        let mut stderr = child.stderr.take().context("the child's stderr")?;
        let payload = job.payload.clone();
        let limit = self.max_output_bytes;
        let run = async move {
            // a program that does not read its stdin must not block us
            let write = async move {
                let _ = stdin.write_all(&payload).await;
                drop(stdin);
            };
            let read = async move {
                let mut out = Vec::new();
                (&mut stdout)
                    .take(limit as u64 + 2)
                    .read_to_end(&mut out)
                    .await
                    .map(|_| out)
            };
            let read_err = async move {
                let mut err = Vec::new();
                let _ = (&mut stderr).take(4096).read_to_end(&mut err).await;
                err
            };
            let ((), out, err) = tokio::join!(write, read, read_err);
            let status = child.wait().await;
            (out, err, status)
        };
        let (out, err, status) = tokio::time::timeout(self.timeout, run)
            .await
            .map_err(|_| anyhow!("timed out after {} ms", self.timeout.as_millis()))?;
        let mut out = out.context("reading stdout")?;
        let status = status.context("waiting for the command")?;
        if !status.success() {
            bail!(
                "exited with {status}; stderr: {}",
                String::from_utf8_lossy(&err).trim()
            );
        }
        if self.trim_newline && out.last() == Some(&b'\n') {
            out.pop();
            if out.last() == Some(&b'\r') {
                out.pop();
            }
        }
        if out.len() > self.max_output_bytes {
            bail!(
                "printed more than max_output_bytes = {} bytes",
                self.max_output_bytes
            );
        }
        Ok(out)
    }
}

pub struct HttpExecutor {
    pub client: reqwest::Client,
    pub url: String,
    pub max_output_bytes: usize,
}

#[async_trait]
impl Executor for HttpExecutor {
    fn name(&self) -> String {
        format!("http:{}", self.url)
    }

    async fn execute(&self, job: &Job) -> Result<Vec<u8>> {
        let resp = self
            .client
            .post(&self.url)
            .header("x-nodeop-task-id", job.task_id.to_string())
            .body(job.payload.clone())
            .send()
            .await
            .map_err(|e| anyhow!("POST {}: {e}", self.url))?;
        if !resp.status().is_success() {
            bail!("POST {} answered {}", self.url, resp.status());
        }
        let body = resp
            .bytes()
            .await
            .map_err(|e| anyhow!("reading the answer of {}: {e}", self.url))?;
        if body.len() > self.max_output_bytes {
            bail!(
                "the answer is {} bytes, above max_output_bytes = {}",
                body.len(),
                self.max_output_bytes
            );
        }
        Ok(body.to_vec())
    }
}

pub struct Sha256Executor;

#[async_trait]
impl Executor for Sha256Executor {
    fn name(&self) -> String {
        "sha256".into()
    }

    async fn execute(&self, job: &Job) -> Result<Vec<u8>> {
        match job.kind {
            TaskKind::Exact => Ok(sha256(&[&job.payload]).to_vec()),
            TaskKind::Numeric { .. } => {
                bail!("the sha256 executor answers Exact tasks only")
            }
        }
    }
}

pub struct EchoExecutor;

#[async_trait]
impl Executor for EchoExecutor {
    fn name(&self) -> String {
        "echo".into()
    }

    async fn execute(&self, job: &Job) -> Result<Vec<u8>> {
        Ok(job.payload.clone())
    }
}

/// The result bytes the chain expects for an executor's output.
pub fn encode_result(kind: &TaskKind, output: &[u8], max_result_bytes: u32) -> Result<Vec<u8>> {
    match kind {
        TaskKind::Exact => {
            if output.is_empty() {
                bail!("the executor returned an empty result");
            }
            if output.len() > max_result_bytes as usize {
                bail!(
                    "the result is {} bytes; the chain accepts at most {max_result_bytes}",
                    output.len()
                );
            }
            Ok(output.to_vec())
        }
        TaskKind::Numeric { scale, .. } => {
            let text = std::str::from_utf8(output)
                .map_err(|_| anyhow!("a Numeric result must be a decimal number in text"))?;
            Ok(nodeop_client::tasks::codec::encode_numeric(text.trim(), *scale)?.to_vec())
        }
    }
}

/// The payload bytes of a task: inline, or fetched from its reference and checked against the
/// SHA-256 the task names. `file://` and `http(s)://` references are supported.
pub async fn fetch_payload(payload: &TaskPayload, max_bytes: usize) -> Result<Vec<u8>> {
    match payload {
        TaskPayload::Inline(bytes) => Ok(bytes.clone()),
        TaskPayload::Reference { sha256: want, uri } => {
            let bytes = if let Some(path) = uri.strip_prefix("file://") {
                tokio::fs::read(path)
                    .await
                    .with_context(|| format!("reading the payload {uri}"))?
            } else if uri.starts_with("http://") || uri.starts_with("https://") {
                let resp = http_client(Duration::from_secs(10))?
                    .get(uri)
                    .send()
                    .await
                    .map_err(|e| anyhow!("fetching the payload {uri}: {e}"))?;
                if !resp.status().is_success() {
                    bail!("fetching the payload {uri}: {}", resp.status());
                }
                resp.bytes()
                    .await
                    .map_err(|e| anyhow!("reading the payload {uri}: {e}"))?
                    .to_vec()
            } else {
                bail!("payload URI {uri:?}: only file://, http:// and https:// are fetched");
            };
            if bytes.len() > max_bytes {
                bail!(
                    "the payload at {uri} is {} bytes, above the configured limit {max_bytes}",
                    bytes.len()
                );
            }
            let got = sha256(&[&bytes]);
            if got != *want {
                bail!(
                    "the payload at {uri} has SHA-256 {}, the task names {}: refused, not executed",
                    hex::encode(got),
                    hex::encode(want)
                );
            }
            Ok(bytes)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn job(payload: &[u8]) -> Job {
        Job {
            task_id: 7,
            kind: TaskKind::Exact,
            payload: payload.to_vec(),
        }
    }

    fn exec(cmd: &[&str], timeout_ms: u64, max: usize) -> ExecExecutor {
        ExecExecutor {
            command: cmd.iter().map(|s| s.to_string()).collect(),
            timeout: Duration::from_millis(timeout_ms),
            max_output_bytes: max,
            trim_newline: true,
        }
    }

    #[tokio::test]
    async fn exec_reads_stdin_and_returns_stdout() {
        let e = exec(&["sh", "-c", "tr a-z A-Z"], 5_000, 100);
        assert_eq!(e.execute(&job(b"hello")).await.unwrap(), b"HELLO");
        let e = exec(&["sh", "-c", "echo task $NODEOP_TASK_ID"], 5_000, 100);
        assert_eq!(e.execute(&job(b"")).await.unwrap(), b"task 7");
    }

    #[tokio::test]
    async fn exec_failures_are_errors() {
        let slow = exec(&["sleep", "5"], 200, 100);
        let err = slow.execute(&job(b"x")).await.unwrap_err();
        assert!(err.to_string().contains("timed out"), "{err}");
        let big = exec(&["sh", "-c", "head -c 500 /dev/zero"], 5_000, 100);
        let err = big.execute(&job(b"")).await.unwrap_err();
        assert!(err.to_string().contains("max_output_bytes"), "{err}");
        let fails = exec(&["sh", "-c", "echo broken >&2; exit 3"], 5_000, 100);
        let err = fails.execute(&job(b"")).await.unwrap_err();
        assert!(err.to_string().contains("broken"), "{err}");
    }

    #[test]
    fn numeric_results_use_the_task_scale() {
        let kind = TaskKind::Numeric {
            scale: 2,
            tolerance_ppm: 0,
        };
        assert_eq!(
            encode_result(&kind, b" 12.34\n", 1024).unwrap(),
            1234i64.to_be_bytes()
        );
        assert!(encode_result(&kind, b"twelve", 1024).is_err());
        assert!(encode_result(&TaskKind::Exact, &[1; 11], 10).is_err());
    }

    #[tokio::test]
    async fn a_reference_payload_is_checked_before_use() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("payload");
        std::fs::write(&path, b"the real payload").unwrap();
        let uri = format!("file://{}", path.display());
        let good = TaskPayload::Reference {
            sha256: sha256(&[b"the real payload"]),
            uri: uri.clone(),
        };
        assert_eq!(
            fetch_payload(&good, 1000).await.unwrap(),
            b"the real payload"
        );
        let bad = TaskPayload::Reference {
            sha256: sha256(&[b"another payload"]),
            uri,
        };
        let err = fetch_payload(&bad, 1000).await.unwrap_err();
        assert!(err.to_string().contains("refused"), "{err}");
    }
}
