//! Prevention campaigns in the database: created and edited by coordinators, joined
//! and left by structures, their counts recorded per day and kind (a correction is
//! one upsert that bumps the version, so concurrent corrections never lose one, and
//! every version is kept), and the indicators computed from those counts. Each
//! campaign owns a group conversation: joining adds the structure's members to it and
//! broadcasts are posted there. Every change is audited in its own transaction.

use std::collections::BTreeMap;

use sqlx::any::AnyRow;
use sqlx::{AnyConnection, Row};
use tracing::instrument;

use super::Store;
use super::sealed::seal_str;
use crate::account::Actor;
use crate::audit::{Action as AuditAction, AuditEvent, Outcome, Purpose};
use crate::campaign::indicators::{Indicators, Sum, compute};
use crate::campaign::{
    Act, ActionInput, ActionKind, ActionRecord, Campaign, CampaignDraft, NewAction, Participant,
    Revision, Theme, decide, decide_kinds_edit, decide_period_edit, format_day, is_coordinator,
    paris_day, parse_day,
};
use crate::conversation::{MessageInput, Sent};
use crate::error::Noun;
use crate::ids::{AccountId, CampaignActionId, CampaignId, ConversationId, OrganisationId};
use crate::organisation::OrganisationKind;
use crate::{Error, Millis, Result};

const COLUMNS: &str = "id, theme, title, description, starts_on, ends_on, action_kinds, targets, conversation_id, created_by, created_at, updated_at";
const ACTION_COLUMNS: &str =
    "id, organisation_id, on_day, kind, count, version, recorded_by, recorded_at";

/// Which counts a list shows.
#[derive(Clone, Debug, Default)]
pub struct ActionQuery {
    pub organisation_id: Option<OrganisationId>,
    pub after: Option<CampaignActionId>,
    /// Rows asked of the store: the page size plus one.
    pub limit: i64,
}

/// What recording a count did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Recorded {
    pub record: ActionRecord,
    /// False when it corrected an earlier count.
    pub created: bool,
}

impl Store {
    /// A page of the campaigns, newest first. Every logged-in account sees them.
    #[instrument(skip_all)]
    pub async fn campaigns(&self, after: Option<CampaignId>, limit: i64) -> Result<Vec<Campaign>> {
        let limit = limit.clamp(1, 1000);
        let rows =
            match after {
                Some(after) => sqlx::query(sqlx::AssertSqlSafe(format!(
                    "select {COLUMNS} from campaigns where id < $1 order by id desc limit {limit}"
                )))
                .bind(after.as_text())
                .fetch_all(self.db.reader())
                .await?,
                None => {
                    sqlx::query(sqlx::AssertSqlSafe(format!(
                        "select {COLUMNS} from campaigns order by id desc limit {limit}"
                    )))
                    .fetch_all(self.db.reader())
                    .await?
                }
            };
        rows.iter().map(campaign_from_row).collect()
    }

