//! Conversations and messages.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use cordee_pathway::Millis;
use cordee_pathway::conversation::{
    Conversation, ConversationKind, Message, MessageInput, MessageLimits, Sent,
};
use cordee_pathway::ids::{AccountId, AttachmentId, ConversationId, MessageId, PatientId};
use cordee_pathway::policy::Category;
use cordee_pathway::store::NewConversation;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::wire::{ActivityPage, SeqPage, page_of, parse_cursor, parse_enum, ts, ts_opt};
use crate::auth::Authenticated;
use crate::clock::Now;
use crate::error::ApiError;
use crate::extract::{ApiJson, ApiPath, ApiQuery};
use crate::openapi::schemas;
use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list, create))
        .routes(routes!(get_one))
        .routes(routes!(list_messages, send))
        .routes(routes!(edit, delete))
        .routes(routes!(history))
        .routes(routes!(mark_read))
        .routes(routes!(mute))
        .routes(routes!(add_members))
        .routes(routes!(remove_member))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewConversationIn {
    #[schema(value_type = schemas::ConversationKind)]
    pub kind: String,
    /// For `patient` threads (404 `patient.not_found` for a patient you may not see).
    #[schema(value_type = Option<uuid::Uuid>)]
    pub patient_id: Option<String>,
    /// For `patient` threads (default `soins`): the thread obeys the matrix for this category.
    #[schema(value_type = Option<schemas::Category>)]
    pub category: Option<String>,
    #[schema(value_type = Option<schemas::ConversationTitle>)]
    pub title: Option<String>,
    /// Account ids, for `direct` (exactly one other than you) and `group` (at most
    /// 1000; 422 `conversation.unknown_member` for an id that is no account).
    #[serde(default)]
    #[schema(value_type = Vec<uuid::Uuid>, max_items = 1000)]
    pub member_ids: Vec<String>,
}

crate::ruled!(
    /// A new conversation: what each kind needs.
    NewConversationBody: NewConversationIn => {
        use cordee_pathway::conversation::ConversationKind as Kind;
        use utoipa::openapi::schema::{AnyOfBuilder, ObjectBuilder};
        AnyOfBuilder::new()
            .item(
                ObjectBuilder::new()
                    .description(Some("A patient thread names its patient."))
                    .property("kind", schemas::word(Kind::Patient.as_str()))
                    .property("patient_id", schemas::uuid())
                    .required("patient_id"),
            )
            .item(
                ObjectBuilder::new()
                    .description(Some("A direct conversation names the other person."))
                    .property("kind", schemas::word(Kind::Direct.as_str()))
                    .property("member_ids", schemas::non_empty_array().items(schemas::uuid()).max_items(Some(1)))
                    .required("member_ids"),
            )
            .item(
                ObjectBuilder::new()
                    .description(Some("A group has a title."))
                    .property("kind", schemas::word(Kind::Group.as_str()))
                    .property("title", utoipa::openapi::schema::ObjectBuilder::new()
                        .schema_type(utoipa::openapi::schema::Type::String)
                        .pattern(Some(schemas::trimmed_pattern(1, 200))))
                    .required("title"),
            )
    }
);

#[derive(Serialize, ToSchema)]
pub struct ConversationOut {
    #[schema(value_type = uuid::Uuid)]
    pub id: String,
    #[schema(value_type = schemas::ConversationKind)]
    pub kind: String,
    #[schema(value_type = Option<uuid::Uuid>)]
    pub patient_id: Option<String>,
    #[schema(value_type = Option<schemas::Category>)]
    pub category: Option<String>,
    pub title: Option<String>,
    #[schema(value_type = uuid::Uuid)]
    pub created_by: String,
    #[schema(format = DateTime)]
    pub created_at: String,
    /// Sequence number of the newest message.
    pub last_seq: i64,
    pub last_read_seq: i64,
    pub unread: i64,
    pub muted: bool,
    /// You administer this group.
    pub admin: bool,
}

