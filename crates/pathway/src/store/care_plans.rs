//! Care plans (PPS): opened, changed and reviewed through the guard (`access.rs`),
//! content sealed under the patient's data key, every version kept, optimistic
//! concurrency on `version`. Tasks are in `tasks.rs`.

use sqlx::any::AnyRow;
use sqlx::{AnyConnection, Row};

use super::Store;
use super::access::{Audited, Gate};
use super::columns::{account, day};
use super::pathways::pathway_in;
use super::sealed::{open_json, patient_owner, seal_json};
use super::tx::Tx;
use crate::access::{PatientAccess, Reach};
use crate::account::Actor;
use crate::audit::{Action, AuditEvent, Outcome, Purpose};
use crate::calendar::Day;
use crate::care_plan::{
    CarePlan, DEFAULT_REVIEW_DAYS, PlanChange, PlanContent, PlanContentInput, PlanStatus,
    PlanVersion, Review, ReviewContent, check_review_on, decide_read, decide_status, decide_write,
};
use crate::error::Noun;
use crate::ids::{AccountId, CarePlanId, PathwayId, PatientId, ReviewId};
use crate::notification::{Notice, NotificationKind};
use crate::stream::AccountEvent;
use crate::task::{NewTask, Task, TaskContent, TaskSource};
use crate::{Error, Millis, Result};

const VERSIONS: &str = "care_plan_versions";
const REVIEWS: &str = "care_plan_reviews";
const PLAN_COLUMNS: &str = "c.id, c.patient_id, c.pathway_id, c.pathway_version, c.coordinator_id, c.status, c.review_on, c.version, c.created_by, c.created_at, c.updated_at, v.content";

/// A plan to open.
#[derive(Clone, Debug, Default)]
pub struct NewPlan {
    pub content: PlanContentInput,
    pub pathway_id: Option<PathwayId>,
    /// The referent; the author when absent.
    pub coordinator_id: Option<AccountId>,
    /// Three months from today when absent.
    pub review_on: Option<Day>,
}

fn version_row(plan: CarePlanId, version: i64) -> String {
    format!("{plan}:{version}")
}

impl Store {
    /// Opens a plan; from a pathway, its steps become dated tasks, each proposed to
    /// the one team member of the expected profession (left for the referent when
    /// there are none or several).
    pub async fn create_care_plan(
        &self,
        actor: &Actor,
        patient: PatientId,
        new: NewPlan,
        now: Millis,
    ) -> Result<(CarePlan, Vec<Task>)> {
        let content = PlanContent::new(new.content.clone())?;
        let today = Day::today_in_paris(now);
        let review_on = match new.review_on {
            Some(d) => check_review_on(d, today)?,
            None => today.plus_days(DEFAULT_REVIEW_DAYS),
        };
        self.patient_write(
            actor,
            patient,
            Action::CarePlanCreate,
            Gate::Reach(Reach::File),
            now,
            async |tx: &mut Tx, access: &PatientAccess| {
                decide_write(actor, access)?;
                let coordinator = new.coordinator_id.unwrap_or(actor.account_id);
                if coordinator != actor.account_id
                    && !self.on_team(tx, patient, coordinator, now).await?
                {
                    return Err(Error::invalid(
                        "care_plan.referent_not_in_team",
                        "the referent must be a member of the patient's care team",
                    ));
                }
                let protocol = match new.pathway_id {
                    None => None,
                    Some(p) => Some(pathway_in(tx, p, None).await?.ok_or_else(|| {
                        Error::invalid(
                            "care_plan.unknown_pathway",
                            "pathway_id is not a pathway of the CPTS",
                        )
                    })?),
                };
                if let Some(p) = &protocol {
                    self.no_other_active(tx, patient, p.id, None).await?;
                }
                let plan = CarePlan {
                    id: CarePlanId::new(),
                    patient_id: patient,
                    pathway_id: protocol.as_ref().map(|p| p.id),
                    pathway_version: protocol.as_ref().map(|p| p.version),
                    coordinator_id: coordinator,
                    status: PlanStatus::Active,
                    content,
                    review_on,
                    version: 1,
                    created_by: actor.account_id,
                    created_at: now,
                    updated_at: now,
                };
                self.insert_plan(tx, &plan).await?;
                let mut tasks = Vec::new();
                if let Some(p) = &protocol {
                    let team = self.team_professions(tx, patient, now).await?;
                    for step in &p.steps {
                        let candidates: Vec<AccountId> = match &step.profession_code {
                            None => Vec::new(),
                            Some(code) => team
                                .iter()
                                .filter(|(_, codes)| codes.contains(code))
                                .map(|(a, _)| *a)
                                .collect(),
                        };
                        let assignee = match candidates.as_slice() {
                            [one]
                                if self
                                    .assignee_reads(tx, patient, *one, step.category)
                                    .await? =>
                            {
                                Some(*one)
                            }
                            _ => None,
                        };
                        let task = NewTask {
                            content: TaskContent::new(&step.title, "")?,
                            category: step.category,
                            assignee_id: assignee,
                            due_on: today.plus_days(step.offset_days),
                        };
                        tasks.push(
                            self.insert_task(
                                tx,
                                &plan,
                                actor.account_id,
                                &task,
                                TaskSource::Pathway,
                                now,
                            )
                            .await?,
                        );
                    }
                }
                let detail = format!("tasks={}", tasks.len());
                Ok(Audited::new((plan.clone(), tasks))
                    .resource("care_plan", plan.id)
                    .detail(detail))
            },
        )
        .await
    }

