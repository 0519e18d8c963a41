//! The audit chain in the database.
//!
//! Appends take the chain lock (a transaction-scoped advisory lock on PostgreSQL;
//! SQLite's single writer already serialises them), read the head, hash in Rust and
//! insert, so concurrent requests — or several gateway instances — never fork the
//! chain. Standalone events (reads, refusals, logins) go through the [`AuditWriter`],
//! which commits them in batches and answers each caller only after its batch is
//! durable (it remembers the head it wrote instead of reading it back, and checks it
//! in its first insert); writes to patient data append their record inside their own
//! transaction.

use std::collections::{HashMap, HashSet};
use std::time::Duration;

use cordee_crypto::{Checkpoint, GENESIS, Keyring, chain_hash, verify_chain_from};
use sqlx::any::AnyRow;
use sqlx::{Any, AnyConnection, Row, Transaction};
use tokio::sync::{mpsc, oneshot};

use super::{Backend, Db, Store};
use crate::audit::{Action, AuditEvent, AuditRecord, AuditVerdict, Outcome, Purpose};
use crate::ids::{AccountId, PatientId};
use crate::{Error, Millis, Result};

/// Arbitrary constant naming the chain lock among PostgreSQL advisory locks.
const CHAIN_LOCK: i64 = 0x636f_7264_6565; // "cordee"
const MAX_BATCH: usize = 512;
const CHECKPOINT_EVERY_RECORDS: i64 = 256;
const CHECKPOINT_EVERY: Duration = Duration::from_secs(2);
const CHECKPOINT_EVERY_MS: i64 = 2_000;

/// Takes the chain lock for the rest of `tx`.
pub(crate) async fn lock_chain(tx: &mut AnyConnection, backend: Backend) -> Result<()> {
    if backend == Backend::Postgres {
        sqlx::query("select pg_advisory_xact_lock($1)")
            .bind(CHAIN_LOCK)
            .execute(&mut *tx)
            .await?;
    }
    Ok(())
}

async fn head(tx: &mut AnyConnection) -> Result<(i64, [u8; 32])> {
    let row = sqlx::query("select seq, hash from audit_log order by seq desc limit 1")
        .fetch_optional(&mut *tx)
        .await?;
    match row {
        None => Ok((0, GENESIS)),
        Some(row) => Ok((row.try_get("seq")?, to_hash(row.try_get("hash")?)?)),
    }
}

fn to_hash(bytes: Vec<u8>) -> Result<[u8; 32]> {
    <[u8; 32]>::try_from(bytes.as_slice())
        .map_err(|_| Error::invalid("audit.corrupt", "an audit hash is not 32 bytes"))
}

/// Appends `events` in order inside `tx`; returns the new head.
pub(crate) async fn append_in(
    tx: &mut AnyConnection,
    backend: Backend,
    events: &[AuditEvent],
) -> Result<(i64, [u8; 32])> {
    lock_chain(tx, backend).await?;
    append_after(tx, events, None).await
}

/// Appends `events` in order inside `tx`, which holds the chain lock. With `known`,
/// the head the caller believes current, the head is not read: the first insert is
/// made only if no record follows it, and when another appender (another instance,
/// a write transaction) has moved the chain, the head is read and the records
/// rehashed onto it. This saves a round trip per batch, which was most of the
/// chain's cost for a lone caller on PostgreSQL.
async fn append_after(
    tx: &mut AnyConnection,
    events: &[AuditEvent],
    known: Option<(i64, [u8; 32])>,
) -> Result<(i64, [u8; 32])> {
    let (mut seq, mut hash, mut guard) = match known {
        Some((seq, hash)) => (seq, hash, Some(seq)),
        None => {
            let (seq, hash) = head(tx).await?;
            (seq, hash, None)
        }
    };
    let mut next = 0;
    while let Some(event) = events.get(next) {
        let id = uuid::Uuid::now_v7().to_string();
        let record_hash = chain_hash(&hash, &event.canonical(seq + 1, &id));
        if insert_record(tx, seq + 1, &id, &record_hash, event, guard.take()).await? {
            seq += 1;
            hash = record_hash;
            next += 1;
        } else {
            (seq, hash) = head(tx).await?;
        }
    }
    Ok((seq, hash))
}

