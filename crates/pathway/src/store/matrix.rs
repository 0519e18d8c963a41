//! The profession × category matrix as data: read by every file query, changed by
//! a CPTS admin, each change audited.

use sqlx::Row;

use super::Store;
use crate::account::{Actor, CptsRole, ProfessionGroup};
use crate::audit::{Action, AuditEvent, Outcome, Purpose};
use crate::policy::{Access, Category};
use crate::{Error, Millis, Result};

impl Store {
    pub async fn access_matrix(&self) -> Result<Vec<(ProfessionGroup, Category, Access)>> {
        let rows = sqlx::query("select profession_group, category, access from access_matrix order by profession_group, category")
            .fetch_all(self.db.reader())
            .await?;
        let mut out = Vec::with_capacity(rows.len());
        for r in &rows {
            let g = ProfessionGroup::parse(&r.try_get::<String, _>("profession_group")?);
            let c = Category::parse(&r.try_get::<String, _>("category")?);
            let a = Access::parse(&r.try_get::<String, _>("access")?);
            if let (Some(g), Some(c), Some(a)) = (g, c, a) {
                out.push((g, c, a));
            }
        }
        Ok(out)
    }

    pub async fn set_access(
        &self,
        actor: &Actor,
        group: ProfessionGroup,
        category: Category,
        access: Access,
        now: Millis,
    ) -> Result<()> {
        if !actor.has_role(CptsRole::Admin) {
            return Err(Error::forbidden(
                "matrix.admin_only",
                "only a CPTS admin changes the access matrix",
            ));
        }
        if category == Category::Rcp && access == Access::Write {
            return Err(Error::invalid(
                "matrix.rcp_read_only",
                "rcp entries are written by the case-conference workflow only",
            ));
        }
        if group == ProfessionGroup::Staff && category.clinical() && access != Access::None {
            return Err(Error::invalid(
                "matrix.staff_clinical",
                format!(
                    "non-health staff never get health professionals' rights: {category} stays closed to them"
                ),
            ));
        }
        let mut tx = self.begin().await?;
        let before: Option<String> = sqlx::query_scalar(
            "select access from access_matrix where profession_group = $1 and category = $2",
        )
        .bind(group.as_str())
        .bind(category.as_str())
        .fetch_optional(&mut *tx)
        .await?;
        sqlx::query(
            "insert into access_matrix (profession_group, category, access, updated_at, updated_by) values ($1, $2, $3, $4, $5) \
             on conflict (profession_group, category) do update set access = excluded.access, updated_at = excluded.updated_at, updated_by = excluded.updated_by",
        )
        .bind(group.as_str())
        .bind(category.as_str())
        .bind(access.as_str())
        .bind(now.0)
        .bind(actor.account_id.as_text())
        .execute(&mut *tx)
        .await?;
        self.audit_in(
            &mut tx,
            &[AuditEvent::new(
                now,
                Some(actor.account_id),
                Action::MatrixUpdate,
                Purpose::Administration,
                Outcome::Allowed,
            )
            .resource(
                "access_matrix",
                format!("{}/{}", group.as_str(), category.as_str()),
            )
            .detail(format!(
                "from={} to={}",
                before.as_deref().unwrap_or("none"),
                access.as_str()
            ))],
        )
        .await?;
        tx.after_commit(super::Change::MatrixChanged);
        tx.commit(self).await
    }
}
