//! Tasks of care plans: written and changed through the guard, shown through the
//! matrix by their category (a task whose category the reader may not read does not
//! exist for them), the to-do list across patients built from the one access rule.

use sqlx::any::AnyRow;
use sqlx::{AnyConnection, Row};

use super::Store;
use super::access::{Audited, Gate, Rule};
use super::columns::{account, day};
use super::sealed::{open_json, open_str, patient_owner, seal_json, seal_str};
use super::sql::Sql;
use super::tx::Tx;
use crate::access::{PatientAccess, Reach};
use crate::account::{AccountKind, Actor, ProfessionCode, ProfessionGroup};
use crate::audit::{Action, AuditEvent, Outcome};
use crate::calendar::Day;
use crate::care_plan::{CarePlan, PlanStatus, decide_read, decide_write};
use crate::error::Noun;
use crate::file::{EntryContent, EntryKind};
use crate::ids::{AccountId, CarePlanId, PatientId, TaskId};
use crate::notification::{Notice, NotificationKind};
use crate::policy::Category;
use crate::stream::AccountEvent;
use crate::task::{
    NewTask, Task, TaskChange, TaskContent, TaskRole, TaskSource, TaskStatus, TodoFilter,
    check_due_on, check_note, decide_transition,
};
use crate::{Error, Millis, Result};

const TABLE: &str = "care_plan_tasks";
const COLUMNS: &str = "t.id, t.plan_id, t.patient_id, t.category, t.assignee_id, t.due_on, t.status, t.source, t.content, t.note, t.version, t.created_by, t.created_at, t.updated_at";

impl Store {
    /// Adds a task to a plan: the assignee must be on the team and read the task's
    /// category; the date today or later.
    pub async fn create_task(
        &self,
        actor: &Actor,
        patient: PatientId,
        plan: CarePlanId,
        task: NewTask,
        now: Millis,
    ) -> Result<Task> {
        check_due_on(task.due_on, Day::today_in_paris(now))?;
        self.patient_write(
            actor,
            patient,
            Action::TaskCreate,
            Gate::Reach(Reach::File),
            now,
            async |tx: &mut Tx, access: &PatientAccess| {
                decide_write(actor, access)?;
                let plan = self.plan_in(tx, patient, plan).await?;
                if plan.status == PlanStatus::Closed {
                    return Err(Error::conflict(
                        "care_plan.closed",
                        "a closed plan takes no new task",
                    ));
                }
                if !access.may_read(task.category) {
                    return Err(Error::forbidden(
                        "task.category_forbidden",
                        format!("your profession may not read {} tasks", task.category),
                    ));
                }
                if let Some(a) = task.assignee_id {
                    self.check_assignee(tx, patient, a, task.category, now)
                        .await?;
                }
                let created = self
                    .insert_task(tx, &plan, actor.account_id, &task, TaskSource::Plan, now)
                    .await?;
                let detail = format!("category={}", created.category);
                Ok(Audited::new(created.clone())
                    .resource("task", created.id)
                    .detail(detail))
            },
        )
        .await
    }

    /// Writes a task and tells its assignee (after commit).
    pub(crate) async fn insert_task(
        &self,
        tx: &mut Tx,
        plan: &CarePlan,
        author: AccountId,
        new: &NewTask,
        source: TaskSource,
        now: Millis,
    ) -> Result<Task> {
        let task = Task {
            id: TaskId::new(),
            plan_id: plan.id,
            patient_id: plan.patient_id,
            content: new.content.clone(),
            category: new.category,
            assignee_id: new.assignee_id,
            due_on: new.due_on,
            status: TaskStatus::Proposed,
            source,
            note: None,
            version: 1,
            created_by: author,
            created_at: now,
            updated_at: now,
        };
        let key = self
            .data_key_in(tx, &patient_owner(plan.patient_id))
            .await?;
        sqlx::query(
            "insert into care_plan_tasks (id, plan_id, patient_id, category, assignee_id, due_on, status, source, content, version, created_by, created_at, updated_at) \
             values ($1, $2, $3, $4, $5, $6, $7, $8, $9, 1, $10, $11, $11)",
        )
        .bind(task.id.as_text())
        .bind(plan.id.as_text())
        .bind(plan.patient_id.as_text())
        .bind(task.category.as_str())
        .bind(task.assignee_id.map(|a| a.as_text()))
        .bind(task.due_on.as_text())
        .bind(task.status.as_str())
        .bind(source.as_str())
        .bind(seal_json(&key, TABLE, &task.id.as_text(), "content", &task.content)?)
        .bind(author.as_text())
        .bind(now.0)
        .execute(&mut **tx)
        .await?;
        if let Some(a) = task.assignee_id {
            self.task_event(tx, a, AccountEvent::TaskAssigned, &task, now)
                .await?;
        }
        Ok(task)
    }

