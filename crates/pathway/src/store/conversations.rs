//! Conversations: who may read them (the same rule in every query), creation,
//! group membership, read positions and mute.

use sqlx::Row;
use sqlx::any::AnyRow;

use super::Store;
use super::sealed::{open_str, seal_str};
use crate::account::{AccountKind, Actor, ProfessionCode, ProfessionGroup};
use crate::audit::{AuditEvent, Outcome, Purpose};
use crate::conversation::{Conversation, ConversationKind};
use crate::ids::{AccountId, ConversationId, PatientId};
use crate::policy::{Access, Category};
use crate::{Error, Millis, Result};

/// Visible to `$1` (actor) at `$2` (now) reading with column `$3` (profession group).
#[macro_export]
#[doc(hidden)]
macro_rules! visible_conversation_sql {
    () => {
        concat!(
            "((c.kind <> 'patient' and exists (select 1 from conversation_members cm where cm.conversation_id = c.id and cm.account_id = $1 and cm.left_at is null)) ",
            "or (c.kind = 'patient' and exists (select 1 from care_team_members t where t.patient_id = c.patient_id and t.account_id = $1 and t.removed_at is null and t.start_at <= $2 and (t.end_at is null or t.end_at > $2)) ",
            "and exists (select 1 from access_matrix m where m.category = c.category and m.profession_group = $3 and m.access <> 'none') ",
            "and not exists (select 1 from objections o where o.patient_id = c.patient_id and o.withdrawn_at is null and ((o.kind = 'professional' and o.account_id = $1) or (o.kind = 'category' and o.category = c.category))) ",
            "and not exists (select 1 from patients p where p.id = c.patient_id and p.erased_at is not null)))"
        )
    };
}

macro_rules! conversation_columns {
    () => {
        "c.id, c.kind, c.patient_id, c.category, c.title, c.created_by, c.created_at, c.last_seq, \
         coalesce(me.last_read_seq, 0) as last_read_seq, coalesce(me.muted, 0) as muted, coalesce(me.role, 'member') as my_role"
    };
}

const TABLE: &str = "conversations";

pub struct NewConversation {
    pub kind: ConversationKind,
    pub patient_id: Option<PatientId>,
    pub category: Option<Category>,
    pub title: Option<String>,
    pub member_ids: Vec<AccountId>,
}

