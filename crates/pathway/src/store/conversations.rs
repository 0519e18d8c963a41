//! Conversations: who may read them (the access rule of `access.rs`, in every
//! query), creation, group membership, read positions and mute, and the audience a
//! conversation's events go to.

use sqlx::any::AnyRow;
use sqlx::{AnyConnection, Row};

use super::Store;
use super::access::{Audited, Gate, Rule, group_param, thread_audience};
use super::sealed::{open_str, seal_str};
use super::sql::{Arg, Sql};
use super::tx::Tx;
use crate::access::{PatientAccess, Reach, decide_thread};
use crate::account::{AccountKind, Actor, ProfessionCode, ProfessionGroup};
use crate::audit::{Action, AuditEvent, Outcome, Purpose};
use crate::conversation::{Conversation, ConversationKind};
use crate::error::Noun;
use crate::ids::{AccountId, ConversationId, PatientId};
use crate::policy::Category;
use crate::{Error, Millis, Result};

const CONVERSATION_COLUMNS: &str = "c.id, c.kind, c.patient_id, c.category, c.title, c.created_by, c.created_at, c.last_seq, c.last_message_at, \
     coalesce(me.last_read_seq, 0) as last_read_seq, coalesce(me.muted, 0) as muted, coalesce(me.role, 'member') as my_role";

const TABLE: &str = "conversations";

pub struct NewConversation {
    pub kind: ConversationKind,
    pub patient_id: Option<PatientId>,
    pub category: Option<Category>,
    pub title: Option<String>,
    pub member_ids: Vec<AccountId>,
}

/// Who a conversation's events go to.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Audience {
    /// Accounts that may read the conversation (for a patient thread: care-team
    /// members one of whose professions may read its category).
    pub members: Vec<AccountId>,
    /// For a patient thread, the matrix columns that may read its category: a device
    /// receives it only when its session acts under one of them (an account with two
    /// exercices chooses one per session).
    pub readers: Option<Vec<ProfessionGroup>>,
    /// Members who muted it (no push notices).
    pub muted: Vec<AccountId>,
}

impl Store {
    pub async fn create_conversation(
        &self,
        actor: &Actor,
        new: NewConversation,
        now: Millis,
    ) -> Result<Conversation> {
        let title = new
            .title
            .map(|t| t.trim().to_string())
            .filter(|t| !t.is_empty());
        if title.as_ref().is_some_and(|t| t.chars().count() > 200) {
            return Err(Error::invalid(
                "conversation.invalid_title",
                "title must be at most 200 characters",
            ));
        }
        match new.kind {
            ConversationKind::Patient => {
                let patient = new.patient_id.ok_or(Error::invalid(
                    "conversation.patient_required",
                    "a patient thread needs patient_id",
                ))?;
                let category = new.category.unwrap_or(Category::Soins);
                self.create_patient_thread(actor, patient, category, title, now)
                    .await
            }
            ConversationKind::Direct => {
                let mut others: Vec<AccountId> = new
                    .member_ids
                    .into_iter()
                    .filter(|m| *m != actor.account_id)
                    .collect();
                others.dedup();
                let [other] = others.as_slice() else {
                    return Err(Error::invalid(
                        "conversation.direct_needs_one",
                        "a direct conversation has exactly one other member",
                    ));
                };
                self.create_direct(actor, *other, now).await
            }
            ConversationKind::Group => {
                let title = title.ok_or(Error::invalid(
                    "conversation.title_required",
                    "a group needs a title",
                ))?;
                self.create_group(actor, &title, new.member_ids, now).await
            }
        }
    }

    async fn create_patient_thread(
        &self,
        actor: &Actor,
        patient: PatientId,
        category: Category,
        title: Option<String>,
        now: Millis,
    ) -> Result<Conversation> {
        let id = self
            .patient_write(
                actor,
                patient,
                Action::ConversationCreate,
                Gate::Reach(Reach::Identity),
                now,
                async |tx: &mut Tx, access: &PatientAccess| {
                    decide_thread(access, category)?;
                    let id = ConversationId::new();
                    let key = self
                        .data_key_in(tx, &super::sealed::patient_owner(patient))
                        .await?;
                    let sealed_title = title
                        .as_deref()
                        .map(|t| seal_str(&key, TABLE, &id.as_text(), "title", t))
                        .transpose()?;
                    sqlx::query(
                        "insert into conversations (id, kind, patient_id, category, title, created_by, created_at, last_message_at) \
                         values ($1, 'patient', $2, $3, $4, $5, $6, $6)",
                    )
                    .bind(id.as_text())
                    .bind(patient.as_text())
                    .bind(category.as_str())
                    .bind(sealed_title)
                    .bind(actor.account_id.as_text())
                    .bind(now.0)
                    .execute(&mut **tx)
                    .await?;
                    Ok(Audited::new(id)
                        .resource("conversation", id)
                        .detail(format!("category={category}")))
                },
            )
            .await?;
        self.conversation_for(actor, id, now).await
    }