    async fn task_event(
        &self,
        tx: &mut Tx,
        to: AccountId,
        name: AccountEvent,
        task: &Task,
        now: Millis,
    ) -> Result<()> {
        self.account_event_in(
            tx,
            to,
            name,
            Some(task.id.as_text()),
            serde_json::json!({
                "task_id": task.id,
                "plan_id": task.plan_id,
                "patient_id": task.patient_id,
                "status": task.status.as_str(),
                "version": task.version,
            }),
            now,
        )
        .await
    }

    /// 422 unless `account` is on the patient's team and its profession reads
    /// `category` (the task would otherwise be invisible to its own assignee).
    pub(crate) async fn check_assignee(
        &self,
        tx: &mut Tx,
        patient: PatientId,
        account: AccountId,
        category: Category,
        now: Millis,
    ) -> Result<()> {
        let known: i64 = sqlx::query_scalar("select count(*) from accounts where id = $1")
            .bind(account.as_text())
            .fetch_one(&mut **tx)
            .await?;
        if known == 0 {
            return Err(Error::invalid(
                "task.unknown_assignee",
                "assignee_id is not a Cordée account",
            ));
        }
        if !self.on_team(tx, patient, account, now).await? {
            return Err(Error::invalid(
                "task.assignee_not_in_team",
                "the assignee must be a member of the patient's care team",
            ));
        }
        if !self.assignee_reads(tx, patient, account, category).await? {
            return Err(Error::invalid(
                "task.category_not_for_assignee",
                format!("the assignee's profession may not read {category} tasks"),
            ));
        }
        Ok(())
    }

    /// Whether one of `account`'s professions reads `category` for this patient.
    pub(crate) async fn assignee_reads(
        &self,
        conn: &mut AnyConnection,
        patient: PatientId,
        account: AccountId,
        category: Category,
    ) -> Result<bool> {
        let groups = account_groups(conn, account).await?;
        if groups.is_empty() {
            return Ok(false);
        }
        let mut q = Sql::new("select count(*) from access_matrix where category = ");
        q.push_bind(category.as_str())
            .push(" and access <> 'none' and profession_group in (");
        for (i, g) in groups.iter().enumerate() {
            if i > 0 {
                q.push(", ");
            }
            q.push_bind(g.as_str());
        }
        q.push(") and not exists (select 1 from objections where patient_id = ")
            .push_bind(patient.as_text())
            .push(" and kind = 'category' and category = ")
            .push_bind(category.as_str())
            .push(" and withdrawn_at is null)");
        let n: i64 = q.query_scalar().fetch_one(&mut *conn).await?;
        Ok(n > 0)
    }

    /// The team's active members with their profession codes.
    pub(crate) async fn team_professions(
        &self,
        conn: &mut AnyConnection,
        patient: PatientId,
        now: Millis,
    ) -> Result<Vec<(AccountId, Vec<ProfessionCode>)>> {
        let rows = sqlx::query(
            "select distinct tm.account_id, a.profession_codes from care_team_members tm join accounts a on a.id = tm.account_id \
             where tm.patient_id = $1 and tm.removed_at is null and tm.start_at <= $2 and (tm.end_at is null or tm.end_at > $2) \
             and a.kind = 'health_professional'",
        )
        .bind(patient.as_text())
        .bind(now.0)
        .fetch_all(&mut *conn)
        .await?;
        let mut out = Vec::with_capacity(rows.len());
        for r in &rows {
            let codes: String = r.try_get("profession_codes")?;
            out.push((
                account(&r.try_get::<String, _>("account_id")?)?,
                codes.split(',').filter_map(ProfessionCode::parse).collect(),
            ));
        }
        Ok(out)
    }