    #[instrument(skip_all, fields(campaign = %id))]
    pub async fn campaign(&self, id: CampaignId) -> Result<Campaign> {
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "select {COLUMNS} from campaigns where id = $1"
        )))
        .bind(id.as_text())
        .fetch_optional(self.db.reader())
        .await?
        .ok_or(Error::not_found(Noun::Campaign))?;
        campaign_from_row(&row)
    }

    /// The structures that joined (those that left too, with `left_at`), in joining
    /// order.
    #[instrument(skip_all, fields(campaign = %id))]
    pub async fn campaign_participants(&self, id: CampaignId) -> Result<Vec<Participant>> {
        let rows = sqlx::query(
            "select p.organisation_id, o.name, o.kind, p.joined_by, p.joined_at, p.left_at \
             from campaign_participants p join organisations o on o.id = p.organisation_id \
             where p.campaign_id = $1 order by p.joined_at, p.organisation_id",
        )
        .bind(id.as_text())
        .fetch_all(self.db.reader())
        .await?;
        rows.iter().map(participant_from_row).collect()
    }

    /// A coordinator or an admin launches a campaign; its group conversation is made
    /// in the same transaction, with the creator as its admin.
    #[instrument(skip_all)]
    pub async fn create_campaign(
        &self,
        actor: &Actor,
        draft: CampaignDraft,
        now: Millis,
    ) -> Result<Campaign> {
        decide(actor, Act::Manage)?;
        let id = CampaignId::new();
        let conversation = ConversationId::new();
        let mut tx = self.begin().await?;
        let key = self
            .create_data_key(&mut tx, &format!("conversation:{conversation}"), now)
            .await?;
        sqlx::query("insert into conversations (id, kind, title, created_by, created_at, last_message_at) values ($1, 'group', $2, $3, $4, $4)")
            .bind(conversation.as_text())
            .bind(seal_str(&key, "conversations", &conversation.as_text(), "title", &draft.title)?)
            .bind(actor.account_id.as_text())
            .bind(now.0)
            .execute(&mut *tx)
            .await?;
        add_to_conversation(&mut tx, conversation, &[actor.account_id], "admin", now).await?;
        sqlx::query(
            "insert into campaigns (id, theme, title, description, starts_on, ends_on, action_kinds, targets, conversation_id, created_by, created_at, updated_at) \
             values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $11)",
        )
        .bind(id.as_text())
        .bind(draft.theme.as_str())
        .bind(&draft.title)
        .bind(&draft.description)
        .bind(format_day(draft.starts_on))
        .bind(format_day(draft.ends_on))
        .bind(kinds_json(&draft.action_kinds)?)
        .bind(targets_json(&draft.targets)?)
        .bind(conversation.as_text())
        .bind(actor.account_id.as_text())
        .bind(now.0)
        .execute(&mut *tx)
        .await?;
        self.audit_in(
            &mut tx,
            &[manage_event(
                actor,
                AuditAction::CampaignCreate,
                id,
                now,
                draft.theme,
            )],
        )
        .await?;
        tx.commit(self).await?;
        self.campaign(id).await
    }

    /// A coordinator or an admin edits a campaign. Kinds with recorded counts stay,
    /// and the period keeps every recorded day.
    #[instrument(skip_all, fields(campaign = %id))]
    pub async fn update_campaign(
        &self,
        actor: &Actor,
        id: CampaignId,
        draft: CampaignDraft,
        now: Millis,
    ) -> Result<Campaign> {
        decide(actor, Act::Manage)?;
        let mut tx = self.begin().await?;
        // Lock the campaign first: a count recorded meanwhile waits for this edit.
        let found = sqlx::query(
            "update campaigns set updated_at = $1 where id = $2 returning conversation_id",
        )
        .bind(now.0)
        .bind(id.as_text())
        .fetch_optional(&mut *tx)
        .await?
        .ok_or(Error::not_found(Noun::Campaign))?;
        let conversation: String = found.try_get("conversation_id")?;
        let codes: Vec<String> =
            sqlx::query_scalar("select distinct kind from campaign_actions where campaign_id = $1")
                .bind(id.as_text())
                .fetch_all(&mut *tx)
                .await?;
        decide_kinds_edit(&draft.action_kinds, &codes)?;
        let span = sqlx::query(
            "select min(on_day) as first_day, max(on_day) as last_day from campaign_actions where campaign_id = $1",
        )
        .bind(id.as_text())
        .fetch_one(&mut *tx)
        .await?;
        let day = |name: &str| -> Result<Option<time::Date>> {
            Ok(span
                .try_get::<Option<String>, _>(name)?
                .as_deref()
                .and_then(parse_day))
        };
        decide_period_edit(
            draft.starts_on,
            draft.ends_on,
            day("first_day")?,
            day("last_day")?,
        )?;
        sqlx::query(
            "update campaigns set theme = $1, title = $2, description = $3, starts_on = $4, ends_on = $5, action_kinds = $6, targets = $7 where id = $8",
        )
        .bind(draft.theme.as_str())
        .bind(&draft.title)
        .bind(&draft.description)
        .bind(format_day(draft.starts_on))
        .bind(format_day(draft.ends_on))
        .bind(kinds_json(&draft.action_kinds)?)
        .bind(targets_json(&draft.targets)?)
        .bind(id.as_text())
        .execute(&mut *tx)
        .await?;
        // The conversation is named after the campaign.
        let key = self
            .data_key_in(&mut tx, &format!("conversation:{conversation}"))
            .await?;
        sqlx::query("update conversations set title = $1 where id = $2")
            .bind(seal_str(
                &key,
                "conversations",
                &conversation,
                "title",
                &draft.title,
            )?)
            .bind(&conversation)
            .execute(&mut *tx)
            .await?;
        self.audit_in(
            &mut tx,
            &[manage_event(
                actor,
                AuditAction::CampaignUpdate,
                id,
                now,
                draft.theme,
            )],
        )
        .await?;
        if let Some(c) = ConversationId::parse(&conversation) {
            tx.after_commit(super::Change::ConversationChanged(c));
        }
        tx.commit(self).await?;
        self.campaign(id).await
    }

    /// A structure joins a campaign: a member of it, or a coordinator enrolling it.
    /// Its members join the campaign's conversation. Joining again after leaving
    /// resumes; joining while taking part is a conflict.
    #[instrument(skip_all, fields(campaign = %id, organisation = %organisation))]
    pub async fn join_campaign(
        &self,
        actor: &Actor,
        id: CampaignId,
        organisation: OrganisationId,
        now: Millis,
    ) -> Result<Participant> {
        let mut tx = self.begin().await?;
        let conversation = conversation_of(&mut tx, id).await?;
        let live: Option<String> = sqlx::query_scalar(
            "select id from organisations where id = $1 and merged_into is null",
        )
        .bind(organisation.as_text())
        .fetch_optional(&mut *tx)
        .await?;
        if live.is_none() {
            return Err(Error::not_found(Noun::Organisation));
        }
        let member = is_member(&mut tx, organisation, actor.account_id).await?;
        decide(
            actor,
            Act::Participate {
                member_of_organisation: member,
            },
        )?;
        let joined = sqlx::query(
            "insert into campaign_participants (campaign_id, organisation_id, joined_by, joined_at) values ($1, $2, $3, $4) \
             on conflict (campaign_id, organisation_id) do update set joined_by = excluded.joined_by, joined_at = excluded.joined_at, left_by = null, left_at = null \
             where campaign_participants.left_at is not null",
        )
        .bind(id.as_text())
        .bind(organisation.as_text())
        .bind(actor.account_id.as_text())
        .bind(now.0)
        .execute(&mut *tx)
        .await?;
        if joined.rows_affected() == 0 {
            return Err(Error::conflict(
                "campaign.already_participating",
                "this structure already takes part in the campaign",
            ));
        }
        let members = organisation_members(&mut tx, organisation).await?;
        add_to_conversation(&mut tx, conversation, &members, "member", now).await?;
        self.audit_in(
            &mut tx,
            &[AuditEvent::new(
                now,
                Some(actor.account_id),
                AuditAction::CampaignJoin,
                Purpose::Administration,
                Outcome::Allowed,
            )
            .resource("campaign", id)
            .detail(format!("organisation={organisation}"))],
        )
        .await?;
        tx.after_commit(super::Change::ConversationChanged(conversation));
        tx.commit(self).await?;
        self.campaign_participants(id)
            .await?
            .into_iter()
            .find(|p| p.organisation_id == organisation)
            .ok_or(Error::not_found(Noun::CampaignParticipant))
    }

    /// A structure leaves (a member of it, or a coordinator withdraws it). What it
    /// recorded stays and still counts; its members leave the conversation unless
    /// another participating structure keeps them there.
    #[instrument(skip_all, fields(campaign = %id, organisation = %organisation))]
    pub async fn leave_campaign(
        &self,
        actor: &Actor,
        id: CampaignId,
        organisation: OrganisationId,
        now: Millis,
    ) -> Result<()> {
        let mut tx = self.begin().await?;
        let conversation = conversation_of(&mut tx, id).await?;
        let member = is_member(&mut tx, organisation, actor.account_id).await?;
        decide(
            actor,
            Act::Participate {
                member_of_organisation: member,
            },
        )?;
        let left = sqlx::query(
            "update campaign_participants set left_at = $1, left_by = $2 where campaign_id = $3 and organisation_id = $4 and left_at is null",
        )
        .bind(now.0)
        .bind(actor.account_id.as_text())
        .bind(id.as_text())
        .bind(organisation.as_text())
        .execute(&mut *tx)
        .await?;
        if left.rows_affected() == 0 {
            return Err(Error::not_found(Noun::CampaignParticipant));
        }
        sqlx::query(
            "update conversation_members set left_at = $1 where conversation_id = $2 and left_at is null and role <> 'admin' \
             and account_id in (select account_id from organisation_members where organisation_id = $3 and left_at is null) \
             and account_id not in (select m.account_id from organisation_members m join campaign_participants p on p.organisation_id = m.organisation_id \
                 where p.campaign_id = $4 and p.left_at is null and m.left_at is null)",
        )
        .bind(now.0)
        .bind(conversation.as_text())
        .bind(organisation.as_text())
        .bind(id.as_text())
        .execute(&mut *tx)
        .await?;
        self.audit_in(
            &mut tx,
            &[AuditEvent::new(
                now,
                Some(actor.account_id),
                AuditAction::CampaignLeave,
                Purpose::Administration,
                Outcome::Allowed,
            )
            .resource("campaign", id)
            .detail(format!("organisation={organisation}"))],
        )
        .await?;
        tx.after_commit(super::Change::ConversationChanged(conversation));
        tx.commit(self).await?;
        Ok(())
    }

    /// Records the count of one kind of action a structure did on one day. A second
    /// record for the same structure, day and kind corrects the first: the version
    /// grows by one in the same statement, and every version is kept.
    #[instrument(skip_all, fields(campaign = %id))]
    pub async fn record_campaign_action(
        &self,
        actor: &Actor,
        id: CampaignId,
        input: &ActionInput,
        now: Millis,
    ) -> Result<Recorded> {
        let campaign = self.campaign(id).await?;
        let mut tx = self.begin().await?;
        let organisation = input.organisation_id;
        let member = is_member(&mut tx, organisation, actor.account_id).await?;
        let participating: Option<String> = sqlx::query_scalar(
            "select organisation_id from campaign_participants where campaign_id = $1 and organisation_id = $2 and left_at is null",
        )
        .bind(id.as_text())
        .bind(organisation.as_text())
        .fetch_optional(&mut *tx)
        .await?;
        decide(
            actor,
            Act::Record {
                member_of_organisation: member,
                participating: participating.is_some(),
            },
        )?;
        let new = NewAction::check(
            &campaign,
            organisation,
            &input.kind,
            input.count,
            &input.on,
            paris_day(now),
        )?;
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "insert into campaign_actions (id, campaign_id, organisation_id, on_day, kind, count, version, recorded_by, recorded_at) \
             values ($1, $2, $3, $4, $5, $6, 1, $7, $8) \
             on conflict (campaign_id, organisation_id, on_day, kind) do update set count = excluded.count, \
             version = campaign_actions.version + 1, recorded_by = excluded.recorded_by, recorded_at = excluded.recorded_at \
             returning {ACTION_COLUMNS}"
        )))
        .bind(CampaignActionId::new().as_text())
        .bind(id.as_text())
        .bind(organisation.as_text())
        .bind(format_day(new.on))
        .bind(&new.kind)
        .bind(new.count)
        .bind(actor.account_id.as_text())
        .bind(now.0)
        .fetch_one(&mut *tx)
        .await?;
        let mut record = action_from_row(&row)?;
        let action_id = record.id.as_text();
        let version = record.version;
        sqlx::query(
            "insert into campaign_action_versions (action_id, version, count, recorded_by, recorded_at) values ($1, $2, $3, $4, $5)",
        )
        .bind(&action_id)
        .bind(version)
        .bind(new.count)
        .bind(actor.account_id.as_text())
        .bind(now.0)
        .execute(&mut *tx)
        .await?;
        self.audit_in(
            &mut tx,
            &[AuditEvent::new(
                now,
                Some(actor.account_id),
                AuditAction::CampaignRecord,
                Purpose::Administration,
                Outcome::Allowed,
            )
            .resource("campaign_action", &action_id)
            .detail(format!(
                "campaign={id} organisation={organisation} version={version}"
            ))],
        )
        .await?;
        tx.commit(self).await?;
        // This write's version, whatever corrections followed it since.
        self.attach_history(std::slice::from_mut(&mut record))
            .await?;
        Ok(Recorded {
            record,
            created: version == 1,
        })
    }

    /// A page of a campaign's counts, in recording order: coordinators see every
    /// structure's, others those of the structures they belong to.
    #[instrument(skip_all, fields(campaign = %id))]
    pub async fn campaign_actions(
        &self,
        actor: &Actor,
        id: CampaignId,
        query: &ActionQuery,
    ) -> Result<Vec<ActionRecord>> {
        self.campaign(id).await?;
        let mut sql =
            format!("select {ACTION_COLUMNS} from campaign_actions a where a.campaign_id = $1");
        let mut binds = vec![id.as_text()];
        if !is_coordinator(actor) {
            binds.push(actor.account_id.as_text());
            sql.push_str(&format!(
                " and a.organisation_id in (select organisation_id from organisation_members where account_id = ${} and left_at is null)",
                binds.len()
            ));
        }
        if let Some(org) = query.organisation_id {
            binds.push(org.as_text());
            sql.push_str(&format!(" and a.organisation_id = ${}", binds.len()));
        }
        if let Some(after) = query.after {
            binds.push(after.as_text());
            sql.push_str(&format!(" and a.id > ${}", binds.len()));
        }
        sql.push_str(&format!(
            " order by a.id limit {}",
            query.limit.clamp(1, 1000)
        ));
        let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
        for b in binds {
            q = q.bind(b);
        }
        let rows = q.persistent(false).fetch_all(self.db.reader()).await?;
        let mut list = rows
            .iter()
            .map(action_from_row)
            .collect::<Result<Vec<_>>>()?;
        self.attach_history(&mut list).await?;
        Ok(list)
    }

    /// The earlier versions of corrected counts (only those: most never are).
    async fn attach_history(&self, list: &mut [ActionRecord]) -> Result<()> {
        for record in list.iter_mut().filter(|r| r.version > 1) {
            let rows = sqlx::query(
                "select version, count, recorded_by, recorded_at from campaign_action_versions \
                 where action_id = $1 and version < $2 order by version",
            )
            .bind(record.id.as_text())
            .bind(record.version)
            .fetch_all(self.db.reader())
            .await?;
            record.history = rows
                .iter()
                .map(|row| {
                    Ok(Revision {
                        version: row.try_get("version")?,
                        count: row.try_get("count")?,
                        recorded_by: account(row, "recorded_by")?,
                        recorded_at: Millis(row.try_get("recorded_at")?),
                    })
                })
                .collect::<Result<Vec<_>>>()?;
        }
        Ok(())
    }

    /// The campaign's indicators. Coordinators see every structure's totals; others
    /// see the campaign's totals and, per structure, only their own structures.
    #[instrument(skip_all, fields(campaign = %id))]
    pub async fn campaign_indicators(
        &self,
        actor: &Actor,
        id: CampaignId,
    ) -> Result<(Campaign, Indicators)> {
        let campaign = self.campaign(id).await?;
        let participants = self.campaign_participants(id).await?;
        let rows = sqlx::query(
            "select organisation_id, kind, cast(sum(count) as bigint) as total from campaign_actions \
             where campaign_id = $1 group by organisation_id, kind",
        )
        .bind(id.as_text())
        .fetch_all(self.db.reader())
        .await?;
        let by_structure = rows
            .iter()
            .map(|row| {
                Ok(Sum {
                    key: OrganisationId::parse(&row.try_get::<String, _>("organisation_id")?)
                        .ok_or_else(|| Error::corrupt("campaign_actions.organisation_id".into()))?,
                    kind: row.try_get("kind")?,
                    count: row.try_get("total")?,
                })
            })
            .collect::<Result<Vec<_>>>()?;
        let rows = sqlx::query(
            "select on_day, kind, cast(sum(count) as bigint) as total from campaign_actions \
             where campaign_id = $1 group by on_day, kind",
        )
        .bind(id.as_text())
        .fetch_all(self.db.reader())
        .await?;
        let by_day = rows
            .iter()
            .map(|row| {
                Ok(Sum {
                    key: parse_day(&row.try_get::<String, _>("on_day")?)
                        .ok_or_else(|| Error::corrupt("campaign_actions.on_day".into()))?,
                    kind: row.try_get("kind")?,
                    count: row.try_get("total")?,
                })
            })
            .collect::<Result<Vec<_>>>()?;
        let mut indicators = compute(&campaign, &participants, &by_structure, &by_day);
        if !is_coordinator(actor) {
            let mine: Vec<String> = sqlx::query_scalar(
                "select organisation_id from organisation_members where account_id = $1 and left_at is null",
            )
            .bind(actor.account_id.as_text())
            .fetch_all(self.db.reader())
            .await?;
            indicators
                .by_structure
                .retain(|s| mine.contains(&s.organisation_id.as_text()));
        }
        Ok((campaign, indicators))
    }

    /// A coordinator's message to every participant's members, posted in the
    /// campaign's conversation (the coordinator joins it as an admin if needed).
    #[instrument(skip_all, fields(campaign = %id))]
    pub async fn broadcast_campaign(
        &self,
        actor: &Actor,
        id: CampaignId,
        input: MessageInput,
        now: Millis,
    ) -> Result<Sent> {
        decide(actor, Act::Manage)?;
        let campaign = self.campaign(id).await?;
        let mut tx = self.begin().await?;
        add_to_conversation(
            &mut tx,
            campaign.conversation_id,
            &[actor.account_id],
            "admin",
            now,
        )
        .await?;
        self.audit_in(
            &mut tx,
            &[AuditEvent::new(
                now,
                Some(actor.account_id),
                AuditAction::CampaignBroadcast,
                Purpose::Administration,
                Outcome::Allowed,
            )
            .resource("campaign", id)],
        )
        .await?;
        tx.after_commit(super::Change::ConversationChanged(campaign.conversation_id));
        tx.commit(self).await?;
        let conversation = self
            .conversation_for(actor, campaign.conversation_id, now)
            .await?;
        self.send_message(actor, &conversation, input, now).await
    }

    /// Whether the account works in the organisation (and has not left it).
    pub async fn is_organisation_member(
        &self,
        organisation: OrganisationId,
        account: AccountId,
    ) -> Result<bool> {
        let n: i64 = sqlx::query_scalar(
            "select count(*) from organisation_members where organisation_id = $1 and account_id = $2 and left_at is null",
        )
        .bind(organisation.as_text())
        .bind(account.as_text())
        .fetch_one(self.db.reader())
        .await?;
        Ok(n > 0)
    }
}

