//! A fixed-window counter per key (an account's sends per minute). In memory: a
//! restart forgets the counts, which only ever errs towards letting someone through.

use std::collections::HashMap;
use std::hash::Hash;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use axum::http::StatusCode;

use crate::error::ApiError;

pub struct RateLimit<K> {
    per_window: u32,
    window: Duration,
    counts: Mutex<HashMap<K, (Instant, u32)>>,
    code: &'static str,
}

impl<K: Eq + Hash + Clone> RateLimit<K> {
    pub fn per_minute(per_window: u32, code: &'static str) -> RateLimit<K> {
        RateLimit {
            per_window,
            window: Duration::from_secs(60),
            counts: Mutex::new(HashMap::new()),
            code,
        }
    }

    /// Counts one event for `key`; 429 with `Retry-After` semantics in the detail
    /// when over the limit.
    pub fn check(&self, key: K) -> Result<(), ApiError> {
        let now = Instant::now();
        let Ok(mut counts) = self.counts.lock() else {
            return Ok(());
        };
        if counts.len() > 100_000 {
            counts.retain(|_, (start, _)| now.duration_since(*start) < self.window);
        }
        let slot = counts.entry(key).or_insert((now, 0));
        if now.duration_since(slot.0) >= self.window {
            *slot = (now, 0);
        }
        if slot.1 >= self.per_window {
            let wait = self
                .window
                .saturating_sub(now.duration_since(slot.0))
                .as_secs()
                .max(1);
            return Err(ApiError::new(
                StatusCode::TOO_MANY_REQUESTS,
                self.code,
                format!(
                    "Too many requests: at most {} per minute; retry in {wait} s.",
                    self.per_window
                ),
            )
            .with_extra(serde_json::json!({ "retry_after": wait })));
        }
        slot.1 += 1;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_limit_holds_per_key() {
        let limit = RateLimit::per_minute(2, "message.rate_limited");
        assert!(limit.check("a").is_ok());
        assert!(limit.check("a").is_ok());
        let refused = limit.check("a").unwrap_err();
        assert_eq!(refused.status, StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(refused.code, "message.rate_limited");
        assert!(limit.check("b").is_ok());
    }
}