    /// The plan's tasks the actor may read (by category), in creation order.
    pub async fn plan_tasks(
        &self,
        actor: &Actor,
        patient: PatientId,
        plan: CarePlanId,
        after: Option<TaskId>,
        limit: i64,
        now: Millis,
    ) -> Result<Vec<Task>> {
        self.patient_read(
            actor,
            patient,
            Action::TaskList,
            Gate::Reach(Reach::File),
            now,
            async |access: &PatientAccess| {
                decide_read(access)?;
                let mut conn = self.db.reader().acquire().await?;
                self.plan_in(&mut conn, patient, plan).await?;
                let readable = access.readable_categories();
                if readable.is_empty() {
                    return Ok(Audited::new(Vec::new()).resource("care_plan", plan));
                }
                let mut q = Sql::new(&format!(
                    "select {COLUMNS} from care_plan_tasks t where t.plan_id = "
                ));
                q.push_bind(plan.as_text())
                    .push(" and t.id > ")
                    .push_bind(after.map(|a| a.as_text()).unwrap_or_default())
                    .push(" and t.category in (");
                for (i, c) in readable.iter().enumerate() {
                    if i > 0 {
                        q.push(", ");
                    }
                    q.push_bind(c.as_str());
                }
                q.push(") order by t.id limit ").push_bind(limit);
                let rows = q.query().fetch_all(&mut *conn).await?;
                let key = self.data_key(&patient_owner(patient)).await?;
                let tasks = rows
                    .iter()
                    .map(|r| task_from_row(&key, r))
                    .collect::<Result<Vec<_>>>()?;
                Ok(Audited::new(tasks).resource("care_plan", plan))
            },
        )
        .await
    }

    /// The patient a task belongs to (no access check; callers then go through the
    /// guard, which answers 404 for what the actor may not see).
    async fn task_patient(&self, id: TaskId) -> Result<PatientId> {
        let p: Option<String> =
            sqlx::query_scalar("select patient_id from care_plan_tasks where id = $1")
                .bind(id.as_text())
                .fetch_optional(self.db.reader())
                .await?;
        p.and_then(|p| PatientId::parse(&p))
            .ok_or(Error::not_found(Noun::Task))
    }

    /// One task, if the actor may read it.
    pub async fn task(&self, actor: &Actor, id: TaskId, now: Millis) -> Result<Task> {
        let patient = self.task_patient(id).await?;
        self.patient_read(
            actor,
            patient,
            Action::TaskRead,
            Gate::Reach(Reach::File),
            now,
            async |access: &PatientAccess| {
                let mut conn = self.db.reader().acquire().await?;
                let task = self.readable_task(&mut conn, access, patient, id).await?;
                Ok(Audited::new(task).resource("task", id))
            },
        )
        .await
        .map_err(as_task)
    }

