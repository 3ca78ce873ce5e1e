//! `genesis_time`: RFC 3339 text ⇄ the app's BFT time.

use nodeop_app::app::BlockTime;
use time::format_description::well_known::Rfc3339;
use time::{OffsetDateTime, UtcOffset};

/// Parses RFC 3339 (with any offset, any fraction up to nanoseconds) into UTC seconds and nanos.
pub fn parse_rfc3339(text: &str) -> Result<BlockTime, String> {
    let t = OffsetDateTime::parse(text, &Rfc3339).map_err(|e| {
        format!("{text:?} is not an RFC 3339 time such as 2026-01-01T00:00:00Z: {e}")
    })?;
    Ok(BlockTime {
        seconds: t.unix_timestamp(),
        nanos: t.nanosecond(),
    })
}

/// Formats as Go's `time.RFC3339Nano` in UTC (what CometBFT writes): trailing zeros of the
/// fraction dropped, no fraction when it is zero.
pub fn format_rfc3339(t: BlockTime) -> Result<String, String> {
    let dt = OffsetDateTime::from_unix_timestamp(t.seconds)
        .map_err(|e| format!("time {}s is out of range: {e}", t.seconds))?
        .replace_nanosecond(t.nanos)
        .map_err(|e| format!("nanoseconds {}: {e}", t.nanos))?
        .to_offset(UtcOffset::UTC);
    let mut out = format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}",
        dt.year(),
        u8::from(dt.month()),
        dt.day(),
        dt.hour(),
        dt.minute(),
        dt.second()
    );
    if t.nanos != 0 {
        let frac = format!("{:09}", t.nanos);
        out.push('.');
        out.push_str(frac.trim_end_matches('0'));
    }
    out.push('Z');
    Ok(out)
}

/// The current time (`nodeopd init`), in RFC 3339.
pub fn now_rfc3339() -> String {
    let now = OffsetDateTime::now_utc();
    let t = BlockTime {
        seconds: now.unix_timestamp(),
        nanos: now.nanosecond(),
    };
    // The clock's time is always in the formattable range.
    format_rfc3339(t).unwrap_or_else(|_| "1970-01-01T00:00:00Z".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_cometbft_times() {
        let t = parse_rfc3339("2026-11-20T22:58:02.882074891Z").unwrap();
        assert_eq!(t.nanos, 882_074_891);
        assert_eq!(format_rfc3339(t).unwrap(), "2026-11-20T22:58:02.882074891Z");
        let t = parse_rfc3339("2026-11-20T23:58:02.5+01:00").unwrap();
        assert_eq!(format_rfc3339(t).unwrap(), "2026-11-20T22:58:02.5Z");
        let t = parse_rfc3339("2024-01-01T00:00:00Z").unwrap();
        assert_eq!(t.seconds, 1_704_067_200);
        assert_eq!(format_rfc3339(t).unwrap(), "2024-01-01T00:00:00Z");
        assert!(parse_rfc3339("2024-01-01").is_err());
        assert!(parse_rfc3339("yesterday").is_err());
        assert!(parse_rfc3339(&now_rfc3339()).is_ok());
    }
}
