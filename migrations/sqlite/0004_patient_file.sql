-- The patient coordination file. Identity traits, entry titles and bodies,
-- attachment bytes and free-text reasons are sealed (AES-256-GCM under the
-- patient's data key or the attachment's own key); what stays in clear is what the
-- authorisation queries need: ids, categories, roles, times.

-- The profession codes of all of an account's exercices (comma-separated), kept
-- beside the provider's profile so that care-team roles can be checked in SQL.
alter table accounts add column profession_codes text not null default '';

create table patients (
    id text primary key,
    identity blob,
    identity_status text not null,
    -- Blind indexes (HMAC) for search without plaintext; null once erased.
    bi_name_date blob,
    bi_ins blob,
    possible_duplicate integer not null default 0,
    created_by text not null references accounts (id),
    created_at bigint not null,
    erased_at bigint
);
create index patients_by_name_date on patients (bi_name_date);
create index patients_by_ins on patients (bi_ins);

create table care_team_members (
    id text primary key,
    patient_id text not null references patients (id),
    account_id text not null references accounts (id),
    role text not null,
    reason blob,
    added_by text not null references accounts (id),
    start_at bigint not null,
    end_at bigint,
    removed_at bigint,
    removed_by text references accounts (id)
);
create index care_team_by_patient on care_team_members (patient_id, account_id);
create index care_team_by_account on care_team_members (account_id, patient_id);
-- At most one médecin traitant on the team at a time.
create unique index care_team_one_medecin_traitant on care_team_members (patient_id)
    where role = 'medecin_traitant' and removed_at is null;

-- The profession × category matrix (DESIGN.md), editable by a CPTS admin.
create table access_matrix (
    profession_group text not null,
    category text not null,
    access text not null check (access in ('none', 'read', 'write')),
    updated_at bigint not null,
    updated_by text,
    primary key (profession_group, category)
);

create table entries (
    id text primary key,
    patient_id text not null references patients (id),
    category text not null,
    kind text not null,
    author_id text not null references accounts (id),
    created_at bigint not null,
    updated_at bigint not null,
    version integer not null,
    status text not null default 'active',
    masked integer not null default 0
);
create index entries_by_patient on entries (patient_id, id);
create index entries_by_patient_category on entries (patient_id, category, id);

-- Every version of an entry (corrections never overwrite).
create table entry_versions (
    entry_id text not null references entries (id),
    version integer not null,
    title blob not null,
    body blob not null,
    attachments text not null,
    author_id text not null references accounts (id),
    created_at bigint not null,
    primary key (entry_id, version)
);

-- Search terms of the current version: HMAC(patient, normalised word), so that a
-- word search runs in SQL, inside the authorisation filter.
create table entry_terms (
    entry_id text not null references entries (id),
    term blob not null,
    primary key (term, entry_id)
);
create index entry_terms_by_entry on entry_terms (entry_id);

create table attachments (
    id text primary key,
    uploader_id text not null references accounts (id),
    content_type text not null,
    size bigint not null,
    chunks integer not null,
    patient_id text references patients (id),
    entry_id text references entries (id),
    message_id text,
    created_at bigint not null,
    -- Null while chunks are still arriving; only completed uploads are served.
    completed_at bigint
);
create index attachments_by_patient on attachments (patient_id);

create table attachment_chunks (
    attachment_id text not null references attachments (id),
    n integer not null,
    data blob not null,
    primary key (attachment_id, n)
);

create table break_glass_grants (
    id text primary key,
    patient_id text not null references patients (id),
    account_id text not null references accounts (id),
    reason blob not null,
    granted_at bigint not null,
    expires_at bigint not null
);
create index break_glass_by_patient on break_glass_grants (patient_id, account_id, expires_at);

create table patient_information (
    patient_id text primary key references patients (id),
    informed_at bigint not null,
    informed_by text not null references accounts (id),
    recorded_at bigint not null
);

create table objections (
    id text primary key,
    patient_id text not null references patients (id),
    kind text not null check (kind in ('professional', 'category')),
    account_id text references accounts (id),
    category text,
    created_at bigint not null,
    created_by text not null references accounts (id),
    withdrawn_at bigint
);
create index objections_by_patient on objections (patient_id);

-- Notifications carry ids and codes only, never health data.
create table notifications (
    id text primary key,
    account_id text not null references accounts (id),
    kind text not null,
    patient_id text,
    subject_id text,
    actor_id text,
    created_at bigint not null,
    read_at bigint
);
create index notifications_by_account on notifications (account_id, id);