    async fn readable_task(
        &self,
        conn: &mut AnyConnection,
        access: &PatientAccess,
        patient: PatientId,
        id: TaskId,
    ) -> Result<Task> {
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "select {COLUMNS} from care_plan_tasks t where t.id = $1 and t.patient_id = $2"
        )))
        .bind(id.as_text())
        .bind(patient.as_text())
        .fetch_optional(&mut *conn)
        .await?
        .ok_or(Error::not_found(Noun::Task))?;
        let key = self.data_key(&patient_owner(patient)).await?;
        let task = task_from_row(&key, &row)?;
        if !access.may_read(task.category) {
            return Err(Error::not_found(Noun::Task));
        }
        Ok(task)
    }

    /// Changes a task: its status (the assignee's steps, the referent's cancel), its
    /// assignee (the referent), its date. The later of two changes made on the same
    /// version gets 409. A done task writes a note in the file.
    pub async fn update_task(
        &self,
        actor: &Actor,
        id: TaskId,
        change: TaskChange,
        now: Millis,
    ) -> Result<Task> {
        let today = Day::today_in_paris(now);
        if let Some(d) = change.due_on {
            check_due_on(d, today)?;
        }
        if let Some(s) = change.status {
            check_note(s, change.note.as_deref())?;
        }
        let patient = self.task_patient(id).await?;
        self.patient_write(
            actor,
            patient,
            Action::TaskUpdate,
            Gate::Reach(Reach::File),
            now,
            async |tx: &mut Tx, access: &PatientAccess| {
                let mut task = self.readable_task(tx, access, patient, id).await?;
                if task.version != change.version {
                    return Err(task_conflict());
                }
                let plan = self.plan_in(tx, patient, task.plan_id).await?;
                let role = TaskRole {
                    assignee: task.assignee_id == Some(actor.account_id),
                    referent: access.member()
                        && (plan.coordinator_id == actor.account_id || access.coordinator),
                };
                if matches!(task.status, TaskStatus::Done | TaskStatus::Cancelled) {
                    return Err(Error::conflict(
                        "task.finished",
                        format!("the task is {}: it does not change any more", task.status),
                    ));
                }
                let before = task.clone();
                if let Some(new_assignee) = change.assignee_id
                    && new_assignee != task.assignee_id
                {
                    if !role.referent {
                        return Err(Error::forbidden("task.not_yours", "only the plan's referent reassigns a task"));
                    }
                    if matches!(task.status, TaskStatus::Done | TaskStatus::Cancelled) {
                        return Err(Error::conflict("task.finished", "the task is finished"));
                    }
                    if let Some(a) = new_assignee {
                        self.check_assignee(tx, patient, a, task.category, now).await?;
                    }
                    task.assignee_id = new_assignee;
                    task.status = TaskStatus::Proposed;
                }
                let mut note = None;
                if let Some(to) = change.status
                    && to != task.status
                {
                    let role = TaskRole {
                        assignee: task.assignee_id == Some(actor.account_id),
                        ..role
                    };
                    decide_transition(task.status, to, role)?;
                    note = check_note(to, change.note.as_deref())?;
                    task.status = to;
                }
                if let Some(d) = change.due_on
                    && d != task.due_on
                {
                    if !(role.referent || role.assignee) {
                        return Err(Error::forbidden("task.not_yours", "the assignee or the referent moves a task's date"));
                    }
                    task.due_on = d;
                }
                if task == before && note.is_none() {
                    // Nothing to change: the task as it is.
                    return Ok(Audited::new(task).resource("task", id));
                }
                task.version += 1;
                task.updated_at = now;
                if note.is_some() {
                    task.note = note.clone();
                }
                let key = self.data_key_in(tx, &patient_owner(patient)).await?;
                let sealed_note = task
                    .note
                    .as_deref()
                    .map(|n| seal_str(&key, TABLE, &id.as_text(), "note", n))
                    .transpose()?;
                let moved = sqlx::query(
                    "update care_plan_tasks set assignee_id = $1, status = $2, due_on = $3, note = $4, version = $5, updated_at = $6 \
                     where id = $7 and version = $8",
                )
                .bind(task.assignee_id.map(|a| a.as_text()))
                .bind(task.status.as_str())
                .bind(task.due_on.as_text())
                .bind(sealed_note)
                .bind(task.version)
                .bind(now.0)
                .bind(id.as_text())
                .bind(before.version)
                .execute(&mut **tx)
                .await?;
                if moved.rows_affected() != 1 {
                    return Err(task_conflict());
                }
                if task.status == TaskStatus::Done && before.status != TaskStatus::Done {
                    let body = note.clone().unwrap_or_default();
                    let content = EntryContent::new(
                        &format!("Tâche réalisée : {}", task.content.title),
                        &body,
                        Vec::new(),
                    )?;
                    self.insert_workflow_entry(tx, patient, actor.account_id, task.category, EntryKind::Note, &content, now)
                        .await?;
                }
                // Tell those concerned, not the actor.
                if task.assignee_id != before.assignee_id
                    && let Some(a) = task.assignee_id
                    && a != actor.account_id
                {
                    self.task_event(tx, a, AccountEvent::TaskAssigned, &task, now).await?;
                }
                let mut told = vec![actor.account_id];
                for who in [before.assignee_id, task.assignee_id, Some(plan.coordinator_id)]
                    .into_iter()
                    .flatten()
                {
                    if !told.contains(&who) {
                        told.push(who);
                        self.task_event(tx, who, AccountEvent::TaskUpdated, &task, now).await?;
                    }
                }
                let detail = format!("status={} version={}", task.status, task.version);
                Ok(Audited::new(task).resource("task", id).detail(detail))
            },
        )
        .await
        .map_err(as_task)
    }

    /// The actor's to-do list across patients: tasks assigned to them that they may
    /// read now (the one access rule, the matrix by the task's category), by due date
    /// (overdue first), up to `limit` rows. Each patient shown is audited.
    pub async fn todo(&self, actor: &Actor, filter: &TodoFilter, now: Millis) -> Result<Vec<Task>> {
        let mut q = Sql::new(&format!(
            "select {COLUMNS} from care_plan_tasks t where t.assignee_id = "
        ));
        q.push_bind(actor.account_id.as_text())
            .push(" and ")
            .push(&status_clause(&filter.statuses));
        if let Some(d) = filter.due_before {
            q.push(" and t.due_on < ").push_bind(d.as_text());
        }
        if let Some((d, id)) = filter.after {
            let d = q.bind(d.as_text());
            let i = q.bind(id.as_text());
            q.push(&format!(
                " and (t.due_on > {d} or (t.due_on = {d} and t.id > {i}))"
            ));
        }
        let rule = Rule::new(actor, now);
        let reach = rule.reaches(&mut q, Reach::File, "t.patient_id");
        let category = rule.reads_category(&mut q, "t.patient_id", "t.category");
        q.push(&format!(
            " and {reach} and {category} order by t.due_on, t.id limit "
        ))
        .push_bind(filter.limit);
        let rows = q.query().fetch_all(self.db.reader()).await?;
        let mut tasks = Vec::with_capacity(rows.len());
        let mut patients: Vec<PatientId> = Vec::new();
        for r in &rows {
            let patient = PatientId::parse(&r.try_get::<String, _>("patient_id")?)
                .ok_or(Error::not_found(Noun::Patient))?;
            let key = self.data_key(&patient_owner(patient)).await?;
            tasks.push(task_from_row(&key, r)?);
            if !patients.contains(&patient) {
                patients.push(patient);
            }
        }
        if !patients.is_empty() {
            let events = patients
                .into_iter()
                .map(|p| {
                    AuditEvent::new(
                        now,
                        Some(actor.account_id),
                        Action::TaskList,
                        crate::audit::Purpose::Care,
                        Outcome::Allowed,
                    )
                    .patient(p)
                    .resource("task_list", actor.account_id)
                })
                .collect();
            self.audit_all(events).await?;
        }
        Ok(tasks)
    }

    /// Someone left the team: their open tasks for this patient go back to the
    /// referent, unassigned, and the referent is told (in the leaving's transaction).
    pub(crate) async fn unassign_open_tasks(
        &self,
        tx: &mut Tx,
        patient: PatientId,
        leaving: AccountId,
        now: Millis,
    ) -> Result<u64> {
        let rows = sqlx::query(
            "select t.id, t.plan_id, t.version, c.coordinator_id from care_plan_tasks t join care_plans c on c.id = t.plan_id \
             where t.patient_id = $1 and t.assignee_id = $2 and t.status in ('proposed', 'accepted', 'in_progress')",
        )
        .bind(patient.as_text())
        .bind(leaving.as_text())
        .fetch_all(&mut **tx)
        .await?;
        for r in &rows {
            let id: String = r.try_get("id")?;
            let version: i64 = r.try_get("version")?;
            sqlx::query(
                "update care_plan_tasks set assignee_id = null, status = 'proposed', version = version + 1, updated_at = $1 where id = $2",
            )
            .bind(now.0)
            .bind(&id)
            .execute(&mut **tx)
            .await?;
            let referent = account(&r.try_get::<String, _>("coordinator_id")?)?;
            if referent != leaving {
                self.account_event_in(
                    tx,
                    referent,
                    AccountEvent::TaskUpdated,
                    Some(id.clone()),
                    serde_json::json!({
                        "task_id": id,
                        "plan_id": r.try_get::<String, _>("plan_id")?,
                        "patient_id": patient,
                        "status": "proposed",
                        "version": version + 1,
                        "reason": "assignee_left_team",
                    }),
                    now,
                )
                .await?;
                self.notify_in(
                    tx,
                    Notice {
                        to: referent,
                        kind: NotificationKind::TaskUnassigned,
                        patient: Some(patient),
                        subject: Some(id.clone()),
                        actor: None,
                    },
                    now,
                )
                .await?;
            }
        }
        Ok(rows.len() as u64)
    }
}

