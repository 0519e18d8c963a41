-- Case conferences (issue 13): what 0008 left to the module. Conference-level text
-- (title, place, the record's conference part) is sealed under the conference's own
-- data key (owner 'case_conference:<id>'); each case's text, actions and record part
-- under its patient's key, so that erasing a patient erases their cases.

alter table case_conferences add column title bytea;
alter table case_conferences add column place bytea;
alter table case_conferences add column chair_id text references accounts (id);
alter table case_conferences add column min_participants integer not null default 3;
alter table case_conferences add column min_professions integer not null default 3;
-- Every change bumps the version first (row lock on PostgreSQL): no lost update.
alter table case_conferences add column version bigint not null default 1;
alter table case_conferences add column updated_at bigint;
alter table case_conferences add column validated_by text references accounts (id);
alter table case_conferences add column record bytea;
alter table case_conferences add column record_hash text;
create index case_conferences_by_chair on case_conferences (chair_id, scheduled_at);

-- A snapshot of who the participant was when invited (name, profession, specialty):
-- what the quorum and the record read.
alter table case_conference_participants add column display_name text;
alter table case_conference_participants add column profession_code text;
alter table case_conference_participants add column specialty_code text;
alter table case_conference_participants add column attended integer;
alter table case_conference_participants add column attendance_at bigint;

alter table case_conference_cases add column question bytea;
alter table case_conference_cases add column summary bytea;
alter table case_conference_cases add column proposal bytea;
alter table case_conference_cases add column decision bytea;
alter table case_conference_cases add column follow_up_id text references accounts (id);
alter table case_conference_cases add column entry_id text references entries (id);
alter table case_conference_cases add column record bytea;
alter table case_conference_cases add column updated_at bigint;

-- The actions decided for a case (title sealed under the patient's key); at
-- validation they are handed to the care plans (store/case_conference_tasks.rs).
create table case_conference_actions (
    case_id text not null references case_conference_cases (id),
    position integer not null,
    conference_id text not null references case_conferences (id),
    patient_id text not null references patients (id),
    title bytea not null,
    category text not null,
    assignee_id text not null references accounts (id),
    due_on text not null,
    handed_over_at bigint,
    primary key (case_id, position)
);
create index case_conference_actions_by_assignee on case_conference_actions (assignee_id, due_on);