impl From<Conversation> for ConversationOut {
    fn from(c: Conversation) -> Self {
        ConversationOut {
            id: c.id.to_string(),
            kind: c.kind.as_str().into(),
            patient_id: c.patient_id.map(|p| p.to_string()),
            category: c.category.map(|c| c.as_str().into()),
            title: c.title,
            created_by: c.created_by.to_string(),
            created_at: ts(c.created_at),
            last_seq: c.last_seq,
            last_read_seq: c.last_read_seq,
            unread: c.unread,
            muted: c.muted,
            admin: c.admin,
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct ConversationList {
    pub items: Vec<ConversationOut>,
    pub next_cursor: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct MessageOut {
    #[schema(value_type = uuid::Uuid)]
    pub id: String,
    #[schema(value_type = uuid::Uuid)]
    pub conversation_id: String,
    /// Position in the conversation (1, 2, 3…): the order every member sees.
    pub seq: i64,
    pub client_id: String,
    #[schema(value_type = uuid::Uuid)]
    pub sender_id: String,
    /// Empty once deleted.
    pub body: String,
    #[schema(value_type = Vec<uuid::Uuid>)]
    pub attachments: Vec<String>,
    #[schema(value_type = Option<uuid::Uuid>)]
    pub reply_to: Option<String>,
    #[schema(value_type = Vec<uuid::Uuid>)]
    pub mentions: Vec<String>,
    pub urgent: bool,
    pub version: i64,
    #[schema(format = DateTime)]
    pub created_at: String,
    #[schema(format = DateTime)]
    pub edited_at: Option<String>,
    #[schema(format = DateTime)]
    pub deleted_at: Option<String>,
}

impl From<&Message> for MessageOut {
    fn from(m: &Message) -> Self {
        MessageOut {
            id: m.id.to_string(),
            conversation_id: m.conversation_id.to_string(),
            seq: m.seq,
            client_id: m.client_id.clone(),
            sender_id: m.sender_id.to_string(),
            body: m.body.clone(),
            attachments: m.attachments.iter().map(ToString::to_string).collect(),
            reply_to: m.reply_to.map(|r| r.to_string()),
            mentions: m.mentions.iter().map(ToString::to_string).collect(),
            urgent: m.urgent,
            version: m.version,
            created_at: ts(m.created_at),
            edited_at: ts_opt(m.edited_at),
            deleted_at: ts_opt(m.deleted_at),
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct MessageList {
    pub items: Vec<MessageOut>,
    pub next_cursor: Option<String>,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SendIn {
    #[schema(value_type = schemas::ClientId)]
    pub client_id: String,
    /// At most 16,384 bytes of UTF-8 by default (`CORDEE_MESSAGE_LIMIT`; 422
    /// `message.too_large`). A message has a body or an attachment.
    #[serde(default)]
    pub body: String,
    /// Ids of your uploads (422 `message.unknown_attachment` for another id).
    #[serde(default)]
    #[schema(value_type = Vec<uuid::Uuid>, max_items = 10)]
    pub attachments: Vec<String>,
    /// A message of this conversation (422 `message.unknown_reply_to` otherwise).
    #[schema(value_type = Option<uuid::Uuid>)]
    pub reply_to: Option<String>,
    /// Members of this conversation (422 `message.unknown_mention` otherwise).
    #[serde(default)]
    #[schema(value_type = Vec<uuid::Uuid>, max_items = 50)]
    pub mentions: Vec<String>,
    #[serde(default)]
    pub urgent: bool,
}

crate::ruled!(
    /// A message to send: a body or an attachment at least.
    SendBody: SendIn => {
        use utoipa::openapi::schema::{AnyOfBuilder, ObjectBuilder};
        AnyOfBuilder::new()
            .item(
                ObjectBuilder::new()
                    .property("body", schemas::NonBlank::schema())
                    .required("body"),
            )
            .item(
                ObjectBuilder::new()
                    .property("attachments", schemas::non_empty_array().items(schemas::uuid()))
                    .required("attachments"),
            )
    }
);

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EditIn {
    /// Not blank (422 `message.empty`); at most 16,384 bytes of UTF-8 by default
    /// (`CORDEE_MESSAGE_LIMIT`; 422 `message.too_large`).
    #[schema(value_type = schemas::NonBlank)]
    pub body: String,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReadIn {
    /// The newest message you have read (422 `message.unknown_cursor` for a message
    /// of another conversation).
    #[schema(value_type = uuid::Uuid)]
    pub up_to: String,
}

#[derive(Serialize, ToSchema)]
pub struct ReadOut {
    pub last_read_seq: i64,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MuteIn {
    pub muted: bool,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MembersIn {
    /// Account ids (422 `conversation.unknown_member` for an id that is no account).
    #[schema(value_type = Vec<uuid::Uuid>, max_items = 1000)]
    pub member_ids: Vec<String>,
}

#[derive(Serialize, ToSchema)]
pub struct EditOut {
    pub version: i64,
    pub body: String,
    #[schema(format = DateTime)]
    pub edited_at: String,
}

#[derive(Serialize, ToSchema)]
pub struct HistoryOut {
    pub items: Vec<EditOut>,
    pub next_cursor: Option<String>,
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct MessagesQuery {
    /// Messages after this message id (oldest first).
    #[param(value_type = Option<schemas::IdCursor>)]
    pub after: Option<String>,
    /// Messages before this message id (the newest ones when neither is given).
    #[param(value_type = Option<schemas::IdCursor>)]
    pub before: Option<String>,
    /// Page size, 1 to 200 (default 50); values outside are brought within.
    pub limit: Option<i64>,
}

fn account_ids(field: &'static str, ids: &[String]) -> Result<Vec<AccountId>, ApiError> {
    ids.iter()
        .map(|i| {
            AccountId::parse(i).ok_or_else(|| {
                ApiError::unprocessable(
                    "request.invalid_field",
                    format!("{field} holds an id that is not an account id"),
                )
                .with_extra(serde_json::json!({ "field": field }))
            })
        })
        .collect()
}

fn message_id(field: &'static str, text: &str) -> Result<MessageId, ApiError> {
    MessageId::parse(text).ok_or_else(|| {
        ApiError::unprocessable(
            "message.unknown_cursor",
            format!("{field} is not a message id"),
        )
        .with_extra(serde_json::json!({ "field": field }))
    })
}

async fn conversation(
    state: &AppState,
    actor: &cordee_pathway::account::Actor,
    id: ConversationId,
    now: Millis,
) -> Result<Conversation, ApiError> {
    Ok(state.store.conversation_for(actor, id, now).await?)
}

/// For writes into a conversation: the same decision, remembered for a moment.
async fn conversation_to_post(
    state: &AppState,
    actor: &cordee_pathway::account::Actor,
    id: ConversationId,
    now: Millis,
) -> Result<Conversation, ApiError> {
    Ok(state.store.conversation_for_posting(actor, id, now).await?)
}
/// Conversations you may read, most recently active first, with unread counts.
#[utoipa::path(get, path = "/v1/conversations", tag = "messaging", params(ActivityPage), responses((status = 200, body = ConversationList)))]
async fn list(
    State(state): State<AppState>,
    Now(now): Now,
    Authenticated(actor): Authenticated,
    ApiQuery(page): ApiQuery<ActivityPage>,
) -> Result<Json<ConversationList>, ApiError> {
    let page = page.page();
    let after = parse_cursor(page.cursor.as_deref(), Conversation::parse_list_cursor)?;
    let limit = page.limit();
    let items = state
        .store
        .list_conversations(&actor, after, limit + 1, now)
        .await?;
    let (items, next_cursor) = page_of(items, limit, Conversation::list_cursor);
    Ok(Json(ConversationList {
        items: items.into_iter().map(Into::into).collect(),
        next_cursor,
    }))
}

/// Start a conversation: a patient thread (the care team, filtered by the matrix),
/// a direct conversation (one per pair: an existing one is returned), or a group.
#[utoipa::path(post, path = "/v1/conversations", tag = "messaging", request_body = NewConversationBody,
    responses((status = 201, body = ConversationOut, description = "Created, or the existing direct conversation of the pair."),
        (status = 403, description = "`conversation.team_only`: only the care team starts a patient thread; `conversation.category_forbidden`: your profession does not read this category."),
        (status = 404, description = "`patient.not_found`, `account.not_found`: no such patient or person, or you may not see them."),
        (status = 410, description = "`patient.erased`: erased at the end of its retention period."),
        (status = 422, description = "`conversation.patient_required`, `conversation.direct_needs_one`, `conversation.title_required`, `conversation.invalid_title`, `conversation.too_many_members`; `conversation.unknown_member`: a member id is no account; `request.invalid_field`: a member id is not an id.")))]
async fn create(
    State(state): State<AppState>,
    Now(now): Now,
    Authenticated(actor): Authenticated,
    ApiJson(body): ApiJson<NewConversationIn>,
) -> Result<(StatusCode, Json<ConversationOut>), ApiError> {
    let kind = parse_enum(
        "kind",
        &body.kind,
        ConversationKind::parse,
        ConversationKind::NAMES,
    )?;
    let patient_id = body
        .patient_id
        .as_deref()
        .map(|p| PatientId::parse(p).ok_or_else(|| ApiError::not_found("patient.not_found")))
        .transpose()?;
    let category = body
        .category
        .as_deref()
        .map(|c| parse_enum("category", c, Category::parse, Category::NAMES))
        .transpose()?;
    let new = NewConversation {
        kind,
        patient_id,
        category,
        title: body.title,
        member_ids: account_ids("member_ids", &body.member_ids)?,
    };
    let created = state.store.create_conversation(&actor, new, now).await?;
    Ok((StatusCode::CREATED, Json(created.into())))
}

/// One conversation.
#[utoipa::path(get, path = "/v1/conversations/{id}", tag = "messaging", params(("id" = uuid::Uuid, Path)),
    responses((status = 200, body = ConversationOut),
        (status = 404, description = "`conversation.not_found`: no such conversation, or you may not read it.")))]
async fn get_one(
    State(state): State<AppState>,
    Now(now): Now,
    Authenticated(actor): Authenticated,
    ApiPath(id): ApiPath<ConversationId>,
) -> Result<Json<ConversationOut>, ApiError> {
    Ok(Json(
        state.store.read_conversation(&actor, id, now).await?.into(),
    ))
}

/// Messages in order of `seq`.
#[utoipa::path(get, path = "/v1/conversations/{id}/messages", tag = "messaging", params(("id" = uuid::Uuid, Path), MessagesQuery),
    responses((status = 200, body = MessageList),
        (status = 400, description = "`request.invalid_cursor`: `after` or `before` is not a message id."),
        (status = 404, description = "`conversation.not_found`: no such conversation, or you may not read it."),
        (status = 422, description = "`message.unknown_cursor`: `after` or `before` is not a message of this conversation.")))]
async fn list_messages(
    State(state): State<AppState>,
    Now(now): Now,
    Authenticated(actor): Authenticated,
    ApiPath(id): ApiPath<ConversationId>,
    ApiQuery(q): ApiQuery<MessagesQuery>,
) -> Result<Json<MessageList>, ApiError> {
    let conv = conversation(&state, &actor, id, now).await?;
    // Cursors like every list's: empty is none, a malformed one is a 400.
    let after = parse_cursor(q.after.as_deref(), MessageId::parse)?;
    let before = parse_cursor(q.before.as_deref(), MessageId::parse)?;
    let limit = q.limit.unwrap_or(50).clamp(1, 200);
    let (items, more) = state
        .store
        .list_messages(&actor, &conv, after, before, limit, now)
        .await?;
    // Paging forward with `after`, backward otherwise: the cursor is the page's edge
    // in that direction, and only when more lie beyond it.
    let next_cursor = more
        .then(|| {
            if after.is_some() {
                items.last()
            } else {
                items.first()
            }
        })
        .flatten()
        .map(|m| m.id.to_string());
    Ok(Json(MessageList {
        items: items.iter().map(MessageOut::from).collect(),
        next_cursor,
    }))
}

/// Send a message. Answered only once it is stored; 201 when created, 200 when
/// `client_id` names a message already sent (a retry).
#[utoipa::path(post, path = "/v1/conversations/{id}/messages", tag = "messaging", params(("id" = uuid::Uuid, Path)), request_body = SendBody,
    responses((status = 201, body = MessageOut, description = "Sent."),
        (status = 200, body = MessageOut, description = "Already sent with this `client_id` (a retry)."),
        (status = 404, description = "`conversation.not_found`: no such conversation, or you may not read it."),
        (status = 409, description = "`message.client_id_reused`: this `client_id` named another message."),
        (status = 422, description = "`message.invalid_client_id`, `message.too_large`, `message.empty`, `message.too_many_attachments`, `message.too_many_mentions`; `message.unknown_attachment`, `message.unknown_reply_to`, `message.unknown_mention`: an id names nothing you may use here; `message.unknown_cursor`: `reply_to` is not a message id; `request.invalid_field`: a mention is not an account id."),
        (status = 429, description = "`message.rate_limited`: too many messages this minute; `retry_after` says when to retry.")))]
async fn send(
    State(state): State<AppState>,
    Now(now): Now,
    Authenticated(actor): Authenticated,
    ApiPath(id): ApiPath<ConversationId>,
    ApiJson(body): ApiJson<SendIn>,
) -> Result<Response, ApiError> {
    let conv = conversation_to_post(&state, &actor, id, now).await?;
    let limits = MessageLimits {
        max_body_bytes: state.settings.message_limit,
        ..MessageLimits::default()
    };
    let input = MessageInput {
        client_id: body.client_id,
        body: body.body,
        attachments: body
            .attachments
            .iter()
            .map(|a| {
                AttachmentId::parse(a).ok_or_else(|| {
                    ApiError::unprocessable(
                        "message.unknown_attachment",
                        "an attachment id is not valid",
                    )
                })
            })
            .collect::<Result<_, _>>()?,
        reply_to: body
            .reply_to
            .as_deref()
            .map(|r| message_id("reply_to", r))
            .transpose()?,
        mentions: account_ids("mentions", &body.mentions)?,
        urgent: body.urgent,
    }
    .validate(&limits)?;
    if let Err(wait) = state.send_limiter.check(actor.account_id, now) {
        let wait = wait.as_secs().max(1);
        return Err(ApiError::new(
            StatusCode::TOO_MANY_REQUESTS,
            "message.rate_limited",
            format!(
                "At most {} messages per minute; retry in {wait} s.",
                state.send_limiter.limit()
            ),
        )
        .with_extra(serde_json::json!({ "retry_after": wait })));
    }
    let sent = state.store.send_message(&actor, &conv, input, now).await?;
    let status = match sent {
        Sent::Created(_) => StatusCode::CREATED,
        Sent::Existing(_) => StatusCode::OK,
    };
    Ok((status, Json(MessageOut::from(sent.message()))).into_response())
}

/// Edit your message (its history is kept).
#[utoipa::path(patch, path = "/v1/conversations/{id}/messages/{message_id}", tag = "messaging",
    params(("id" = uuid::Uuid, Path), ("message_id" = uuid::Uuid, Path)), request_body = EditIn,
    responses((status = 200, body = MessageOut),
        (status = 403, description = "`message.not_sender`: only the sender edits a message."),
        (status = 404, description = "`conversation.not_found`, `message.not_found`: no such conversation or message, or you may not read it."),
        (status = 409, description = "`message.deleted`: a deleted message is not edited."),
        (status = 422, description = "`message.empty`: the body is blank; `message.too_large`: it is over the limit.")))]
async fn edit(
    State(state): State<AppState>,
    Now(now): Now,
    Authenticated(actor): Authenticated,
    ApiPath((id, message)): ApiPath<(ConversationId, MessageId)>,
    ApiJson(body): ApiJson<EditIn>,
) -> Result<Json<MessageOut>, ApiError> {
    if body.body.trim().is_empty() {
        // The store would say `message.too_large`; a blank edit is an empty message.
        return Err(ApiError::unprocessable(
            "message.empty",
            "a message needs a body or an attachment",
        ));
    }
    let conv = conversation(&state, &actor, id, now).await?;
    let edited = state
        .store
        .edit_message(
            &actor,
            &conv,
            message,
            &body.body,
            state.settings.message_limit,
            now,
        )
        .await?;
    Ok(Json(MessageOut::from(&edited)))
}

/// Delete your message: its content goes, a tombstone stays.
#[utoipa::path(delete, path = "/v1/conversations/{id}/messages/{message_id}", tag = "messaging",
    params(("id" = uuid::Uuid, Path), ("message_id" = uuid::Uuid, Path)),
    responses((status = 200, body = MessageOut, description = "The tombstone."),
        (status = 403, description = "`message.not_sender`: only the sender deletes a message."),
        (status = 404, description = "`conversation.not_found`, `message.not_found`: no such conversation or message, or you may not read it.")))]