-- The default matrix of DESIGN.md (W = write, R = read, - = none).
insert into access_matrix (profession_group, category, access, updated_at, updated_by) values
    ('medecin', 'synthese', 'write', 0, null),
    ('sage_femme', 'synthese', 'write', 0, null),
    ('dentiste', 'synthese', 'write', 0, null),
    ('pharmacien', 'synthese', 'write', 0, null),
    ('infirmier', 'synthese', 'write', 0, null),
    ('kinesitherapeute', 'synthese', 'write', 0, null),
    ('auxiliaire', 'synthese', 'write', 0, null),
    ('psychologue', 'synthese', 'write', 0, null),
    ('staff', 'synthese', 'write', 0, null),
    ('medecin', 'medical', 'write', 0, null),
    ('sage_femme', 'medical', 'write', 0, null),
    ('dentiste', 'medical', 'write', 0, null),
    ('pharmacien', 'medical', 'read', 0, null),
    ('infirmier', 'medical', 'read', 0, null),
    ('kinesitherapeute', 'medical', 'read', 0, null),
    ('auxiliaire', 'medical', 'none', 0, null),
    ('psychologue', 'medical', 'none', 0, null),
    ('staff', 'medical', 'none', 0, null),
    ('medecin', 'soins', 'write', 0, null),
    ('sage_femme', 'soins', 'write', 0, null),
    ('dentiste', 'soins', 'read', 0, null),
    ('pharmacien', 'soins', 'read', 0, null),
    ('infirmier', 'soins', 'write', 0, null),
    ('kinesitherapeute', 'soins', 'write', 0, null),
    ('auxiliaire', 'soins', 'write', 0, null),
    ('psychologue', 'soins', 'none', 0, null),
    ('staff', 'soins', 'none', 0, null),
    ('medecin', 'traitements', 'write', 0, null),
    ('sage_femme', 'traitements', 'write', 0, null),
    ('dentiste', 'traitements', 'write', 0, null),
    ('pharmacien', 'traitements', 'write', 0, null),
    ('infirmier', 'traitements', 'read', 0, null),
    ('kinesitherapeute', 'traitements', 'read', 0, null),
    ('auxiliaire', 'traitements', 'none', 0, null),
    ('psychologue', 'traitements', 'none', 0, null),
    ('staff', 'traitements', 'none', 0, null),
    ('medecin', 'resultats', 'write', 0, null),
    ('sage_femme', 'resultats', 'write', 0, null),
    ('dentiste', 'resultats', 'write', 0, null),
    ('pharmacien', 'resultats', 'read', 0, null),
    ('infirmier', 'resultats', 'read', 0, null),
    ('kinesitherapeute', 'resultats', 'read', 0, null),
    ('auxiliaire', 'resultats', 'none', 0, null),
    ('psychologue', 'resultats', 'none', 0, null),
    ('staff', 'resultats', 'none', 0, null),
    ('medecin', 'social', 'write', 0, null),
    ('sage_femme', 'social', 'write', 0, null),
    ('dentiste', 'social', 'read', 0, null),
    ('pharmacien', 'social', 'read', 0, null),
    ('infirmier', 'social', 'write', 0, null),
    ('kinesitherapeute', 'social', 'read', 0, null),
    ('auxiliaire', 'social', 'read', 0, null),
    ('psychologue', 'social', 'write', 0, null),
    ('staff', 'social', 'write', 0, null),
    ('medecin', 'administratif', 'write', 0, null),
    ('sage_femme', 'administratif', 'write', 0, null),
    ('dentiste', 'administratif', 'write', 0, null),
    ('pharmacien', 'administratif', 'write', 0, null),
    ('infirmier', 'administratif', 'write', 0, null),
    ('kinesitherapeute', 'administratif', 'write', 0, null),
    ('auxiliaire', 'administratif', 'write', 0, null),
    ('psychologue', 'administratif', 'write', 0, null),
    ('staff', 'administratif', 'write', 0, null),
    ('medecin', 'rcp', 'read', 0, null),
    ('sage_femme', 'rcp', 'read', 0, null),
    ('dentiste', 'rcp', 'read', 0, null),
    ('pharmacien', 'rcp', 'read', 0, null),
    ('infirmier', 'rcp', 'read', 0, null),
    ('kinesitherapeute', 'rcp', 'read', 0, null),
    ('auxiliaire', 'rcp', 'read', 0, null),
    ('psychologue', 'rcp', 'none', 0, null),
    ('staff', 'rcp', 'none', 0, null);
