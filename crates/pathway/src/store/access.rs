//! The one home of the patient access rule in SQL, and the guard every read and write
//! of patient data goes through.
//!
//! [`Rule`] writes the conditions — a basis that holds (care team, break-glass, case
//! conference), the patient's objections, erasure, the matrix, masking — into any
//! statement, binding its values itself. Every list, count, search, fetch,
//! conversation-visibility and facts query is built from it, so what a reader may not
//! see never reaches a page or a count, and a new basis of access is one variant of
//! [`Basis`] and one arm of [`Rule::basis`].
//!
//! [`Store::patient_read`] and [`Store::patient_write`] are the guard: the facts, the
//! decision, the work, its audit record (in the same transaction for writes), the
//! commit, then publication. A refusal anywhere in there — 404 for what the actor may
//! not know, 403, 410 — is itself audited, so probing shows in the trail.

use sqlx::{AnyConnection, Row};

use super::Store;
use super::sql::{Arg, Sql};
use super::tx::Tx;
use crate::access::{Basis, PatientAccess, Reach};
use crate::account::Actor;
use crate::audit::{Action, AuditEvent, Outcome, Purpose};
use crate::error::Noun;
use crate::ids::PatientId;
use crate::policy::{Access, Category};
use crate::{Error, Millis, Result};

/// The access rule for one actor at one time, as SQL conditions.
pub(crate) struct Rule<'a> {
    actor: &'a Actor,
    now: Millis,
}

/// The matrix column bound for an actor: a profession outside the matrix matches no
/// row, so it reads nothing.
pub(crate) fn group_param(actor: &Actor) -> &'static str {
    actor.group().map(|g| g.as_str()).unwrap_or("-")
}