async fn delete(
    State(state): State<AppState>,
    Now(now): Now,
    Authenticated(actor): Authenticated,
    ApiPath((id, message)): ApiPath<(ConversationId, MessageId)>,
) -> Result<Json<MessageOut>, ApiError> {
    let conv = conversation(&state, &actor, id, now).await?;
    Ok(Json(MessageOut::from(
        &state
            .store
            .delete_message(&actor, &conv, message, now)
            .await?,
    )))
}

/// Earlier versions of an edited message.
#[utoipa::path(get, path = "/v1/conversations/{id}/messages/{message_id}/history", tag = "messaging",
    params(("id" = uuid::Uuid, Path), ("message_id" = uuid::Uuid, Path), SeqPage),
    responses((status = 200, body = HistoryOut),
        (status = 404, description = "`conversation.not_found`, `message.not_found`: no such conversation or message, or you may not read it.")))]
async fn history(
    State(state): State<AppState>,
    Now(now): Now,
    Authenticated(actor): Authenticated,
    ApiPath((id, message)): ApiPath<(ConversationId, MessageId)>,
    ApiQuery(page): ApiQuery<SeqPage>,
) -> Result<Json<HistoryOut>, ApiError> {
    let conv = conversation(&state, &actor, id, now).await?;
    let page = page.page();
    let limit = page.limit();
    let after = parse_cursor(page.cursor.as_deref(), |c| c.parse::<i64>().ok())?;
    let items = state
        .store
        .message_history(&actor, &conv, message, after, limit + 1, now)
        .await?;
    let (items, next_cursor) = page_of(items, limit, |(v, _, _)| v.to_string());
    Ok(Json(HistoryOut {
        items: items
            .into_iter()
            .map(|(version, body, at)| EditOut {
                version,
                body,
                edited_at: ts(at),
            })
            .collect(),
        next_cursor,
    }))
}

