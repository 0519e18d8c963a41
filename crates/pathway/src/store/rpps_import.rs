//! The RPPS import: the ANS extraction streamed line by line (memory stays flat in the
//! file's size), written in batches of a few hundred lines per transaction, each
//! professional compared with what the last import stored (a digest) so that a re-run
//! writes nothing but "seen in this run" marks and reports everything `kept`.
//!
//! "Gone" are the entries a previous import of the same scope (the same communes
//! filter) listed and this one did not: they are removed, or, when the professional
//! has an account, kept without their imported activities. How a batch is written:
//! `rpps_batch.rs`.

use std::collections::HashMap;

use tokio::io::{AsyncBufRead, AsyncBufReadExt};
use tracing::instrument;

use super::{Backend, Store};
use crate::audit::{Action, AuditEvent, Outcome, Purpose};
use crate::directory::rpps::{Grouper, Header, MAX_ACTIVITIES, RppsPerson, decode_line};
use crate::directory::{CommuneCode, EntrySource};
use crate::{Error, Millis, Result};

/// How an import runs.
#[derive(Clone, Debug)]
pub struct ImportOptions {
    /// The communes to keep. `None`: those of the CPTS profile, or every line when the
    /// profile lists none.
    pub communes: Option<Vec<CommuneCode>>,
    /// Lines per transaction.
    pub batch_lines: usize,
}

impl Default for ImportOptions {
    fn default() -> ImportOptions {
        ImportOptions {
            communes: None,
            batch_lines: 500,
        }
    }
}

/// What an import did. Lines are counted in `read` and `malformed`; professionals in
/// the others.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ImportReport {
    pub run: String,
    /// The communes filter, comma-separated, or `*`.
    pub scope: String,
    pub read: u64,
    pub malformed: u64,
    /// Professionals with no activity in the communes.
    pub outside: u64,
    pub new: u64,
    pub updated: u64,
    pub kept: u64,
    pub gone: u64,
    /// Professionals whose lines came again after other professionals' (merged).
    pub repeated: u64,
    pub organisations_new: u64,
    /// The first [`MAX_PROBLEMS`] malformed lines, with their line numbers.
    pub problems: Vec<RowProblem>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RowProblem {
    /// 1 is the header.
    pub line: u64,
    pub reason: String,
}

/// Problems kept in the report (all are counted).
pub const MAX_PROBLEMS: usize = 1_000;
/// Longer lines are malformed (a real line is under 1 KiB).
const MAX_LINE_BYTES: usize = 64 * 1024;

impl ImportReport {
    fn problem(&mut self, line: u64, reason: impl ToString) {
        self.malformed += 1;
        if self.problems.len() < MAX_PROBLEMS {
            self.problems.push(RowProblem {
                line,
                reason: reason.to_string(),
            });
        }
    }
}

/// The professionals of the batch being gathered.
#[derive(Default)]
pub(super) struct Batch {
    pub(super) persons: Vec<RppsPerson>,
    pub(super) index: HashMap<String, usize>,
    pub(super) lines: usize,
}

impl Batch {
    fn add(
        &mut self,
        person: RppsPerson,
        communes: Option<&[CommuneCode]>,
        report: &mut ImportReport,
    ) {
        let Some(person) = person.within(communes) else {
            report.outside += 1;
            return;
        };
        self.lines += person.activities.len();
        match self.index.get(person.national_id.as_str()) {
            Some(&at) => {
                report.repeated += 1;
                if let Some(earlier) = self.persons.get_mut(at) {
                    for a in person.activities {
                        if !earlier.activities.contains(&a)
                            && earlier.activities.len() < MAX_ACTIVITIES
                        {
                            earlier.activities.push(a);
                        }
                    }
                }
            }
            None => {
                self.index
                    .insert(person.national_id.as_str().to_string(), self.persons.len());
                self.persons.push(person);
            }
        }
    }
}

/// One line read, at most `MAX_LINE_BYTES` of it kept.
struct Line {
    bytes_read: usize,
    too_long: bool,
}