/// `t.status in ('proposed', …)`, from the closed list of statuses. For the open
/// ones it is word for word the predicate of the partial index
/// `care_plan_tasks_open_by_due` (migration 0016), which SQLite uses only when the
/// query names that condition: the first page then reads its rows in due order and
/// checks the access rule on them alone.
fn status_clause(statuses: &[TaskStatus]) -> String {
    let list: Vec<String> = statuses
        .iter()
        .map(|s| format!("'{}'", s.as_str()))
        .collect();
    format!("t.status in ({})", list.join(", "))
}

/// Every task of a plan, unfiltered (the patient's export).
pub(super) async fn tasks_of_plan(
    conn: &mut AnyConnection,
    key: &cordee_crypto::DataKey,
    plan: CarePlanId,
) -> Result<Vec<Task>> {
    let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
        "select {COLUMNS} from care_plan_tasks t where t.plan_id = $1 order by t.id"
    )))
    .bind(plan.as_text())
    .fetch_all(&mut *conn)
    .await?;
    rows.iter().map(|r| task_from_row(key, r)).collect()
}

/// A task's patient the actor may not see is, for them, no task at all.
fn as_task(err: Error) -> Error {
    match err {
        Error::NotFound {
            what: Noun::Patient,
        } => Error::not_found(Noun::Task),
        other => other,
    }
}