impl<'a> Rule<'a> {
    pub(crate) fn new(actor: &'a Actor, now: Millis) -> Rule<'a> {
        Rule { actor, now }
    }

    fn actor(&self, q: &mut Sql) -> String {
        let id = self.actor.account_id.as_text();
        q.shared("rule.actor", || Arg::from(id))
    }

    fn now(&self, q: &mut Sql) -> String {
        let now = self.now.0;
        q.shared("rule.now", || Arg::from(now))
    }

    fn group(&self, q: &mut Sql) -> String {
        let group = group_param(self.actor);
        q.shared("rule.group", || Arg::from(group))
    }

    /// The actor's active membership of `patient`'s team (with `role`, if given).
    fn membership(&self, q: &mut Sql, patient: &str, role: Option<&str>) -> String {
        let (a, n) = (self.actor(q), self.now(q));
        let role = role
            .map(|r| format!(" and tm.role = '{r}'"))
            .unwrap_or_default();
        format!(
            "exists (select 1 from care_team_members tm where tm.patient_id = {patient} and tm.account_id = {a}{role} \
             and tm.removed_at is null and tm.start_at <= {n} and (tm.end_at is null or tm.end_at > {n}))"
        )
    }

    /// The condition under which `basis` holds between the actor and the patient whose
    /// id is the SQL expression `patient`.
    pub(crate) fn basis(&self, q: &mut Sql, basis: Basis, patient: &str) -> String {
        match basis {
            Basis::CareTeam => self.membership(q, patient, None),
            Basis::BreakGlass => {
                let (a, n) = (self.actor(q), self.now(q));
                format!(
                    "exists (select 1 from break_glass_grants bg where bg.patient_id = {patient} \
                     and bg.account_id = {a} and bg.expires_at > {n})"
                )
            }
            Basis::CaseConference => {
                let (a, n) = (self.actor(q), self.now(q));
                format!(
                    "exists (select 1 from case_conference_cases cc \
                     join case_conferences cf on cf.id = cc.conference_id \
                     join case_conference_participants cp on cp.conference_id = cf.id \
                     where cc.patient_id = {patient} and cp.account_id = {a} and cp.removed_at is null \
                     and cf.status = 'planned' and cf.scheduled_at <= {n})"
                )
            }
        }
    }

    /// The patient objected to this professional.
    fn objected(&self, q: &mut Sql, patient: &str) -> String {
        let a = self.actor(q);
        format!(
            "exists (select 1 from objections ob where ob.patient_id = {patient} and ob.kind = 'professional' \
             and ob.account_id = {a} and ob.withdrawn_at is null)"
        )
    }

    /// A basis that opens `reach` holds, the patient did not object to the actor, and
    /// the patient is not erased.
    pub(crate) fn reaches(&self, q: &mut Sql, reach: Reach, patient: &str) -> String {
        let bases: Vec<String> = Basis::ALL
            .iter()
            .filter(|b| b.reaches(reach) && b.open_to(self.actor))
            .map(|b| self.basis(q, *b, patient))
            .collect();
        if bases.is_empty() {
            return "1 = 0".into();
        }
        let objected = self.objected(q, patient);
        format!(
            "({}) and not {objected} and not exists (select 1 from patients pe where pe.id = {patient} and pe.erased_at is not null)",
            bases.join(" or ")
        )
    }

    /// The matrix lets the actor read the category (an SQL expression) and the patient
    /// did not object to sharing it.
    pub(crate) fn reads_category(&self, q: &mut Sql, patient: &str, category: &str) -> String {
        let g = self.group(q);
        format!(
            "exists (select 1 from access_matrix m where m.category = {category} and m.profession_group = {g} and m.access <> 'none') \
             and {category} not in (select oc.category from objections oc where oc.patient_id = {patient} and oc.kind = 'category' and oc.withdrawn_at is null)"
        )
    }

    /// A masked entry (alias `e`) is for its author and the médecin traitant.
    pub(crate) fn unmasked(&self, q: &mut Sql, e: &str, patient: &str) -> String {
        let a = self.actor(q);
        let mt = self.membership(q, patient, Some("medecin_traitant"));
        format!("({e}.masked = 0 or {e}.author_id = {a} or {mt})")
    }

    /// Entries (alias `e`, of `patient`) the actor may read. With `categories`, the
    /// readable categories computed from the facts are written into the statement:
    /// they come from the closed [`Category`] list, never from a request, and written
    /// there they let PostgreSQL keep one prepared plan per set that counts from the
    /// index alone (bound, the count was planned on every call: 1–2 ms). Without, the
    /// matrix is checked entry by entry (one entry, or a word's few entries: given the
    /// list, SQLite looked up every category × entry pair, 4 times slower).
    pub(crate) fn entry(
        &self,
        q: &mut Sql,
        e: &str,
        patient: &str,
        categories: Option<&[Category]>,
    ) -> String {
        let reach = self.reaches(q, Reach::File, patient);
        let category = match categories {
            Some([]) => "1 = 0".to_string(),
            Some(list) => format!(
                "{e}.category in ({})",
                list.iter()
                    .map(|c| format!("'{}'", c.as_str()))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            None => self.reads_category(q, patient, &format!("{e}.category")),
        };
        let unmasked = self.unmasked(q, e, patient);
        format!("{reach} and {category} and {unmasked}")
    }

    /// Conversations (alias `c`) the actor may read: direct and group conversations
    /// they belong to; patient threads by the rule (threads reach, the thread's
    /// category).
    pub(crate) fn conversation(&self, q: &mut Sql, c: &str) -> String {
        let a = self.actor(q);
        let patient = format!("{c}.patient_id");
        let threads = self.reaches(q, Reach::Threads, &patient);
        let category = self.reads_category(q, &patient, &format!("{c}.category"));
        format!(
            "(({c}.kind <> 'patient' and exists (select 1 from conversation_members cm where cm.conversation_id = {c}.id \
             and cm.account_id = {a} and cm.left_at is null)) or ({c}.kind = 'patient' and {threads} and {category}))"
        )
    }
}

/// The accounts that hold a basis reaching the threads of `patient` (an SQL
/// expression) at `now`: who receives a patient thread's events, before the matrix
/// and each device's exercice are applied.
pub(crate) fn thread_audience(q: &mut Sql, patient: &str, now: Millis) -> String {
    // Only the care team reaches threads (see `Basis::reaches`); written from the same
    // table and conditions as `Rule::membership`.
    debug_assert!(
        Basis::ALL
            .iter()
            .filter(|b| b.reaches(Reach::Threads))
            .eq([Basis::CareTeam].iter())
    );
    let n = q.shared("rule.now", || Arg::from(now.0));
    format!(
        "select distinct tm.account_id from care_team_members tm where tm.patient_id = {patient} \
         and tm.removed_at is null and tm.start_at <= {n} and (tm.end_at is null or tm.end_at > {n}) \
         and not exists (select 1 from objections ob where ob.patient_id = {patient} and ob.kind = 'professional' \
         and ob.account_id = tm.account_id and ob.withdrawn_at is null) \
         and not exists (select 1 from patients pe where pe.id = {patient} and pe.erased_at is not null)"
    )
}

/// What one query tells about an actor and a patient.
pub(crate) struct Facts {
    pub access: PatientAccess,
    pub erased: bool,
}

impl Facts {
    /// The access to use, or the error to answer: 404 for those who may not know the
    /// patient, 410 for former team members of an erased patient.
    pub(crate) fn visible(self) -> Result<PatientAccess> {
        if self.erased {
            return Err(if self.access.member() {
                Error::Erased
            } else {
                Error::not_found(Noun::Patient)
            });
        }
        if !self.access.can_see_patient() {
            return Err(Error::not_found(Noun::Patient));
        }
        Ok(self.access)
    }
}

/// The facts of `actor` about `patient`: which bases hold, the médecin traitant and
/// coordinator roles, objections, and the actor's matrix row. Two statements: the
/// patient's row with the bases, then the matrix row and the category objections.
/// Bases are evaluated as if the patient were not erased (the caller answers 410 to
/// former members).
pub(crate) async fn facts(
    conn: &mut AnyConnection,
    actor: &Actor,
    patient: PatientId,
    now: Millis,
) -> Result<Facts> {
    let rule = Rule::new(actor, now);
    let mut q = Sql::new("select p.erased_at");
    let p = q.shared("patient", || Arg::from(patient.as_text()));
    let open: Vec<Basis> = Basis::ALL
        .iter()
        .copied()
        .filter(|b| b.open_to(actor))
        .collect();
    for b in &open {
        let cond = rule.basis(&mut q, *b, &p);
        q.push(&format!(
            ", case when {cond} then 1 else 0 end as b_{}",
            b.as_str()
        ));
    }
    let mt = rule.membership(&mut q, &p, Some("medecin_traitant"));
    let coord = rule.membership(&mut q, &p, Some("coordinateur"));
    let objected = rule.objected(&mut q, &p);
    q.push(&format!(
        ", case when {mt} then 1 else 0 end as mt, case when {coord} then 1 else 0 end as coord, \
         case when {objected} then 1 else 0 end as objected from patients p where p.id = {p}"
    ));
    let row = q
        .query()
        .fetch_optional(&mut *conn)
        .await?
        .ok_or(Error::not_found(Noun::Patient))?;
    let erased: Option<i64> = row.try_get("erased_at")?;
    let flag = |name: &str| -> Result<bool> { Ok(row.try_get::<i64, _>(name)? > 0) };
    let mut bases = Vec::new();
    for b in open {
        if flag(&format!("b_{}", b.as_str()))? {
            bases.push(b);
        }
    }
    let (matrix, objected_categories) = matrix_and_objections(conn, actor, patient).await?;
    Ok(Facts {
        access: PatientAccess {
            bases,
            medecin_traitant: flag("mt")?,
            coordinator: flag("coord")?,
            objected: flag("objected")?,
            objected_categories,
            matrix,
        },
        erased: erased.is_some(),
    })
}

/// The actor's matrix row and the patient's category objections, in one statement.
pub(crate) async fn matrix_and_objections(
    conn: &mut AnyConnection,
    actor: &Actor,
    patient: PatientId,
) -> Result<(Vec<(Category, Access)>, Vec<Category>)> {
    let rows = sqlx::query(
        "select category, access from access_matrix where profession_group = $1 \
         union all select category, 'objected' from objections where patient_id = $2 and kind = 'category' and withdrawn_at is null",
    )
    .bind(group_param(actor))
    .bind(patient.as_text())
    .fetch_all(&mut *conn)
    .await?;
    let mut matrix = Vec::new();
    let mut objected = Vec::new();
    for r in &rows {
        let category: Option<String> = r.try_get("category")?;
        let Some(category) = category.as_deref().and_then(Category::parse) else {
            continue;
        };
        let access: String = r.try_get("access")?;
        match (access.as_str(), Access::parse(&access)) {
            ("objected", _) => objected.push(category),
            (_, Some(a)) => matrix.push((category, a)),
            _ => {}
        }
    }
    Ok((matrix, objected))
}

/// What a guarded operation hands back: its result and what its audit record says.
pub(crate) struct Audited<T> {
    pub value: T,
    resource: Option<(&'static str, String)>,
    detail: Option<String>,
    purpose: Option<Purpose>,
    extra: Vec<AuditEvent>,
    /// The operation wrote its own records (several changes): no default one.
    own: bool,
}

impl<T> Audited<T> {
    pub(crate) fn new(value: T) -> Audited<T> {
        Audited {
            value,
            resource: None,
            detail: None,
            purpose: None,
            extra: Vec::new(),
            own: false,
        }
    }

    pub(crate) fn resource(mut self, kind: &'static str, id: impl ToString) -> Audited<T> {
        self.resource = Some((kind, id.to_string()));
        self
    }

    pub(crate) fn detail(mut self, detail: impl Into<String>) -> Audited<T> {
        self.detail = Some(detail.into());
        self
    }

    /// Records under another purpose than the access's (a patient's right).
    pub(crate) fn purpose(mut self, purpose: Purpose) -> Audited<T> {
        self.purpose = Some(purpose);
        self
    }

    /// More records, appended after the operation's own.
    pub(crate) fn also(mut self, event: AuditEvent) -> Audited<T> {
        self.extra.push(event);
        self
    }

    fn events(
        &mut self,
        actor: &Actor,
        patient: PatientId,
        action: Action,
        access: &PatientAccess,
        now: Millis,
    ) -> Vec<AuditEvent> {
        if self.own {
            return std::mem::take(&mut self.extra);
        }
        let mut event = AuditEvent::new(
            now,
            Some(actor.account_id),
            action,
            self.purpose.unwrap_or_else(|| access.purpose()),
            Outcome::Allowed,
        )
        .patient(patient);
        if let Some((kind, id)) = self.resource.take() {
            event = event.resource(kind, id);
        }
        if let Some(d) = self.detail.take() {
            event = event.detail(d);
        }
        let mut events = vec![event];
        events.append(&mut self.extra);
        events
    }
}

impl Audited<()> {
    /// Nothing to hand back, and these records instead of the default one (an operation
    /// made of several audited changes).
    pub(crate) fn only(events: Vec<AuditEvent>) -> Audited<()> {
        Audited {
            value: (),
            resource: None,
            detail: None,
            purpose: None,
            extra: events,
            own: true,
        }
    }
}

/// What the guard requires before the work runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Gate {
    /// A basis that opens this reach (otherwise 404, or 403 when the patient is known
    /// to the actor through another reach).
    Reach(Reach),
    /// Only that the patient exists, is not erased and did not object to the actor
    /// (break-glass: the grant is what opens the rest).
    Exists,
}

impl Gate {
    fn check(self, facts: Facts) -> Result<PatientAccess> {
        match self {
            Gate::Exists => {
                if facts.erased {
                    return Err(if facts.access.member() {
                        Error::Erased
                    } else {
                        Error::not_found(Noun::Patient)
                    });
                }
                if facts.access.objected {
                    return Err(Error::not_found(Noun::Patient));
                }
                Ok(facts.access)
            }
            Gate::Reach(reach) => {
                let access = facts.visible()?;
                if access.reaches(reach) {
                    Ok(access)
                } else {
                    Err(Error::forbidden(
                        "patient.reach_forbidden",
                        format!("your access to this patient does not include the {reach}"),
                    ))
                }
            }
        }
    }
}

impl Store {
    /// The actor's access to a patient, or 404 / 410 (see [`Facts::visible`]). Not
    /// audited: for callers that only need to know (an attachment's holder).
    pub(crate) async fn access(
        &self,
        actor: &Actor,
        patient: PatientId,
        now: Millis,
    ) -> Result<PatientAccess> {
        let mut conn = self.db.reader().acquire().await?;
        facts(&mut conn, actor, patient, now).await?.visible()
    }

    /// A read of patient data: the facts (on the read pool), the gate, the work, then
    /// its audit record, durable before the result is returned. Refusals from any step
    /// are audited.
    pub(crate) async fn patient_read<T>(
        &self,
        actor: &Actor,
        patient: PatientId,
        action: Action,
        gate: Gate,
        now: Millis,
        work: impl AsyncFnOnce(&PatientAccess) -> Result<Audited<T>>,
    ) -> Result<T> {
        let facts = match self.db.reader().acquire().await {
            Ok(mut conn) => facts(&mut conn, actor, patient, now).await,
            Err(e) => Err(e.into()),
        };
        let access = facts.and_then(|f| gate.check(f));
        let access = match access {
            Ok(a) => a,
            Err(e) => return Err(self.refused(actor, patient, action, now, e).await),
        };
        let mut done = match work(&access).await {
            Ok(d) => d,
            Err(e) => return Err(self.refused(actor, patient, action, now, e).await),
        };
        self.audit_all(done.events(actor, patient, action, &access, now))
            .await?;
        Ok(done.value)
    }

    /// A write to patient data, in one transaction: the facts, the gate, the work
    /// (which decides and writes), its audit record, the commit, then whatever the
    /// work queued for publication. Refusals from any step are audited (after the
    /// transaction is dropped: on SQLite the audit writer needs the one writer).
    pub(crate) async fn patient_write<T>(
        &self,
        actor: &Actor,
        patient: PatientId,
        action: Action,
        gate: Gate,
        now: Millis,
        work: impl AsyncFnOnce(&mut Tx, &PatientAccess) -> Result<Audited<T>>,
    ) -> Result<T> {
        let mut tx = self.begin().await?;
        let access = facts(&mut tx, actor, patient, now)
            .await
            .and_then(|f| gate.check(f));
        let access = match access {
            Ok(a) => a,
            Err(e) => {
                drop(tx);
                return Err(self.refused(actor, patient, action, now, e).await);
            }
        };
        let mut done = match work(&mut tx, &access).await {
            Ok(d) => d,
            Err(e) => {
                drop(tx);
                return Err(self.refused(actor, patient, action, now, e).await);
            }
        };
        let events = done.events(actor, patient, action, &access, now);
        self.audit_in(&mut tx, &events).await?;
        tx.commit(self).await?;
        Ok(done.value)
    }

    /// Records a refusal on patient data and hands the error back (other errors —
    /// bad input, failures — pass through unrecorded).
    pub(crate) async fn refused(
        &self,
        actor: &Actor,
        patient: PatientId,
        action: Action,
        now: Millis,
        err: Error,
    ) -> Error {
        if !err.is_refusal() {
            return err;
        }
        let event = AuditEvent::new(
            now,
            Some(actor.account_id),
            action,
            Purpose::Care,
            Outcome::Denied,
        )
        .patient(patient)
        .detail(err.code());
        match self.audit(event).await {
            Ok(_) => err,
            Err(audit_err) => audit_err,
        }
    }
}
