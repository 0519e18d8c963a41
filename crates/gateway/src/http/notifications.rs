//! Notifications (ids and codes only, never health data).

use axum::Json;
use axum::extract::State;
use cordee_pathway::ids::NotificationId;
use cordee_pathway::notification::Notification;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::wire::{PageQuery, page_of, parse_cursor, ts, ts_opt};
use crate::auth::Authenticated;
use crate::clock::Now;
use crate::error::ApiError;
use crate::extract::{ApiJson, ApiQuery};

use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list))
        .routes(routes!(mark_read))
}

#[derive(Serialize, ToSchema)]
pub struct NotificationOut {
    #[schema(value_type = uuid::Uuid)]
    pub id: String,
    /// `care_team.added`, `break_glass.granted`, …
    pub kind: String,
    #[schema(value_type = Option<uuid::Uuid>)]
    pub patient_id: Option<String>,
    /// The id of what the notification is about (a grant, a member…).
    pub subject_id: Option<String>,
    #[schema(value_type = Option<uuid::Uuid>)]
    pub actor_id: Option<String>,
    #[schema(format = DateTime)]
    pub created_at: String,
    #[schema(format = DateTime)]
    pub read_at: Option<String>,
}

impl From<Notification> for NotificationOut {
    fn from(n: Notification) -> Self {
        NotificationOut {
            id: n.id.to_string(),
            kind: n.kind.as_str().to_string(),
            patient_id: n.patient_id.map(|p| p.to_string()),
            subject_id: n.subject_id,
            actor_id: n.actor_id.map(|a| a.to_string()),
            created_at: ts(n.created_at),
            read_at: ts_opt(n.read_at),
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct NotificationList {
    pub items: Vec<NotificationOut>,
    pub next_cursor: Option<String>,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReadUpTo {
    /// The newest notification you have read: it and every older one are marked.
    #[schema(value_type = uuid::Uuid)]
    pub up_to: String,
}

#[derive(Serialize, ToSchema)]
pub struct Marked {
    pub marked: u64,
}

/// Your notifications, newest first.
#[utoipa::path(get, path = "/v1/notifications", tag = "notifications", params(PageQuery),
    responses((status = 200, body = NotificationList),
        (status = 400, description = "`request.invalid_cursor`: not a cursor this API returned.")))]
async fn list(
    State(state): State<AppState>,
    Authenticated(actor): Authenticated,
    ApiQuery(page): ApiQuery<PageQuery>,
) -> Result<Json<NotificationList>, ApiError> {
    let before = parse_cursor(page.cursor.as_deref(), NotificationId::parse)?;
    let limit = page.limit();
    let items = state.store.notifications(&actor, before, limit + 1).await?;
    let (items, next_cursor) = page_of(items, limit, |n| n.id.to_string());
    Ok(Json(NotificationList {
        items: items.into_iter().map(Into::into).collect(),
        next_cursor,
    }))
}

/// Mark your notifications up to `up_to` as read.
#[utoipa::path(post, path = "/v1/notifications/read", tag = "notifications", request_body = ReadUpTo,
    responses((status = 200, body = Marked)))]
async fn mark_read(
    State(state): State<AppState>,
    Now(now): Now,
    Authenticated(actor): Authenticated,
    ApiJson(body): ApiJson<ReadUpTo>,
) -> Result<Json<Marked>, ApiError> {
    let up_to = NotificationId::parse(&body.up_to).ok_or_else(|| {
        ApiError::unprocessable("request.invalid_field", "up_to is not a notification id")
    })?;
    Ok(Json(Marked {
        marked: state
            .store
            .mark_notifications_read(&actor, up_to, now)
            .await?,
    }))
}
