//! Placing waiting-list patients: GP capacity declarations, suggestions, proposals
//! and their answers, the lapse of unanswered proposals, and the indicators.
//!
//! Accepting a proposal is one transaction: the proposal moves from pending (one
//! conditional update: of two answers, one wins), the request is placed (another:
//! of two acceptances for one request, one wins, the other is 409), a place of the
//! GP's month is taken (a third: `used < per month`, so capacity never goes below
//! zero), the patient record is found or created, the GP joins the care team as
//! médecin traitant, the other proposals lapse; notifications go after the commit.

use std::collections::HashMap;

use serde::Serialize;
use sqlx::any::AnyRow;
use sqlx::{AnyConnection, Row};
use tracing::instrument;

use super::Store;
use super::sealed::{open_json, patient_owner, seal_json, seal_str};
use super::sql::Sql;
use super::tx::Tx;
use super::waiting_list::{TABLE, flag, fragility_of, request_owner};
use crate::account::Actor;
use crate::audit::{Action, AuditEvent, Outcome, Purpose};
use crate::care_team::TeamRole;
use crate::directory::CommuneCode;
use crate::error::Noun;
use crate::ids::{AccountId, MemberId, PatientId, ProposalId, RequestId};
use crate::notification::{Notice, NotificationKind};
use crate::patient::{Identity, IdentityStatus};
use crate::profile::Profile;
use crate::stream::AccountEvent;
use crate::waiting_list::indicators::{self, Indicators};
use crate::waiting_list::suggest::{Candidate, Need, Suggestion, suggest};
use crate::waiting_list::{
    Capacity, ProposalStatus, RequestStatus, check_proposal_count, coordinators_only, day_of,
    format_day, is_general_practitioner, may_propose, month_of, parse_day, remaining, transition,
};
use crate::{Error, Millis, Result};

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ProposalView {
    pub id: ProposalId,
    pub request_id: RequestId,
    pub gp_id: AccountId,
    pub gp_name: String,
    pub status: ProposalStatus,
    pub proposed_by: AccountId,
    pub created_at: Millis,
    pub answered_at: Option<Millis>,
}

/// A GP's declaration, with the places left this month.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CapacityView {
    pub account_id: AccountId,
    pub display_name: String,
    pub capacity: Capacity,
    pub used_this_month: i64,
    pub remaining_this_month: i64,
    pub updated_at: Millis,
}

const CAPACITY_COLUMNS: &str = "c.account_id, a.display_name, c.accepting, c.new_patients_per_month, c.communes, \
     c.accepts_ald, c.home_visits, c.until, c.updated_at, coalesce(u.used, 0) as used";

fn capacity_of(row: &AnyRow) -> Result<CapacityView> {
    let communes: String = row.try_get("communes")?;
    let capacity = Capacity {
        accepting: flag(row, "accepting")?,
        new_patients_per_month: row.try_get("new_patients_per_month")?,
        communes: communes.split(',').filter_map(CommuneCode::parse).collect(),
        accepts_ald: flag(row, "accepts_ald")?,
        home_visits: flag(row, "home_visits")?,
        until: row.try_get("until")?,
    };
    let used: i64 = row.try_get("used")?;
    Ok(CapacityView {
        account_id: AccountId::parse(&row.try_get::<String, _>("account_id")?)
            .ok_or(Error::not_found(Noun::Account))?,
        display_name: row.try_get("display_name")?,
        remaining_this_month: remaining(capacity.new_patients_per_month, used),
        used_this_month: used,
        capacity,
        updated_at: Millis(row.try_get("updated_at")?),
    })
}

fn proposal_of(row: &AnyRow) -> Result<ProposalView> {
    let id = |name: &str| -> Result<String> { Ok(row.try_get::<String, _>(name)?) };
    Ok(ProposalView {
        id: ProposalId::parse(&id("id")?).ok_or(Error::not_found(Noun::Proposal))?,
        request_id: RequestId::parse(&id("request_id")?)
            .ok_or(Error::not_found(Noun::WaitingRequest))?,
        gp_id: AccountId::parse(&id("gp_id")?).ok_or(Error::not_found(Noun::Account))?,
        gp_name: row.try_get("display_name")?,
        status: ProposalStatus::parse(&id("status")?).unwrap_or(ProposalStatus::Lapsed),
        proposed_by: AccountId::parse(&id("proposed_by")?)
            .ok_or(Error::not_found(Noun::Account))?,
        created_at: Millis(row.try_get("created_at")?),
        answered_at: row.try_get::<Option<i64>, _>("answered_at")?.map(Millis),
    })
}

