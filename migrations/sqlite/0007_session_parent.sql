-- A bearer token is issued from a login (POST /v1/auth/tokens); ending that login
-- (logout, or revoking it from another device) ends the tokens issued from it.
alter table sessions add column parent_id text;
create index sessions_by_parent on sessions (parent_id);
