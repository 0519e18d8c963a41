//! The waiting list's requests: registration (one open request per person, found by
//! the blind indexes of patient identity), what each reader sees, the coordinator's
//! list sorted by priority, changes and withdrawal. Capacity, proposals, placement
//! and indicators are in `waiting_placement.rs`.
//!
//! Who sees a request: a coordinator (identity, contact, commune, flags, priority —
//! never the notes, which may be clinical), its requester and a GP it is proposed to
//! (everything). Anyone else gets 404.

use serde::Serialize;
use sqlx::any::AnyRow;
use sqlx::{AnyConnection, Row};
use tracing::instrument;

use super::Store;
use super::access::Rule;
use super::sealed::{open_json, open_str, seal_json, seal_str};
use super::sql::Sql;
use crate::access::Reach;
use crate::account::Actor;
use crate::audit::{Action, AuditEvent, Outcome, Purpose};
use crate::directory::CommuneCode;
use crate::error::Noun;
use crate::ids::{AccountId, PatientId};
use crate::patient::{BI_INS, BI_NAME_DATE, Identity};
use crate::waiting_list::{
    Contact, Fragility, Group, Precarity, ProposalStatus, RequestStatus, Source, day_of,
    format_day, fragility_points, is_70_or_older, is_coordinator, may_request, priority,
};
use crate::{Error, Millis, Result};

pub use super::waiting_placement::ProposalView;

pub(crate) const TABLE: &str = "waiting_requests";
const COLUMNS: &str = "w.id, w.patient_id, w.identity, w.contact, w.notes, w.commune_code, w.source, \
     w.ald, w.age_70_plus, w.precarity, w.complex_situation, w.lost_gp, w.needs_home_visits, \
     w.fragility_points, w.status, w.requested_by, w.requested_at, w.requested_on, w.placed_at, \
     w.placed_on, w.placed_with, w.updated_at";
const MONTH_MS: i64 = 30 * 86_400_000;

/// The data key of a request.
pub(crate) fn request_owner(id: &crate::ids::RequestId) -> String {
    format!("waiting_request:{id}")
}

/// The person a request is for.
pub enum PatientRef {
    /// A record the requester may see.
    Existing(PatientId),
    /// Identity traits; the record is created when a GP accepts.
    Traits(Identity),
}

pub struct NewRequest {
    pub patient: PatientRef,
    pub commune: CommuneCode,
    pub source: Source,
    /// `age_70_plus` is ignored: it is computed from the birth date.
    pub fragility: Fragility,
    pub contact: Contact,
    pub notes: Option<String>,
}

/// A change to a request (`PATCH`): what is given replaces what was.
#[derive(Default)]
pub struct RequestChange {
    pub commune: Option<CommuneCode>,
    pub fragility: Option<Fragility>,
    pub contact: Option<Contact>,
    pub notes: Option<Option<String>>,
    /// Only `withdrawn`.
    pub withdraw: bool,
}

/// How the reader relates to a request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Reader {
    Coordinator,
    Requester,
    ProposedGp,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct RequestView {
    pub id: crate::ids::RequestId,
    pub patient_id: Option<PatientId>,
    pub identity: Identity,
    pub commune_code: String,
    pub source: Source,
    pub fragility: Fragility,
    pub priority: i64,
    pub status: RequestStatus,
    pub requested_by: AccountId,
    pub requested_at: Millis,
    pub requested_on: String,
    pub placed_on: Option<String>,
    pub placed_with: Option<AccountId>,
    pub contact: Contact,
    /// `None` for a coordinator (notes may be clinical).
    pub notes: Option<String>,
    /// Every proposal for the coordinator and the requester; a GP's own otherwise.
    pub proposals: Vec<ProposalView>,
    pub updated_at: Millis,
}

/// The coordinator's filters (`status` none: the open ones).
#[derive(Clone, Debug, Default)]
pub struct RequestQuery {
    pub commune: Option<CommuneCode>,
    pub group: Option<Group>,
    pub status: Option<RequestStatus>,
    pub after: Option<RequestCursor>,
    /// Rows asked of the store: the page size plus one.
    pub limit: i64,
}

