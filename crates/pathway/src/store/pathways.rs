//! Territorial pathway protocols: versions kept, written by coordinators and admins,
//! read by every member. Not health data.

use sqlx::any::AnyRow;
use sqlx::{AnyConnection, Row};

use super::Store;
use crate::account::Actor;
use crate::audit::{Action, AuditEvent, Outcome, Purpose};
use crate::error::Noun;
use crate::ids::{AccountId, PathwayId};
use crate::protocol::{Protocol, ProtocolContent, Step, decide_write};
use crate::{Error, Millis, Result};

const COLUMNS: &str = "p.id, p.created_at, v.created_at as updated_at, v.author_id, v.version, v.name, v.description, v.steps";

impl Store {
    pub async fn create_pathway(
        &self,
        actor: &Actor,
        content: ProtocolContent,
        now: Millis,
    ) -> Result<Protocol> {
        decide_write(actor)?;
        let id = PathwayId::new();
        let mut tx = self.begin().await?;
        sqlx::query(
            "insert into pathways (id, version, created_by, created_at, updated_at) values ($1, 1, $2, $3, $3)",
        )
        .bind(id.as_text())
        .bind(actor.account_id.as_text())
        .bind(now.0)
        .execute(&mut *tx)
        .await?;
        insert_version(&mut tx, id, 1, &content, actor.account_id, now).await?;
        self.audit_in(&mut tx, &[audit(actor, Action::PathwayCreate, id, 1, now)])
            .await?;
        tx.commit(self).await?;
        Ok(Protocol {
            id,
            name: content.name,
            description: content.description,
            steps: content.steps,
            version: 1,
            created_at: now,
            updated_at: now,
            updated_by: actor.account_id,
        })
    }

    /// A new version of the protocol; plans started from an earlier one keep it.
    pub async fn update_pathway(
        &self,
        actor: &Actor,
        id: PathwayId,
        content: ProtocolContent,
        now: Millis,
    ) -> Result<Protocol> {
        decide_write(actor)?;
        let mut tx = self.begin().await?;
        let current: i64 = sqlx::query_scalar("select version from pathways where id = $1")
            .bind(id.as_text())
            .fetch_optional(&mut *tx)
            .await?
            .ok_or(Error::not_found(Noun::Pathway))?;
        let version = current + 1;
        let moved = sqlx::query(
            "update pathways set version = $1, updated_at = $2 where id = $3 and version = $4",
        )
        .bind(version)
        .bind(now.0)
        .bind(id.as_text())
        .bind(current)
        .execute(&mut *tx)
        .await?;
        if moved.rows_affected() != 1 {
            return Err(Error::conflict(
                "pathway.version_conflict",
                "the pathway changed meanwhile; reload it",
            ));
        }
        insert_version(&mut tx, id, version, &content, actor.account_id, now).await?;
        self.audit_in(
            &mut tx,
            &[audit(actor, Action::PathwayUpdate, id, version, now)],
        )
        .await?;
        tx.commit(self).await?;
        self.pathway(id, None).await
    }

    /// A protocol: its current version, or `version`.
    pub async fn pathway(&self, id: PathwayId, version: Option<i64>) -> Result<Protocol> {
        let mut conn = self.db.reader().acquire().await?;
        pathway_in(&mut conn, id, version)
            .await?
            .ok_or(Error::not_found(Noun::Pathway))
    }

    /// Protocols by id, up to `limit` after `after`.
    pub async fn pathways(&self, after: Option<PathwayId>, limit: i64) -> Result<Vec<Protocol>> {
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "select {COLUMNS} from pathways p join pathway_versions v on v.pathway_id = p.id and v.version = p.version \
             where p.id > $1 order by p.id limit $2"
        )))
        .bind(after.map(|a| a.as_text()).unwrap_or_default())
        .bind(limit)
        .fetch_all(self.db.reader())
        .await?;
        rows.iter().map(protocol_from_row).collect()
    }
}

/// The protocol `id` at `version` (current when `None`), inside any connection.
pub(crate) async fn pathway_in(
    conn: &mut AnyConnection,
    id: PathwayId,
    version: Option<i64>,
) -> Result<Option<Protocol>> {
    let row = sqlx::query(sqlx::AssertSqlSafe(format!(
        "select {COLUMNS} from pathways p join pathway_versions v on v.pathway_id = p.id \
         and v.version = coalesce($2, p.version) where p.id = $1"
    )))
    .bind(id.as_text())
    .bind(version)
    .fetch_optional(&mut *conn)
    .await?;
    row.as_ref().map(protocol_from_row).transpose()
}

async fn insert_version(
    conn: &mut AnyConnection,
    id: PathwayId,
    version: i64,
    content: &ProtocolContent,
    author: AccountId,
    now: Millis,
) -> Result<()> {
    let steps = serde_json::to_string(&content.steps)
        .map_err(|e| Error::corrupt(format!("pathway steps: {e}")))?;
    sqlx::query(
        "insert into pathway_versions (pathway_id, version, name, description, steps, author_id, created_at) \
         values ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(id.as_text())
    .bind(version)
    .bind(content.name.clone())
    .bind(content.description.clone())
    .bind(steps)
    .bind(author.as_text())
    .bind(now.0)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

fn audit(actor: &Actor, action: Action, id: PathwayId, version: i64, now: Millis) -> AuditEvent {
    AuditEvent::new(
        now,
        Some(actor.account_id),
        action,
        Purpose::Administration,
        Outcome::Allowed,
    )
    .resource("pathway", id)
    .detail(format!("version={version}"))
}

fn protocol_from_row(row: &AnyRow) -> Result<Protocol> {
    let steps: String = row.try_get("steps")?;
    let steps: Vec<Step> =
        serde_json::from_str(&steps).map_err(|e| Error::corrupt(format!("pathway steps: {e}")))?;
    Ok(Protocol {
        id: PathwayId::parse(&row.try_get::<String, _>("id")?)
            .ok_or(Error::not_found(Noun::Pathway))?,
        name: row.try_get("name")?,
        description: row.try_get("description")?,
        steps,
        version: row.try_get("version")?,
        created_at: Millis(row.try_get("created_at")?),
        updated_at: Millis(row.try_get("updated_at")?),
        updated_by: AccountId::parse(&row.try_get::<String, _>("author_id")?)
            .ok_or(Error::not_found(Noun::Account))?,
    })
}
