//! Times are unix milliseconds in the database (portable across SQLite and
//! PostgreSQL) and RFC 3339 in UTC on the wire. Only the gateway reads the clock:
//! decisions receive `now`, and the store's own timers (audit checkpoints, the key
//! cache) ask the [`TimeSource`] the gateway hands it.

use std::sync::Arc;

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Millis(pub i64);

/// The gateway's clock, as the store sees it.
#[derive(Clone)]
pub struct TimeSource(Arc<dyn Fn() -> Millis + Send + Sync>);

impl TimeSource {
    pub fn new(now: impl Fn() -> Millis + Send + Sync + 'static) -> TimeSource {
        TimeSource(Arc::new(now))
    }

    pub fn now(&self) -> Millis {
        (self.0)()
    }
}

impl std::fmt::Debug for TimeSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TimeSource")
    }
}

impl Millis {
    pub fn plus_secs(self, secs: i64) -> Millis {
        Millis(self.0.saturating_add(secs.saturating_mul(1000)))
    }

    pub fn plus_millis(self, ms: i64) -> Millis {
        Millis(self.0.saturating_add(ms))
    }

    /// RFC 3339 in UTC with millisecond precision, e.g. `2026-11-23T03:40:10.123Z`.
    pub fn to_rfc3339(self) -> String {
        let nanos = i128::from(self.0) * 1_000_000;
        OffsetDateTime::from_unix_timestamp_nanos(nanos)
            .ok()
            .and_then(|t| t.format(&Rfc3339).ok())
            .unwrap_or_else(|| format!("invalid time {}", self.0))
    }

    pub fn parse_rfc3339(text: &str) -> Option<Millis> {
        let t = OffsetDateTime::parse(text, &Rfc3339).ok()?;
        i64::try_from(t.unix_timestamp_nanos() / 1_000_000)
            .ok()
            .map(Millis)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc3339_round_trip() {
        let t = Millis(1_795_405_210_123);
        let text = t.to_rfc3339();
        assert!(text.ends_with('Z'), "{text}");
        assert_eq!(Millis::parse_rfc3339(&text), Some(t));
    }
}
