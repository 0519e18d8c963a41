//! Conferences read back from their rows: the participants and the case counts of a
//! whole page in one statement each (the agenda read them one conference at a time,
//! two more round trips per conference), the sealed title and place opened under
//! each conference's key.

use std::collections::HashMap;

use sqlx::any::AnyRow;
use sqlx::{AnyConnection, Row};

use super::Store;
use super::case_conferences::{CONFERENCES, conference_owner, not_found, parse_account};
use super::entry_pages::placeholders;
use super::sealed::open_str;
use crate::Result;
use crate::case_conference::{Conference, ConferenceKind, ConferenceStatus, Participant, Quorum};
use crate::ids::CaseConferenceId;
use crate::time::Millis;

impl Store {
    /// The conferences of `rows` (columns `CONFERENCE_COLUMNS`), in the rows' order.
    pub(super) async fn conferences_from_rows(
        &self,
        conn: &mut AnyConnection,
        rows: &[AnyRow],
    ) -> Result<Vec<Conference>> {
        if rows.is_empty() {
            return Ok(Vec::new());
        }
        let ids: Vec<String> = rows
            .iter()
            .map(|r| r.try_get::<String, _>("id"))
            .collect::<std::result::Result<_, _>>()?;
        let list = placeholders(1, ids.len());
        let mut q = sqlx::query(sqlx::AssertSqlSafe(format!(
            "select conference_id, account_id, display_name, profession_code, specialty_code, attended \
             from case_conference_participants where removed_at is null and conference_id in ({list}) \
             order by conference_id, added_at, account_id"
        )));
        for id in &ids {
            q = q.bind(id.clone());
        }
        let mut participants: HashMap<String, Vec<Participant>> = HashMap::new();
        for p in q.persistent(false).fetch_all(&mut *conn).await? {
            participants
                .entry(p.try_get("conference_id")?)
                .or_default()
                .push(Participant {
                    account_id: parse_account(p.try_get("account_id")?).ok_or_else(not_found)?,
                    display_name: p
                        .try_get::<Option<String>, _>("display_name")?
                        .unwrap_or_default(),
                    profession_code: p.try_get("profession_code")?,
                    specialty_code: p.try_get("specialty_code")?,
                    attended: p.try_get::<Option<i64>, _>("attended")?.map(|a| a != 0),
                });
        }
        let mut q = sqlx::query_as::<_, (String, i64)>(sqlx::AssertSqlSafe(format!(
            "select conference_id, count(*) from case_conference_cases where conference_id in ({list}) \
             group by conference_id"
        )));
        for id in &ids {
            q = q.bind(id.clone());
        }
        let counts: HashMap<String, i64> = q
            .persistent(false)
            .fetch_all(&mut *conn)
            .await?
            .into_iter()
            .collect();
        let mut out = Vec::with_capacity(rows.len());
        for (row, text) in rows.iter().zip(ids) {
            let people = participants.remove(&text).unwrap_or_default();
            let case_count = counts.get(&text).copied().unwrap_or(0);
            out.push(
                self.conference_of(conn, row, text, people, case_count)
                    .await?,
            );
        }
        Ok(out)
    }

    async fn conference_of(
        &self,
        conn: &mut AnyConnection,
        row: &AnyRow,
        text: String,
        participants: Vec<Participant>,
        case_count: i64,
    ) -> Result<Conference> {
        let id = CaseConferenceId::parse(&text).ok_or_else(not_found)?;
        let title: Option<Vec<u8>> = row.try_get("title")?;
        let place: Option<Vec<u8>> = row.try_get("place")?;
        let (title, place) = if title.is_some() || place.is_some() {
            let key = self.data_key_in(conn, &conference_owner(id)).await?;
            (
                title
                    .map(|t| open_str(&key, CONFERENCES, &text, "title", &t))
                    .transpose()?
                    .unwrap_or_default(),
                place
                    .map(|p| open_str(&key, CONFERENCES, &text, "place", &p))
                    .transpose()?,
            )
        } else {
            (String::new(), None)
        };
        let created_by = parse_account(row.try_get("created_by")?).ok_or_else(not_found)?;
        Ok(Conference {
            id,
            title,
            kind: ConferenceKind::parse(&row.try_get::<String, _>("kind")?)
                .unwrap_or(ConferenceKind::Concertation),
            scheduled_at: Millis(row.try_get("scheduled_at")?),
            duration_minutes: row.try_get::<i64, _>("duration_minutes")?,
            place,
            chair_id: parse_account(row.try_get("chair_id")?).unwrap_or(created_by),
            quorum: Quorum {
                min_participants: row.try_get::<i64, _>("min_participants")?,
                min_professions: row.try_get::<i64, _>("min_professions")?,
            },
            status: ConferenceStatus::parse(&row.try_get::<String, _>("status")?)
                .unwrap_or(ConferenceStatus::Planned),
            version: row.try_get("version")?,
            created_by,
            created_at: Millis(row.try_get("created_at")?),
            updated_at: Millis(
                row.try_get::<Option<i64>, _>("updated_at")?
                    .unwrap_or(row.try_get("created_at")?),
            ),
            validated_at: row.try_get::<Option<i64>, _>("validated_at")?.map(Millis),
            record_hash: row.try_get("record_hash")?,
            participants,
            case_count,
        })
    }
}