/// Inserts one record; with `guard`, only if the chain's head is still sequence
/// `guard` (returns false then, having written nothing). The guard compares
/// `max(seq)`, which both databases read from the end of the key's index: written as
/// `not exists (… where seq > $13)`, PostgreSQL's generic plan expected a third of
/// the log to match, chose a sequential scan and read the whole log for every batch
/// (12.8 ms per call at 150,000 records instead of ~0.6).
async fn insert_record(
    tx: &mut AnyConnection,
    seq: i64,
    id: &str,
    hash: &[u8; 32],
    event: &AuditEvent,
    guard: Option<i64>,
) -> Result<bool> {
    const PLAIN: &str = "insert into audit_log (seq, id, at, actor_id, action, patient_id, resource_type, resource_id, purpose, outcome, detail, hash) \
         values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)";
    const GUARDED: &str = "insert into audit_log (seq, id, at, actor_id, action, patient_id, resource_type, resource_id, purpose, outcome, detail, hash) \
         select $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12 where (select coalesce(max(seq), 0) from audit_log) = $13";
    let query = sqlx::query(if guard.is_some() { GUARDED } else { PLAIN })
        .bind(seq)
        .bind(id)
        .bind(event.at.0)
        .bind(event.actor_id.map(|a| a.as_text()))
        .bind(event.action.as_str())
        .bind(event.patient_id.map(|p| p.as_text()))
        .bind(event.resource_type.as_deref())
        .bind(event.resource_id.as_deref())
        .bind(event.purpose.as_str())
        .bind(event.outcome.as_str())
        .bind(event.detail.as_deref())
        .bind(hash.to_vec());
    let query = match guard {
        Some(g) => query.bind(g),
        None => query,
    };
    Ok(query.execute(&mut *tx).await?.rows_affected() == 1)
}

/// Starts a write transaction holding the chain lock, in one round trip on
/// PostgreSQL (the lock is sent with `BEGIN`).
async fn begin_locked(db: &Db) -> Result<Transaction<'static, Any>> {
    Ok(match db.backend() {
        Backend::Sqlite => db.begin().await?,
        Backend::Postgres => db.writer().begin_with(BEGIN_LOCKED_POSTGRES).await?,
    })
}

/// `BEGIN` and the chain lock as one simple query (no parameters there).
const BEGIN_LOCKED_POSTGRES: &str = "begin; select pg_advisory_xact_lock(109330311701861)";

async fn write_checkpoint(
    tx: &mut AnyConnection,
    keyring: &Keyring,
    seq: i64,
    hash: &[u8; 32],
    now: Millis,
) -> Result<()> {
    let cp = Checkpoint::sign(keyring, seq, hash);
    sqlx::query("insert into audit_checkpoints (seq, hash, mac, at) values ($1, $2, $3, $4) on conflict (seq) do nothing")
        .bind(seq)
        .bind(cp.head.to_vec())
        .bind(cp.mac.to_vec())
        .bind(now.0)
        .execute(&mut *tx)
        .await?;
    Ok(())
}

type Reply = oneshot::Sender<std::result::Result<i64, String>>;

enum Command {
    Append(
        Vec<AuditEvent>,
        oneshot::Sender<std::result::Result<i64, String>>,
    ),
    Flush(oneshot::Sender<()>),
}

/// The batching audit writer (one per process).
#[derive(Clone, Debug)]
pub struct AuditWriter {
    tx: mpsc::Sender<Command>,
}

impl AuditWriter {
    pub(crate) fn start(
        db: Db,
        keys: std::sync::Arc<super::keys::Keys>,
        time: crate::time::TimeSource,
    ) -> AuditWriter {
        let (tx, rx) = mpsc::channel(4096);
        tokio::spawn(run_writer(db, keys, time, rx));
        AuditWriter { tx }
    }
}

