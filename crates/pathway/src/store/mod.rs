//! Persistence. `Db` owns the dialect; everything else is written once, with `$N`
//! placeholders, for both SQLite and PostgreSQL. One file per aggregate, each an
//! `impl Store` block. The patient access rule has one home, `access.rs`, which
//! every query on patient data is built from, and every write transaction is a
//! [`tx::Tx`] that publishes only after it commits.

mod access;
mod accounts;
mod aci;
mod aci_values;
mod attachments;
mod audit;
mod care_team;
mod conversations;
mod cpts;
mod db;
mod directory;
mod entries;
mod entry_pages;
mod events;
mod jobs;
mod keys;
mod matrix;
mod memo;
mod message_writer;
mod messages;
mod notifications;
mod organisations;
mod patients;
mod rights;
mod rpps_batch;
mod rpps_import;
mod sealed;
mod sessions;
mod sql;
mod stream;
mod tx;
// Campaigns (issue 15)
mod campaigns;
// Waiting list (issue 14)
mod waiting_list;
mod waiting_placement;
// Pathways, care plans and tasks (issue 12)
mod care_plans;
mod pathways;
mod tasks;
// Case conferences (issue 13)
mod case_conference_record;
mod case_conference_rows;
mod case_conference_tasks;
mod case_conferences;
mod columns;

use std::sync::Arc;

pub use accounts::{Account, Identity};
pub use aci::{AciReport, AgreementTables};
pub use attachments::{AttachmentMeta, Upload};
pub use audit::AuditWriter;
pub use care_team::{Member, NewMember};
pub use conversations::{Audience, NewConversation};
pub use db::{Backend, Db, DbOptions, Readiness};
pub use directory::{INVITATION_ACCEPTED, Invitation};
pub use entry_pages::{EntryPage, MAX_BOUND_ENTRIES, placeholders};
pub use events::Change;
pub use jobs::{JobClaim, JobState};
pub use keys::{KeyringLoader, Keys, RewrapProgress};
pub use message_writer::MessageWriter;
pub use patients::{NewPatient, PatientView};
pub use rights::{AccessLogItem, Consent, Export, Grant};
pub use rpps_import::{ImportOptions, ImportReport, MAX_PROBLEMS, RowProblem};
pub use sessions::RevokeReason;
// Campaigns (issue 15)
pub use campaigns::{ActionQuery, Recorded};
// Waiting list (issue 14)
pub use waiting_list::{
    NewRequest, PatientRef, RequestChange, RequestCursor, RequestQuery, RequestView,
};
pub use waiting_placement::{CapacityView, ProposalView};
// Pathways, care plans and tasks (issue 12)
pub use care_plans::{NewPlan, PlanExport};

use crate::time::TimeSource;

/// The store the whole application goes through.
#[derive(Clone, Debug)]
pub struct Store {
    db: Db,
    keys: Arc<Keys>,
    audit: AuditWriter,
    changes: tokio::sync::broadcast::Sender<Change>,
    messages: MessageWriter,
    stream: tokio::sync::broadcast::Sender<Arc<crate::stream::StreamEvent>>,
    /// The gateway's clock, for the store's own timers (audit checkpoints, caches).
    time: TimeSource,
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
    /// Opens the store and starts its audit writer and message writer (needs a Tokio
    /// runtime). `time` is the gateway's clock.
    pub fn open(db: Db, keys: Keys, time: TimeSource) -> Store {
        let keys = Arc::new(keys);
        let audit = AuditWriter::start(db.clone(), Arc::clone(&keys), time.clone());
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
            time,
            sessions_memo: Arc::new(memo::Memo::new(2_000, 100_000)),
            posting_memo: Arc::new(memo::Memo::new(5_000, 100_000)),
        };
        tokio::spawn(message_writer::run(store.clone(), jobs));
        store
    }

    pub fn db(&self) -> &Db {
        &self.db
    }

    /// Starts a write transaction (see `tx.rs`).
    pub(crate) async fn begin(&self) -> crate::Result<tx::Tx> {
        Ok(tx::Tx::new(self.db.begin().await?))
    }

    /// Flushes the audit writer (final checkpoint) and closes the database.
    pub async fn close(&self) {
        self.audit_flush().await;
        self.db.close().await;
    }
}