async fn conversation_of(conn: &mut AnyConnection, id: CampaignId) -> Result<ConversationId> {
    let conversation: Option<String> =
        sqlx::query_scalar("select conversation_id from campaigns where id = $1")
            .bind(id.as_text())
            .fetch_optional(&mut *conn)
            .await?;
    conversation
        .as_deref()
        .map(|c| {
            ConversationId::parse(c)
                .ok_or_else(|| Error::corrupt("campaigns.conversation_id".into()))
        })
        .transpose()?
        .ok_or(Error::not_found(Noun::Campaign))
}

async fn is_member(
    conn: &mut AnyConnection,
    organisation: OrganisationId,
    account: AccountId,
) -> Result<bool> {
    let n: i64 = sqlx::query_scalar(
        "select count(*) from organisation_members where organisation_id = $1 and account_id = $2 and left_at is null",
    )
    .bind(organisation.as_text())
    .bind(account.as_text())
    .fetch_one(&mut *conn)
    .await?;
    Ok(n > 0)
}

async fn organisation_members(
    conn: &mut AnyConnection,
    organisation: OrganisationId,
) -> Result<Vec<AccountId>> {
    let ids: Vec<String> = sqlx::query_scalar(
        "select account_id from organisation_members where organisation_id = $1 and left_at is null order by account_id",
    )
    .bind(organisation.as_text())
    .fetch_all(&mut *conn)
    .await?;
    Ok(ids.iter().filter_map(|a| AccountId::parse(a)).collect())
}

