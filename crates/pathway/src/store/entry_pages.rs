//! Pages of a patient's file and word searches in it, with the access rule in the
//! SQL (`access.rs`), so that a hidden entry changes no page, count or result.
//!
//! A word's entries are read first (one index range, this patient's only, since
//! terms are keyed per patient) and bound as a list when there are few of them.
//! Left to choose, PostgreSQL's planner walked the whole file instead — backwards by
//! id to fill a page, or hashing all of its entries for the count — because its
//! default costs price an index probe per matching entry above a scan of the file:
//! 7–13 ms instead of ~2 ms for a word in 100 of 10,000 entries. A bound list leaves
//! it nothing to guess, on either database.

use sqlx::any::AnyRow;

use super::Store;
use super::access::{Audited, Gate, Rule};
use super::entries::{ENTRY_COLUMNS, entry_from_row};
use super::sealed::patient_owner;
use super::sql::{Arg, Sql};
use crate::access::{PatientAccess, Reach, readable_in_matrix};
use crate::account::Actor;
use crate::audit::Action;
use crate::file::{BI_TERM, EntryFilter, term_key};
use crate::ids::{EntryId, PatientId};
use crate::policy::Category;
use crate::{Millis, Result};

/// Above this many entries for one word the list would cost more to send than the
/// planner's own choice (a scan of the file is right then): the term stays a
/// sub-query. Also well under both databases' limits on bound parameters.
pub const MAX_BOUND_ENTRIES: usize = 500;

