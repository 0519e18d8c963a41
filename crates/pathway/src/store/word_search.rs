//! Word searches in a patient's file: the authorised page and count of the entries
//! holding a word's blind-index term.
//!
//! The term's entries are read first (one index range, this patient's only, since
//! terms are keyed per patient) and bound as a list when there are few of them.
//! Left to choose, PostgreSQL's planner walked the whole file instead — backwards by
//! id to fill a page, or hashing all of its entries for the count — because its
//! default costs price an index probe per matching entry above a scan of the file:
//! 7–13 ms instead of ~2 ms for a word in 100 of 10,000 entries. A bound list leaves
//! it nothing to guess, on either database.

use sqlx::any::AnyRow;

use super::Store;
use super::entries::group_param;
use crate::Result;
use crate::account::Actor;
use crate::file::EntryFilter;
use crate::ids::PatientId;
use crate::time::Millis;

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

impl Store {
    /// The rows (up to `limit + 1`) and total for a word search; `term` is the word's
    /// blind index in this patient's file.
    pub(super) async fn query_by_word(
        &self,
        actor: &Actor,
        patient: PatientId,
        filter: &EntryFilter,
        now: Millis,
        term: Vec<u8>,
    ) -> Result<(Vec<AnyRow>, i64)> {
        // One more than the list may hold: enough to know it would not fit.
        let ids: Vec<String> = sqlx::query_scalar(
            "select entry_id from entry_terms where term = $1 order by entry_id desc limit $2",
        )
        .bind(&term)
        .bind(MAX_BOUND_ENTRIES as i64 + 1)
        .fetch_all(self.db.reader())
        .await?;
        if ids.is_empty() {
            return Ok((Vec::new(), 0));
        }
        if ids.len() > MAX_BOUND_ENTRIES {
            return self.query_by_term(actor, patient, filter, now, term).await;
        }
        let limit = filter.page_size();
        let before = filter.before_key();
        let status = if filter.include_entered_in_error {
            ""
        } else {
            "and e.status = 'active' "
        };
        let (rows_category, count_category, first_id_rows, first_id_count) = match filter.category {
            Some(_) => ("and e.category = $7 ", "and e.category = $5 ", 8, 6),
            None => ("", "", 7, 5),
        };
        const ROWS: &str = readable!(
            entry_columns!(),
            "join entry_versions v on v.entry_id = e.id and v.version = e.version",
            checked_categories!(),
            ""
        );
        const COUNT: &str = readable!("count(*)", "", checked_categories!(), "");
        let rows_sql = format!(
            "{ROWS}and e.id in ({}) {status}{rows_category}and e.id < $5 order by e.id desc limit $6",
            placeholders(first_id_rows, ids.len())
        );
        let count_sql = format!(
            "{COUNT}and e.id in ({}) {status}{count_category}",
            placeholders(first_id_count, ids.len())
        );
        let mut rows = sqlx::query(sqlx::AssertSqlSafe(rows_sql))
            .bind(patient.as_text())
            .bind(group_param(actor))
            .bind(actor.account_id.as_text())
            .bind(now.0)
            .bind(before)
            .bind(limit + 1);
        let mut total = sqlx::query_scalar(sqlx::AssertSqlSafe(count_sql))
            .bind(patient.as_text())
            .bind(group_param(actor))
            .bind(actor.account_id.as_text())
            .bind(now.0);
        if let Some(category) = filter.category {
            rows = rows.bind(category.as_str());
            total = total.bind(category.as_str());
        }
        for id in &ids {
            rows = rows.bind(id.clone());
            total = total.bind(id.clone());
        }
        // One statement per list length: not worth a place in the statement cache.
        let rows = rows.persistent(false).fetch_all(self.db.reader()).await?;
        let total: i64 = total.persistent(false).fetch_one(self.db.reader()).await?;
        Ok((rows, total))
    }

    /// The same search with the term as a sub-query, for words in many entries.
    async fn query_by_term(
        &self,
        actor: &Actor,
        patient: PatientId,
        filter: &EntryFilter,
        now: Millis,
        term: Vec<u8>,
    ) -> Result<(Vec<AnyRow>, i64)> {
        let limit = filter.page_size();
        let category = filter.category.map(|c| c.as_str()).unwrap_or("");
        let before = filter.before_key();
        // One statement per combination of filters rather than `($n = 1 or …)`
        // switches, which defeat PostgreSQL's generic plans.
        macro_rules! by_term {
            ($status:literal, $rows_category:literal, $count_category:literal) => {
                (
                    readable!(
                        entry_columns!(),
                        "join entry_versions v on v.entry_id = e.id and v.version = e.version",
                        checked_categories!(),
                        concat!(
                            "and e.id in (select t.entry_id from entry_terms t where t.term = $7) ",
                            $status,
                            $rows_category,
                            " and e.id < $5 order by e.id desc limit $6"
                        )
                    ),
                    readable!(
                        "count(*)",
                        "",
                        checked_categories!(),
                        concat!(
                            "and e.id in (select t.entry_id from entry_terms t where t.term = $5) ",
                            $status,
                            $count_category
                        )
                    ),
                )
            };
        }
        let (rows_sql, count_sql) =
            match (filter.include_entered_in_error, filter.category.is_some()) {
                (false, false) => by_term!("and e.status = 'active'", "", ""),
                (false, true) => by_term!(
                    "and e.status = 'active'",
                    " and e.category = $8",
                    " and e.category = $6"
                ),
                (true, false) => by_term!("", "", ""),
                (true, true) => by_term!("", " and e.category = $8", " and e.category = $6"),
            };
        let mut rows = sqlx::query(rows_sql)
            .bind(patient.as_text())
            .bind(group_param(actor))
            .bind(actor.account_id.as_text())
            .bind(now.0)
            .bind(&before)
            .bind(limit + 1)
            .bind(term.clone());
        let mut total = sqlx::query_scalar(count_sql)
            .bind(patient.as_text())
            .bind(group_param(actor))
            .bind(actor.account_id.as_text())
            .bind(now.0)
            .bind(term);
        if filter.category.is_some() {
            rows = rows.bind(category);
            total = total.bind(category);
        }
        let rows = rows.fetch_all(self.db.reader()).await?;
        let total: i64 = total.fetch_one(self.db.reader()).await?;
        Ok((rows, total))
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