async fn run_writer(
    db: Db,
    keys: std::sync::Arc<super::keys::Keys>,
    time: crate::time::TimeSource,
    mut rx: mpsc::Receiver<Command>,
) {
    let mut last_checkpoint_seq: i64 = -1;
    // The head this writer last committed (see `append_after`).
    let mut head_cache = None;
    let mut last_checkpoint_at = time.now();
    let mut tick = tokio::time::interval(CHECKPOINT_EVERY);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        let first = tokio::select! {
            cmd = rx.recv() => match cmd { Some(c) => c, None => break },
            _ = tick.tick() => {
                if let Err(e) = checkpoint_if_moved(&db, &keys.keyring(), &mut last_checkpoint_seq, time.now()).await {
                    tracing::error!(error = %e, "audit checkpoint failed");
                }
                last_checkpoint_at = time.now();
                continue;
            }
        };
        let mut batch: Vec<(Vec<AuditEvent>, Reply)> = Vec::new();
        let mut flushes: Vec<oneshot::Sender<()>> = Vec::new();
        let mut pending = Some(first);
        let mut count = 0usize;
        while let Some(cmd) = pending.take() {
            match cmd {
                Command::Append(events, reply) => {
                    count += events.len();
                    batch.push((events, reply));
                }
                Command::Flush(reply) => flushes.push(reply),
            }
            if count < MAX_BATCH {
                pending = rx.try_recv().ok();
            }
        }
        if !batch.is_empty() {
            let all: Vec<AuditEvent> = batch.iter().flat_map(|(e, _)| e.iter().cloned()).collect();
            let force_checkpoint =
                !flushes.is_empty() || time.now().0 - last_checkpoint_at.0 >= CHECKPOINT_EVERY_MS;
            match commit_batch(
                &db,
                &keys.keyring(),
                &all,
                last_checkpoint_seq,
                force_checkpoint,
                &mut head_cache,
                time.now(),
            )
            .await
            {
                Ok((head, checkpointed)) => {
                    if checkpointed {
                        last_checkpoint_seq = head;
                        last_checkpoint_at = time.now();
                    }
                    // Each caller learns the sequence number of its last record.
                    let mut seq = head - i64::try_from(all.len()).unwrap_or(0);
                    for (events, reply) in batch {
                        seq += i64::try_from(events.len()).unwrap_or(0);
                        let _ = reply.send(Ok(seq));
                    }
                }
                Err(e) => {
                    tracing::error!(error = %e, "audit append failed");
                    for (_, reply) in batch {
                        let _ = reply.send(Err("the audit log cannot be written".into()));
                    }
                }
            }
        }
        if !flushes.is_empty() {
            if let Err(e) =
                checkpoint_if_moved(&db, &keys.keyring(), &mut last_checkpoint_seq, time.now())
                    .await
            {
                tracing::error!(error = %e, "audit checkpoint failed");
            }
            for f in flushes {
                let _ = f.send(());
            }
        }
    }
    if let Err(e) =
        checkpoint_if_moved(&db, &keys.keyring(), &mut last_checkpoint_seq, time.now()).await
    {
        tracing::error!(error = %e, "final audit checkpoint failed");
    }
}

async fn commit_batch(
    db: &Db,
    keyring: &Keyring,
    events: &[AuditEvent],
    last_checkpoint_seq: i64,
    force_checkpoint: bool,
    head_cache: &mut Option<(i64, [u8; 32])>,
    now: Millis,
) -> Result<(i64, bool)> {
    // Forgotten unless this batch commits: after a failure the head is read again.
    let known = head_cache.take();
    let mut tx = begin_locked(db).await?;
    let (seq, hash) = append_after(&mut tx, events, known).await?;
    let checkpoint =
        force_checkpoint || seq - last_checkpoint_seq.max(0) >= CHECKPOINT_EVERY_RECORDS;
    if checkpoint {
        write_checkpoint(&mut tx, keyring, seq, &hash, now).await?;
    }
    tx.commit().await?;
    *head_cache = Some((seq, hash));
    Ok((seq, checkpoint))
}

/// Writes a checkpoint of the current head when records were appended since the last
/// one (including records appended inside other transactions).
async fn checkpoint_if_moved(
    db: &Db,
    keyring: &Keyring,
    last: &mut i64,
    now: Millis,
) -> Result<()> {
    let mut tx = begin_locked(db).await?;
    let (seq, hash) = head(&mut tx).await?;
    if seq > 0 && seq != *last {
        write_checkpoint(&mut tx, keyring, seq, &hash, now).await?;
    }
    tx.commit().await?;
    *last = seq;
    Ok(())
}