/// A position in the list: priority (at the time of the page), request time, id.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RequestCursor {
    pub priority: i64,
    pub requested_at: i64,
    pub id: crate::ids::RequestId,
}

impl RequestCursor {
    pub fn encode(&self) -> String {
        format!("{}.{}.{}", self.priority, self.requested_at, self.id)
    }

    pub fn parse(text: &str) -> Option<RequestCursor> {
        let mut parts = text.splitn(3, '.');
        let priority = parts.next()?.parse().ok()?;
        let requested_at = parts.next()?.parse().ok()?;
        let id = crate::ids::RequestId::parse(parts.next()?)?;
        Some(RequestCursor {
            priority,
            requested_at,
            id,
        })
    }
}

impl RequestView {
    pub fn cursor(&self) -> RequestCursor {
        RequestCursor {
            priority: self.priority,
            requested_at: self.requested_at.0,
            id: self.id,
        }
    }
}

/// The priority at `now`, in SQL (the same function as `waiting_list::priority`).
fn priority_sql(q: &mut Sql, now: Millis) -> String {
    let n = q.bind(now.0);
    format!(
        "(w.fragility_points + case when {n} - w.requested_at >= {cap} then {max} when {n} - w.requested_at < 0 then 0 \
         else ({n} - w.requested_at) / {MONTH_MS} end)",
        cap = MONTH_MS * crate::waiting_list::WAIT_POINTS_MAX,
        max = crate::waiting_list::WAIT_POINTS_MAX,
    )
}

pub(crate) fn flag(row: &AnyRow, name: &str) -> Result<bool> {
    Ok(row.try_get::<i64, _>(name)? != 0)
}

pub(crate) fn fragility_of(row: &AnyRow) -> Result<Fragility> {
    Ok(Fragility {
        ald: flag(row, "ald")?,
        age_70_plus: flag(row, "age_70_plus")?,
        precarity: row
            .try_get::<Option<String>, _>("precarity")?
            .as_deref()
            .and_then(Precarity::parse),
        complex_situation: flag(row, "complex_situation")?,
        lost_gp: flag(row, "lost_gp")?,
        needs_home_visits: flag(row, "needs_home_visits")?,
    })
}

fn duplicate() -> Error {
    Error::conflict(
        "waiting_list.duplicate",
        "this person already has an open request on the waiting list",
    )
}