    async fn insert_plan(&self, tx: &mut Tx, plan: &CarePlan) -> Result<()> {
        let inserted = sqlx::query(
            "insert into care_plans (id, patient_id, pathway_id, pathway_version, coordinator_id, status, review_on, version, created_by, created_at, updated_at) \
             values ($1, $2, $3, $4, $5, $6, $7, 1, $8, $9, $9)",
        )
        .bind(plan.id.as_text())
        .bind(plan.patient_id.as_text())
        .bind(plan.pathway_id.map(|p| p.as_text()))
        .bind(plan.pathway_version)
        .bind(plan.coordinator_id.as_text())
        .bind(plan.status.as_str())
        .bind(plan.review_on.as_text())
        .bind(plan.created_by.as_text())
        .bind(plan.created_at.0)
        .execute(&mut **tx)
        .await;
        inserted.map_err(|e| active_exists(e.into()))?;
        self.insert_plan_version(tx, plan, plan.created_by, plan.created_at)
            .await
    }

    async fn insert_plan_version(
        &self,
        tx: &mut Tx,
        plan: &CarePlan,
        author: AccountId,
        now: Millis,
    ) -> Result<()> {
        let key = self
            .data_key_in(tx, &patient_owner(plan.patient_id))
            .await?;
        let row = version_row(plan.id, plan.version);
        sqlx::query(
            "insert into care_plan_versions (plan_id, version, coordinator_id, status, review_on, content, author_id, created_at) \
             values ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(plan.id.as_text())
        .bind(plan.version)
        .bind(plan.coordinator_id.as_text())
        .bind(plan.status.as_str())
        .bind(plan.review_on.as_text())
        .bind(seal_json(&key, VERSIONS, &row, "content", &plan.content)?)
        .bind(author.as_text())
        .bind(now.0)
        .execute(&mut **tx)
        .await?;
        Ok(())
    }

    /// 409 when the patient has another active plan of this pathway.
    async fn no_other_active(
        &self,
        conn: &mut AnyConnection,
        patient: PatientId,
        pathway: PathwayId,
        except: Option<CarePlanId>,
    ) -> Result<()> {
        let n: i64 = sqlx::query_scalar(
            "select count(*) from care_plans where patient_id = $1 and pathway_id = $2 and status = 'active' and id <> $3",
        )
        .bind(patient.as_text())
        .bind(pathway.as_text())
        .bind(except.map(|e| e.as_text()).unwrap_or_default())
        .fetch_one(&mut *conn)
        .await?;
        if n > 0 {
            return Err(active_exists(Error::conflict("conflict.duplicate", "")));
        }
        Ok(())
    }

    /// The patient's plans the actor may read, newest first.
    pub async fn care_plans(
        &self,
        actor: &Actor,
        patient: PatientId,
        before: Option<CarePlanId>,
        limit: i64,
        now: Millis,
    ) -> Result<Vec<CarePlan>> {
        self.patient_read(
            actor,
            patient,
            Action::CarePlanList,
            Gate::Reach(Reach::File),
            now,
            async |access: &PatientAccess| {
                decide_read(access)?;
                let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
                    "select {PLAN_COLUMNS} from care_plans c join care_plan_versions v on v.plan_id = c.id and v.version = c.version \
                     where c.patient_id = $1 and c.id < $2 order by c.id desc limit $3"
                )))
                .bind(patient.as_text())
                .bind(before.map(|b| b.as_text()).unwrap_or_else(|| "~".into()))
                .bind(limit)
                .fetch_all(self.db.reader())
                .await?;
                let key = self.data_key(&patient_owner(patient)).await?;
                let plans = rows
                    .iter()
                    .map(|r| plan_from_row(&key, r))
                    .collect::<Result<Vec<_>>>()?;
                Ok(Audited::new(plans))
            },
        )
        .await
    }

    /// One plan with its reviews (newest first).
    pub async fn care_plan(
        &self,
        actor: &Actor,
        patient: PatientId,
        id: CarePlanId,
        now: Millis,
    ) -> Result<(CarePlan, Vec<Review>)> {
        self.patient_read(
            actor,
            patient,
            Action::CarePlanRead,
            Gate::Reach(Reach::File),
            now,
            async |access: &PatientAccess| {
                decide_read(access)?;
                let mut conn = self.db.reader().acquire().await?;
                let plan = self.plan_in(&mut conn, patient, id).await?;
                let key = self.data_key(&patient_owner(patient)).await?;
                let reviews = reviews_of(&mut conn, &key, id).await?;
                Ok(Audited::new((plan, reviews)).resource("care_plan", id))
            },
        )
        .await
    }

    /// Every version of a plan, newest first.
    pub async fn care_plan_versions(
        &self,
        actor: &Actor,
        patient: PatientId,
        id: CarePlanId,
        now: Millis,
    ) -> Result<Vec<PlanVersion>> {
        self.patient_read(
            actor,
            patient,
            Action::CarePlanRead,
            Gate::Reach(Reach::File),
            now,
            async |access: &PatientAccess| {
                decide_read(access)?;
                let mut conn = self.db.reader().acquire().await?;
                self.plan_in(&mut conn, patient, id).await?;
                let key = self.data_key(&patient_owner(patient)).await?;
                let versions = versions_of(&mut conn, &key, id).await?;
                Ok(Audited::new(versions)
                    .resource("care_plan", id)
                    .detail("versions"))
            },
        )
        .await
    }

    /// The plan `id` of `patient` (no access check: the caller's guard did it).
    pub(crate) async fn plan_in(
        &self,
        conn: &mut AnyConnection,
        patient: PatientId,
        id: CarePlanId,
    ) -> Result<CarePlan> {
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "select {PLAN_COLUMNS} from care_plans c join care_plan_versions v on v.plan_id = c.id and v.version = c.version \
             where c.id = $1 and c.patient_id = $2"
        )))
        .bind(id.as_text())
        .bind(patient.as_text())
        .fetch_optional(&mut *conn)
        .await?
        .ok_or(Error::not_found(Noun::CarePlan))?;
        let key = self.data_key(&patient_owner(patient)).await?;
        plan_from_row(&key, &row)
    }

    /// Changes a plan (a new version; the previous one stays readable). The later of
    /// two changes made on the same version gets 409.
    pub async fn update_care_plan(
        &self,
        actor: &Actor,
        patient: PatientId,
        id: CarePlanId,
        change: PlanChange,
        now: Millis,
    ) -> Result<CarePlan> {
        let content = change.content.clone().map(PlanContent::new).transpose()?;
        let today = Day::today_in_paris(now);
        let review_on = change
            .review_on
            .map(|d| check_review_on(d, today))
            .transpose()?;
        self.patient_write(
            actor,
            patient,
            Action::CarePlanUpdate,
            Gate::Reach(Reach::File),
            now,
            async |tx: &mut Tx, access: &PatientAccess| {
                decide_write(actor, access)?;
                let mut plan = self.plan_in(tx, patient, id).await?;
                check_version(plan.version, change.version)?;
                decide_status(plan.status, change.status.unwrap_or(plan.status))?;
                if plan.status == PlanStatus::Closed {
                    return Err(Error::conflict(
                        "care_plan.closed",
                        "the plan is closed; open a new one",
                    ));
                }
                if let Some(c) = change.coordinator_id
                    && c != plan.coordinator_id
                    && !self.on_team(tx, patient, c, now).await?
                {
                    return Err(Error::invalid(
                        "care_plan.referent_not_in_team",
                        "the referent must be a member of the patient's care team",
                    ));
                }
                if let (Some(PlanStatus::Active), Some(p)) = (change.status, plan.pathway_id)
                    && plan.status != PlanStatus::Active
                {
                    self.no_other_active(tx, patient, p, Some(id)).await?;
                }
                let before = plan.version;
                plan.version += 1;
                plan.updated_at = now;
                if let Some(c) = content.clone() {
                    plan.content = c;
                }
                plan.status = change.status.unwrap_or(plan.status);
                plan.review_on = review_on.unwrap_or(plan.review_on);
                plan.coordinator_id = change.coordinator_id.unwrap_or(plan.coordinator_id);
                self.move_plan(tx, &plan, before).await?;
                self.insert_plan_version(tx, &plan, actor.account_id, now)
                    .await?;
                let detail = format!("version={} status={}", plan.version, plan.status);
                Ok(Audited::new(plan).resource("care_plan", id).detail(detail))
            },
        )
        .await
    }

    /// Writes the plan's row at its new version if it is still at `before`.
    async fn move_plan(&self, tx: &mut Tx, plan: &CarePlan, before: i64) -> Result<()> {
        let moved = sqlx::query(
            "update care_plans set version = $1, status = $2, review_on = $3, coordinator_id = $4, updated_at = $5 \
             where id = $6 and version = $7",
        )
        .bind(plan.version)
        .bind(plan.status.as_str())
        .bind(plan.review_on.as_text())
        .bind(plan.coordinator_id.as_text())
        .bind(plan.updated_at.0)
        .bind(plan.id.as_text())
        .bind(before)
        .execute(&mut **tx)
        .await
        .map_err(|e| active_exists(e.into()))?;
        if moved.rows_affected() != 1 {
            return Err(version_conflict());
        }
        Ok(())
    }

    /// A review: what was achieved, and the next date. The plan keeps its previous
    /// version; a closed plan is not reviewed.
    pub async fn review_care_plan(
        &self,
        actor: &Actor,
        patient: PatientId,
        id: CarePlanId,
        content: ReviewContent,
        next_review_on: Day,
        now: Millis,
    ) -> Result<Review> {
        let today = Day::today_in_paris(now);
        let next = check_review_on(next_review_on, today)?;
        self.patient_write(
            actor,
            patient,
            Action::CarePlanReview,
            Gate::Reach(Reach::File),
            now,
            async |tx: &mut Tx, access: &PatientAccess| {
                decide_write(actor, access)?;
                let mut plan = self.plan_in(tx, patient, id).await?;
                if plan.status == PlanStatus::Closed {
                    return Err(Error::conflict("care_plan.closed", "a closed plan is not reviewed"));
                }
                let review = Review {
                    id: ReviewId::new(),
                    plan_id: id,
                    content: content.clone(),
                    next_review_on: next,
                    author_id: actor.account_id,
                    created_at: now,
                };
                let key = self.data_key_in(tx, &patient_owner(patient)).await?;
                sqlx::query(
                    "insert into care_plan_reviews (id, plan_id, patient_id, content, next_review_on, author_id, created_at) \
                     values ($1, $2, $3, $4, $5, $6, $7)",
                )
                .bind(review.id.as_text())
                .bind(id.as_text())
                .bind(patient.as_text())
                .bind(seal_json(&key, REVIEWS, &review.id.as_text(), "content", &review.content)?)
                .bind(next.as_text())
                .bind(actor.account_id.as_text())
                .bind(now.0)
                .execute(&mut **tx)
                .await?;
                let before = plan.version;
                plan.version += 1;
                plan.review_on = next;
                plan.updated_at = now;
                self.move_plan(tx, &plan, before).await?;
                self.insert_plan_version(tx, &plan, actor.account_id, now).await?;
                Ok(Audited::new(review.clone()).resource("care_plan_review", review.id))
            },
        )
        .await
    }

    /// Adds tasks to the patient's active plan (the most recent one), opening a plan
    /// when there is none — for the case-conference workflow, inside its transaction
    /// (it decided who may, and audits). Assignees are checked like any task's.
    pub(crate) async fn add_tasks_to_active_plan(
        &self,
        tx: &mut Tx,
        patient: PatientId,
        author: AccountId,
        tasks: &[NewTask],
        source: TaskSource,
        now: Millis,
    ) -> Result<(CarePlanId, Vec<Task>)> {
        let row = sqlx::query("select id from care_plans where patient_id = $1 and status = 'active' order by id desc limit 1")
            .bind(patient.as_text())
            .fetch_optional(&mut **tx)
            .await?;
        let plan = match row {
            Some(r) => {
                let id = CarePlanId::parse(&r.try_get::<String, _>("id")?)
                    .ok_or(Error::not_found(Noun::CarePlan))?;
                self.plan_in(tx, patient, id).await?
            }
            None => {
                let plan = CarePlan {
                    id: CarePlanId::new(),
                    patient_id: patient,
                    pathway_id: None,
                    pathway_version: None,
                    coordinator_id: author,
                    status: PlanStatus::Active,
                    content: PlanContent::new(PlanContentInput {
                        title: "Plan personnalisé de santé".into(),
                        ..PlanContentInput::default()
                    })?,
                    review_on: Day::today_in_paris(now).plus_days(DEFAULT_REVIEW_DAYS),
                    version: 1,
                    created_by: author,
                    created_at: now,
                    updated_at: now,
                };
                self.insert_plan(tx, &plan).await?;
                plan
            }
        };
        let mut out = Vec::with_capacity(tasks.len());
        for t in tasks {
            if let Some(a) = t.assignee_id {
                self.check_assignee(tx, patient, a, t.category, now).await?;
            }
            out.push(self.insert_task(tx, &plan, author, t, source, now).await?);
        }
        Ok((plan.id, out))
    }

    /// [`Store::add_tasks_to_active_plan`] in a transaction of its own (tests).
    #[cfg(feature = "test-support")]
    pub async fn add_tasks_to_active_plan_for_tests(
        &self,
        patient: PatientId,
        author: AccountId,
        tasks: &[NewTask],
        now: Millis,
    ) -> Result<(CarePlanId, Vec<Task>)> {
        let mut tx = self.begin().await?;
        let out = self
            .add_tasks_to_active_plan(
                &mut tx,
                patient,
                author,
                tasks,
                TaskSource::CaseConference,
                now,
            )
            .await?;
        tx.commit(self).await?;
        Ok(out)
    }

    /// Tells each referent once that their plan's review date has passed (a job).
    pub async fn notify_due_reviews(&self, now: Millis, batch: i64) -> Result<u64> {
        let today = Day::today_in_paris(now);
        let mut tx = self.begin().await?;
        let rows = sqlx::query(
            "select id, patient_id, coordinator_id, review_on from care_plans where status = 'active' and review_on < $1 \
             and (review_due_told is null or review_due_told <> review_on) order by review_on, id limit $2",
        )
        .bind(today.as_text())
        .bind(batch)
        .fetch_all(&mut *tx)
        .await?;
        let mut events = Vec::with_capacity(rows.len());
        for r in &rows {
            let id: String = r.try_get("id")?;
            let review_on: String = r.try_get("review_on")?;
            let patient = PatientId::parse(&r.try_get::<String, _>("patient_id")?)
                .ok_or(Error::not_found(Noun::Patient))?;
            let referent = account(&r.try_get::<String, _>("coordinator_id")?)?;
            sqlx::query("update care_plans set review_due_told = review_on where id = $1")
                .bind(&id)
                .execute(&mut *tx)
                .await?;
            self.account_event_in(
                &mut tx,
                referent,
                AccountEvent::CarePlanReviewDue,
                Some(id.clone()),
                serde_json::json!({ "plan_id": id, "patient_id": patient, "review_on": review_on }),
                now,
            )
            .await?;
            self.notify_in(
                &mut tx,
                Notice {
                    to: referent,
                    kind: NotificationKind::CarePlanReviewDue,
                    patient: Some(patient),
                    subject: Some(id.clone()),
                    actor: None,
                },
                now,
            )
            .await?;
            events.push(
                AuditEvent::new(
                    now,
                    Some(referent),
                    Action::CarePlanReviewDue,
                    Purpose::Care,
                    Outcome::Allowed,
                )
                .patient(patient)
                .resource("care_plan", id),
            );
        }
        if !events.is_empty() {
            self.audit_in(&mut tx, &events).await?;
        }
        tx.commit(self).await?;
        Ok(events.len() as u64)
    }

    /// An active member of the patient's team (whom the patient did not object to).
    pub(crate) async fn on_team(
        &self,
        conn: &mut AnyConnection,
        patient: PatientId,
        account: AccountId,
        now: Millis,
    ) -> Result<bool> {
        let n: i64 = sqlx::query_scalar(
            "select count(*) from care_team_members tm where tm.patient_id = $1 and tm.account_id = $2 and tm.removed_at is null \
             and tm.start_at <= $3 and (tm.end_at is null or tm.end_at > $3) \
             and not exists (select 1 from objections ob where ob.patient_id = $1 and ob.kind = 'professional' and ob.account_id = $2 and ob.withdrawn_at is null)",
        )
        .bind(patient.as_text())
        .bind(account.as_text())
        .bind(now.0)
        .fetch_one(&mut *conn)
        .await?;
        Ok(n > 0)
    }
}

