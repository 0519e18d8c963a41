-- The territory's directory (issue 11): the structures of the territory, the
-- professionals of the RPPS extraction and of logins, the CPTS's profile and
-- adhesions, invitations. Public professional identity, not health data: in clear.
-- The search keys are `collate "C"`: prefix ranges (`>= p and < p || U+10FFFF`)
-- need byte order, which the database's default collation does not promise.

create table organisations (
    id text primary key,
    kind text not null,
    name text not null,
    -- The name folded for search (lower case, no accents): see directory::normalise.
    name_key text collate "C" not null,
    finess text unique,
    -- Not unique: the practitioners of one group practice can share an establishment.
    siret text,
    -- "Identifiant technique de la structure": the id PSC activities and the RPPS
    -- extraction both carry, so that a login and an import meet on one organisation.
    structure_id text unique,
    commune_code text,
    source text not null,
    -- Set when a coordinator merged this duplicate into another organisation.
    merged_into text references organisations (id),
    created_at bigint not null,
    updated_at bigint not null
);
create index organisations_by_name on organisations (name_key, id);

create table organisation_members (
    organisation_id text not null references organisations (id),
    account_id text not null references accounts (id),
    source text not null,
    joined_at bigint not null,
    -- Set when the professional left it; a later login does not bring them back.
    left_at bigint,
    primary key (organisation_id, account_id)
);
create index organisation_members_by_account on organisation_members (account_id);

create table directory_entries (
    national_id text primary key,
    account_id text unique references accounts (id),
    civility text,
    first_name text not null,
    last_name text not null,
    display_name text not null,
    -- Family name then given names, folded: name-prefix search is a range on it.
    search_key text collate "C" not null,
    -- Of the first activity, for listing without a join.
    profession_code text,
    specialty_code text,
    mode_code text,
    commune_code text,
    source text not null,
    -- The communes filter of the import that last listed this entry ('*': none) and
    -- that run's id: what is left with an older run after an import is "gone".
    import_scope text,
    import_run text,
    -- Digest of the imported data: an unchanged line is "kept" without a write.
    fingerprint text,
    created_at bigint not null,
    updated_at bigint not null
);
create index directory_by_key on directory_entries (search_key, national_id);
create index directory_by_import on directory_entries (import_scope, import_run);

create table directory_activities (
    national_id text not null references directory_entries (national_id),
    position bigint not null,
    profession_code text not null,
    specialty_code text,
    mode_code text,
    commune_code text,
    organisation_id text references organisations (id),
    primary key (national_id, position)
);
create index directory_activities_by_organisation on directory_activities (organisation_id);

create table directory_invitations (
    id text primary key,
    national_id text not null,
    invited_by text not null references accounts (id),
    created_at bigint not null,
    accepted_at bigint,
    account_id text references accounts (id),
    unique (invited_by, national_id)
);
create index directory_invitations_by_invitee on directory_invitations (national_id);

-- One row (id 1): this instance serves one CPTS.
create table cpts_profile (
    id bigint primary key,
    name text not null,
    population bigint not null,
    contract_signed_on text,
    -- Comma-separated words and INSEE codes (closed lists, checked in Rust).
    missions text not null,
    communes text not null,
    updated_at bigint not null,
    updated_by text references accounts (id)
);

-- Adhesions, kept after they end (the ACI report counts members over time).
create table cpts_memberships (
    id text primary key,
    account_id text not null references accounts (id),
    profession_code text,
    joined_at bigint not null,
    left_at bigint
);
create unique index cpts_memberships_current on cpts_memberships (account_id) where left_at is null;