/// Adds accounts to the campaign's conversation (back, if they had left). An admin
/// stays an admin.
async fn add_to_conversation(
    conn: &mut AnyConnection,
    conversation: ConversationId,
    accounts: &[AccountId],
    role: &str,
    now: Millis,
) -> Result<()> {
    let promote = if role == "admin" {
        ", role = 'admin'"
    } else {
        ""
    };
    for account in accounts {
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "insert into conversation_members (conversation_id, account_id, role, joined_at) values ($1, $2, $3, $4) \
             on conflict (conversation_id, account_id) do update set left_at = null{promote}"
        )))
        .bind(conversation.as_text())
        .bind(account.as_text())
        .bind(role)
        .bind(now.0)
        .execute(&mut *conn)
        .await?;
    }
    Ok(())
}

fn manage_event(
    actor: &Actor,
    action: AuditAction,
    id: CampaignId,
    now: Millis,
    theme: Theme,
) -> AuditEvent {
    AuditEvent::new(
        now,
        Some(actor.account_id),
        action,
        Purpose::Administration,
        Outcome::Allowed,
    )
    .resource("campaign", id)
    .detail(format!("theme={theme}"))
}

fn kinds_json(kinds: &[ActionKind]) -> Result<String> {
    serde_json::to_string(kinds).map_err(Error::database)
}

