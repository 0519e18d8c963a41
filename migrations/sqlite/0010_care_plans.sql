-- Pathways, care plans (PPS) and tasks (issue 12). Pathways are protocols, not
-- health data: in clear. A plan's words, its reviews and its tasks' words are health
-- data: sealed under the patient's data key (they go with it on erasure). What the
-- rules and lists need — status, dates, category, assignee, versions — is in clear.

create table pathways (
    id text primary key,
    version bigint not null,
    created_by text not null references accounts (id),
    created_at bigint not null,
    updated_at bigint not null
);

create table pathway_versions (
    pathway_id text not null references pathways (id),
    version bigint not null,
    name text not null,
    description text not null,
    -- JSON array of steps: title, category, profession_code, offset_days.
    steps text not null,
    author_id text not null references accounts (id),
    created_at bigint not null,
    primary key (pathway_id, version)
);

create table care_plans (
    id text primary key,
    patient_id text not null references patients (id),
    pathway_id text references pathways (id),
    pathway_version bigint,
    coordinator_id text not null references accounts (id),
    status text not null check (status in ('active', 'suspended', 'closed')),
    -- YYYY-MM-DD, a day in Paris.
    review_on text not null,
    -- The review date the referent was told had passed (told once per date).
    review_due_told text,
    version bigint not null,
    created_by text not null references accounts (id),
    created_at bigint not null,
    updated_at bigint not null
);
create index care_plans_by_patient on care_plans (patient_id, id);
create index care_plans_by_review on care_plans (status, review_on);
-- At most one active plan per pathway for a patient.
create unique index care_plans_one_active_per_pathway on care_plans (patient_id, pathway_id)
    where status = 'active' and pathway_id is not null;

-- Every version of a plan (the current one included): content sealed as JSON.
create table care_plan_versions (
    plan_id text not null references care_plans (id),
    version bigint not null,
    coordinator_id text not null,
    status text not null,
    review_on text not null,
    content blob not null,
    author_id text not null references accounts (id),
    created_at bigint not null,
    primary key (plan_id, version)
);

create table care_plan_reviews (
    id text primary key,
    plan_id text not null references care_plans (id),
    patient_id text not null references patients (id),
    content blob not null,
    next_review_on text not null,
    author_id text not null references accounts (id),
    created_at bigint not null
);
create index care_plan_reviews_by_plan on care_plan_reviews (plan_id, id);

create table care_plan_tasks (
    id text primary key,
    plan_id text not null references care_plans (id),
    patient_id text not null references patients (id),
    category text not null,
    assignee_id text references accounts (id),
    due_on text not null,
    status text not null check (status in ('proposed', 'accepted', 'declined', 'in_progress', 'done', 'cancelled')),
    source text not null check (source in ('plan', 'pathway', 'case_conference')),
    -- JSON title and detail, sealed.
    content blob not null,
    -- The last note (a decline's reason, a completion note), sealed.
    note blob,
    version bigint not null,
    created_by text not null references accounts (id),
    created_at bigint not null,
    updated_at bigint not null
);
create index care_plan_tasks_by_plan on care_plan_tasks (plan_id, id);
-- The to-do list: an assignee's open tasks by due date.
create index care_plan_tasks_todo on care_plan_tasks (assignee_id, status, due_on, id);
create index care_plan_tasks_by_patient on care_plan_tasks (patient_id, assignee_id);
