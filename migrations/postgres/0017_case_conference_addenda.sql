-- Case conferences (issue 13): a validated record is never edited; a correction is
-- an addendum, a record of its own. Addenda form one chain per conference: each
-- one's hash covers the previous hash (the record's first), so the record and its
-- addenda can be checked end to end. The text is sealed under the patient's key
-- when the addendum concerns a case (erasing the patient erases it), under the
-- conference's key otherwise.

create table case_conference_addenda (
    id text primary key,
    conference_id text not null references case_conferences (id),
    -- 1, 2, … in chain order; unique, so two addenda can never share a link.
    position integer not null,
    case_id text references case_conference_cases (id),
    patient_id text references patients (id),
    author_id text not null references accounts (id),
    author_name text not null,
    created_at bigint not null,
    text bytea not null,
    -- The rcp entry the correction became in the patient's file (case addenda).
    entry_id text references entries (id),
    previous_hash text not null,
    hash text not null,
    unique (conference_id, position)
);
create index case_conference_addenda_by_patient on case_conference_addenda (patient_id, conference_id);

-- The chain's head: adding an addendum bumps the count first (the row's lock on
-- PostgreSQL, the one writer on SQLite), so concurrent addenda queue and the chain
-- stays linear.
alter table case_conferences add column addenda_count integer not null default 0;
alter table case_conferences add column chain_head text;
