-- Secure messaging. Patient threads take their members from the patient's care
-- team (filtered by the matrix for the thread's category); direct and group
-- conversations list theirs in conversation_members, which also keeps per-member
-- state (read position, mute) for every kind.

create table conversations (
    id text primary key,
    kind text not null check (kind in ('patient', 'direct', 'group')),
    patient_id text references patients (id),
    category text,
    -- Sealed under the patient's key (patient threads) or the conversation's own.
    title blob,
    -- For direct conversations: the two account ids, sorted, so there is one per pair.
    direct_pair text unique,
    created_by text not null references accounts (id),
    created_at bigint not null,
    last_seq bigint not null default 0
);
create index conversations_by_patient on conversations (patient_id);

create table conversation_members (
    conversation_id text not null references conversations (id),
    account_id text not null references accounts (id),
    role text not null default 'member',
    joined_at bigint not null,
    left_at bigint,
    muted integer not null default 0,
    last_read_seq bigint not null default 0,
    primary key (conversation_id, account_id)
);
create index conversation_members_by_account on conversation_members (account_id, conversation_id);

create table messages (
    id text primary key,
    conversation_id text not null references conversations (id),
    seq bigint not null,
    sender_id text not null references accounts (id),
    client_id text not null,
    body blob not null,
    attachments text not null,
    reply_to text,
    mentions text not null,
    urgent integer not null default 0,
    version integer not null default 1,
    created_at bigint not null,
    edited_at bigint,
    deleted_at bigint,
    unique (conversation_id, seq),
    unique (sender_id, client_id)
);

-- Earlier bodies of edited messages.
create table message_edits (
    message_id text not null references messages (id),
    version integer not null,
    body blob not null,
    edited_at bigint not null,
    primary key (message_id, version)
);

-- The real-time stream: one row per event, cursors only grow (assigned under a
-- lock in commit order), so a client resuming from its last cursor misses nothing.
create table stream_events (
    cursor bigint primary key,
    conversation_id text not null,
    kind text not null,
    message_id text,
    actor_id text,
    created_at bigint not null
);
create index stream_events_by_conversation on stream_events (conversation_id, cursor);