impl Store {
    /// Registers a request (coordinators and health professionals). The same person
    /// twice, while a request is open, answers 409 `waiting_list.duplicate`.
    #[instrument(skip_all)]
    pub async fn create_waiting_request(
        &self,
        actor: &Actor,
        new: NewRequest,
        now: Millis,
    ) -> Result<RequestView> {
        may_request(actor)?;
        let id = crate::ids::RequestId::new();
        let mut tx = self.begin().await?;
        let (patient_id, identity, bi_name_date, bi_ins) = match new.patient {
            PatientRef::Traits(identity) => {
                let (nd, ins) = self.person_indexes(&identity);
                (None, identity, nd, ins)
            }
            PatientRef::Existing(pid) => {
                let identity = self.visible_identity(&mut tx, actor, pid, now).await?;
                let (nd, ins) = self.person_indexes(&identity);
                (Some(pid), identity, nd, ins)
            }
        };
        let mut q = Sql::new(
            "select count(*) from waiting_requests where status in ('waiting', 'proposed') and (bi_name_date = ",
        );
        q.push_bind(bi_name_date.clone());
        if let Some(ins) = &bi_ins {
            q.push(" or bi_ins = ").push_bind(ins.clone());
        }
        if let Some(pid) = patient_id {
            q.push(" or patient_id = ").push_bind(pid.as_text());
        }
        q.push(")");
        let open: i64 = q.query_scalar().fetch_one(&mut *tx).await?;
        if open > 0 {
            return Err(duplicate());
        }
        let mut fragility = new.fragility;
        fragility.age_70_plus = is_70_or_older(&identity.birth_date, day_of(now));
        let key = self
            .create_data_key(&mut tx, &request_owner(&id), now)
            .await?;
        let row = id.as_text();
        let requested_on = format_day(day_of(now));
        let inserted = sqlx::query(
            "insert into waiting_requests (id, patient_id, identity, contact, notes, bi_name_date, bi_ins, commune_code, source, \
             ald, age_70_plus, precarity, complex_situation, lost_gp, needs_home_visits, fragility_points, status, \
             requested_by, requested_at, requested_on, updated_at) \
             values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, 'waiting', $17, $18, $19, $18)",
        )
        .bind(row.clone())
        .bind(patient_id.map(|p| p.as_text()))
        .bind(seal_json(&key, TABLE, &row, "identity", &identity)?)
        .bind(seal_json(&key, TABLE, &row, "contact", &new.contact)?)
        .bind(
            new.notes
                .as_deref()
                .map(|n| seal_str(&key, TABLE, &row, "notes", n))
                .transpose()?,
        )
        .bind(bi_name_date)
        .bind(bi_ins)
        .bind(new.commune.as_str().to_string())
        .bind(new.source.as_str())
        .bind(i64::from(fragility.ald))
        .bind(i64::from(fragility.age_70_plus))
        .bind(fragility.precarity.map(|p| p.as_str().to_string()))
        .bind(i64::from(fragility.complex_situation))
        .bind(i64::from(fragility.lost_gp))
        .bind(i64::from(fragility.needs_home_visits))
        .bind(fragility_points(&fragility))
        .bind(actor.account_id.as_text())
        .bind(now.0)
        .bind(requested_on.clone())
        .execute(&mut *tx)
        .await;
        match inserted {
            Err(sqlx::Error::Database(db)) if db.is_unique_violation() => return Err(duplicate()),
            other => {
                other?;
            }
        }
        let mut event = AuditEvent::new(
            now,
            Some(actor.account_id),
            Action::WaitingListCreate,
            purpose(actor),
            Outcome::Allowed,
        )
        .resource("waiting_request", id)
        .detail(format!("source={}", new.source));
        if let Some(pid) = patient_id {
            event = event.patient(pid);
        }
        self.audit_in(&mut tx, &[event]).await?;
        tx.commit(self).await?;
        Ok(RequestView {
            id,
            patient_id,
            identity,
            commune_code: new.commune.to_string(),
            source: new.source,
            fragility,
            priority: priority(&fragility, now, now),
            status: RequestStatus::Waiting,
            requested_by: actor.account_id,
            requested_at: now,
            requested_on,
            placed_on: None,
            placed_with: None,
            contact: new.contact,
            notes: new.notes,
            proposals: Vec::new(),
            updated_at: now,
        })
    }

    /// The blind indexes of a person, as patients have them.
    pub(crate) fn person_indexes(&self, identity: &Identity) -> (Vec<u8>, Option<Vec<u8>>) {
        (
            self.blind_index(BI_NAME_DATE, &identity.name_date_key())
                .as_bytes()
                .to_vec(),
            identity
                .ins_matricule
                .as_ref()
                .map(|m| self.blind_index(BI_INS, m.as_str()).as_bytes().to_vec()),
        )
    }

    /// The identity of a patient the actor may see (404 otherwise).
    async fn visible_identity(
        &self,
        conn: &mut AnyConnection,
        actor: &Actor,
        pid: PatientId,
        now: Millis,
    ) -> Result<Identity> {
        let rule = Rule::new(actor, now);
        let mut q =
            Sql::new("select p.identity from patients p where p.erased_at is null and p.id = ");
        q.push_bind(pid.as_text());
        let visible = rule.reaches(&mut q, Reach::Identity, "p.id");
        q.push(" and ").push(&visible);
        let sealed: Option<Option<Vec<u8>>> = q.query_scalar().fetch_optional(&mut *conn).await?;
        let sealed = sealed.flatten().ok_or(Error::not_found(Noun::Patient))?;
        let key = self
            .data_key_in(conn, &super::sealed::patient_owner(pid))
            .await?;
        open_json(&key, "patients", &pid.as_text(), "identity", &sealed)
    }