async fn read_line<R: AsyncBufRead + Unpin>(reader: &mut R, buf: &mut Vec<u8>) -> Result<Line> {
    buf.clear();
    let mut line = Line {
        bytes_read: 0,
        too_long: false,
    };
    loop {
        let (done, used) = {
            let available = reader.fill_buf().await.map_err(unreadable)?;
            if available.is_empty() {
                return Ok(line);
            }
            let (chunk, done) = match available.iter().position(|b| *b == b'\n') {
                Some(i) => (available.get(..=i).unwrap_or(available), true),
                None => (available, false),
            };
            if buf.len() + chunk.len() <= MAX_LINE_BYTES {
                buf.extend_from_slice(chunk);
            } else {
                line.too_long = true;
            }
            (done, chunk.len())
        };
        reader.consume(used);
        line.bytes_read += used;
        if done {
            return Ok(line);
        }
    }
}

fn unreadable(e: std::io::Error) -> Error {
    Error::invalid(
        "directory.import_unreadable",
        format!("the file cannot be read: {e}"),
    )
}

fn scope_of(communes: Option<&[CommuneCode]>) -> String {
    match communes {
        None | Some([]) => "*".into(),
        Some(list) => {
            let mut codes: Vec<&str> = list.iter().map(|c| c.as_str()).collect();
            codes.sort_unstable();
            codes.dedup();
            codes.join(",")
        }
    }
}

impl Store {
    /// Imports an extraction; `reader` is read to its end, a line at a time.
    #[instrument(skip_all)]
    pub async fn import_rpps<R: AsyncBufRead + Unpin>(
        &self,
        mut reader: R,
        options: &ImportOptions,
        now: Millis,
    ) -> Result<ImportReport> {
        let communes = match &options.communes {
            Some(list) => Some(list.clone()),
            None => self
                .cpts_profile()
                .await?
                .map(|p| p.communes)
                .filter(|c| !c.is_empty()),
        };
        let mut report = ImportReport {
            run: uuid::Uuid::now_v7().to_string(),
            scope: scope_of(communes.as_deref()),
            ..ImportReport::default()
        };
        let mut buf = Vec::with_capacity(2048);
        let first = read_line(&mut reader, &mut buf).await?;
        if first.bytes_read == 0 {
            return Err(Error::invalid(
                "directory.import_empty",
                "the file is empty; expected the header line of PS_LibreAcces_Personne_activite",
            ));
        }
        let header = Header::parse(&decode_line(&buf))
            .map_err(|missing| Error::invalid("directory.import_columns", missing.to_string()))?;
        let mut line_no: u64 = 1;
        let mut grouper = Grouper::default();
        let mut batch = Batch::default();
        let mut next_statistics: u64 = 5_000;
        loop {
            let line = read_line(&mut reader, &mut buf).await?;
            if line.bytes_read == 0 {
                break;
            }
            line_no += 1;
            let text = decode_line(&buf);
            if !line.too_long && text.trim().is_empty() {
                continue;
            }
            report.read += 1;
            if line.too_long {
                report.problem(line_no, format!("longer than {MAX_LINE_BYTES} bytes"));
                continue;
            }
            let person = match header.row(&text) {
                Err(e) => {
                    report.problem(line_no, e);
                    None
                }
                Ok(row) => match grouper.push(row) {
                    Err(e) => {
                        report.problem(line_no, e);
                        None
                    }
                    Ok(done) => done,
                },
            };
            if let Some(person) = person {
                batch.add(person, communes.as_deref(), &mut report);
            }
            if batch.lines >= options.batch_lines.max(1) {
                self.write_batch(&mut batch, &mut report, now).await?;
                if report.read >= next_statistics {
                    self.refresh_statistics(false).await?;
                    next_statistics = next_statistics.saturating_mul(4);
                }
            }
        }
        if let Some(person) = grouper.finish() {
            batch.add(person, communes.as_deref(), &mut report);
        }
        self.write_batch(&mut batch, &mut report, now).await?;
        self.sweep_gone(&mut report, now).await?;
        self.refresh_statistics(true).await?;
        self.audit(
            AuditEvent::new(
                now,
                None,
                Action::DirectoryImport,
                Purpose::Administration,
                Outcome::Allowed,
            )
            .resource("directory_import", &report.run)
            .detail(format!(
                "scope={} read={} malformed={} outside={} new={} updated={} kept={} gone={}",
                report.scope,
                report.read,
                report.malformed,
                report.outside,
                report.new,
                report.updated,
                report.kept,
                report.gone
            )),
        )
        .await?;
        Ok(report)
    }