fn record_from_row(row: &AnyRow) -> Result<AuditRecord> {
    let text =
        |name: &str| -> Result<Option<String>> { Ok(row.try_get::<Option<String>, _>(name)?) };
    let corrupt = || Error::invalid("audit.corrupt", "an audit record has an unknown code");
    let parse_id = |v: Option<String>| v.and_then(|s| uuid::Uuid::parse_str(&s).ok());
    let purpose: String = row.try_get("purpose")?;
    let outcome: String = row.try_get("outcome")?;
    Ok(AuditRecord {
        seq: row.try_get("seq")?,
        id: row.try_get("id")?,
        event: AuditEvent {
            at: Millis(row.try_get("at")?),
            actor_id: parse_id(text("actor_id")?).map(AccountId),
            action: Action::parse(&row.try_get::<String, _>("action")?).ok_or_else(corrupt)?,
            patient_id: parse_id(text("patient_id")?).map(PatientId),
            resource_type: text("resource_type")?,
            resource_id: text("resource_id")?,
            purpose: Purpose::parse(&purpose).ok_or_else(corrupt)?,
            outcome: Outcome::parse(&outcome).ok_or_else(corrupt)?,
            detail: text("detail")?,
        },
        hash: to_hash(row.try_get("hash")?)?,
    })
}

macro_rules! record_columns {
    () => {
        "seq, id, at, actor_id, action, patient_id, resource_type, resource_id, purpose, outcome, detail, hash"
    };
}

impl Store {
    /// Appends one event and returns once it is durable.
    pub async fn audit(&self, event: AuditEvent) -> Result<i64> {
        self.audit_all(vec![event]).await
    }

    /// Appends events (in order) and returns once they are durable.
    pub async fn audit_all(&self, events: Vec<AuditEvent>) -> Result<i64> {
        let (reply, answer) = oneshot::channel();
        let unavailable = || Error::Unavailable("the audit log cannot be written".into());
        self.audit
            .tx
            .send(Command::Append(events, reply))
            .await
            .map_err(|_| unavailable())?;
        answer
            .await
            .map_err(|_| unavailable())?
            .map_err(Error::Unavailable)
    }

    /// Makes sure every appended record is covered by a checkpoint (shutdown, tests).
    pub async fn audit_flush(&self) {
        let (reply, done) = oneshot::channel();
        if self.audit.tx.send(Command::Flush(reply)).await.is_ok() {
            let _ = done.await;
        }
    }

    /// Appends inside a write transaction, so that the record commits with the change.
    pub(crate) async fn audit_in(
        &self,
        tx: &mut AnyConnection,
        events: &[AuditEvent],
    ) -> Result<()> {
        append_in(tx, self.db.backend(), events).await.map(|_| ())
    }

    /// Records about one patient, newest first, before `before_seq` when given.
    pub async fn audit_for_patient(
        &self,
        patient: PatientId,
        before_seq: Option<i64>,
        limit: i64,
    ) -> Result<Vec<AuditRecord>> {
        let sql = concat!(
            "select ",
            record_columns!(),
            " from audit_log where patient_id = $1 and seq < $2 order by seq desc limit $3"
        );
        let rows = sqlx::query(sql)
            .bind(patient.as_text())
            .bind(before_seq.unwrap_or(i64::MAX))
            .bind(limit)
            .fetch_all(self.db.reader())
            .await?;
        rows.iter().map(record_from_row).collect()
    }

    /// Records by one actor, newest first.
    pub async fn audit_by_actor(
        &self,
        actor: AccountId,
        before_seq: Option<i64>,
        limit: i64,
    ) -> Result<Vec<AuditRecord>> {
        let sql = concat!(
            "select ",
            record_columns!(),
            " from audit_log where actor_id = $1 and seq < $2 order by seq desc limit $3"
        );
        let rows = sqlx::query(sql)
            .bind(actor.as_text())
            .bind(before_seq.unwrap_or(i64::MAX))
            .bind(limit)
            .fetch_all(self.db.reader())
            .await?;
        rows.iter().map(record_from_row).collect()
    }

    /// Walks the whole chain and every checkpoint; reports the first broken record.
    /// The newest record's sequence number and hash: a witness to keep outside the
    /// database (see [`Store::verify_audit_against`]).
    pub async fn audit_head(&self) -> Result<(i64, [u8; 32])> {
        let row = sqlx::query("select seq, hash from audit_log order by seq desc limit 1")
            .fetch_optional(self.db.reader())
            .await?;
        match row {
            None => Ok((0, GENESIS)),
            Some(row) => Ok((row.try_get("seq")?, to_hash(row.try_get("hash")?)?)),
        }
    }

