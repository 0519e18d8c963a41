-- Data keys (DEKs): one per patient and per conversation that is not about a
-- patient, stored only wrapped by the master key. `wrapped` null = destroyed
-- (crypto-shredding): everything sealed under it is gone for good.
create table data_keys (
    owner text primary key,
    key_version integer not null,
    kek_version integer not null,
    wrapped blob,
    created_at bigint not null,
    destroyed_at bigint
);
create index data_keys_by_kek on data_keys (kek_version);

-- The master key version that new data keys must be wrapped with; `cordee keys
-- rotate` raises it so that running gateways reload their key file.
create table key_state (
    id integer primary key check (id = 1),
    current_kek_version integer not null
);

-- Who did what to which patient's data: ids and codes only, never health data.
-- Each row's hash = SHA-256(previous hash || canonical bytes of the row), computed in
-- Rust; `cordee audit verify` recomputes the chain.
create table audit_log (
    seq bigint primary key,
    id text not null unique,
    at bigint not null,
    actor_id text,
    action text not null,
    patient_id text,
    resource_type text,
    resource_id text,
    purpose text not null,
    outcome text not null,
    detail text,
    hash blob not null
);
create index audit_log_by_patient on audit_log (patient_id, seq);
create index audit_log_by_actor on audit_log (actor_id, seq);

-- HMAC of the chain head at a sequence number: deleting the tail of the log
-- leaves a checkpoint pointing past the end.
create table audit_checkpoints (
    seq bigint primary key,
    hash blob not null,
    mac blob not null,
    at bigint not null
);

-- Append-only: the application never updates or deletes audit rows; these
-- triggers make an accident fail loudly (a deliberate attacker who drops them is
-- what the hash chain is for).
create trigger audit_log_no_update before update on audit_log
begin select raise(abort, 'the audit log is append-only'); end;
create trigger audit_log_no_delete before delete on audit_log
begin select raise(abort, 'the audit log is append-only'); end;
create trigger audit_checkpoints_no_update before update on audit_checkpoints
begin select raise(abort, 'audit checkpoints are append-only'); end;
create trigger audit_checkpoints_no_delete before delete on audit_checkpoints
begin select raise(abort, 'audit checkpoints are append-only'); end;