/// Move your read position (members see a receipt).
#[utoipa::path(post, path = "/v1/conversations/{id}/read", tag = "messaging", params(("id" = uuid::Uuid, Path)), request_body = ReadIn,
    responses((status = 200, body = ReadOut),
        (status = 404, description = "`conversation.not_found`: no such conversation, or you may not read it."),
        (status = 422, description = "`message.unknown_cursor`: `up_to` is not a message of this conversation.")))]
async fn mark_read(
    State(state): State<AppState>,
    Now(now): Now,
    Authenticated(actor): Authenticated,
    ApiPath(id): ApiPath<ConversationId>,
    ApiJson(body): ApiJson<ReadIn>,
) -> Result<Json<ReadOut>, ApiError> {
    let conv = conversation(&state, &actor, id, now).await?;
    let up_to = message_id("up_to", &body.up_to)?;
    Ok(Json(ReadOut {
        last_read_seq: state.store.mark_read(&actor, &conv, up_to, now).await?,
    }))
}

/// Mute or unmute a conversation for yourself (no push notifications while muted).
#[utoipa::path(put, path = "/v1/conversations/{id}/mute", tag = "messaging", params(("id" = uuid::Uuid, Path)), request_body = MuteIn,
    responses((status = 204, description = "Done."),
        (status = 404, description = "`conversation.not_found`: no such conversation, or you may not read it.")))]