/// Whether an account is a médecin généraliste, and its display name.
async fn gp_account(conn: &mut AnyConnection, id: AccountId) -> Result<Option<String>> {
    let row = sqlx::query(
        "select display_name, profile from accounts where id = $1 and kind = 'health_professional'",
    )
    .bind(id.as_text())
    .fetch_optional(&mut *conn)
    .await?;
    let Some(row) = row else { return Ok(None) };
    let profile: Profile =
        serde_json::from_str(&row.try_get::<String, _>("profile")?).unwrap_or_default();
    Ok(is_general_practitioner(&profile)
        .then(|| row.try_get("display_name"))
        .transpose()?)
}

impl Store {
    /// The proposals of some requests, by request id.
    pub(crate) async fn proposals_of(
        &self,
        conn: &mut AnyConnection,
        ids: &[String],
    ) -> Result<HashMap<String, Vec<ProposalView>>> {
        let mut out: HashMap<String, Vec<ProposalView>> = HashMap::new();
        if ids.is_empty() {
            return Ok(out);
        }
        let mut q = Sql::new(
            "select p.id, p.request_id, p.gp_id, a.display_name, p.status, p.proposed_by, p.created_at, p.answered_at \
             from waiting_proposals p join accounts a on a.id = p.gp_id where p.request_id in (",
        );
        for (i, id) in ids.iter().enumerate() {
            if i > 0 {
                q.push(", ");
            }
            q.push_bind(id.clone());
        }
        q.push(") order by p.created_at, p.id");
        for row in q.query().fetch_all(&mut *conn).await? {
            let p = proposal_of(&row)?;
            out.entry(p.request_id.as_text()).or_default().push(p);
        }
        Ok(out)
    }

