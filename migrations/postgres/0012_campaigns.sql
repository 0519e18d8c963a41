-- Prevention campaigns (issue 15). Counts only: no row names a patient, so nothing
-- here is sealed. Simple to aggregate: per campaign, per organisation, per day, per
-- kind, with the theme on the campaign.

create table campaigns (
    id text primary key,
    theme text not null,
    title text not null,
    description text not null,
    starts_on text not null,
    ends_on text not null,
    -- JSON: [{ "code", "label" }] and { code: target }.
    action_kinds text not null,
    targets text not null,
    -- The participants' group conversation, owned by the campaign.
    conversation_id text not null references conversations (id),
    created_by text not null references accounts (id),
    created_at bigint not null,
    updated_at bigint not null
);
create index campaigns_by_theme on campaigns (theme, starts_on);

create table campaign_participants (
    campaign_id text not null references campaigns (id),
    organisation_id text not null references organisations (id),
    joined_by text not null references accounts (id),
    joined_at bigint not null,
    left_by text references accounts (id),
    left_at bigint,
    primary key (campaign_id, organisation_id)
);

-- The current count per (campaign, organisation, day, kind); `version` grows by one
-- at each correction (one upsert, so concurrent corrections never lose one).
create table campaign_actions (
    id text primary key,
    campaign_id text not null references campaigns (id),
    organisation_id text not null references organisations (id),
    on_day text not null,
    kind text not null,
    count bigint not null check (count >= 0),
    version bigint not null,
    recorded_by text not null references accounts (id),
    recorded_at bigint not null,
    unique (campaign_id, organisation_id, on_day, kind)
);
-- Covering indexes for the indicators' two sums (per structure and kind, per day
-- and kind): read from the index alone, in group order.
create index campaign_actions_by_structure on campaign_actions (campaign_id, organisation_id, kind, count);
create index campaign_actions_by_day on campaign_actions (campaign_id, on_day, kind, count);

-- Every version of every count: who wrote what, when (corrections keep history).
create table campaign_action_versions (
    action_id text not null references campaign_actions (id),
    version bigint not null,
    count bigint not null,
    recorded_by text not null references accounts (id),
    recorded_at bigint not null,
    primary key (action_id, version)
);
