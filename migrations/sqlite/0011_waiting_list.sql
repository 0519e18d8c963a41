-- The waiting list of patients without a médecin traitant (issue 14): requests,
-- GP capacity declarations, the places used each month, proposals to GPs.
-- Identity traits (when no patient record exists yet), contact and notes are sealed
-- under the request's own data key ("waiting_request:<id>"); the fragility flags,
-- commune and dates stay in clear: the coordinator's list sorts and filters on them
-- and the indicators count them.

create table waiting_requests (
    id text primary key,
    patient_id text references patients (id),
    identity blob,
    contact blob,
    notes blob,
    -- Blind indexes of the person (those of patients): one open request per person.
    bi_name_date blob,
    bi_ins blob,
    commune_code text not null,
    source text not null,
    ald integer not null,
    age_70_plus integer not null,
    precarity text,
    complex_situation integer not null,
    lost_gp integer not null,
    needs_home_visits integer not null,
    -- The flags' share of the priority (the waiting time's is added when reading).
    fragility_points bigint not null,
    status text not null,
    requested_by text not null references accounts (id),
    requested_at bigint not null,
    requested_on text not null,
    placed_at bigint,
    placed_on text,
    placed_with text references accounts (id),
    withdrawn_at bigint,
    updated_at bigint not null
);
create index waiting_requests_by_priority on waiting_requests (status, fragility_points, requested_at);
create index waiting_requests_by_requester on waiting_requests (requested_by);
create index waiting_requests_by_patient on waiting_requests (patient_id);
create unique index waiting_requests_open_name_date on waiting_requests (bi_name_date)
    where status in ('waiting', 'proposed');
create unique index waiting_requests_open_ins on waiting_requests (bi_ins)
    where status in ('waiting', 'proposed');

create table gp_capacity (
    account_id text primary key references accounts (id),
    accepting integer not null,
    new_patients_per_month bigint not null,
    -- Comma-separated INSEE codes (checked in Rust); empty: the whole territory.
    communes text not null,
    accepts_ald integer not null,
    home_visits integer not null,
    until text,
    updated_at bigint not null
);

-- Places used per GP and month: one conditional update takes a place, so that
-- concurrent acceptances never use more than declared.
create table gp_capacity_usage (
    account_id text not null references accounts (id),
    month text not null,
    used bigint not null,
    primary key (account_id, month)
);

create table waiting_proposals (
    id text primary key,
    request_id text not null references waiting_requests (id),
    gp_id text not null references accounts (id),
    status text not null,
    proposed_by text not null references accounts (id),
    created_at bigint not null,
    answered_at bigint,
    -- The GP's reason for declining (sealed under the request's key).
    reason blob
);
create index waiting_proposals_by_request on waiting_proposals (request_id);
create index waiting_proposals_by_gp on waiting_proposals (gp_id, status);
create index waiting_proposals_by_status on waiting_proposals (status, created_at);
