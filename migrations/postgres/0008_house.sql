-- The house ready for the CPTS modules: stream events that belong to an account
-- (notifications now; tasks and proposals next), the first tables of case
-- conferences (their participants read the cases they discuss: a basis of access),
-- a lease per background job, and a few columns the jobs and lists need.

-- Stream events belong to a conversation or to one account.
alter table stream_events alter column conversation_id drop not null;
alter table stream_events add column account_id text;
alter table stream_events add column subject_id text;
-- An account event's data: ids and codes only, never health data.
alter table stream_events add column payload text;
alter table stream_events add constraint stream_events_one_topic
    check ((conversation_id is null) <> (account_id is null));
create index stream_events_by_account on stream_events (account_id, cursor);

-- Conversations sort by their last activity, not by their message count.
alter table conversations add column last_message_at bigint;
update conversations set last_message_at =
    coalesce((select max(m.created_at) from messages m where m.conversation_id = conversations.id), created_at);
create index conversations_by_activity on conversations (last_message_at, id);

-- Case conferences (RCP / concertation). Only what the access rule reads is here;
-- the case-conference module adds the rest.
create table case_conferences (
    id text primary key,
    kind text not null check (kind in ('rcp', 'concertation')),
    scheduled_at bigint not null,
    duration_minutes integer not null,
    status text not null check (status in ('planned', 'validated', 'cancelled')),
    validated_at bigint,
    created_by text not null references accounts (id),
    created_at bigint not null
);
create index case_conferences_by_time on case_conferences (scheduled_at, id);

create table case_conference_participants (
    conference_id text not null references case_conferences (id),
    account_id text not null references accounts (id),
    added_at bigint not null,
    removed_at bigint,
    primary key (conference_id, account_id)
);
create index case_conference_participants_by_account on case_conference_participants (account_id, conference_id);

create table case_conference_cases (
    id text primary key,
    conference_id text not null references case_conferences (id),
    patient_id text not null references patients (id),
    presenter_id text not null references accounts (id),
    created_at bigint not null
);
create index case_conference_cases_by_patient on case_conference_cases (patient_id, conference_id);
create index case_conference_cases_by_conference on case_conference_cases (conference_id, id);

-- One row per background job: the instance whose conditional update moves
-- next_run_at runs it, so that several gateways on one database run each job once.
create table job_runs (
    name text primary key,
    next_run_at bigint not null,
    lease_until bigint not null,
    holder text,
    last_started_at bigint,
    last_finished_at bigint,
    last_outcome text
);

-- The grantee is told once when an emergency access ends.
alter table break_glass_grants add column ended_notified_at bigint;
create index break_glass_by_expiry on break_glass_grants (expires_at);

-- Masking and unmasking are explicit and attributed: who masked an entry, when.
alter table entries add column masked_by text;
alter table entries add column masked_at bigint;
