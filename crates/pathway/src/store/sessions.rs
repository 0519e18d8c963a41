//! Sessions and logins in progress.

use tracing::instrument;

use super::Store;
use crate::error::Noun;
use crate::ids::{AccountId, SessionId};
use crate::session::{LoginFlow, NewSession, Session, SessionKind, TokenHash};
use crate::{Error, Millis, Result};

type SessionRow = (
    String,
    String,
    String,
    String,
    Option<String>,
    i64,
    i64,
    Option<String>,
    i64,
    i64,
    i64,
    Option<i64>,
);

const SESSION_COLUMNS: &str = "id, account_id, kind, provider_id, id_token, exercice_index, activity_index, user_agent, created_at, last_seen_at, expires_at, revoked_at";

/// Why a session ended, as stored in `revoked_reason`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RevokeReason {
    Logout,
    /// The user ended it from their session list.
    Revoked,
    /// A new login in the same browser replaced it (session id rotation).
    Replaced,
}

impl RevokeReason {
    pub fn as_str(self) -> &'static str {
        match self {
            RevokeReason::Logout => "logout",
            RevokeReason::Revoked => "revoked",
            RevokeReason::Replaced => "replaced",
        }
    }
}

impl Store {
    /// The session a token opens and its account, remembered for a moment: every
    /// request asks this.
    pub async fn authenticate(
        &self,
        token_hash: &TokenHash,
        now: Millis,
    ) -> Result<Option<(Session, super::Account)>> {
        if let Some(found) = self.sessions_memo.get(token_hash, now) {
            return Ok(Some(found));
        }
        let generation = self.sessions_memo.generation();
        let Some(session) = self.session_by_token(token_hash).await? else {
            return Ok(None);
        };
        let account = self.account(session.account_id).await?;
        self.sessions_memo.put(
            token_hash.clone(),
            (session.clone(), account.clone()),
            generation,
            now,
        );
        Ok(Some((session, account)))
    }