    async fn create_direct(
        &self,
        actor: &Actor,
        other: AccountId,
        now: Millis,
    ) -> Result<Conversation> {
        let mut pair = [actor.account_id.as_text(), other.as_text()];
        pair.sort();
        let pair = pair.join("|");
        let existing: Option<String> =
            sqlx::query_scalar("select id from conversations where direct_pair = $1")
                .bind(&pair)
                .fetch_optional(self.db.reader())
                .await?;
        if let Some(id) = existing.and_then(|e| ConversationId::parse(&e)) {
            return self.conversation_for(actor, id, now).await;
        }
        self.ensure_accounts(&[other]).await?;
        let id = ConversationId::new();
        let mut tx = self.begin().await?;
        self.create_data_key(&mut tx, &format!("conversation:{id}"), now)
            .await?;
        sqlx::query(
            "insert into conversations (id, kind, direct_pair, created_by, created_at, last_message_at) values ($1, 'direct', $2, $3, $4, $4)",
        )
        .bind(id.as_text())
        .bind(&pair)
        .bind(actor.account_id.as_text())
        .bind(now.0)
        .execute(&mut *tx)
        .await?;
        for member in [actor.account_id, other] {
            add_member_row(&mut tx, id, member, "member", now).await?;
        }
        tx.commit(self).await?;
        self.conversation_for(actor, id, now).await
    }

    async fn create_group(
        &self,
        actor: &Actor,
        title: &str,
        members: Vec<AccountId>,
        now: Millis,
    ) -> Result<Conversation> {
        let mut members: Vec<AccountId> = members
            .into_iter()
            .filter(|m| *m != actor.account_id)
            .collect();
        members.sort();
        members.dedup();
        if members.len() > 1000 {
            return Err(Error::invalid(
                "conversation.too_many_members",
                "a group has at most 1000 members",
            ));
        }
        self.ensure_accounts(&members).await?;
        let id = ConversationId::new();
        let mut tx = self.begin().await?;
        let key = self
            .create_data_key(&mut tx, &format!("conversation:{id}"), now)
            .await?;
        sqlx::query("insert into conversations (id, kind, title, created_by, created_at, last_message_at) values ($1, 'group', $2, $3, $4, $4)")
            .bind(id.as_text())
            .bind(seal_str(&key, TABLE, &id.as_text(), "title", title)?)
            .bind(actor.account_id.as_text())
            .bind(now.0)
            .execute(&mut *tx)
            .await?;
        add_member_row(&mut tx, id, actor.account_id, "admin", now).await?;
        for m in &members {
            add_member_row(&mut tx, id, *m, "member", now).await?;
        }
        tx.commit(self).await?;
        self.conversation_for(actor, id, now).await
    }

    async fn ensure_accounts(&self, ids: &[AccountId]) -> Result<()> {
        for id in ids {
            let known: i64 = sqlx::query_scalar("select count(*) from accounts where id = $1")
                .bind(id.as_text())
                .fetch_one(self.db.reader())
                .await?;
            if known == 0 {
                return Err(Error::invalid(
                    "conversation.unknown_member",
                    format!("{id} is not a Cordée account"),
                ));
            }
        }
        Ok(())
    }

    /// The conversation if the actor may read it; 404 otherwise. Not audited: for
    /// the checks that precede another read or a write.
    pub async fn conversation_for(
        &self,
        actor: &Actor,
        id: ConversationId,
        now: Millis,
    ) -> Result<Conversation> {
        let mut conn = self.db.reader().acquire().await?;
        self.conversation_in(&mut conn, actor, id, now).await
    }