    /// How `actor` relates to request `id`, or 404.
    pub(crate) async fn request_reader(
        &self,
        conn: &mut AnyConnection,
        actor: &Actor,
        id: crate::ids::RequestId,
    ) -> Result<(Reader, AnyRow)> {
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "select {COLUMNS} from waiting_requests w where w.id = $1"
        )))
        .bind(id.as_text())
        .fetch_optional(&mut *conn)
        .await?
        .ok_or(Error::not_found(Noun::WaitingRequest))?;
        if is_coordinator(actor) {
            return Ok((Reader::Coordinator, row));
        }
        if row.try_get::<String, _>("requested_by")? == actor.account_id.as_text() {
            return Ok((Reader::Requester, row));
        }
        let proposed: i64 = sqlx::query_scalar(
            "select count(*) from waiting_proposals where request_id = $1 and gp_id = $2 and status in ('pending', 'accepted')",
        )
        .bind(id.as_text())
        .bind(actor.account_id.as_text())
        .fetch_one(&mut *conn)
        .await?;
        if proposed > 0 {
            Ok((Reader::ProposedGp, row))
        } else {
            Err(Error::not_found(Noun::WaitingRequest))
        }
    }

    /// One request, as its reader may see it; audited, and so is a refusal.
    #[instrument(skip_all, fields(id = %id))]
    pub async fn waiting_request(
        &self,
        actor: &Actor,
        id: crate::ids::RequestId,
        now: Millis,
    ) -> Result<RequestView> {
        let mut conn = self.db.reader().acquire().await?;
        let found = self.request_reader(&mut conn, actor, id).await;
        let (reader, row) = match found {
            Ok(found) => found,
            Err(e) => {
                self.waiting_refused(actor, Action::WaitingListRead, id, &e, now)
                    .await;
                return Err(e);
            }
        };
        let mut views = self
            .request_views(&mut conn, actor, &[(reader, row)], now)
            .await?;
        drop(conn);
        let view = views.pop().ok_or(Error::not_found(Noun::WaitingRequest))?;
        let mut event = AuditEvent::new(
            now,
            Some(actor.account_id),
            Action::WaitingListRead,
            purpose(actor),
            Outcome::Allowed,
        )
        .resource("waiting_request", id);
        if let Some(pid) = view.patient_id {
            event = event.patient(pid);
        }
        self.audit(event).await?;
        Ok(view)
    }

    /// Audits a refusal on a request (ids and the code only).
    pub(crate) async fn waiting_refused(
        &self,
        actor: &Actor,
        action: Action,
        id: crate::ids::RequestId,
        err: &Error,
        now: Millis,
    ) {
        if !err.is_refusal() {
            return;
        }
        let event = AuditEvent::new(
            now,
            Some(actor.account_id),
            action,
            purpose(actor),
            Outcome::Denied,
        )
        .resource("waiting_request", id)
        .detail(err.code());
        if let Err(e) = self.audit(event).await {
            tracing::warn!(error = %e, "cannot audit a refusal");
        }
    }

    /// Views of rows, with what each reader may see.
    pub(crate) async fn request_views(
        &self,
        conn: &mut AnyConnection,
        actor: &Actor,
        rows: &[(Reader, AnyRow)],
        now: Millis,
    ) -> Result<Vec<RequestView>> {
        let ids: Vec<String> = rows
            .iter()
            .map(|(_, r)| r.try_get::<String, _>("id"))
            .collect::<std::result::Result<_, _>>()?;
        let mut proposals = self.proposals_of(conn, &ids).await?;
        let mut out = Vec::with_capacity(rows.len());
        for (reader, row) in rows {
            let text: String = row.try_get("id")?;
            let id = crate::ids::RequestId::parse(&text)
                .ok_or(Error::not_found(Noun::WaitingRequest))?;
            // On the connection already held: a page never asks the pool for a second.
            let key = self.data_key_in(conn, &request_owner(&id)).await?;
            let identity_sealed: Option<Vec<u8>> = row.try_get("identity")?;
            let identity: Identity = open_json(
                &key,
                TABLE,
                &text,
                "identity",
                &identity_sealed.ok_or(Error::Erased)?,
            )?;
            let contact_sealed: Option<Vec<u8>> = row.try_get("contact")?;
            let contact: Contact = match contact_sealed {
                Some(c) => open_json(&key, TABLE, &text, "contact", &c)?,
                None => Contact::default(),
            };
            let notes = match (reader, row.try_get::<Option<Vec<u8>>, _>("notes")?) {
                (Reader::Coordinator, _) | (_, None) => None,
                (_, Some(n)) => Some(open_str(&key, TABLE, &text, "notes", &n)?),
            };
            let fragility = fragility_of(row)?;
            let requested_at = Millis(row.try_get("requested_at")?);
            let mine: Vec<ProposalView> = proposals
                .remove(&text)
                .unwrap_or_default()
                .into_iter()
                .filter(|p| *reader != Reader::ProposedGp || p.gp_id == actor.account_id)
                .collect();
            out.push(RequestView {
                id,
                patient_id: row
                    .try_get::<Option<String>, _>("patient_id")?
                    .as_deref()
                    .and_then(PatientId::parse),
                identity,
                commune_code: row.try_get("commune_code")?,
                source: Source::parse(&row.try_get::<String, _>("source")?)
                    .unwrap_or(Source::Autre),
                fragility,
                priority: priority(&fragility, requested_at, now),
                status: RequestStatus::parse(&row.try_get::<String, _>("status")?)
                    .unwrap_or(RequestStatus::Waiting),
                requested_by: AccountId::parse(&row.try_get::<String, _>("requested_by")?)
                    .ok_or(Error::not_found(Noun::Account))?,
                requested_at,
                requested_on: row.try_get("requested_on")?,
                placed_on: row.try_get("placed_on")?,
                placed_with: row
                    .try_get::<Option<String>, _>("placed_with")?
                    .as_deref()
                    .and_then(AccountId::parse),
                contact,
                notes,
                proposals: mine,
                updated_at: Millis(row.try_get("updated_at")?),
            });
        }
        Ok(out)
    }

    /// The list: every request for a coordinator (open ones unless `status` says),
    /// sorted by priority at `now` (then the oldest first); for anyone else, their
    /// own requests and those proposed to them, in the same order.
    #[instrument(skip_all)]
    pub async fn waiting_requests(
        &self,
        actor: &Actor,
        query: &RequestQuery,
        now: Millis,
    ) -> Result<Vec<RequestView>> {
        let coordinator = is_coordinator(actor);
        let mut q = Sql::new("select ");
        let prio = priority_sql(&mut q, now);
        q.push(&format!(
            "{COLUMNS}, {prio} as prio from waiting_requests w where "
        ));
        match query.status {
            Some(s) => {
                q.push("w.status = ").push_bind(s.as_str());
            }
            None => {
                q.push("w.status in ('waiting', 'proposed')");
            }
        }
        if !coordinator {
            let me = q.bind(actor.account_id.as_text());
            q.push(&format!(
                " and (w.requested_by = {me} or w.id in (select request_id from waiting_proposals where gp_id = {me} and status in ('pending', 'accepted')))"
            ));
        }
        if let Some(c) = &query.commune {
            q.push(" and w.commune_code = ").push_bind(c.as_str());
        }
        match query.group {
            None => {}
            Some(Group::Ald) => {
                q.push(" and w.ald = 1");
            }
            Some(Group::Age70Plus) => {
                q.push(" and w.age_70_plus = 1");
            }
            Some(Group::CssAme) => {
                q.push(" and w.precarity is not null");
            }
            Some(Group::Others) => {
                q.push(" and w.ald = 0 and w.age_70_plus = 0 and w.precarity is null");
            }
        }
        if let Some(after) = &query.after {
            let p = q.bind(after.priority);
            let at = q.bind(after.requested_at);
            let id = q.bind(after.id.as_text());
            q.push(&format!(
                " and ({prio} < {p} or ({prio} = {p} and (w.requested_at > {at} or (w.requested_at = {at} and w.id > {id}))))"
            ));
        }
        q.push(" order by prio desc, w.requested_at, w.id limit ")
            .push_bind(query.limit);
        let mut conn = self.db.reader().acquire().await?;
        let rows = q.query().fetch_all(&mut *conn).await?;
        let mut readers = Vec::with_capacity(rows.len());
        for row in rows {
            let reader = if coordinator {
                Reader::Coordinator
            } else if row.try_get::<String, _>("requested_by")? == actor.account_id.as_text() {
                Reader::Requester
            } else {
                Reader::ProposedGp
            };
            readers.push((reader, row));
        }
        let views = self.request_views(&mut conn, actor, &readers, now).await?;
        drop(conn);
        if !views.is_empty() {
            let events = views
                .iter()
                .map(|v| {
                    let e = AuditEvent::new(
                        now,
                        Some(actor.account_id),
                        Action::WaitingListList,
                        purpose(actor),
                        Outcome::Allowed,
                    )
                    .resource("waiting_request", v.id);
                    match v.patient_id {
                        Some(p) => e.patient(p),
                        None => e,
                    }
                })
                .collect();
            self.audit_all(events).await?;
        }
        Ok(views)
    }

    /// Changes a request (its requester or a coordinator; a placed or withdrawn
    /// request no longer changes). Withdrawing lapses its pending proposals.
    #[instrument(skip_all, fields(id = %id))]
    pub async fn update_waiting_request(
        &self,
        actor: &Actor,
        id: crate::ids::RequestId,
        change: RequestChange,
        now: Millis,
    ) -> Result<RequestView> {
        let result = self.update_request_in(actor, id, change, now).await;
        if let Err(e) = &result {
            self.waiting_refused(actor, Action::WaitingListUpdate, id, e, now)
                .await;
        }
        result?;
        self.waiting_request(actor, id, now).await
    }

    async fn update_request_in(
        &self,
        actor: &Actor,
        id: crate::ids::RequestId,
        change: RequestChange,
        now: Millis,
    ) -> Result<()> {
        let mut tx = self.begin().await?;
        let (reader, row) = self.request_reader(&mut tx, actor, id).await?;
        if reader == Reader::ProposedGp {
            return Err(Error::forbidden(
                "waiting_list.update_forbidden",
                "only the requester and coordinators change a request",
            ));
        }
        if change.notes.is_some()
            && reader == Reader::Coordinator
            && row.try_get::<String, _>("requested_by")? != actor.account_id.as_text()
        {
            return Err(Error::forbidden(
                "waiting_list.notes_forbidden",
                "the notes are the requester's",
            ));
        }
        let status = RequestStatus::parse(&row.try_get::<String, _>("status")?)
            .unwrap_or(RequestStatus::Waiting);
        if matches!(status, RequestStatus::Placed | RequestStatus::Withdrawn) {
            return Err(Error::conflict(
                "waiting_list.closed",
                format!("this request is {status}"),
            ));
        }
        let text = id.as_text();
        let mut fragility = fragility_of(&row)?;
        if let Some(f) = change.fragility {
            fragility = Fragility {
                age_70_plus: fragility.age_70_plus,
                ..f
            };
        }
        let key = self.data_key_in(&mut tx, &request_owner(&id)).await?;
        let mut q = Sql::new("update waiting_requests set updated_at = ");
        q.push_bind(now.0);
        q.push(", ald = ").push_bind(i64::from(fragility.ald));
        q.push(", precarity = ")
            .push_bind(fragility.precarity.map(|p| p.as_str().to_string()));
        q.push(", complex_situation = ")
            .push_bind(i64::from(fragility.complex_situation));
        q.push(", lost_gp = ")
            .push_bind(i64::from(fragility.lost_gp));
        q.push(", needs_home_visits = ")
            .push_bind(i64::from(fragility.needs_home_visits));
        q.push(", fragility_points = ")
            .push_bind(fragility_points(&fragility));
        if let Some(c) = &change.commune {
            q.push(", commune_code = ").push_bind(c.as_str());
        }
        if let Some(c) = &change.contact {
            q.push(", contact = ")
                .push_bind(seal_json(&key, TABLE, &text, "contact", c)?);
        }
        if let Some(n) = &change.notes {
            let sealed = n
                .as_deref()
                .map(|n| seal_str(&key, TABLE, &text, "notes", n))
                .transpose()?;
            match sealed {
                Some(s) => q.push(", notes = ").push_bind(s),
                None => q.push(", notes = null"),
            };
        }
        if change.withdraw {
            q.push(", status = 'withdrawn', withdrawn_at = ")
                .push_bind(now.0);
        }
        q.push(" where id = ").push_bind(text.clone());
        q.push(" and status in ('waiting', 'proposed')");
        let done = q.query().execute(&mut *tx).await?;
        if done.rows_affected() != 1 {
            return Err(Error::conflict(
                "waiting_list.closed",
                "this request was closed meanwhile",
            ));
        }
        if change.withdraw {
            sqlx::query(
                "update waiting_proposals set status = $1, answered_at = $2 where request_id = $3 and status = 'pending'",
            )
            .bind(ProposalStatus::Lapsed.as_str())
            .bind(now.0)
            .bind(text)
            .execute(&mut *tx)
            .await?;
        }
        let mut event = AuditEvent::new(
            now,
            Some(actor.account_id),
            Action::WaitingListUpdate,
            purpose(actor),
            Outcome::Allowed,
        )
        .resource("waiting_request", id)
        .detail(if change.withdraw {
            "withdrawn"
        } else {
            "changed"
        });
        if let Some(p) = row
            .try_get::<Option<String>, _>("patient_id")?
            .as_deref()
            .and_then(PatientId::parse)
        {
            event = event.patient(p);
        }
        self.audit_in(&mut tx, &[event]).await?;
        tx.commit(self).await
    }

    /// The requests about a patient, for the patient's export (everything but the
    /// notes' authorship is the patient's).
    pub(crate) async fn waiting_requests_of_patient(
        &self,
        actor: &Actor,
        patient: PatientId,
        now: Millis,
    ) -> Result<Vec<RequestView>> {
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "select {COLUMNS} from waiting_requests w where w.patient_id = $1 order by w.requested_at"
        )))
        .bind(patient.as_text())
        .fetch_all(self.db.reader())
        .await?;
        let rows: Vec<(Reader, AnyRow)> =
            rows.into_iter().map(|r| (Reader::Requester, r)).collect();
        let mut conn = self.db.reader().acquire().await?;
        self.request_views(&mut conn, actor, &rows, now).await
    }

    /// Erasure: the keys of the patient's requests are destroyed and their blind
    /// indexes dropped (inside the erasing transaction).
    pub(crate) async fn erase_waiting_requests(
        &self,
        conn: &mut AnyConnection,
        patient: PatientId,
        now: Millis,
    ) -> Result<usize> {
        let ids: Vec<String> =
            sqlx::query_scalar("select id from waiting_requests where patient_id = $1")
                .bind(patient.as_text())
                .fetch_all(&mut *conn)
                .await?;
        for id in &ids {
            self.destroy_data_key(conn, &format!("waiting_request:{id}"), now)
                .await?;
        }
        sqlx::query(
            "update waiting_requests set identity = null, contact = null, notes = null, bi_name_date = null, bi_ins = null, \
             status = case when status in ('waiting', 'proposed') then 'withdrawn' else status end where patient_id = $1",
        )
        .bind(patient.as_text())
        .execute(&mut *conn)
        .await?;
        Ok(ids.len())
    }
}

/// The purpose an actor's waiting-list work is audited under.
pub(crate) fn purpose(actor: &Actor) -> Purpose {
    if is_coordinator(actor) {
        Purpose::Administration
    } else {
        Purpose::Care
    }
}