/// The reviews of a plan, newest first.
async fn reviews_of(
    conn: &mut AnyConnection,
    key: &cordee_crypto::DataKey,
    id: CarePlanId,
) -> Result<Vec<Review>> {
    let rows = sqlx::query(
        "select id, content, next_review_on, author_id, created_at from care_plan_reviews where plan_id = $1 order by id desc",
    )
    .bind(id.as_text())
    .fetch_all(&mut *conn)
    .await?;
    let mut reviews = Vec::with_capacity(rows.len());
    for r in &rows {
        let rid: String = r.try_get("id")?;
        reviews.push(Review {
            id: ReviewId::parse(&rid).ok_or(Error::not_found(Noun::CarePlan))?,
            plan_id: id,
            content: open_json(
                key,
                REVIEWS,
                &rid,
                "content",
                &r.try_get::<Vec<u8>, _>("content")?,
            )?,
            next_review_on: day(&r.try_get::<String, _>("next_review_on")?)?,
            author_id: account(&r.try_get::<String, _>("author_id")?)?,
            created_at: Millis(r.try_get("created_at")?),
        });
    }
    Ok(reviews)
}

/// Every version of a plan, newest first.
async fn versions_of(
    conn: &mut AnyConnection,
    key: &cordee_crypto::DataKey,
    id: CarePlanId,
) -> Result<Vec<PlanVersion>> {
    let rows = sqlx::query(
        "select version, coordinator_id, status, review_on, content, author_id, created_at from care_plan_versions \
         where plan_id = $1 order by version desc",
    )
    .bind(id.as_text())
    .fetch_all(&mut *conn)
    .await?;
    let mut versions = Vec::with_capacity(rows.len());
    for r in &rows {
        let version: i64 = r.try_get("version")?;
        versions.push(PlanVersion {
            version,
            coordinator_id: account(&r.try_get::<String, _>("coordinator_id")?)?,
            status: status(&r.try_get::<String, _>("status")?)?,
            content: open_json(
                key,
                VERSIONS,
                &version_row(id, version),
                "content",
                &r.try_get::<Vec<u8>, _>("content")?,
            )?,
            review_on: day(&r.try_get::<String, _>("review_on")?)?,
            author_id: account(&r.try_get::<String, _>("author_id")?)?,
            created_at: Millis(r.try_get("created_at")?),
        });
    }
    Ok(versions)
}