async fn mute(
    State(state): State<AppState>,
    Now(now): Now,
    Authenticated(actor): Authenticated,
    ApiPath(id): ApiPath<ConversationId>,
    ApiJson(body): ApiJson<MuteIn>,
) -> Result<StatusCode, ApiError> {
    state.store.set_muted(&actor, id, body.muted, now).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Add members to a group (its admins).
#[utoipa::path(post, path = "/v1/conversations/{id}/members", tag = "messaging", params(("id" = uuid::Uuid, Path)), request_body = MembersIn,
    responses((status = 204, description = "Added."),
        (status = 403, description = "`conversation.admins_only`: only a group's admins add members."),
        (status = 404, description = "`conversation.not_found`: no such conversation, or you may not read it."),
        (status = 422, description = "`conversation.unknown_member`: an id is no account; `conversation.too_many_members`; `request.invalid_field`: an id is not an account id.")))]
async fn add_members(
    State(state): State<AppState>,
    Now(now): Now,
    Authenticated(actor): Authenticated,
    ApiPath(id): ApiPath<ConversationId>,
    ApiJson(body): ApiJson<MembersIn>,
) -> Result<StatusCode, ApiError> {
    let members = account_ids("member_ids", &body.member_ids)?;
    state
        .store
        .add_group_members(&actor, id, members, now)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Remove a member from a group (admins), or leave it.
#[utoipa::path(delete, path = "/v1/conversations/{id}/members/{account_id}", tag = "messaging",
    params(("id" = uuid::Uuid, Path), ("account_id" = uuid::Uuid, Path)),
    responses((status = 204, description = "Removed."),
        (status = 403, description = "`conversation.not_a_group`, `conversation.admins_only`: only a group's admins remove others."),
        (status = 404, description = "`conversation.not_found`, `care_team.member_not_found`: no such conversation or member, or you may not read it.")))]
async fn remove_member(
    State(state): State<AppState>,
    Now(now): Now,
    Authenticated(actor): Authenticated,
    ApiPath((id, account)): ApiPath<(ConversationId, AccountId)>,
) -> Result<StatusCode, ApiError> {
    state
        .store
        .remove_group_member(&actor, id, account, now)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}
