//! The gateway's clock: the one place in Cordée that reads the time. Handlers read it
//! once per request and pass `now` down; the domain never reads it.
//!
//! Tests run the real gateway with a clock they can move forward (the system time plus
//! an offset they control), so that idle sessions, expiring grants, review dates and
//! jobs are tested by advancing time, never by sleeping.

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::Duration;

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use cordee_pathway::Millis;
use time::OffsetDateTime;

use crate::state::AppState;

#[derive(Clone, Debug, Default)]
pub struct Clock {
    /// Milliseconds added to the system time; only tests move it.
    offset: Arc<AtomicI64>,
}

impl Clock {
    /// The system's time.
    pub fn system() -> Clock {
        Clock::default()
    }

    pub fn now(&self) -> Millis {
        let nanos = OffsetDateTime::now_utc().unix_timestamp_nanos();
        let system = i64::try_from(nanos / 1_000_000).unwrap_or(i64::MAX);
        Millis(system.saturating_add(self.offset.load(Ordering::SeqCst)))
    }

    /// The same clock, as the store takes it (for its own timers).
    pub fn time_source(&self) -> cordee_pathway::time::TimeSource {
        let clock = self.clone();
        cordee_pathway::time::TimeSource::new(move || clock.now())
    }

    /// Moves this clock (and every clone of it) forward: what tests do instead of
    /// sleeping.
    pub fn advance(&self, by: Duration) {
        let ms = i64::try_from(by.as_millis()).unwrap_or(i64::MAX);
        self.offset.fetch_add(ms, Ordering::SeqCst);
    }
}

/// The time of the request being served: read from the clock at the first extraction
/// and the same for every later one, so a request sees one `now` from its session
/// check to its audit records.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Now(pub Millis);

impl FromRequestParts<AppState> for Now {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Now, Self::Rejection> {
        if let Some(now) = parts.extensions.get::<Now>() {
            return Ok(*now);
        }
        let now = Now(state.clock.now());
        parts.extensions.insert(now);
        Ok(now)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn advancing_moves_every_clone() {
        let clock = Clock::system();
        let other = clock.clone();
        let before = other.now();
        clock.advance(Duration::from_secs(3600));
        let after = other.now();
        assert!(after.0 - before.0 >= 3_600_000, "{before:?} → {after:?}");
        assert!(after.0 - before.0 < 3_660_000, "{before:?} → {after:?}");
    }
}