fn task_conflict() -> Error {
    Error::conflict(
        "task.version_conflict",
        "the task changed meanwhile; reload it",
    )
}

async fn account_groups(
    conn: &mut AnyConnection,
    account: AccountId,
) -> Result<Vec<ProfessionGroup>> {
    let row = sqlx::query("select kind, profession_codes from accounts where id = $1")
        .bind(account.as_text())
        .fetch_optional(&mut *conn)
        .await?;
    let Some(row) = row else {
        return Ok(Vec::new());
    };
    let kind = AccountKind::parse(&row.try_get::<String, _>("kind")?).unwrap_or(AccountKind::Staff);
    Ok(match kind {
        AccountKind::Staff => vec![ProfessionGroup::Staff],
        AccountKind::HealthProfessional => row
            .try_get::<String, _>("profession_codes")?
            .split(',')
            .filter_map(|c| ProfessionGroup::of(c.trim()))
            .collect(),
    })
}

fn task_from_row(key: &cordee_crypto::DataKey, row: &AnyRow) -> Result<Task> {
    let id = TaskId::parse(&row.try_get::<String, _>("id")?).ok_or(Error::not_found(Noun::Task))?;
    let place = id.as_text();
    let note: Option<Vec<u8>> = row.try_get("note")?;
    let content: TaskContent = open_json(
        key,
        TABLE,
        &place,
        "content",
        &row.try_get::<Vec<u8>, _>("content")?,
    )?;
    Ok(Task {
        id,
        plan_id: CarePlanId::parse(&row.try_get::<String, _>("plan_id")?)
            .ok_or(Error::not_found(Noun::CarePlan))?,
        patient_id: PatientId::parse(&row.try_get::<String, _>("patient_id")?)
            .ok_or(Error::not_found(Noun::Patient))?,
        content,
        category: Category::parse(&row.try_get::<String, _>("category")?)
            .ok_or_else(|| Error::corrupt("task category".into()))?,
        assignee_id: row
            .try_get::<Option<String>, _>("assignee_id")?
            .and_then(|a| AccountId::parse(&a)),
        due_on: day(&row.try_get::<String, _>("due_on")?)?,
        status: TaskStatus::parse(&row.try_get::<String, _>("status")?)
            .ok_or_else(|| Error::corrupt("task status".into()))?,
        source: TaskSource::parse(&row.try_get::<String, _>("source")?)
            .ok_or_else(|| Error::corrupt("task source".into()))?,
        note: note
            .map(|n| open_str(key, TABLE, &place, "note", &n))
            .transpose()?,
        version: row.try_get("version")?,
        created_by: account(&row.try_get::<String, _>("created_by")?)?,
        created_at: Millis(row.try_get("created_at")?),
        updated_at: Millis(row.try_get("updated_at")?),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_open_list_is_the_partial_index_predicate_on_both_databases() {
        let clause = status_clause(TaskStatus::OPEN).replace("t.status", "status");
        for migration in [
            include_str!("../../../../migrations/sqlite/0016_todo_index.sql"),
            include_str!("../../../../migrations/postgres/0016_todo_index.sql"),
        ] {
            assert!(
                migration.contains(&format!("where {clause};")),
                "{clause} is not the index's predicate in\n{migration}"
            );
        }
    }
}
