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

use crate::Millis;

pub(crate) struct Memo<K, V> {
    generation: AtomicU64,
    ttl_ms: i64,
    max: usize,
    entries: Mutex<HashMap<K, (V, u64, Millis)>>,
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
    pub(crate) fn new(ttl_ms: i64, max: usize) -> Memo<K, V> {
        Memo {
            generation: AtomicU64::new(0),
            ttl_ms,
            max,
            entries: Mutex::new(HashMap::new()),
        }
    }

    /// The answer remembered for `key`, if it was read under the current generation
    /// less than the time limit before `now` (the caller's clock).
    pub(crate) fn get(&self, key: &K, now: Millis) -> Option<V> {
        let current = self.generation();
        let entries = self.entries.lock().ok()?;
        let (value, generation, at) = entries.get(key)?;
        (*generation == current && now.0 - at.0 < self.ttl_ms && now >= *at).then(|| value.clone())
    }

    /// Remembers an answer read under `generation` at `now`.
    pub(crate) fn put(&self, key: K, value: V, generation: u64, now: Millis) {
        if let Ok(mut entries) = self.entries.lock() {
            if entries.len() >= self.max {
                entries.clear();
            }
            entries.insert(key, (value, generation, now));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_answer_read_before_an_invalidation_is_not_kept() {
        let memo: Memo<&str, i32> = Memo::new(60_000, 10);
        let t = Millis(1_000);
        let g = memo.generation();
        memo.invalidate(); // a write lands between the read and the put
        memo.put("k", 1, g, t);
        assert_eq!(memo.get(&"k", t), None);
        let g = memo.generation();
        memo.put("k", 2, g, t);
        assert_eq!(memo.get(&"k", t), Some(2));
        memo.invalidate();
        assert_eq!(memo.get(&"k", t), None);
    }

    #[test]
    fn answers_expire() {
        let memo: Memo<&str, i32> = Memo::new(2_000, 10);
        memo.put("k", 1, memo.generation(), Millis(1_000));
        assert_eq!(memo.get(&"k", Millis(2_999)), Some(1));
        assert_eq!(memo.get(&"k", Millis(3_000)), None);
    }
}
