//! Accounts: created or refreshed at each login from what the identity provider says.
//! Health professionals are keyed by their national id (never by `sub`, which PSC may
//! change); staff by (provider, subject).

use tracing::instrument;

use super::Store;
use crate::account::{AccountKind, CptsRole};
use crate::error::Noun;
use crate::ids::AccountId;
use crate::profile::{NationalId, Profile};
use crate::{Error, Millis, Result};

/// Who the provider says logged in, already mapped from its claims.
#[derive(Clone, Debug)]
pub struct Identity {
    pub kind: AccountKind,
    /// Required for health professionals, absent for staff.
    pub national_id: Option<NationalId>,
    pub provider_id: String,
    pub subject: String,
    pub display_name: String,
    pub profile: Profile,
    /// Staff roles from the provider's role claim. Ignored for health professionals,
    /// whose CPTS roles are managed in Cordée and survive their next login.
    pub roles: Vec<CptsRole>,
}

#[derive(Clone, Debug)]
pub struct Account {
    pub id: AccountId,
    pub kind: AccountKind,
    pub national_id: Option<NationalId>,
    pub provider_id: String,
    pub display_name: String,
    pub profile: Profile,
    pub roles: Vec<CptsRole>,
    pub created_at: Millis,
    pub updated_at: Millis,
}

type AccountRow = (
    String,
    String,
    Option<String>,
    String,
    String,
    String,
    String,
    i64,
    i64,
);

const ACCOUNT_COLUMNS: &str =
    "id, kind, national_id, provider_id, display_name, profile, cpts_roles, created_at, updated_at";

impl Store {
    /// Creates the account at first login, refreshes name and profile afterwards.
    #[instrument(skip_all, fields(provider = %identity.provider_id, kind = identity.kind.as_str()))]
    pub async fn upsert_account(&self, identity: &Identity, now: Millis) -> Result<Account> {
        // A login may change what the remembered sessions say about this account.
        let _forget = super::memo::ForgetOnDrop(&self.sessions_memo);
        let profile = serde_json::to_string(&identity.profile)
            .map_err(|e| Error::invalid("account.profile", e))?;
        let id = AccountId::new().as_text();
        let row: (String,) = match (identity.kind, &identity.national_id) {
            (AccountKind::HealthProfessional, Some(national_id)) => {
                sqlx::query_as(
                    "insert into accounts (id, kind, national_id, provider_id, subject, display_name, profile, cpts_roles, created_at, updated_at, profession_codes)
                     values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9, $10)
                     on conflict (national_id) do update set
                       provider_id = excluded.provider_id, subject = excluded.subject,
                       display_name = excluded.display_name, profile = excluded.profile,
                       profession_codes = excluded.profession_codes,
                       updated_at = excluded.updated_at
                     returning id",
                )
                .bind(&id)
                .bind(identity.kind.as_str())
                .bind(national_id.as_str())
                .bind(&identity.provider_id)
                .bind(&identity.subject)
                .bind(&identity.display_name)
                .bind(&profile)
                .bind(roles_json(&[CptsRole::Member]))
                .bind(now.0)
                .bind(profession_codes(&identity.profile))
                .fetch_one(self.db().writer())
                .await?
            }
            (AccountKind::HealthProfessional, None) => {
                return Err(Error::invalid(
                    "account.national_id_missing",
                    "a health professional account needs a national id",
                ));
            }
            (AccountKind::Staff, _) => {
                sqlx::query_as(
                    "insert into accounts (id, kind, national_id, provider_id, subject, display_name, profile, cpts_roles, created_at, updated_at, profession_codes)
                     values ($1, $2, null, $3, $4, $5, $6, $7, $8, $8, '')
                     on conflict (provider_id, subject) do update set
                       display_name = excluded.display_name, profile = excluded.profile,
                       cpts_roles = excluded.cpts_roles, updated_at = excluded.updated_at
                     returning id",
                )
                .bind(&id)
                .bind(identity.kind.as_str())
                .bind(&identity.provider_id)
                .bind(&identity.subject)
                .bind(&identity.display_name)
                .bind("{\"exercices\":[]}")
                .bind(roles_json(&identity.roles))
                .bind(now.0)
                .fetch_one(self.db().writer())
                .await?
            }
        };
        let id = AccountId::parse(&row.0).ok_or_else(|| Error::not_found(Noun::Account))?;
        let account = self.account(id).await?;
        // The directory entry of this national id, the organisations of the PSC
        // activities, invitations waiting (store/directory.rs).
        self.bind_directory(&account, now).await?;
        Ok(account)
    }

    #[instrument(skip_all, fields(account = %id))]
    pub async fn account(&self, id: AccountId) -> Result<Account> {
        let row: Option<AccountRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "select {ACCOUNT_COLUMNS} from accounts where id = $1"
        )))
        .bind(id.as_text())
        .fetch_optional(self.db().reader())
        .await?;
        row.map(account_from_row)
            .transpose()?
            .ok_or_else(|| Error::not_found(Noun::Account))
    }

    #[instrument(skip_all)]
    pub async fn account_by_national_id(&self, national_id: &NationalId) -> Result<Account> {
        let row: Option<AccountRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "select {ACCOUNT_COLUMNS} from accounts where national_id = $1"
        )))
        .bind(national_id.as_str())
        .fetch_optional(self.db().reader())
        .await?;
        row.map(account_from_row)
            .transpose()?
            .ok_or_else(|| Error::not_found(Noun::Account))
    }
}

/// Every exercice's profession code, comma-separated: what the care-team and
/// messaging queries check in SQL (`accounts.profession_codes`, migration 0004).
fn profession_codes(profile: &Profile) -> String {
    let codes: Vec<&str> = profile
        .exercices
        .iter()
        .filter_map(|e| e.profession.as_ref().map(|p| p.as_str()))
        .collect();
    codes.join(",")
}

fn roles_json(roles: &[CptsRole]) -> String {
    let names: Vec<&str> = roles.iter().map(|r| r.as_str()).collect();
    serde_json::to_string(&names).unwrap_or_else(|_| "[]".into())
}

fn account_from_row(row: AccountRow) -> Result<Account> {
    let (id, kind, national_id, provider_id, display_name, profile, roles, created, updated) = row;
    let corrupt = |what: &str| {
        Error::corrupt(format!(
            "accounts.{what} holds a value Cordée did not write"
        ))
    };
    let roles: Vec<String> = serde_json::from_str(&roles).map_err(|_| corrupt("cpts_roles"))?;
    Ok(Account {
        id: AccountId::parse(&id).ok_or_else(|| corrupt("id"))?,
        kind: AccountKind::parse(&kind).ok_or_else(|| corrupt("kind"))?,
        national_id: national_id.as_deref().and_then(NationalId::parse),
        provider_id,
        display_name,
        profile: serde_json::from_str(&profile).map_err(|_| corrupt("profile"))?,
        roles: roles.iter().filter_map(|r| CptsRole::parse(r)).collect(),
        created_at: Millis(created),
        updated_at: Millis(updated),
    })
}
