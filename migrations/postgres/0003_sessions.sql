-- Server-side sessions. The opaque 256-bit token a client holds is stored only as its
-- SHA-256 (hex), so that a copy of this table does not let anyone act as a user.
-- `kind` is 'browser' (cookie + CSRF double-submit) or 'bearer' (POST /v1/auth/tokens).
-- Idle expiry is computed from last_seen_at with the configured idle timeout; the
-- absolute end is expires_at. A revoked session keeps its row until purged, so that a
-- user's session list and the audit trail can say when and why it ended.
create table sessions (
    id text primary key,
    account_id text not null references accounts (id),
    token_hash text not null unique,
    kind text not null check (kind in ('browser', 'bearer')),
    provider_id text not null,
    -- The provider's ID token, kept only to send as id_token_hint at logout.
    id_token text,
    -- The exercice (and activity within it) the professional chose for this session.
    exercice_index bigint not null,
    activity_index bigint not null,
    user_agent text,
    created_at bigint not null,
    last_seen_at bigint not null,
    expires_at bigint not null,
    revoked_at bigint,
    revoked_reason text
);
create index sessions_by_account on sessions (account_id, created_at);

-- Logins in progress (authorization code flow). Kept server-side rather than in the
-- browser: the state is only the key. Taken (deleted) exactly once by the callback,
-- so a replayed callback finds nothing. The state and the browser binding are stored
-- hashed; nonce and PKCE verifier must be kept in clear to be checked and sent.
create table login_flows (
    state_hash text primary key,
    binding_hash text not null,
    provider_id text not null,
    nonce text not null,
    pkce_verifier text not null,
    redirect_to text not null,
    created_at bigint not null,
    expires_at bigint not null
);
create index login_flows_by_expiry on login_flows (expires_at);
