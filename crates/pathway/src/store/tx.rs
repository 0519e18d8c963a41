//! Write transactions that hold what must be announced once they commit.
//!
//! A change is never published before its transaction commits: a reader woken by a
//! notification would otherwise look for a row that may still roll back, and a
//! device could be told of something that never happened. So whatever a write wants
//! to announce (a change other parts react to, a stream event) is queued on its
//! [`Tx`], and only [`Tx::commit`] publishes it, after the commit.

use std::ops::{Deref, DerefMut};
use std::sync::Arc;

use sqlx::{Any, AnyConnection, Transaction};

use super::{Change, Store};
use crate::Result;
use crate::stream::StreamEvent;

pub(crate) struct Tx {
    inner: Transaction<'static, Any>,
    changes: Vec<Change>,
    events: Vec<StreamEvent>,
}

impl Deref for Tx {
    type Target = AnyConnection;

    fn deref(&self) -> &AnyConnection {
        &self.inner
    }
}

impl DerefMut for Tx {
    fn deref_mut(&mut self) -> &mut AnyConnection {
        &mut self.inner
    }
}

impl Tx {
    pub(crate) fn new(inner: Transaction<'static, Any>) -> Tx {
        Tx {
            inner,
            changes: Vec::new(),
            events: Vec::new(),
        }
    }

    /// Announces `change` once this transaction commits.
    pub(crate) fn after_commit(&mut self, change: Change) {
        if !self.changes.contains(&change) {
            self.changes.push(change);
        }
    }

    /// Delivers `event` on the stream once this transaction commits.
    pub(crate) fn stream_after_commit(&mut self, event: StreamEvent) {
        self.events.push(event);
    }

    /// Commits, then publishes what the transaction queued.
    pub(crate) async fn commit(self, store: &Store) -> Result<()> {
        let Tx {
            inner,
            changes,
            events,
        } = self;
        inner.commit().await?;
        for change in changes {
            store.publish(change);
        }
        for event in events {
            store.publish_stream(Arc::new(event));
        }
        Ok(())
    }
}