    /// A GP's own declaration (`None` before the first one).
    pub async fn my_capacity(&self, actor: &Actor, now: Millis) -> Result<Option<CapacityView>> {
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "select {CAPACITY_COLUMNS} from gp_capacity c join accounts a on a.id = c.account_id \
             left join gp_capacity_usage u on u.account_id = c.account_id and u.month = $2 where c.account_id = $1"
        )))
        .bind(actor.account_id.as_text())
        .bind(month_of(now))
        .fetch_optional(self.db.reader())
        .await?;
        row.as_ref().map(capacity_of).transpose()
    }

    /// A médecin généraliste declares what they can take (the whole declaration).
    #[instrument(skip_all)]
    pub async fn set_my_capacity(
        &self,
        actor: &Actor,
        capacity: Capacity,
        now: Millis,
    ) -> Result<CapacityView> {
        let mut tx = self.begin().await?;
        if !actor.is_health_professional() || gp_account(&mut tx, actor.account_id).await?.is_none()
        {
            return Err(Error::forbidden(
                "gp_capacity.gps_only",
                "only médecins généralistes declare a capacity",
            ));
        }
        let communes: Vec<&str> = capacity.communes.iter().map(|c| c.as_str()).collect();
        sqlx::query(
            "insert into gp_capacity (account_id, accepting, new_patients_per_month, communes, accepts_ald, home_visits, until, updated_at) \
             values ($1, $2, $3, $4, $5, $6, $7, $8) on conflict (account_id) do update set accepting = excluded.accepting, \
             new_patients_per_month = excluded.new_patients_per_month, communes = excluded.communes, accepts_ald = excluded.accepts_ald, \
             home_visits = excluded.home_visits, until = excluded.until, updated_at = excluded.updated_at",
        )
        .bind(actor.account_id.as_text())
        .bind(i64::from(capacity.accepting))
        .bind(capacity.new_patients_per_month)
        .bind(communes.join(","))
        .bind(i64::from(capacity.accepts_ald))
        .bind(i64::from(capacity.home_visits))
        .bind(capacity.until.clone())
        .bind(now.0)
        .execute(&mut *tx)
        .await?;
        self.audit_in(
            &mut tx,
            &[AuditEvent::new(
                now,
                Some(actor.account_id),
                Action::GpCapacityUpdate,
                Purpose::Administration,
                Outcome::Allowed,
            )
            .resource("gp_capacity", actor.account_id)
            .detail(format!(
                "accepting={} per_month={} communes={}",
                capacity.accepting,
                capacity.new_patients_per_month,
                communes.len()
            ))],
        )
        .await?;
        tx.commit(self).await?;
        self.my_capacity(actor, now)
            .await?
            .ok_or(Error::not_found(Noun::Account))
    }

    /// Every declaration (coordinators), by account id after `after`.
    pub async fn capacities(
        &self,
        actor: &Actor,
        after: Option<AccountId>,
        limit: i64,
        now: Millis,
    ) -> Result<Vec<CapacityView>> {
        coordinators_only(actor)?;
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "select {CAPACITY_COLUMNS} from gp_capacity c join accounts a on a.id = c.account_id \
             left join gp_capacity_usage u on u.account_id = c.account_id and u.month = $1 \
             where c.account_id > $2 order by c.account_id limit $3"
        )))
        .bind(month_of(now))
        .bind(after.map(|a| a.as_text()).unwrap_or_default())
        .bind(limit)
        .fetch_all(self.db.reader())
        .await?;
        rows.iter().map(capacity_of).collect()
    }

    /// The territory's extra capacity: new patients a month over the declarations
    /// that accept and hold on `day`.
    pub async fn total_capacity(&self, day: time::Date) -> Result<i64> {
        let rows = sqlx::query(
            "select new_patients_per_month, until from gp_capacity where accepting = 1",
        )
        .fetch_all(self.db.reader())
        .await?;
        let mut total = 0;
        for r in rows {
            let until: Option<String> = r.try_get("until")?;
            if until
                .as_deref()
                .and_then(parse_day)
                .is_none_or(|u| u >= day)
            {
                total += r.try_get::<i64, _>("new_patients_per_month")?;
            }
        }
        Ok(total)
    }

    async fn candidates(&self, conn: &mut AnyConnection, now: Millis) -> Result<Vec<Candidate>> {
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "select {CAPACITY_COLUMNS}, (select count(*) from waiting_proposals p where p.gp_id = c.account_id and p.status = 'pending') as pending \
             from gp_capacity c join accounts a on a.id = c.account_id \
             left join gp_capacity_usage u on u.account_id = c.account_id and u.month = $1 where c.accepting = 1"
        )))
        .bind(month_of(now))
        .fetch_all(&mut *conn)
        .await?;
        let mut out = Vec::with_capacity(rows.len());
        for row in &rows {
            let c = capacity_of(row)?;
            out.push(Candidate {
                account_id: c.account_id,
                display_name: c.display_name,
                capacity: c.capacity,
                used: c.used_this_month,
                pending: row.try_get("pending")?,
            });
        }
        Ok(out)
    }

    /// The GPs that fit a request, best first (coordinators).
    #[instrument(skip_all, fields(id = %id))]
    pub async fn suggestions(
        &self,
        actor: &Actor,
        id: RequestId,
        limit: usize,
        now: Millis,
    ) -> Result<Vec<Suggestion>> {
        let mut conn = self.db.reader().acquire().await?;
        let found = match coordinators_only(actor) {
            Ok(()) => self.request_reader(&mut conn, actor, id).await,
            Err(e) => Err(e),
        };
        let (_, row) = match found {
            Ok(f) => f,
            Err(e) => {
                drop(conn);
                self.waiting_refused(actor, Action::WaitingListSuggest, id, &e, now)
                    .await;
                return Err(e);
            }
        };
        let commune = CommuneCode::parse(&row.try_get::<String, _>("commune_code")?)
            .ok_or(Error::not_found(Noun::WaitingRequest))?;
        let need = Need::of(commune, &fragility_of(&row)?);
        let mut candidates = self.candidates(&mut conn, now).await?;
        // Those already asked for this request are not suggested again.
        let asked: Vec<String> = sqlx::query_scalar(
            "select gp_id from waiting_proposals where request_id = $1 and status in ('pending', 'declined')",
        )
        .bind(id.as_text())
        .fetch_all(&mut *conn)
        .await?;
        drop(conn);
        candidates.retain(|c| !asked.contains(&c.account_id.as_text()));
        let out = suggest(&need, &candidates, day_of(now), limit);
        self.audit(
            AuditEvent::new(
                now,
                Some(actor.account_id),
                Action::WaitingListSuggest,
                Purpose::Administration,
                Outcome::Allowed,
            )
            .resource("waiting_request", id)
            .detail(format!("suggested={}", out.len())),
        )
        .await?;
        Ok(out)
    }

    /// A coordinator proposes 1 to 3 GPs (each a médecin généraliste with places left
    /// this month); each is notified.
    #[instrument(skip_all, fields(id = %id))]
    pub async fn propose(
        &self,
        actor: &Actor,
        id: RequestId,
        gp_ids: &[AccountId],
        now: Millis,
    ) -> Result<Vec<ProposalView>> {
        let result = self.propose_in(actor, id, gp_ids, now).await;
        if let Err(e) = &result {
            self.waiting_refused(actor, Action::WaitingListPropose, id, e, now)
                .await;
        }
        result
    }

    async fn propose_in(
        &self,
        actor: &Actor,
        id: RequestId,
        gp_ids: &[AccountId],
        now: Millis,
    ) -> Result<Vec<ProposalView>> {
        coordinators_only(actor)?;
        let mut distinct: Vec<AccountId> = Vec::new();
        for g in gp_ids {
            if !distinct.contains(g) {
                distinct.push(*g);
            }
        }
        if distinct.len() > crate::waiting_list::MAX_PROPOSALS || distinct.is_empty() {
            check_proposal_count(distinct.len(), 0)?;
        }
        let mut tx = self.begin().await?;
        let (_, row) = self.request_reader(&mut tx, actor, id).await?;
        let status = RequestStatus::parse(&row.try_get::<String, _>("status")?)
            .unwrap_or(RequestStatus::Waiting);
        may_propose(status)?;
        // The request's row first (see `accept_in`), and only while it is open.
        let open = sqlx::query(
            "update waiting_requests set status = 'proposed', updated_at = $1 where id = $2 and status in ('waiting', 'proposed')",
        )
        .bind(now.0)
        .bind(id.as_text())
        .execute(&mut *tx)
        .await?;
        if open.rows_affected() != 1 {
            return Err(Error::conflict(
                "waiting_list.closed",
                "this request was closed meanwhile",
            ));
        }
        let pending: Vec<String> = sqlx::query_scalar(
            "select gp_id from waiting_proposals where request_id = $1 and status = 'pending'",
        )
        .bind(id.as_text())
        .fetch_all(&mut *tx)
        .await?;
        if distinct.iter().any(|g| pending.contains(&g.as_text())) {
            return Err(Error::conflict(
                "waiting_list.already_proposed",
                "one of these GPs already has this request to answer",
            ));
        }
        check_proposal_count(distinct.len(), pending.len())?;
        let candidates = self.candidates(&mut tx, now).await?;
        let today = day_of(now);
        let mut out = Vec::new();
        for gp in &distinct {
            let Some(name) = gp_account(&mut tx, *gp).await? else {
                return Err(Error::invalid(
                    "waiting_list.not_a_gp",
                    "a proposal goes to a médecin généraliste",
                ));
            };
            let has_room = candidates.iter().any(|c| {
                c.account_id == *gp
                    && c.capacity.open_on(today)
                    && remaining(c.capacity.new_patients_per_month, c.used) > 0
            });
            if !has_room {
                return Err(Error::invalid(
                    "waiting_list.no_capacity",
                    "this GP has no place left this month",
                ));
            }
            let pid = ProposalId::new();
            sqlx::query(
                "insert into waiting_proposals (id, request_id, gp_id, status, proposed_by, created_at) values ($1, $2, $3, 'pending', $4, $5)",
            )
            .bind(pid.as_text())
            .bind(id.as_text())
            .bind(gp.as_text())
            .bind(actor.account_id.as_text())
            .bind(now.0)
            .execute(&mut *tx)
            .await?;
            self.notify_in(
                &mut tx,
                Notice {
                    to: *gp,
                    kind: NotificationKind::WaitingListProposal,
                    patient: None,
                    subject: Some(id.as_text()),
                    actor: Some(actor.account_id),
                },
                now,
            )
            .await?;
            self.account_event_in(
                &mut tx,
                *gp,
                AccountEvent::ProposalReceived,
                Some(pid.as_text()),
                serde_json::json!({ "request_id": id, "proposal_id": pid }),
                now,
            )
            .await?;
            out.push(ProposalView {
                id: pid,
                request_id: id,
                gp_id: *gp,
                gp_name: name,
                status: ProposalStatus::Pending,
                proposed_by: actor.account_id,
                created_at: now,
                answered_at: None,
            });
        }
        let events: Vec<AuditEvent> = out
            .iter()
            .map(|p| {
                AuditEvent::new(
                    now,
                    Some(actor.account_id),
                    Action::WaitingListPropose,
                    Purpose::Administration,
                    Outcome::Allowed,
                )
                .resource("waiting_request", id)
                .detail(format!("proposal={} gp={}", p.id, p.gp_id))
            })
            .collect();
        self.audit_in(&mut tx, &events).await?;
        tx.commit(self).await?;
        Ok(out)
    }

    /// The proposed GP accepts: the patient is placed with them (see the module).
    #[instrument(skip_all, fields(id = %id, proposal = %proposal))]
    pub async fn accept_proposal(
        &self,
        actor: &Actor,
        id: RequestId,
        proposal: ProposalId,
        now: Millis,
    ) -> Result<ProposalView> {
        let result = self.accept_in(actor, id, proposal, now).await;
        if let Err(e) = &result {
            self.waiting_refused(actor, Action::WaitingListAccept, id, e, now)
                .await;
        }
        result
    }

    /// The proposal, if it is the actor's (404 otherwise).
    async fn own_proposal(
        &self,
        conn: &mut AnyConnection,
        actor: &Actor,
        id: RequestId,
        proposal: ProposalId,
    ) -> Result<ProposalView> {
        let row = sqlx::query(
            "select p.id, p.request_id, p.gp_id, a.display_name, p.status, p.proposed_by, p.created_at, p.answered_at \
             from waiting_proposals p join accounts a on a.id = p.gp_id where p.id = $1 and p.request_id = $2 and p.gp_id = $3",
        )
        .bind(proposal.as_text())
        .bind(id.as_text())
        .bind(actor.account_id.as_text())
        .fetch_optional(&mut *conn)
        .await?
        .ok_or(Error::not_found(Noun::Proposal))?;
        proposal_of(&row)
    }

    /// Moves a pending proposal; `false` when another answer came first.
    async fn move_proposal(
        tx: &mut Tx,
        proposal: ProposalId,
        to: ProposalStatus,
        reason: Option<Vec<u8>>,
        now: Millis,
    ) -> Result<bool> {
        let done = sqlx::query(
            "update waiting_proposals set status = $1, answered_at = $2, reason = $3 where id = $4 and status = 'pending'",
        )
        .bind(to.as_str())
        .bind(now.0)
        .bind(reason)
        .bind(proposal.as_text())
        .execute(&mut **tx)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    async fn accept_in(
        &self,
        actor: &Actor,
        id: RequestId,
        proposal: ProposalId,
        now: Millis,
    ) -> Result<ProposalView> {
        let mut tx = self.begin().await?;
        let mut view = self.own_proposal(&mut tx, actor, id, proposal).await?;
        transition(view.status, ProposalStatus::Accepted)?;
        // The request's row first, in every write on a request's proposals: one lock
        // order, so that concurrent answers queue instead of deadlocking.
        let placed = sqlx::query(
            "update waiting_requests set status = 'placed', placed_at = $1, placed_on = $2, placed_with = $3, updated_at = $1 \
             where id = $4 and status in ('waiting', 'proposed')",
        )
        .bind(now.0)
        .bind(format_day(day_of(now)))
        .bind(actor.account_id.as_text())
        .bind(id.as_text())
        .execute(&mut *tx)
        .await?;
        if placed.rows_affected() != 1 {
            return Err(Error::conflict(
                "waiting_list.already_placed",
                "this patient was placed or the request closed meanwhile",
            ));
        }
        if !Self::move_proposal(&mut tx, proposal, ProposalStatus::Accepted, None, now).await? {
            return Err(Error::conflict(
                "waiting_list.proposal_closed",
                "this proposal was answered or lapsed meanwhile",
            ));
        }
        // A place of this month: never more than declared, whatever runs at once.
        let month = month_of(now);
        sqlx::query(
            "insert into gp_capacity_usage (account_id, month, used) values ($1, $2, 0) on conflict (account_id, month) do nothing",
        )
        .bind(actor.account_id.as_text())
        .bind(month.clone())
        .execute(&mut *tx)
        .await?;
        let taken = sqlx::query(
            "update gp_capacity_usage set used = used + 1 where account_id = $1 and month = $2 \
             and used < (select new_patients_per_month from gp_capacity where account_id = $1 and accepting = 1)",
        )
        .bind(actor.account_id.as_text())
        .bind(month)
        .execute(&mut *tx)
        .await?;
        if taken.rows_affected() != 1 {
            return Err(Error::conflict(
                "waiting_list.no_capacity",
                "you have no place left this month: change your capacity first",
            ));
        }
        let row = sqlx::query(
            "select patient_id, identity, requested_by from waiting_requests where id = $1",
        )
        .bind(id.as_text())
        .fetch_one(&mut *tx)
        .await?;
        let patient = self
            .patient_for_request(&mut tx, actor, id, &row, now)
            .await?;
        let member = self
            .join_as_medecin_traitant(&mut tx, actor, patient, now)
            .await?;
        sqlx::query("update waiting_requests set patient_id = $1 where id = $2")
            .bind(patient.as_text())
            .bind(id.as_text())
            .execute(&mut *tx)
            .await?;
        let others = sqlx::query(
            "select p.id, p.request_id, p.gp_id, a.display_name, p.status, p.proposed_by, p.created_at, p.answered_at \
             from waiting_proposals p join accounts a on a.id = p.gp_id where p.request_id = $1 and p.status = 'pending'",
        )
        .bind(id.as_text())
        .fetch_all(&mut *tx)
        .await?;
        for other in &others {
            let o = proposal_of(other)?;
            Self::move_proposal(&mut tx, o.id, ProposalStatus::Lapsed, None, now).await?;
            self.account_event_in(
                &mut tx,
                o.gp_id,
                AccountEvent::ProposalUpdated,
                Some(o.id.as_text()),
                serde_json::json!({ "request_id": id, "proposal_id": o.id, "status": "lapsed" }),
                now,
            )
            .await?;
        }
        let requester = AccountId::parse(&row.try_get::<String, _>("requested_by")?)
            .ok_or(Error::not_found(Noun::Account))?;
        let mut told = vec![view.proposed_by];
        if !told.contains(&requester) && requester != actor.account_id {
            told.push(requester);
        }
        for to in told {
            self.notify_in(
                &mut tx,
                Notice {
                    to,
                    kind: NotificationKind::WaitingListPlaced,
                    patient: None,
                    subject: Some(id.as_text()),
                    actor: Some(actor.account_id),
                },
                now,
            )
            .await?;
        }
        let accepted = AuditEvent::new(
            now,
            Some(actor.account_id),
            Action::WaitingListAccept,
            Purpose::Care,
            Outcome::Allowed,
        )
        .patient(patient)
        .resource("waiting_request", id)
        .detail(format!("proposal={proposal} lapsed={}", others.len()));
        let joined = AuditEvent::new(
            now,
            Some(actor.account_id),
            Action::CareTeamAdd,
            Purpose::Care,
            Outcome::Allowed,
        )
        .patient(patient)
        .resource("care_team_member", member)
        .detail("role=medecin_traitant source=waiting_list");
        self.audit_in(&mut tx, &[accepted, joined]).await?;
        tx.after_commit(super::Change::TeamChanged(patient));
        tx.commit(self).await?;
        view.status = ProposalStatus::Accepted;
        view.answered_at = Some(now);
        Ok(view)
    }

    /// The request's patient record: the one it names, else a live record with the
    /// same INS or birth name and date, else a new one made from its traits.
    async fn patient_for_request(
        &self,
        tx: &mut Tx,
        actor: &Actor,
        id: RequestId,
        row: &AnyRow,
        now: Millis,
    ) -> Result<PatientId> {
        if let Some(p) = row
            .try_get::<Option<String>, _>("patient_id")?
            .as_deref()
            .and_then(PatientId::parse)
        {
            return Ok(p);
        }
        let sealed: Option<Vec<u8>> = row.try_get("identity")?;
        let key = self.data_key_in(tx, &request_owner(&id)).await?;
        let identity: Identity = open_json(
            &key,
            TABLE,
            &id.as_text(),
            "identity",
            &sealed.ok_or(Error::Erased)?,
        )?;
        let (bi_name_date, bi_ins) = self.person_indexes(&identity);
        let mut q =
            Sql::new("select id from patients where erased_at is null and (bi_name_date = ");
        q.push_bind(bi_name_date.clone());
        if let Some(ins) = &bi_ins {
            q.push(" or bi_ins = ").push_bind(ins.clone());
        }
        q.push(") order by id limit 1");
        let existing: Option<String> = q.query_scalar().fetch_optional(&mut **tx).await?;
        if let Some(p) = existing.as_deref().and_then(PatientId::parse) {
            return Ok(p);
        }
        let pid = PatientId::new();
        let pkey = self.create_data_key(tx, &patient_owner(pid), now).await?;
        let status = if identity.ins_matricule.is_some() {
            IdentityStatus::Recuperee
        } else {
            IdentityStatus::Provisoire
        };
        sqlx::query(
            "insert into patients (id, identity, identity_status, bi_name_date, bi_ins, possible_duplicate, created_by, created_at) \
             values ($1, $2, $3, $4, $5, 0, $6, $7)",
        )
        .bind(pid.as_text())
        .bind(seal_json(&pkey, "patients", &pid.as_text(), "identity", &identity)?)
        .bind(status.as_str())
        .bind(bi_name_date)
        .bind(bi_ins)
        .bind(actor.account_id.as_text())
        .bind(now.0)
        .execute(&mut **tx)
        .await?;
        self.audit_in(
            tx,
            &[AuditEvent::new(
                now,
                Some(actor.account_id),
                Action::PatientCreate,
                Purpose::Care,
                Outcome::Allowed,
            )
            .patient(pid)
            .resource("patient", pid)
            .detail("source=waiting_list")],
        )
        .await?;
        Ok(pid)
    }

    /// The GP becomes the patient's médecin traitant: a current member changes role,
    /// anyone else joins. A patient who already has one answers 409.
    async fn join_as_medecin_traitant(
        &self,
        tx: &mut Tx,
        actor: &Actor,
        patient: PatientId,
        now: Millis,
    ) -> Result<MemberId> {
        let current: i64 = sqlx::query_scalar(
            "select count(*) from care_team_members where patient_id = $1 and role = 'medecin_traitant' and removed_at is null \
             and (end_at is null or end_at > $2)",
        )
        .bind(patient.as_text())
        .bind(now.0)
        .fetch_one(&mut **tx)
        .await?;
        if current > 0 {
            return Err(Error::conflict(
                "care_team.medecin_traitant_exists",
                "the patient already has a médecin traitant",
            ));
        }
        let mine: Option<String> = sqlx::query_scalar(
            "select id from care_team_members where patient_id = $1 and account_id = $2 and removed_at is null \
             and (end_at is null or end_at > $3)",
        )
        .bind(patient.as_text())
        .bind(actor.account_id.as_text())
        .bind(now.0)
        .fetch_optional(&mut **tx)
        .await?;
        if let Some(m) = mine.as_deref().and_then(MemberId::parse) {
            sqlx::query("update care_team_members set role = $1 where id = $2")
                .bind(TeamRole::MedecinTraitant.as_str())
                .bind(m.as_text())
                .execute(&mut **tx)
                .await?;
            return Ok(m);
        }
        let member = MemberId::new();
        let key = self.data_key_in(tx, &patient_owner(patient)).await?;
        let reason = seal_str(
            &key,
            "care_team_members",
            &member.as_text(),
            "reason",
            "Médecin traitant (liste d'attente de la CPTS)",
        )?;
        sqlx::query(
            "insert into care_team_members (id, patient_id, account_id, role, reason, added_by, start_at) values ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(member.as_text())
        .bind(patient.as_text())
        .bind(actor.account_id.as_text())
        .bind(TeamRole::MedecinTraitant.as_str())
        .bind(reason)
        .bind(actor.account_id.as_text())
        .bind(now.0)
        .execute(&mut **tx)
        .await?;
        Ok(member)
    }

    /// The proposed GP declines, with an optional reason (sealed); the coordinator who
    /// proposed is told. The request goes back to waiting when nothing is pending.
    #[instrument(skip_all, fields(id = %id, proposal = %proposal))]
    pub async fn decline_proposal(
        &self,
        actor: &Actor,
        id: RequestId,
        proposal: ProposalId,
        reason: Option<String>,
        now: Millis,
    ) -> Result<ProposalView> {
        let result = self.decline_in(actor, id, proposal, reason, now).await;
        if let Err(e) = &result {
            self.waiting_refused(actor, Action::WaitingListDecline, id, e, now)
                .await;
        }
        result
    }

    async fn decline_in(
        &self,
        actor: &Actor,
        id: RequestId,
        proposal: ProposalId,
        reason: Option<String>,
        now: Millis,
    ) -> Result<ProposalView> {
        let mut tx = self.begin().await?;
        let mut view = self.own_proposal(&mut tx, actor, id, proposal).await?;
        transition(view.status, ProposalStatus::Declined)?;
        Self::lock_request(&mut tx, id, now).await?;
        let sealed = match &reason {
            Some(r) => {
                let key = self.data_key_in(&mut tx, &request_owner(&id)).await?;
                Some(seal_str(
                    &key,
                    "waiting_proposals",
                    &proposal.as_text(),
                    "reason",
                    r,
                )?)
            }
            None => None,
        };
        if !Self::move_proposal(&mut tx, proposal, ProposalStatus::Declined, sealed, now).await? {
            return Err(Error::conflict(
                "waiting_list.proposal_closed",
                "this proposal was answered or lapsed meanwhile",
            ));
        }
        self.reopen_if_unanswered(&mut tx, id, now).await?;
        self.notify_in(
            &mut tx,
            Notice {
                to: view.proposed_by,
                kind: NotificationKind::WaitingListDeclined,
                patient: None,
                subject: Some(id.as_text()),
                actor: Some(actor.account_id),
            },
            now,
        )
        .await?;
        self.audit_in(
            &mut tx,
            &[AuditEvent::new(
                now,
                Some(actor.account_id),
                Action::WaitingListDecline,
                Purpose::Care,
                Outcome::Allowed,
            )
            .resource("waiting_request", id)
            .detail(format!("proposal={proposal}"))],
        )
        .await?;
        tx.commit(self).await?;
        view.status = ProposalStatus::Declined;
        view.answered_at = Some(now);
        Ok(view)
    }

    /// Takes the request's row lock (a write that changes nothing but its time).
    async fn lock_request(tx: &mut Tx, id: RequestId, now: Millis) -> Result<()> {
        sqlx::query("update waiting_requests set updated_at = $1 where id = $2")
            .bind(now.0)
            .bind(id.as_text())
            .execute(&mut **tx)
            .await?;
        Ok(())
    }

    async fn reopen_if_unanswered(&self, tx: &mut Tx, id: RequestId, now: Millis) -> Result<()> {
        sqlx::query(
            "update waiting_requests set status = 'waiting', updated_at = $1 where id = $2 and status = 'proposed' \
             and not exists (select 1 from waiting_proposals p where p.request_id = $2 and p.status = 'pending')",
        )
        .bind(now.0)
        .bind(id.as_text())
        .execute(&mut **tx)
        .await?;
        Ok(())
    }

    /// The job: proposals unanswered for `after_days` lapse; the coordinator who
    /// proposed and the GP are told. Returns how many lapsed.
    pub async fn lapse_proposals(&self, now: Millis, after_days: i64, batch: i64) -> Result<u64> {
        let cutoff = now.plus_millis(-after_days.saturating_mul(86_400_000));
        let rows = sqlx::query(
            "select p.id, p.request_id, p.gp_id, a.display_name, p.status, p.proposed_by, p.created_at, p.answered_at \
             from waiting_proposals p join accounts a on a.id = p.gp_id where p.status = 'pending' and p.created_at <= $1 \
             order by p.created_at limit $2",
        )
        .bind(cutoff.0)
        .bind(batch)
        .fetch_all(self.db.reader())
        .await?;
        let mut lapsed = 0;
        for row in &rows {
            let p = proposal_of(row)?;
            let mut tx = self.begin().await?;
            Self::lock_request(&mut tx, p.request_id, now).await?;
            if !Self::move_proposal(&mut tx, p.id, ProposalStatus::Lapsed, None, now).await? {
                continue;
            }
            self.reopen_if_unanswered(&mut tx, p.request_id, now)
                .await?;
            self.notify_in(
                &mut tx,
                Notice {
                    to: p.proposed_by,
                    kind: NotificationKind::WaitingListLapsed,
                    patient: None,
                    subject: Some(p.request_id.as_text()),
                    actor: Some(p.gp_id),
                },
                now,
            )
            .await?;
            self.account_event_in(
                &mut tx,
                p.gp_id,
                AccountEvent::ProposalUpdated,
                Some(p.id.as_text()),
                serde_json::json!({ "request_id": p.request_id, "proposal_id": p.id, "status": "lapsed" }),
                now,
            )
            .await?;
            self.audit_in(
                &mut tx,
                &[AuditEvent::new(
                    now,
                    None,
                    Action::WaitingListLapse,
                    Purpose::Administration,
                    Outcome::Allowed,
                )
                .resource("waiting_request", p.request_id)
                .detail(format!("proposal={} after_days={after_days}", p.id))],
            )
            .await?;
            tx.commit(self).await?;
            lapsed += 1;
        }
        Ok(lapsed)
    }

    /// The indicators between two days (coordinators), computed from the requests.
    #[instrument(skip_all)]
    pub async fn waiting_indicators(
        &self,
        actor: &Actor,
        from: time::Date,
        to: time::Date,
        now: Millis,
    ) -> Result<(Indicators, i64)> {
        coordinators_only(actor)?;
        let rows = sqlx::query(
            "select commune_code, ald, age_70_plus, precarity, complex_situation, lost_gp, needs_home_visits, requested_on, placed_on, withdrawn_at \
             from waiting_requests where requested_on <= $1 and (placed_on is null or placed_on >= $2) \
             and (withdrawn_at is null or withdrawn_at >= $3)",
        )
        .bind(format_day(to))
        .bind(format_day(from))
        .bind(from.midnight().assume_utc().unix_timestamp().saturating_mul(1000))
        .fetch_all(self.db.reader())
        .await?;
        let mut data = Vec::with_capacity(rows.len());
        for r in &rows {
            let requested: String = r.try_get("requested_on")?;
            let Some(requested_on) = parse_day(&requested) else {
                continue;
            };
            data.push(indicators::Row {
                commune: r.try_get("commune_code")?,
                fragility: fragility_of(r)?,
                requested_on,
                placed_on: r
                    .try_get::<Option<String>, _>("placed_on")?
                    .as_deref()
                    .and_then(parse_day),
                withdrawn_on: r
                    .try_get::<Option<i64>, _>("withdrawn_at")?
                    .map(|w| day_of(Millis(w))),
            });
        }
        let computed = indicators::compute(&data, from, to);
        let capacity = self.total_capacity(from).await?;
        self.audit(
            AuditEvent::new(
                now,
                Some(actor.account_id),
                Action::WaitingListIndicators,
                Purpose::Administration,
                Outcome::Allowed,
            )
            .detail(format!("from={} to={}", format_day(from), format_day(to))),
        )
        .await?;
        Ok((computed, capacity))
    }
}