    /// Opens a session. At login, `replaces` is the token hash the browser still
    /// carried: that session — and every token descended from it — ends in the same
    /// transaction, so a login always issues a new session id and never keeps one that
    /// was set before authentication. Returns the new session and the ids of the ones
    /// it ended (their streams must close).
    #[instrument(skip_all, fields(account = %new.account_id, kind = new.kind.as_str()))]
    pub async fn open_session(
        &self,
        new: &NewSession,
        token_hash: &TokenHash,
        replaces: Option<&TokenHash>,
        now: Millis,
    ) -> Result<(Session, Vec<SessionId>)> {
        // After this write no remembered session may be served (see memo.rs).
        let _forget = super::memo::ForgetOnDrop(&self.sessions_memo);
        let id = SessionId::new();
        let mut tx = self.db().begin().await?;
        let mut ended = Vec::new();
        if let Some(old) = replaces {
            let replaced: Option<String> = sqlx::query_scalar(
                "select id from sessions where token_hash = $1 and revoked_at is null",
            )
            .bind(old.as_str())
            .fetch_optional(&mut *tx)
            .await?;
            if let Some(replaced) = replaced {
                ended =
                    end_with_descendants(&mut tx, &replaced, RevokeReason::Replaced, now).await?;
            }
        }
        sqlx::query(
            "insert into sessions (id, account_id, token_hash, kind, provider_id, id_token,
               exercice_index, activity_index, user_agent, created_at, last_seen_at, expires_at, parent_id)
             values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $10, $11, $12)",
        )
        .bind(id.as_text())
        .bind(new.account_id.as_text())
        .bind(token_hash.as_str())
        .bind(new.kind.as_str())
        .bind(&new.provider_id)
        .bind(new.id_token.as_deref())
        .bind(to_i64(new.exercice_index))
        .bind(to_i64(new.activity_index))
        .bind(new.user_agent.as_deref())
        .bind(now.0)
        .bind(new.expires_at.0)
        .bind(new.parent.map(|p| p.as_text()))
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok((
            Session {
                id,
                account_id: new.account_id,
                kind: new.kind,
                provider_id: new.provider_id.clone(),
                id_token: new.id_token.clone(),
                exercice_index: new.exercice_index,
                activity_index: new.activity_index,
                user_agent: new.user_agent.clone(),
                created_at: now,
                last_seen_at: now,
                expires_at: new.expires_at,
                revoked_at: None,
            },
            ended,
        ))
    }

    /// The session a token opens, whatever its state (the caller decides liveness).
    #[instrument(skip_all)]
    pub async fn session_by_token(&self, token_hash: &TokenHash) -> Result<Option<Session>> {
        let row: Option<SessionRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "select {SESSION_COLUMNS} from sessions where token_hash = $1"
        )))
        .bind(token_hash.as_str())
        .fetch_optional(self.db().reader())
        .await?;
        row.map(session_from_row).transpose()
    }

    #[instrument(skip_all, fields(session = %id))]
    pub async fn session(&self, id: SessionId) -> Result<Session> {
        let row: Option<SessionRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "select {SESSION_COLUMNS} from sessions where id = $1"
        )))
        .bind(id.as_text())
        .fetch_optional(self.db().reader())
        .await?;
        row.map(session_from_row)
            .transpose()?
            .ok_or_else(|| Error::not_found(Noun::Session))
    }

    /// Records use of a session (callers do it at most once a minute).
    #[instrument(skip_all, fields(session = %id))]
    pub async fn touch_session(&self, id: SessionId, now: Millis) -> Result<()> {
        // After this write no remembered session may be served (see memo.rs).
        let _forget = super::memo::ForgetOnDrop(&self.sessions_memo);
        sqlx::query("update sessions set last_seen_at = $1 where id = $2 and last_seen_at < $1")
            .bind(now.0)
            .bind(id.as_text())
            .execute(self.db().writer())
            .await?;
        Ok(())
    }

    /// The account's sessions that have neither ended nor been revoked, newest first.
    /// Idle expiry is the caller's rule; this only drops what is certainly over.
    #[instrument(skip_all, fields(account = %account))]
    pub async fn open_sessions(&self, account: AccountId, now: Millis) -> Result<Vec<Session>> {
        let rows: Vec<SessionRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "select {SESSION_COLUMNS} from sessions
             where account_id = $1 and revoked_at is null and expires_at > $2
             order by created_at desc, id desc"
        )))
        .bind(account.as_text())
        .bind(now.0)
        .fetch_all(self.db().reader())
        .await?;
        rows.into_iter().map(session_from_row).collect()
    }

    /// Ends one of the account's sessions, and every token descended from it (a token
    /// minted from a token, at any depth); returns the ids of those descendants (their
    /// streams must close). Someone
    /// else's session, or one already ended, is `NotFound`: ids of sessions are not an
    /// oracle.
    #[instrument(skip_all, fields(account = %account, session = %id, reason = reason.as_str()))]
    pub async fn revoke_session(
        &self,
        account: AccountId,
        id: SessionId,
        reason: RevokeReason,
        now: Millis,
    ) -> Result<Vec<SessionId>> {
        // After this write no remembered session may be served (see memo.rs).
        let _forget = super::memo::ForgetOnDrop(&self.sessions_memo);
        let mut tx = self.db().begin().await?;
        let owned: i64 = sqlx::query_scalar(
            "select count(*) from sessions where id = $1 and account_id = $2 and revoked_at is null",
        )
        .bind(id.as_text())
        .bind(account.as_text())
        .fetch_one(&mut *tx)
        .await?;
        if owned == 0 {
            return Err(Error::not_found(Noun::Session));
        }
        let ended = end_with_descendants(&mut tx, &id.as_text(), reason, now).await?;
        tx.commit().await?;
        Ok(ended.into_iter().filter(|s| *s != id).collect())
    }

    /// Remembers the exercice (and activity) chosen for this session. The caller has
    /// checked the choice against the account's profile.
    #[instrument(skip_all, fields(session = %id))]
    pub async fn choose_exercice(
        &self,
        id: SessionId,
        exercice: usize,
        activity: usize,
    ) -> Result<()> {
        // After this write no remembered session may be served (see memo.rs).
        let _forget = super::memo::ForgetOnDrop(&self.sessions_memo);
        let done = sqlx::query(
            "update sessions set exercice_index = $1, activity_index = $2
             where id = $3 and revoked_at is null",
        )
        .bind(to_i64(exercice))
        .bind(to_i64(activity))
        .bind(id.as_text())
        .execute(self.db().writer())
        .await?;
        if done.rows_affected() == 0 {
            return Err(Error::not_found(Noun::Session));
        }
        Ok(())
    }

    /// Deletes sessions that ended before `before` (their rows are kept a while so
    /// that users see recent revocations).
    #[instrument(skip_all)]
    pub async fn purge_sessions(&self, before: Millis) -> Result<u64> {
        // After this write no remembered session may be served (see memo.rs).
        let _forget = super::memo::ForgetOnDrop(&self.sessions_memo);
        let done = sqlx::query(
            "delete from sessions where expires_at < $1 or (revoked_at is not null and revoked_at < $1)",
        )
        .bind(before.0)
        .execute(self.db().writer())
        .await?;
        Ok(done.rows_affected())
    }

    #[instrument(skip_all, fields(provider = %flow.provider_id))]
    pub async fn save_login_flow(&self, flow: &LoginFlow) -> Result<()> {
        sqlx::query(
            "insert into login_flows (state_hash, binding_hash, provider_id, nonce, pkce_verifier,
               redirect_to, created_at, expires_at)
             values ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(flow.state_hash.as_str())
        .bind(flow.binding_hash.as_str())
        .bind(&flow.provider_id)
        .bind(&flow.nonce)
        .bind(&flow.pkce_verifier)
        .bind(&flow.redirect_to)
        .bind(flow.created_at.0)
        .bind(flow.expires_at.0)
        .execute(self.db().writer())
        .await?;
        Ok(())
    }

    /// Takes the login flow for this state, once: the row is deleted by the same
    /// statement that reads it, so two callbacks racing with one state cannot both
    /// succeed. `None` when the state is unknown, already used, bound to another
    /// browser, or expired.
    #[instrument(skip_all)]
    pub async fn take_login_flow(
        &self,
        state_hash: &TokenHash,
        binding_hash: &TokenHash,
        now: Millis,
    ) -> Result<Option<LoginFlow>> {
        let row: Option<(String, String, String, String, i64, i64)> = sqlx::query_as(
            "delete from login_flows where state_hash = $1 and binding_hash = $2
             returning provider_id, nonce, pkce_verifier, redirect_to, created_at, expires_at",
        )
        .bind(state_hash.as_str())
        .bind(binding_hash.as_str())
        .fetch_optional(self.db().writer())
        .await?;
        Ok(row.and_then(
            |(provider_id, nonce, pkce_verifier, redirect_to, created, expires)| {
                (now.0 < expires).then(|| LoginFlow {
                    state_hash: state_hash.clone(),
                    binding_hash: binding_hash.clone(),
                    provider_id,
                    nonce,
                    pkce_verifier,
                    redirect_to,
                    created_at: Millis(created),
                    expires_at: Millis(expires),
                })
            },
        ))
    }

    /// Forgets logins that were started and never finished.
    #[instrument(skip_all)]
    pub async fn purge_login_flows(&self, now: Millis) -> Result<u64> {
        let done = sqlx::query("delete from login_flows where expires_at <= $1")
            .bind(now.0)
            .execute(self.db().writer())
            .await?;
        Ok(done.rows_affected())
    }
}