    async fn conversation_in(
        &self,
        conn: &mut AnyConnection,
        actor: &Actor,
        id: ConversationId,
        now: Millis,
    ) -> Result<Conversation> {
        let rule = Rule::new(actor, now);
        let mut q = Sql::new(&format!(
            "select {CONVERSATION_COLUMNS} from conversations c left join conversation_members me \
             on me.conversation_id = c.id and me.account_id = "
        ));
        let a = q.shared("me", || Arg::from(actor.account_id.as_text()));
        q.push(&a).push(" where c.id = ").push_bind(id.as_text());
        let visible = rule.conversation(&mut q, "c");
        q.push(" and ").push(&visible);
        let row = q
            .query()
            .fetch_optional(&mut *conn)
            .await?
            .ok_or(Error::not_found(Noun::Conversation))?;
        self.conversation_from_row(&row).await
    }

    /// One conversation, as `GET /v1/conversations/{id}` shows it: a patient thread's
    /// details (its sealed title) are patient data, so reading them is audited.
    pub async fn read_conversation(
        &self,
        actor: &Actor,
        id: ConversationId,
        now: Millis,
    ) -> Result<Conversation> {
        let conversation = self.conversation_for(actor, id, now).await?;
        if let Some(patient) = conversation.patient_id {
            self.audit(
                AuditEvent::new(
                    now,
                    Some(actor.account_id),
                    Action::ConversationRead,
                    Purpose::Care,
                    Outcome::Allowed,
                )
                .patient(patient)
                .resource("conversation", id),
            )
            .await?;
        }
        Ok(conversation)
    }

    /// Same answer as [`Store::conversation_for`] for deciding whether the actor may
    /// post (remembered for a moment; any change to teams, groups, the matrix or a
    /// consent forgets it). Its read counters may be stale: do not show them.
    pub async fn conversation_for_posting(
        &self,
        actor: &Actor,
        id: ConversationId,
        now: Millis,
    ) -> Result<Conversation> {
        let key = (actor.account_id, group_param(actor), id);
        if let Some(c) = self.posting_memo.get(&key, now) {
            return Ok(c);
        }
        let generation = self.posting_memo.generation();
        let c = self.conversation_for(actor, id, now).await?;
        self.posting_memo.put(key, c.clone(), generation, now);
        Ok(c)
    }

    /// The conversations the actor may read, most recently active first: up to
    /// `limit` after the cursor. The threads' titles are patient data: the list is
    /// audited once per patient it shows.
    pub async fn list_conversations(
        &self,
        actor: &Actor,
        after: Option<(Millis, ConversationId)>,
        limit: i64,
        now: Millis,
    ) -> Result<Vec<Conversation>> {
        let rule = Rule::new(actor, now);
        let mut q = Sql::new(&format!(
            "select {CONVERSATION_COLUMNS} from conversations c left join conversation_members me \
             on me.conversation_id = c.id and me.account_id = "
        ));
        let a = q.shared("me", || Arg::from(actor.account_id.as_text()));
        q.push(&a).push(" where ");
        let visible = rule.conversation(&mut q, "c");
        q.push(&visible);
        if let Some((at, id)) = after {
            let at = q.bind(at.0);
            let id = q.bind(id.as_text());
            q.push(&format!(
                " and (c.last_message_at < {at} or (c.last_message_at = {at} and c.id < {id}))"
            ));
        }
        q.push(" order by c.last_message_at desc, c.id desc limit ")
            .push_bind(limit);
        let rows = q.query().fetch_all(self.db.reader()).await?;
        let mut out = Vec::with_capacity(rows.len());
        for row in &rows {
            out.push(self.conversation_from_row(row).await?);
        }
        let mut patients: Vec<PatientId> = out.iter().filter_map(|c| c.patient_id).collect();
        patients.sort();
        patients.dedup();
        if !patients.is_empty() {
            let events = patients
                .into_iter()
                .map(|p| {
                    AuditEvent::new(
                        now,
                        Some(actor.account_id),
                        Action::ConversationList,
                        Purpose::Care,
                        Outcome::Allowed,
                    )
                    .patient(p)
                })
                .collect();
            self.audit_all(events).await?;
        }
        Ok(out)
    }