/// A plan as the patient's export holds it: everything, every version.
#[derive(Clone, Debug)]
pub struct PlanExport {
    pub plan: CarePlan,
    pub versions: Vec<PlanVersion>,
    pub reviews: Vec<Review>,
    pub tasks: Vec<Task>,
}

impl Store {
    /// Every plan of the patient with its versions, reviews and tasks, unfiltered:
    /// for the patient's export only (its guard checked and audits).
    pub(crate) async fn plans_for_export(
        &self,
        key: &cordee_crypto::DataKey,
        patient: PatientId,
    ) -> Result<Vec<PlanExport>> {
        let mut conn = self.db.reader().acquire().await?;
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "select {PLAN_COLUMNS} from care_plans c join care_plan_versions v on v.plan_id = c.id and v.version = c.version \
             where c.patient_id = $1 order by c.id"
        )))
        .bind(patient.as_text())
        .fetch_all(&mut *conn)
        .await?;
        let mut out = Vec::with_capacity(rows.len());
        for r in &rows {
            let plan = plan_from_row(key, r)?;
            out.push(PlanExport {
                versions: versions_of(&mut conn, key, plan.id).await?,
                reviews: reviews_of(&mut conn, key, plan.id).await?,
                tasks: super::tasks::tasks_of_plan(&mut conn, key, plan.id).await?,
                plan,
            });
        }
        Ok(out)
    }
}

