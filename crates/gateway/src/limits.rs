//! A fixed one-minute window per key: login attempts per client address, messages
//! per account. In memory: each gateway instance counts for itself, and a restart
//! forgets the counts, which only ever errs towards letting someone through.

use std::collections::HashMap;
use std::hash::Hash;
use std::sync::Mutex;
use std::time::Duration;

use cordee_pathway::Millis;

const WINDOW_MS: i64 = 60_000;
/// Above this many tracked keys, stale windows are swept on insert.
const SWEEP_ABOVE: usize = 10_000;

pub struct FixedWindow<K> {
    per_window: u32,
    windows: Mutex<HashMap<K, (Millis, u32)>>,
}

impl<K: Eq + Hash> FixedWindow<K> {
    pub fn per_minute(per_window: u32) -> FixedWindow<K> {
        FixedWindow {
            per_window: per_window.max(1),
            windows: Mutex::new(HashMap::new()),
        }
    }

    pub fn limit(&self) -> u32 {
        self.per_window
    }

    /// Counts one event for `key`; `Err(retry_after)` when the key is over its limit.
    pub fn check(&self, key: K, now: Millis) -> Result<(), Duration> {
        let mut windows = match self.windows.lock() {
            Ok(guard) => guard,
            Err(poisoned) => poisoned.into_inner(),
        };
        if windows.len() > SWEEP_ABOVE {
            windows.retain(|_, (start, _)| now.0 - start.0 < WINDOW_MS);
        }
        let (start, count) = windows.entry(key).or_insert((now, 0));
        if now.0 - start.0 >= WINDOW_MS {
            *start = now;
            *count = 0;
        }
        if *count >= self.per_window {
            let left = (WINDOW_MS - (now.0 - start.0)).max(0);
            return Err(Duration::from_millis(left.unsigned_abs()));
        }
        *count += 1;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_limit_holds_per_key_and_the_window_resets() {
        let limit = FixedWindow::per_minute(2);
        let t0 = Millis(1_000_000);
        assert!(limit.check("a", t0).is_ok());
        assert!(limit.check("a", t0).is_ok());
        let wait = limit.check("a", t0.plus_secs(10)).unwrap_err();
        assert_eq!(wait, Duration::from_secs(50));
        assert!(limit.check("b", t0).is_ok());
        assert!(limit.check("a", t0.plus_millis(WINDOW_MS)).is_ok());
    }
}