    /// PostgreSQL plans from statistics, which tables an import fills do not have
    /// until autovacuum comes by, minutes later. Without them it guessed 11,000
    /// activities for a page of 51 professionals and read the whole table (49 ms
    /// instead of 0.4 ms at 100,000 lines), and the import's own lookups by id scanned
    /// their tables batch after batch. So they are gathered as the tables grow (every
    /// fourfold) and at the end. SQLite's planner takes these indexes without
    /// statistics, and gathering them would change the plans of every other query
    /// there: it is left alone.
    ///
    /// At the end it is `vacuum analyze`: the vacuum marks the new pages all-visible,
    /// which lets a key's index answer a search alone; until then PostgreSQL reads
    /// the table row of every key it tests (a given-name search went from 2.3 ms to
    /// 0.2 ms on 77,000 professionals).
    async fn refresh_statistics(&self, vacuum: bool) -> Result<()> {
        if self.db.backend() != Backend::Postgres {
            return Ok(());
        }
        let verb = if vacuum { "vacuum analyze" } else { "analyze" };
        for table in ["organisations", "directory_entries", "directory_activities"] {
            // Simple protocol: vacuum refuses to run in a transaction block.
            sqlx::raw_sql(sqlx::AssertSqlSafe(format!("{verb} {table}")))
                .execute(self.db.writer())
                .await?;
        }
        Ok(())
    }

    async fn sweep_gone(&self, report: &mut ImportReport, now: Millis) -> Result<()> {
        const GONE: &str = "select national_id from directory_entries where import_scope = $1 and import_run <> $2";
        let mut tx = self.begin().await?;
        let gone: i64 = sqlx::query_scalar(
            "select count(*) from directory_entries where import_scope = $1 and import_run <> $2",
        )
        .bind(&report.scope)
        .bind(&report.run)
        .fetch_one(&mut *tx)
        .await?;
        if gone > 0 {
            let statements = [
                format!("delete from directory_activities where national_id in ({GONE})"),
                "delete from directory_entries where import_scope = $1 and import_run <> $2 and account_id is null".to_string(),
            ];
            for sql in statements {
                sqlx::query(sqlx::AssertSqlSafe(sql))
                    .bind(&report.scope)
                    .bind(&report.run)
                    .execute(&mut *tx)
                    .await?;
            }
            // Bound to an account: the entry stays; the next login refreshes it.
            sqlx::query(
                "update directory_entries set source = $1, import_scope = null, import_run = null, fingerprint = null, updated_at = $2 \
                 where import_scope = $3 and import_run <> $4",
            )
            .bind(EntrySource::Psc.as_str())
            .bind(now.0)
            .bind(&report.scope)
            .bind(&report.run)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit(self).await?;
        report.gone = u64::try_from(gone).unwrap_or(0);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_scope_is_the_sorted_communes() {
        let c = |s: &str| CommuneCode::parse(s).unwrap();
        assert_eq!(scope_of(None), "*");
        assert_eq!(scope_of(Some(&[])), "*");
        assert_eq!(
            scope_of(Some(&[c("59350"), c("59009"), c("59350")])),
            "59009,59350"
        );
    }

    #[tokio::test]
    async fn long_lines_are_cut_and_reported_not_kept() {
        let long = format!("{}\nnext\n", "x".repeat(MAX_LINE_BYTES + 10));
        let mut reader = tokio::io::BufReader::with_capacity(1024, long.as_bytes());
        let mut buf = Vec::new();
        let first = read_line(&mut reader, &mut buf).await.unwrap();
        assert!(first.too_long);
        assert!(buf.len() <= MAX_LINE_BYTES);
        let second = read_line(&mut reader, &mut buf).await.unwrap();
        assert!(!second.too_long);
        assert_eq!(buf, b"next\n");
        assert_eq!(
            read_line(&mut reader, &mut buf).await.unwrap().bytes_read,
            0
        );
    }
}