    /// [`Store::verify_audit`], and the record the witness names must still be there
    /// with the same hash. Checkpoints live in the same database: someone who deletes
    /// the newest records and their checkpoints leaves a chain that verifies. A head
    /// kept elsewhere (`cordee audit head`, run on a schedule into another system)
    /// catches that.
    pub async fn verify_audit_against(&self, witness: (i64, [u8; 32])) -> Result<AuditVerdict> {
        let verdict = self.verify_audit().await?;
        if !matches!(verdict, AuditVerdict::Intact { .. }) || witness.0 == 0 {
            return Ok(verdict);
        }
        let hash: Option<Vec<u8>> = sqlx::query_scalar("select hash from audit_log where seq = $1")
            .bind(witness.0)
            .fetch_optional(self.db.reader())
            .await?;
        Ok(match hash {
            Some(h) if h.as_slice() == witness.1.as_slice() => verdict,
            Some(_) => AuditVerdict::Broken {
                seq: witness.0,
                reason: "the record differs from the witnessed head: the log was rewritten".into(),
            },
            None => AuditVerdict::Broken {
                seq: witness.0,
                reason: "the witnessed record is gone: the log was truncated".into(),
            },
        })
    }

    pub async fn verify_audit(&self) -> Result<AuditVerdict> {
        let keyring = self.keyring();
        let checkpoints = sqlx::query("select seq, hash, mac from audit_checkpoints order by seq")
            .fetch_all(self.db.reader())
            .await?;
        let mut expected: HashMap<i64, [u8; 32]> = HashMap::new();
        for row in &checkpoints {
            let seq: i64 = row.try_get("seq")?;
            let head = to_hash(row.try_get("hash")?)?;
            let mac: Vec<u8> = row.try_get("mac")?;
            let cp = Checkpoint {
                seq,
                head,
                mac: <[u8; 32]>::try_from(mac.as_slice()).unwrap_or([0; 32]),
            };
            if !cp.verify(&keyring) {
                return Ok(AuditVerdict::Broken {
                    seq,
                    reason: "checkpoint signature does not verify".into(),
                });
            }
            expected.insert(seq, head);
        }
        let wanted: HashSet<i64> = expected.keys().copied().collect();
        let mut prev_seq = 0i64;
        let mut prev_hash = GENESIS;
        let mut records = 0i64;
        loop {
            let sql = concat!(
                "select ",
                record_columns!(),
                " from audit_log where seq > $1 order by seq limit 1000"
            );
            let rows = sqlx::query(sql)
                .bind(prev_seq)
                .fetch_all(self.db.reader())
                .await?;
            if rows.is_empty() {
                break;
            }
            let mut parsed = Vec::with_capacity(rows.len());
            for row in &rows {
                match record_from_row(row) {
                    Ok(r) => parsed.push(r),
                    Err(_) => {
                        let seq: i64 = row.try_get("seq").unwrap_or(prev_seq + 1);
                        return Ok(AuditVerdict::Broken {
                            seq,
                            reason: "record cannot be read".into(),
                        });
                    }
                }
            }
            let canon: Vec<(i64, Vec<u8>, [u8; 32])> = parsed
                .iter()
                .map(|r| (r.seq, r.event.canonical(r.seq, &r.id), r.hash))
                .collect();
            if let Err(brk) = verify_chain_from(
                prev_seq,
                &prev_hash,
                canon.iter().map(|(s, b, h)| (*s, b.as_slice(), h)),
            ) {
                // A record missing before the first stored one shows as out of sequence.
                return Ok(AuditVerdict::Broken {
                    seq: brk.seq,
                    reason: brk.reason.to_string(),
                });
            }
            for (seq, _, hash) in &canon {
                if wanted.contains(seq) && expected.get(seq) != Some(hash) {
                    return Ok(AuditVerdict::Broken {
                        seq: *seq,
                        reason: "record differs from its checkpoint".into(),
                    });
                }
            }
            records += i64::try_from(canon.len()).unwrap_or(0);
            if let Some((seq, _, hash)) = canon.last() {
                prev_seq = *seq;
                prev_hash = *hash;
            }
        }
        if let Some(beyond) = expected.keys().copied().filter(|s| *s > prev_seq).min() {
            return Ok(AuditVerdict::Broken {
                seq: prev_seq + 1,
                reason: format!(
                    "the log ends at record {prev_seq} but a checkpoint covers record {beyond}: records were removed from the end"
                ),
            });
        }
        Ok(AuditVerdict::Intact {
            records,
            checkpoints: i64::try_from(checkpoints.len()).unwrap_or(0),
            head_seq: prev_seq,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn begin_locked_takes_the_chain_lock() {
        assert_eq!(
            BEGIN_LOCKED_POSTGRES,
            format!("begin; select pg_advisory_xact_lock({CHAIN_LOCK})")
        );
    }
}
