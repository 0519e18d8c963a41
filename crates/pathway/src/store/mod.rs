//! Persistence. `Db` owns the dialect; everything else is written once, with `$N`
//! placeholders, for both SQLite and PostgreSQL. One file per aggregate, each an
//! `impl Store` block.

mod access;
mod accounts;
mod attachments;
mod audit;
mod care_team;
mod conversations;
mod cpts;
mod db;
mod directory;
#[macro_use]
mod entries;
mod events;
mod keys;
mod matrix;
mod memo;
mod messages;
mod notifications;
mod organisations;
mod patients;
mod rights;
mod rpps_batch;
mod rpps_import;
mod sealed;
mod sessions;
mod word_search;

use std::sync::Arc;

pub use accounts::{Account, Identity};
pub use attachments::{AttachmentMeta, Upload};
pub use audit::AuditWriter;
pub use care_team::{Member, NewMember};
pub use conversations::NewConversation;
pub use db::{Backend, Db, DbOptions, Readiness};
pub use directory::{INVITATION_ACCEPTED, Invitation};
pub use entries::EntryPage;
pub use events::Change;
pub use keys::{KeyringLoader, Keys, RewrapProgress};
pub use messages::MessageWriter;
pub use notifications::Notification;
pub use patients::{NewPatient, PatientView};
pub use rights::{AccessLogItem, Consent, ConsentUpdate, Export, Grant, Objection};
pub use rpps_import::{ImportOptions, ImportReport, MAX_PROBLEMS, RowProblem};
pub use sessions::RevokeReason;
pub use word_search::{MAX_BOUND_ENTRIES, placeholders};

/// The store the whole application goes through.
#[derive(Clone, Debug)]
pub struct Store {
    db: Db,
    keys: Arc<Keys>,
    audit: AuditWriter,
    changes: tokio::sync::broadcast::Sender<Change>,
    messages: MessageWriter,
    stream: tokio::sync::broadcast::Sender<Arc<crate::conversation::StreamEvent>>,
    /// Held from before a stream-writing transaction begins until its events are
    /// published, so that this process publishes in cursor order (see messages.rs).
    stream_order: Arc<tokio::sync::Mutex<()>>,
    /// The session and account behind a token hash (every request asks).
    sessions_memo: Arc<memo::Memo<crate::session::TokenHash, (crate::session::Session, Account)>>,
    /// Who may post where (every send asks).
    posting_memo: Arc<memo::Memo<PostingKey, crate::conversation::Conversation>>,
}

type PostingKey = (
    crate::ids::AccountId,
    &'static str,
    crate::ids::ConversationId,
);

impl Store {
    /// Opens the store and starts its audit writer (needs a Tokio runtime).
    pub fn open(db: Db, keys: Keys) -> Store {
        let keys = Arc::new(keys);
        let audit = AuditWriter::start(db.clone(), Arc::clone(&keys));
        let (changes, _) = tokio::sync::broadcast::channel(1024);
        // Live delivery reads this; a consumer that falls this far behind resyncs
        // from the database.
        let (stream, _) = tokio::sync::broadcast::channel(65_536);
        let (messages, jobs) = MessageWriter::channel();
        let store = Store {
            db,
            keys,
            audit,
            changes,
            messages,
            stream,
            stream_order: Arc::new(tokio::sync::Mutex::new(())),
            sessions_memo: Arc::new(memo::Memo::new(2_000, 100_000)),
            posting_memo: Arc::new(memo::Memo::new(5_000, 100_000)),
        };
        tokio::spawn(messages::run(store.clone(), jobs));
        store
    }

    pub fn db(&self) -> &Db {
        &self.db
    }

    /// Flushes the audit writer (final checkpoint) and closes the database.
    pub async fn close(&self) {
        self.audit_flush().await;
        self.db.close().await;
    }
}
