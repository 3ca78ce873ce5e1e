//! Structured logs with `tracing`, to stderr: `text` for people, `json` (one object per line)
//! for collectors. The filter comes from RUST_LOG when set, else `--log-level`, else app.toml.

use anyhow::{Context, Result};
use tracing_subscriber::EnvFilter;

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum LogFormat {
    Text,
    Json,
}

impl std::str::FromStr for LogFormat {
    type Err = anyhow::Error;
    fn from_str(s: &str) -> Result<Self> {
        match s {
            "text" | "plain" => Ok(Self::Text),
            "json" => Ok(Self::Json),
            other => anyhow::bail!("log format {other:?}: use text or json"),
        }
    }
}

pub fn init(level: &str, format: LogFormat) -> Result<()> {
    let filter = match std::env::var("RUST_LOG") {
        Ok(v) if !v.trim().is_empty() => {
            EnvFilter::try_new(&v).with_context(|| format!("RUST_LOG={v:?} is not a filter"))?
        }
        _ => EnvFilter::try_new(level)
            .with_context(|| format!("log level {level:?}: use error|warn|info|debug|trace"))?,
    };
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    let result = match format {
        LogFormat::Json => builder.json().flatten_event(true).try_init(),
        LogFormat::Text => builder.try_init(),
    };
    result.map_err(|e| anyhow::anyhow!("cannot install the logger: {e}"))
}