fn targets_json(targets: &BTreeMap<String, i64>) -> Result<String> {
    serde_json::to_string(targets).map_err(Error::database)
}

fn corrupt(what: &str) -> Error {
    Error::corrupt(format!(
        "campaigns.{what} holds a value Cordée did not write"
    ))
}

fn account(row: &AnyRow, column: &str) -> Result<AccountId> {
    AccountId::parse(&row.try_get::<String, _>(column)?)
        .ok_or_else(|| Error::corrupt(format!("{column} holds a value Cordée did not write")))
}

fn campaign_from_row(row: &AnyRow) -> Result<Campaign> {
    let text = |name: &str| -> Result<String> { Ok(row.try_get(name)?) };
    Ok(Campaign {
        id: CampaignId::parse(&text("id")?).ok_or_else(|| corrupt("id"))?,
        theme: Theme::parse(&text("theme")?).ok_or_else(|| corrupt("theme"))?,
        title: text("title")?,
        description: text("description")?,
        starts_on: parse_day(&text("starts_on")?).ok_or_else(|| corrupt("starts_on"))?,
        ends_on: parse_day(&text("ends_on")?).ok_or_else(|| corrupt("ends_on"))?,
        action_kinds: serde_json::from_str(&text("action_kinds")?)
            .map_err(|_| corrupt("action_kinds"))?,
        targets: serde_json::from_str(&text("targets")?).map_err(|_| corrupt("targets"))?,
        conversation_id: ConversationId::parse(&text("conversation_id")?)
            .ok_or_else(|| corrupt("conversation_id"))?,
        created_by: account(row, "created_by")?,
        created_at: Millis(row.try_get("created_at")?),
        updated_at: Millis(row.try_get("updated_at")?),
    })
}