/// `$start, $start+1, …` for `n` parameters.
pub fn placeholders(start: usize, n: usize) -> String {
    (start..start + n)
        .map(|i| format!("${i}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// A page of entries and how many the reader may see in all.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EntryPage {
    pub items: Vec<crate::file::Entry>,
    pub total: i64,
    pub next: Option<EntryId>,
}

/// Which entries a statement is about, before the access rule.
enum Scope {
    All,
    /// The entries of one word, few enough to bind.
    Ids(Vec<String>),
    /// The entries of one word, too many to bind.
    Term(Vec<u8>),
}

impl Store {
    /// A page of the entries the actor may read, newest first (audited).
    pub async fn list_entries(
        &self,
        actor: &Actor,
        patient: PatientId,
        filter: &EntryFilter,
        now: Millis,
    ) -> Result<EntryPage> {
        self.patient_read(
            actor,
            patient,
            Action::EntryList,
            Gate::Reach(Reach::File),
            now,
            async |access: &PatientAccess| {
                let page = self
                    .entry_page(actor, patient, &access.readable_categories(), filter, now)
                    .await?;
                let returned = page.items.len();
                Ok(Audited::new(page).detail(format!("returned={returned}")))
            },
        )
        .await
    }

    /// The authorised query itself, without the facts or the audit: the readable
    /// categories (one statement), then the page and the count. What the file-page
    /// benchmark measures.
    pub async fn query_entries(
        &self,
        actor: &Actor,
        patient: PatientId,
        filter: &EntryFilter,
        now: Millis,
    ) -> Result<EntryPage> {
        let mut conn = self.db.reader().acquire().await?;
        let (matrix, objected) =
            super::access::matrix_and_objections(&mut conn, actor, patient).await?;
        drop(conn);
        let categories = readable_in_matrix(&matrix, &objected);
        self.entry_page(actor, patient, &categories, filter, now)
            .await
    }

    async fn entry_page(
        &self,
        actor: &Actor,
        patient: PatientId,
        categories: &[Category],
        filter: &EntryFilter,
        now: Millis,
    ) -> Result<EntryPage> {
        let scope = match filter.word.as_deref() {
            None => Scope::All,
            Some(w) => {
                let term = self
                    .blind_index(BI_TERM, &term_key(patient, &w.trim().to_lowercase()))
                    .as_bytes()
                    .to_vec();
                // One more than the list may hold: enough to know it would not fit.
                let ids: Vec<String> = sqlx::query_scalar(
                    "select entry_id from entry_terms where term = $1 order by entry_id desc limit $2",
                )
                .bind(&term)
                .bind(MAX_BOUND_ENTRIES as i64 + 1)
                .fetch_all(self.db.reader())
                .await?;
                if ids.is_empty() {
                    return Ok(EntryPage {
                        items: Vec::new(),
                        total: 0,
                        next: None,
                    });
                }
                if ids.len() > MAX_BOUND_ENTRIES {
                    Scope::Term(term)
                } else {
                    Scope::Ids(ids)
                }
            }
        };
        if matches!(scope, Scope::All) && categories.is_empty() {
            return Ok(EntryPage {
                items: Vec::new(),
                total: 0,
                next: None,
            });
        }
        let limit = filter.page_size();
        let mut rows = Sql::new(&format!(
            "select {ENTRY_COLUMNS} from entries e join entry_versions v on v.entry_id = e.id and v.version = e.version where "
        ));
        let mut count = Sql::new("select count(*) from entries e where ");
        for q in [&mut rows, &mut count] {
            self.entry_conditions(q, actor, patient, categories, filter, &scope, now);
        }
        rows.push(" and e.id < ")
            .push_bind(filter.before_key())
            .push(" order by e.id desc limit ")
            .push_bind(limit + 1);
        // A statement whose text changes with a list's length is not worth a place
        // in the statement cache.
        let persistent = !matches!(scope, Scope::Ids(_));
        let rows: Vec<AnyRow> = rows
            .query()
            .persistent(persistent)
            .fetch_all(self.db.reader())
            .await?;
        let total: i64 = count
            .query_scalar()
            .persistent(persistent)
            .fetch_one(self.db.reader())
            .await?;
        let limit = usize::try_from(limit).unwrap_or(50);
        let has_more = rows.len() > limit;
        let key = self.data_key(&patient_owner(patient)).await?;
        let items = rows
            .iter()
            .take(limit)
            .map(|row| entry_from_row(&key, patient, row))
            .collect::<Result<Vec<_>>>()?;
        let next = if has_more {
            items.last().map(|e| e.id)
        } else {
            None
        };
        Ok(EntryPage { items, total, next })
    }

    /// The `where` of a page or a count: the patient, the access rule, the filters.
    #[allow(clippy::too_many_arguments)]
    fn entry_conditions(
        &self,
        q: &mut Sql,
        actor: &Actor,
        patient: PatientId,
        categories: &[Category],
        filter: &EntryFilter,
        scope: &Scope,
        now: Millis,
    ) {
        let rule = Rule::new(actor, now);
        let p = q.shared("patient", || Arg::from(patient.as_text()));
        q.push("e.patient_id = ").push(&p);
        match scope {
            Scope::All => {}
            Scope::Ids(ids) => {
                let list: Vec<String> = ids.iter().map(|i| q.bind(i.clone())).collect();
                q.push(&format!(" and e.id in ({})", list.join(", ")));
            }
            Scope::Term(term) => {
                q.push(" and e.id in (select t.entry_id from entry_terms t where t.term = ")
                    .push_bind(term.clone())
                    .push(")");
            }
        }
        // A word's few entries are checked one by one against the matrix; a plain page
        // reads the categories written into the statement (see `Rule::entry`).
        let listed = matches!(scope, Scope::All).then_some(categories);
        let readable = rule.entry(q, "e", &p, listed);
        q.push(" and ").push(&readable);
        if !filter.include_entered_in_error {
            q.push(" and e.status = 'active'");
        }
        if let Some(c) = filter.category {
            q.push(" and e.category = ").push_bind(c.as_str());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::placeholders;

    #[test]
    fn placeholders_number_from_start() {
        assert_eq!(placeholders(7, 3), "$7, $8, $9");
        assert_eq!(placeholders(5, 1), "$5");
    }
}