    /// Every thread about a patient with all its messages (deleted ones as
    /// tombstones), oldest first: the messaging part of the patient's file, for the
    /// export. The caller has checked the right to export.
    pub(crate) async fn patient_threads(
        &self,
        patient: PatientId,
    ) -> Result<Vec<(Conversation, Vec<crate::conversation::Message>)>> {
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "select {CONVERSATION_COLUMNS} from conversations c left join conversation_members me \
             on me.conversation_id = c.id and me.account_id = '' where c.patient_id = $1 order by c.created_at, c.id"
        )))
        .bind(patient.as_text())
        .fetch_all(self.db.reader())
        .await?;
        let mut out = Vec::with_capacity(rows.len());
        for row in &rows {
            let conversation = self.conversation_from_row(row).await?;
            let messages = self.all_messages(&conversation).await?;
            out.push((conversation, messages));
        }
        Ok(out)
    }

    async fn conversation_from_row(&self, row: &AnyRow) -> Result<Conversation> {
        let id = ConversationId::parse(&row.try_get::<String, _>("id")?)
            .ok_or(Error::not_found(Noun::Conversation))?;
        let kind = ConversationKind::parse(&row.try_get::<String, _>("kind")?)
            .ok_or(Error::not_found(Noun::Conversation))?;
        let patient_id = row
            .try_get::<Option<String>, _>("patient_id")?
            .and_then(|p| PatientId::parse(&p));
        let mut conversation = Conversation {
            id,
            kind,
            patient_id,
            category: row
                .try_get::<Option<String>, _>("category")?
                .and_then(|c| Category::parse(&c)),
            title: None,
            created_by: AccountId::parse(&row.try_get::<String, _>("created_by")?)
                .ok_or(Error::not_found(Noun::Account))?,
            created_at: Millis(row.try_get("created_at")?),
            last_seq: row.try_get("last_seq")?,
            last_message_at: Millis(
                row.try_get::<Option<i64>, _>("last_message_at")?
                    .unwrap_or_default(),
            ),
            last_read_seq: row.try_get("last_read_seq")?,
            unread: 0,
            muted: row.try_get::<i64, _>("muted")? != 0,
            admin: row.try_get::<String, _>("my_role")? == "admin",
        };
        conversation.unread = (conversation.last_seq - conversation.last_read_seq).max(0);
        if let Some(sealed) = row.try_get::<Option<Vec<u8>>, _>("title")? {
            let key = self.data_key(&conversation.key_owner()).await?;
            conversation.title = Some(open_str(&key, TABLE, &id.as_text(), "title", &sealed)?);
        }
        Ok(conversation)
    }

    /// Who receives this conversation's events now. Patient threads follow the
    /// access rule (the care team, minus objections) and the matrix for their
    /// category, so leaving the team stops delivery at once.
    pub async fn audience(&self, id: ConversationId, now: Millis) -> Result<Audience> {
        let conv =
            sqlx::query("select kind, patient_id, category from conversations where id = $1")
                .bind(id.as_text())
                .fetch_optional(self.db.reader())
                .await?
                .ok_or(Error::not_found(Noun::Conversation))?;
        let muted = self.muted_members(id).await?;
        let kind: String = conv.try_get("kind")?;
        if kind != ConversationKind::Patient.as_str() {
            let ids: Vec<String> = sqlx::query_scalar("select account_id from conversation_members where conversation_id = $1 and left_at is null")
                .bind(id.as_text())
                .fetch_all(self.db.reader())
                .await?;
            return Ok(Audience {
                members: ids.iter().filter_map(|a| AccountId::parse(a)).collect(),
                readers: None,
                muted,
            });
        }
        let patient: String = conv
            .try_get::<Option<String>, _>("patient_id")?
            .unwrap_or_default();
        let category: String = conv
            .try_get::<Option<String>, _>("category")?
            .unwrap_or_default();
        let blocked: i64 = sqlx::query_scalar(
            "select count(*) from objections where patient_id = $1 and kind = 'category' and category = $2 and withdrawn_at is null",
        )
        .bind(&patient)
        .bind(&category)
        .fetch_one(self.db.reader())
        .await?;
        if blocked > 0 {
            return Ok(Audience {
                members: Vec::new(),
                readers: Some(Vec::new()),
                muted,
            });
        }
        let readers: Vec<ProfessionGroup> = sqlx::query_scalar::<_, String>(
            "select profession_group from access_matrix where category = $1 and access <> 'none'",
        )
        .bind(&category)
        .fetch_all(self.db.reader())
        .await?
        .iter()
        .filter_map(|g| ProfessionGroup::parse(g))
        .collect();
        let mut q =
            Sql::new("select a.id, a.kind, a.profession_codes from accounts a where a.id in (");
        let p = q.bind(patient);
        let team = thread_audience(&mut q, &p, now);
        q.push(&team).push(")");
        let rows = q.query().fetch_all(self.db.reader()).await?;
        let mut members = Vec::new();
        for row in &rows {
            let groups: Vec<ProfessionGroup> =
                match AccountKind::parse(&row.try_get::<String, _>("kind")?) {
                    Some(AccountKind::Staff) => vec![ProfessionGroup::Staff],
                    _ => row
                        .try_get::<String, _>("profession_codes")?
                        .split(',')
                        .filter_map(ProfessionCode::parse)
                        .filter_map(|c| c.group())
                        .collect(),
                };
            if groups.iter().any(|g| readers.contains(g))
                && let Some(a) = AccountId::parse(&row.try_get::<String, _>("id")?)
            {
                members.push(a);
            }
        }
        Ok(Audience {
            members,
            readers: Some(readers),
            muted,
        })
    }

    /// Adds members to a group (its admins only).
    pub async fn add_group_members(
        &self,
        actor: &Actor,
        id: ConversationId,
        members: Vec<AccountId>,
        now: Millis,
    ) -> Result<()> {
        let conversation = self.conversation_for(actor, id, now).await?;
        if conversation.kind != ConversationKind::Group || !conversation.admin {
            return Err(Error::forbidden(
                "conversation.admins_only",
                "only a group's admins change its members",
            ));
        }
        self.ensure_accounts(&members).await?;
        let mut tx = self.begin().await?;
        for m in members {
            add_member_row(&mut tx, id, m, "member", now).await?;
        }
        tx.after_commit(super::Change::ConversationChanged(id));
        tx.commit(self).await?;
        Ok(())
    }

    /// Removes a member from a group (admins), or leaves it (anyone).
    pub async fn remove_group_member(
        &self,
        actor: &Actor,
        id: ConversationId,
        member: AccountId,
        now: Millis,
    ) -> Result<()> {
        let conversation = self.conversation_for(actor, id, now).await?;
        if conversation.kind != ConversationKind::Group {
            return Err(Error::forbidden(
                "conversation.not_a_group",
                "only group members can be removed; patient threads follow the care team",
            ));
        }
        if member != actor.account_id && !conversation.admin {
            return Err(Error::forbidden(
                "conversation.admins_only",
                "only a group's admins remove members",
            ));
        }
        let done = sqlx::query("update conversation_members set left_at = $1 where conversation_id = $2 and account_id = $3 and left_at is null")
            .bind(now.0)
            .bind(id.as_text())
            .bind(member.as_text())
            .execute(self.db.writer())
            .await?;
        if done.rows_affected() == 0 {
            return Err(Error::not_found(Noun::Member));
        }
        self.publish(super::Change::ConversationChanged(id));
        Ok(())
    }

    pub async fn set_muted(
        &self,
        actor: &Actor,
        id: ConversationId,
        muted: bool,
        now: Millis,
    ) -> Result<()> {
        self.conversation_for(actor, id, now).await?;
        sqlx::query(
            "insert into conversation_members (conversation_id, account_id, role, joined_at, muted) values ($1, $2, 'member', $3, $4) \
             on conflict (conversation_id, account_id) do update set muted = excluded.muted",
        )
        .bind(id.as_text())
        .bind(actor.account_id.as_text())
        .bind(now.0)
        .bind(i64::from(muted))
        .execute(self.db.writer())
        .await?;
        self.publish(super::Change::ConversationChanged(id));
        Ok(())
    }

    /// Members who muted the conversation (no push notices for them).
    pub async fn muted_members(&self, id: ConversationId) -> Result<Vec<AccountId>> {
        let ids: Vec<String> = sqlx::query_scalar(
            "select account_id from conversation_members where conversation_id = $1 and muted = 1",
        )
        .bind(id.as_text())
        .fetch_all(self.db.reader())
        .await?;
        Ok(ids.iter().filter_map(|a| AccountId::parse(a)).collect())
    }
}

async fn add_member_row(
    conn: &mut AnyConnection,
    id: ConversationId,
    account: AccountId,
    role: &str,
    now: Millis,
) -> Result<()> {
    sqlx::query(
        "insert into conversation_members (conversation_id, account_id, role, joined_at) values ($1, $2, $3, $4) \
         on conflict (conversation_id, account_id) do update set left_at = null, role = excluded.role",
    )
    .bind(id.as_text())
    .bind(account.as_text())
    .bind(role)
    .bind(now.0)
    .execute(&mut *conn)
    .await?;
    Ok(())
}