pub(super) fn check_version(current: i64, expected: i64) -> Result<()> {
    if current != expected {
        return Err(version_conflict());
    }
    Ok(())
}

fn version_conflict() -> Error {
    Error::conflict(
        "care_plan.version_conflict",
        "the plan changed meanwhile; reload it",
    )
}

/// The unique index on active plans speaks as the rule it enforces.
fn active_exists(err: Error) -> Error {
    match err {
        Error::Conflict {
            code: "conflict.duplicate",
            ..
        } => Error::conflict(
            "care_plan.active_exists",
            "the patient already has an active plan for this pathway",
        ),
        other => other,
    }
}

fn status(text: &str) -> Result<PlanStatus> {
    PlanStatus::parse(text).ok_or_else(|| Error::corrupt(format!("plan status {text}")))
}

fn plan_from_row(key: &cordee_crypto::DataKey, row: &AnyRow) -> Result<CarePlan> {
    let id = CarePlanId::parse(&row.try_get::<String, _>("id")?)
        .ok_or(Error::not_found(Noun::CarePlan))?;
    let version: i64 = row.try_get("version")?;
    Ok(CarePlan {
        id,
        patient_id: PatientId::parse(&row.try_get::<String, _>("patient_id")?)
            .ok_or(Error::not_found(Noun::Patient))?,
        pathway_id: row
            .try_get::<Option<String>, _>("pathway_id")?
            .and_then(|p| PathwayId::parse(&p)),
        pathway_version: row.try_get("pathway_version")?,
        coordinator_id: account(&row.try_get::<String, _>("coordinator_id")?)?,
        status: status(&row.try_get::<String, _>("status")?)?,
        content: open_json(
            key,
            VERSIONS,
            &version_row(id, version),
            "content",
            &row.try_get::<Vec<u8>, _>("content")?,
        )?,
        review_on: day(&row.try_get::<String, _>("review_on")?)?,
        version,
        created_by: account(&row.try_get::<String, _>("created_by")?)?,
        created_at: Millis(row.try_get("created_at")?),
        updated_at: Millis(row.try_get("updated_at")?),
    })
}