fn participant_from_row(row: &AnyRow) -> Result<Participant> {
    Ok(Participant {
        organisation_id: OrganisationId::parse(&row.try_get::<String, _>("organisation_id")?)
            .ok_or_else(|| corrupt("participants.organisation_id"))?,
        name: row.try_get("name")?,
        kind: OrganisationKind::parse(&row.try_get::<String, _>("kind")?)
            .ok_or_else(|| corrupt("participants.kind"))?,
        joined_by: account(row, "joined_by")?,
        joined_at: Millis(row.try_get("joined_at")?),
        left_at: row.try_get::<Option<i64>, _>("left_at")?.map(Millis),
    })
}

fn action_from_row(row: &AnyRow) -> Result<ActionRecord> {
    Ok(ActionRecord {
        id: CampaignActionId::parse(&row.try_get::<String, _>("id")?)
            .ok_or_else(|| corrupt("actions.id"))?,
        organisation_id: OrganisationId::parse(&row.try_get::<String, _>("organisation_id")?)
            .ok_or_else(|| corrupt("actions.organisation_id"))?,
        kind: row.try_get("kind")?,
        on: parse_day(&row.try_get::<String, _>("on_day")?)
            .ok_or_else(|| corrupt("actions.on_day"))?,
        count: row.try_get("count")?,
        version: row.try_get("version")?,
        recorded_by: account(row, "recorded_by")?,
        recorded_at: Millis(row.try_get("recorded_at")?),
        history: Vec::new(),
    })
}
