-- People who log in: health professionals (keyed by their national id from Pro Santé
-- Connect) and CPTS staff (keyed by their provider's subject). Professional identity is
-- not health data; it is stored in clear so that care teams can be listed.
create table accounts (
    id text primary key,
    kind text not null check (kind in ('health_professional', 'staff')),
    national_id text unique,
    provider_id text not null,
    subject text not null,
    display_name text not null,
    -- JSON: exercices and activities as mapped from the provider's claims.
    profile text not null,
    -- JSON array of CPTS roles: member, coordinator, admin.
    cpts_roles text not null,
    created_at bigint not null,
    updated_at bigint not null,
    unique (provider_id, subject)
);