pub(crate) fn group_param(actor: &Actor) -> &'static str {
    actor.group().map(|g| g.as_str()).unwrap_or("-")
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
        let mut tx = self.db.begin().await?;
        let access = match self.access_in(&mut tx, actor, patient, now).await {
            Ok(a) if a.member => a,
            Ok(_) => {
                drop(tx);
                let e = Error::forbidden(
                    "conversation.team_only",
                    "patient threads are for the care team",
                );
                return Err(self
                    .refused(actor, patient, "conversation.create", now, e)
                    .await);
            }
            Err(e) => {
                drop(tx);
                return Err(self
                    .refused(actor, patient, "conversation.create", now, e)
                    .await);
            }
        };
        let matrix: Option<String> = sqlx::query_scalar(
            "select access from access_matrix where profession_group = $1 and category = $2",
        )
        .bind(group_param(actor))
        .bind(category.as_str())
        .fetch_optional(&mut *tx)
        .await?;
        if !matrix
            .as_deref()
            .and_then(Access::parse)
            .unwrap_or(Access::None)
            .can_read()
            || access.objected_categories.contains(&category)
        {
            return Err(Error::forbidden(
                "conversation.category_forbidden",
                format!(
                    "your profession may not read {} exchanges about this patient",
                    category.as_str()
                ),
            ));
        }
        let id = ConversationId::new();
        let key = self
            .data_key_in(&mut tx, &format!("patient:{patient}"))
            .await?;
        let sealed_title = title
            .as_deref()
            .map(|t| seal_str(&key, TABLE, &id.as_text(), "title", t))
            .transpose()?;
        sqlx::query(
            "insert into conversations (id, kind, patient_id, category, title, created_by, created_at) values ($1, 'patient', $2, $3, $4, $5, $6)",
        )
        .bind(id.as_text())
        .bind(patient.as_text())
        .bind(category.as_str())
        .bind(sealed_title)
        .bind(actor.account_id.as_text())
        .bind(now.0)
        .execute(&mut *tx)
        .await?;
        self.audit_in(
            &mut tx,
            &[AuditEvent::new(
                now,
                Some(actor.account_id),
                "conversation.create",
                Purpose::Care,
                Outcome::Allowed,
            )
            .patient(patient)
            .resource("conversation", id)
            .detail(format!("category={}", category.as_str()))],
        )
        .await?;
        tx.commit().await?;
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
        let mut tx = self.db.begin().await?;
        self.create_data_key(&mut tx, &format!("conversation:{id}"), now)
            .await?;
        sqlx::query(
            "insert into conversations (id, kind, direct_pair, created_by, created_at) values ($1, 'direct', $2, $3, $4)",
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
        tx.commit().await?;
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
        let mut tx = self.db.begin().await?;
        let key = self
            .create_data_key(&mut tx, &format!("conversation:{id}"), now)
            .await?;
        sqlx::query("insert into conversations (id, kind, title, created_by, created_at) values ($1, 'group', $2, $3, $4)")
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
        tx.commit().await?;
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

    /// The conversation if the actor may read it; 404 otherwise.
    pub async fn conversation_for(
        &self,
        actor: &Actor,
        id: ConversationId,
        now: Millis,
    ) -> Result<Conversation> {
        let row = sqlx::query(concat!(
            "select ", conversation_columns!(),
            " from conversations c left join conversation_members me on me.conversation_id = c.id and me.account_id = $1",
            " where c.id = $4 and ", visible_conversation_sql!()
        ))
        .bind(actor.account_id.as_text())
        .bind(now.0)
        .bind(group_param(actor))
        .bind(id.as_text())
        .fetch_optional(self.db.reader())
        .await?
        .ok_or(Error::not_found("conversation"))?;
        self.conversation_from_row(&row).await
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

    /// Every conversation the actor may read, most recently active first.
    pub async fn list_conversations(
        &self,
        actor: &Actor,
        now: Millis,
    ) -> Result<Vec<Conversation>> {
        let rows = sqlx::query(concat!(
            "select ", conversation_columns!(),
            " from conversations c left join conversation_members me on me.conversation_id = c.id and me.account_id = $1",
            " where ", visible_conversation_sql!(),
            " order by c.last_seq desc, c.id desc limit 500"
        ))
        .bind(actor.account_id.as_text())
        .bind(now.0)
        .bind(group_param(actor))
        .fetch_all(self.db.reader())
        .await?;
        let mut out = Vec::with_capacity(rows.len());
        for row in &rows {
            out.push(self.conversation_from_row(row).await?);
        }
        Ok(out)
    }

    /// Ids of the conversations the actor may read (for the stream).
    pub async fn visible_conversation_ids(
        &self,
        actor: &Actor,
        now: Millis,
    ) -> Result<Vec<ConversationId>> {
        let ids: Vec<String> = sqlx::query_scalar(concat!(
            "select c.id from conversations c where ",
            visible_conversation_sql!()
        ))
        .bind(actor.account_id.as_text())
        .bind(now.0)
        .bind(group_param(actor))
        .fetch_all(self.db.reader())
        .await?;
        Ok(ids
            .iter()
            .filter_map(|i| ConversationId::parse(i))
            .collect())
    }

    /// Every thread about a patient with all its messages (deleted ones as
    /// tombstones), oldest first: the messaging part of the patient's file, for the
    /// export. The caller has checked the right to export.
    pub(crate) async fn patient_threads(
        &self,
        patient: PatientId,
    ) -> Result<Vec<(Conversation, Vec<crate::conversation::Message>)>> {
        let rows = sqlx::query(concat!(
            "select ",
            conversation_columns!(),
            " from conversations c left join conversation_members me on me.conversation_id = c.id and me.account_id = ''",
            " where c.patient_id = $1 order by c.created_at, c.id"
        ))
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
            .ok_or(Error::not_found("conversation"))?;
        let kind = ConversationKind::parse(&row.try_get::<String, _>("kind")?)
            .ok_or(Error::not_found("conversation"))?;
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
                .ok_or(Error::not_found("account"))?,
            created_at: Millis(row.try_get("created_at")?),
            last_seq: row.try_get("last_seq")?,
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

    /// Accounts that receive this conversation's events now. Patient threads follow
    /// the care team and the matrix (any of a member's professions that may read the
    /// category), minus objections — so leaving the team stops delivery at once.
    pub async fn recipients(&self, id: ConversationId, now: Millis) -> Result<Vec<AccountId>> {
        let conv =
            sqlx::query("select kind, patient_id, category from conversations where id = $1")
                .bind(id.as_text())
                .fetch_optional(self.db.reader())
                .await?
                .ok_or(Error::not_found("conversation"))?;
        let kind: String = conv.try_get("kind")?;
        if kind != "patient" {
            let ids: Vec<String> = sqlx::query_scalar("select account_id from conversation_members where conversation_id = $1 and left_at is null")
                .bind(id.as_text())
                .fetch_all(self.db.reader())
                .await?;
            return Ok(ids.iter().filter_map(|a| AccountId::parse(a)).collect());
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
        let erased: i64 = sqlx::query_scalar(
            "select count(*) from patients where id = $1 and erased_at is not null",
        )
        .bind(&patient)
        .fetch_one(self.db.reader())
        .await?;
        if blocked > 0 || erased > 0 {
            return Ok(Vec::new());
        }
        let readers: Vec<String> = sqlx::query_scalar(
            "select profession_group from access_matrix where category = $1 and access <> 'none'",
        )
        .bind(&category)
        .fetch_all(self.db.reader())
        .await?;
        let rows = sqlx::query(
            "select distinct t.account_id, a.kind, a.profession_codes from care_team_members t join accounts a on a.id = t.account_id \
             where t.patient_id = $1 and t.removed_at is null and t.start_at <= $2 and (t.end_at is null or t.end_at > $2) \
             and not exists (select 1 from objections o where o.patient_id = $1 and o.kind = 'professional' and o.account_id = t.account_id and o.withdrawn_at is null)",
        )
        .bind(&patient)
        .bind(now.0)
        .fetch_all(self.db.reader())
        .await?;
        let mut out = Vec::new();
        for row in &rows {
            let kind = AccountKind::parse(&row.try_get::<String, _>("kind")?);
            let groups: Vec<ProfessionGroup> = match kind {
                Some(AccountKind::Staff) => vec![ProfessionGroup::Staff],
                _ => row
                    .try_get::<String, _>("profession_codes")?
                    .split(',')
                    .filter_map(ProfessionCode::parse)
                    .filter_map(|c| c.group())
                    .collect(),
            };
            let may_read = groups
                .iter()
                .any(|g| readers.iter().any(|r| r == g.as_str()));
            if may_read && let Some(a) = AccountId::parse(&row.try_get::<String, _>("account_id")?)
            {
                out.push(a);
            }
        }
        Ok(out)
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
        let mut tx = self.db.begin().await?;
        for m in members {
            add_member_row(&mut tx, id, m, "member", now).await?;
        }
        tx.commit().await?;
        self.publish(super::Change::ConversationChanged(id));
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
            return Err(Error::not_found("member"));
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
    tx: &mut sqlx::Transaction<'static, sqlx::Any>,
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
    .execute(&mut **tx)
    .await?;
    Ok(())
}
