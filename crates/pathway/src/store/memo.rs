//! Short-lived memories of reads that every request repeats (the session behind a
//! token, whether an account may post in a conversation).
//!
//! Correctness comes from generations, not from the time limit: every write that
//! could change an answer in this process bumps the generation before it returns,
//! and a remembered answer counts only if it was read under the current generation.
//! The time limit bounds how long a change made by *another* gateway instance can go
//! unseen.

use std::collections::HashMap;
use std::hash::Hash;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

pub(crate) struct Memo<K, V> {
    generation: AtomicU64,
    ttl: Duration,
    max: usize,
    entries: Mutex<HashMap<K, (V, u64, Instant)>>,
}

impl<K, V> std::fmt::Debug for Memo<K, V> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Memo")
            .field("generation", &self.generation())
            .finish_non_exhaustive()
    }
}

impl<K, V> Memo<K, V> {
    /// Read before the database read whose answer will be remembered.
    pub(crate) fn generation(&self) -> u64 {
        self.generation.load(Ordering::SeqCst)
    }

    /// Forgets everything read so far.
    pub(crate) fn invalidate(&self) {
        self.generation.fetch_add(1, Ordering::SeqCst);
        if let Ok(mut entries) = self.entries.lock() {
            entries.clear();
        }
    }
}

/// Forgets a memo's answers when the writing function that holds it returns,
/// whichever way it returns.
pub(crate) struct ForgetOnDrop<'a, K, V>(pub(crate) &'a Memo<K, V>);

impl<K, V> Drop for ForgetOnDrop<'_, K, V> {
    fn drop(&mut self) {
        self.0.invalidate();
    }
}

impl<K: Eq + Hash, V: Clone> Memo<K, V> {
    pub(crate) fn new(ttl: Duration, max: usize) -> Memo<K, V> {
        Memo {
            generation: AtomicU64::new(0),
            ttl,
            max,
            entries: Mutex::new(HashMap::new()),
        }
    }

    pub(crate) fn get(&self, key: &K) -> Option<V> {
        let current = self.generation();
        let entries = self.entries.lock().ok()?;
        let (value, generation, at) = entries.get(key)?;
        (*generation == current && at.elapsed() < self.ttl).then(|| value.clone())
    }

    /// Remembers an answer read under `generation`.
    pub(crate) fn put(&self, key: K, value: V, generation: u64) {
        if let Ok(mut entries) = self.entries.lock() {
            if entries.len() >= self.max {
                entries.clear();
            }
            entries.insert(key, (value, generation, Instant::now()));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_answer_read_before_an_invalidation_is_not_kept() {
        let memo: Memo<&str, i32> = Memo::new(Duration::from_secs(60), 10);
        let g = memo.generation();
        memo.invalidate(); // a write lands between the read and the put
        memo.put("k", 1, g);
        assert_eq!(memo.get(&"k"), None);
        let g = memo.generation();
        memo.put("k", 2, g);
        assert_eq!(memo.get(&"k"), Some(2));
        memo.invalidate();
        assert_eq!(memo.get(&"k"), None);
    }

    #[test]
    fn answers_expire() {
        let memo: Memo<&str, i32> = Memo::new(Duration::from_millis(0), 10);
        memo.put("k", 1, memo.generation());
        assert_eq!(memo.get(&"k"), None);
    }
}