fn to_i64(n: usize) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

fn session_from_row(row: SessionRow) -> Result<Session> {
    let (
        id,
        account,
        kind,
        provider_id,
        id_token,
        exercice,
        activity,
        ua,
        created,
        seen,
        expires,
        revoked,
    ) = row;
    let corrupt = |what: &str| {
        Error::corrupt(format!(
            "sessions.{what} holds a value Cordée did not write"
        ))
    };
    Ok(Session {
        id: SessionId::parse(&id).ok_or_else(|| corrupt("id"))?,
        account_id: AccountId::parse(&account).ok_or_else(|| corrupt("account_id"))?,
        kind: SessionKind::parse(&kind).ok_or_else(|| corrupt("kind"))?,
        provider_id,
        id_token,
        exercice_index: usize::try_from(exercice).map_err(|_| corrupt("exercice_index"))?,
        activity_index: usize::try_from(activity).map_err(|_| corrupt("activity_index"))?,
        user_agent: ua,
        created_at: Millis(created),
        last_seen_at: Millis(seen),
        expires_at: Millis(expires),
        revoked_at: revoked.map(Millis),
    })
}

/// Ends `root` and every session descended from it through `parent_id`, at any depth,
/// in one statement; returns the ids it ended.
async fn end_with_descendants(
    conn: &mut sqlx::AnyConnection,
    root: &str,
    reason: RevokeReason,
    now: Millis,
) -> Result<Vec<SessionId>> {
    let ended: Vec<String> = sqlx::query_scalar(
        "with recursive tree(id) as (select cast($1 as text) union select s.id from sessions s join tree t on s.parent_id = t.id) \
         update sessions set revoked_at = $2, revoked_reason = $3 \
         where id in (select id from tree) and revoked_at is null returning id",
    )
    .bind(root)
    .bind(now.0)
    .bind(reason.as_str())
    .fetch_all(&mut *conn)
    .await?;
    Ok(ended.iter().filter_map(|s| SessionId::parse(s)).collect())
}
