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

use super::wire::{PageQuery, page_of, parse_cursor, parse_enum, ts, ts_opt};
use crate::auth::Authenticated;
use crate::clock::Now;
use crate::error::{ApiError, Problem};
use crate::extract::{ApiJson, ApiPath, ApiQuery};
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
    /// `patient`, `direct` or `group`
    pub kind: String,
    /// For `patient` threads.
    pub patient_id: Option<String>,
    /// For `patient` threads (default `soins`): the thread obeys the matrix for this category.
    pub category: Option<String>,
    pub title: Option<String>,
    /// Account ids, for `direct` (exactly one other) and `group`.
    #[serde(default)]
    pub member_ids: Vec<String>,
}

#[derive(Serialize, ToSchema)]
pub struct ConversationOut {
    pub id: String,
    pub kind: String,
    pub patient_id: Option<String>,
    pub category: Option<String>,
    pub title: Option<String>,
    pub created_by: String,
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
    pub id: String,
    pub conversation_id: String,
    /// Position in the conversation (1, 2, 3…): the order every member sees.
    pub seq: i64,
    pub client_id: String,
    pub sender_id: String,
    /// Empty once deleted.
    pub body: String,
    pub attachments: Vec<String>,
    pub reply_to: Option<String>,
    pub mentions: Vec<String>,
    pub urgent: bool,
    pub version: i64,
    pub created_at: String,
    pub edited_at: Option<String>,
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
    /// Your id for this message: a retry with the same `client_id` never creates a second message.
    pub client_id: String,
    #[serde(default)]
    pub body: String,
    #[serde(default)]
    pub attachments: Vec<String>,
    pub reply_to: Option<String>,
    #[serde(default)]
    pub mentions: Vec<String>,
    #[serde(default)]
    pub urgent: bool,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EditIn {
    pub body: String,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReadIn {
    /// The newest message you have read.
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
    pub member_ids: Vec<String>,
}

#[derive(Serialize, ToSchema)]
pub struct EditOut {
    pub version: i64,
    pub body: String,
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
    pub after: Option<String>,
    /// Messages before this message id (the newest ones when neither is given).
    pub before: Option<String>,
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
#[utoipa::path(get, path = "/v1/conversations", tag = "messaging", params(PageQuery), responses((status = 200, body = ConversationList)))]
async fn list(
    State(state): State<AppState>,
    Now(now): Now,
    Authenticated(actor): Authenticated,
    ApiQuery(page): ApiQuery<PageQuery>,
) -> Result<Json<ConversationList>, ApiError> {
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
#[utoipa::path(post, path = "/v1/conversations", tag = "messaging", request_body = NewConversationIn,
    responses((status = 201, body = ConversationOut), (status = 403, body = Problem), (status = 404, body = Problem), (status = 422, body = Problem)))]
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
#[utoipa::path(get, path = "/v1/conversations/{id}", tag = "messaging", params(("id" = String, Path)),
    responses((status = 200, body = ConversationOut), (status = 404, body = Problem)))]
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
#[utoipa::path(get, path = "/v1/conversations/{id}/messages", tag = "messaging", params(("id" = String, Path), MessagesQuery),
    responses((status = 200, body = MessageList), (status = 404, body = Problem)))]
async fn list_messages(
    State(state): State<AppState>,
    Now(now): Now,
    Authenticated(actor): Authenticated,
    ApiPath(id): ApiPath<ConversationId>,
    ApiQuery(q): ApiQuery<MessagesQuery>,
) -> Result<Json<MessageList>, ApiError> {
    let conv = conversation(&state, &actor, id, now).await?;
    let after = q
        .after
        .as_deref()
        .map(|a| message_id("after", a))
        .transpose()?;
    let before = q
        .before
        .as_deref()
        .map(|b| message_id("before", b))
        .transpose()?;
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
#[utoipa::path(post, path = "/v1/conversations/{id}/messages", tag = "messaging", params(("id" = String, Path)), request_body = SendIn,
    responses((status = 201, body = MessageOut), (status = 200, body = MessageOut), (status = 404, body = Problem), (status = 413, body = Problem), (status = 422, body = Problem), (status = 429, body = Problem)))]
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
    params(("id" = String, Path), ("message_id" = String, Path)), request_body = EditIn,
    responses((status = 200, body = MessageOut), (status = 403, body = Problem), (status = 404, body = Problem)))]
async fn edit(
    State(state): State<AppState>,
    Now(now): Now,
    Authenticated(actor): Authenticated,
    ApiPath((id, message)): ApiPath<(ConversationId, MessageId)>,
    ApiJson(body): ApiJson<EditIn>,
) -> Result<Json<MessageOut>, ApiError> {
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
    params(("id" = String, Path), ("message_id" = String, Path)),
    responses((status = 200, body = MessageOut), (status = 403, body = Problem), (status = 404, body = Problem)))]
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
    params(("id" = String, Path), ("message_id" = String, Path), PageQuery),
    responses((status = 200, body = HistoryOut), (status = 404, body = Problem)))]
async fn history(
    State(state): State<AppState>,
    Now(now): Now,
    Authenticated(actor): Authenticated,
    ApiPath((id, message)): ApiPath<(ConversationId, MessageId)>,
    ApiQuery(page): ApiQuery<PageQuery>,
) -> Result<Json<HistoryOut>, ApiError> {
    let conv = conversation(&state, &actor, id, now).await?;
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
#[utoipa::path(post, path = "/v1/conversations/{id}/read", tag = "messaging", params(("id" = String, Path)), request_body = ReadIn,
    responses((status = 200, body = ReadOut), (status = 404, body = Problem)))]
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
#[utoipa::path(put, path = "/v1/conversations/{id}/mute", tag = "messaging", params(("id" = String, Path)), request_body = MuteIn,
    responses((status = 204), (status = 404, body = Problem)))]
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
#[utoipa::path(post, path = "/v1/conversations/{id}/members", tag = "messaging", params(("id" = String, Path)), request_body = MembersIn,
    responses((status = 204), (status = 403, body = Problem), (status = 404, body = Problem)))]
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
    params(("id" = String, Path), ("account_id" = String, Path)),
    responses((status = 204), (status = 403, body = Problem), (status = 404, body = Problem)))]
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
