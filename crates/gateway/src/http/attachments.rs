//! Attachments: uploaded as a raw body (streamed, sealed in chunks, typed by magic
//! bytes), served only to those who may read what holds them.

use axum::Json;
use axum::body::Body;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use bytes::{Bytes, BytesMut};
use cordee_pathway::Millis;
use cordee_pathway::attachment::{CHUNK_SIZE, extension};
use cordee_pathway::ids::AttachmentId;
use cordee_pathway::store::{AttachmentMeta, Store, Upload};
use futures_util::StreamExt;
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::wire::ts;
use crate::auth::Authenticated;
use crate::clock::Now;
use crate::error::ApiError;
use crate::extract::ApiPath;
use crate::openapi::schemas;
use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(upload))
        .layer(DefaultBodyLimit::disable())
        .routes(routes!(download))
}

#[derive(Serialize, ToSchema)]
pub struct AttachmentOut {
    #[schema(value_type = uuid::Uuid)]
    pub id: String,
    /// What the bytes are (detected from their content, not from the declared type).
    pub content_type: String,
    pub size: i64,
    #[schema(format = DateTime)]
    pub created_at: String,
}

impl From<AttachmentMeta> for AttachmentOut {
    fn from(m: AttachmentMeta) -> Self {
        AttachmentOut {
            id: m.id.to_string(),
            content_type: m.content_type,
            size: m.size,
            created_at: ts(m.created_at),
        }
    }
}

/// Upload a photo (JPEG, PNG, WebP, HEIC) or a PDF as the raw request body; attach
/// the returned id to an entry or a message.
#[utoipa::path(post, path = "/v1/attachments", tag = "attachments",
    request_body(description = "The file's bytes. Their first bytes decide what they are; the declared `Content-Type` is not trusted.",
        content(
            (schemas::FileBytes = "image/jpeg"),
            (schemas::FileBytes = "image/png"),
            (schemas::FileBytes = "image/webp"),
            (schemas::FileBytes = "image/heic"),
            (schemas::FileBytes = "image/heif"),
            (schemas::FileBytes = "application/pdf"),
            (schemas::FileBytes = "application/octet-stream"))),
    responses((status = 201, body = AttachmentOut),
        (status = 400, description = "`request.unreadable_body`: the upload was interrupted."),
        (status = 413, description = "`request.too_large`: larger than the attachment limit (20 MiB by default)."),
        (status = 422, description = "`attachment.unsupported_type`: not a JPEG, PNG, WebP, HEIC/HEIF image or a PDF; `attachment.empty`: no bytes.")))]
async fn upload(
    State(state): State<AppState>,
    Now(now): Now,
    Authenticated(actor): Authenticated,
    headers: HeaderMap,
    body: Body,
) -> Result<(StatusCode, Json<AttachmentOut>), ApiError> {
    let limit = state.settings.attachment_limit;
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|d| d > limit as u64) {
        return Err(ApiError::too_large(limit));
    }
    let mut stream = body.into_data_stream();
    let mut buffer = BytesMut::new();
    let mut upload: Option<Upload> = None;
    let mut received = 0usize;
    loop {
        let next = stream.next().await;
        let done = next.is_none();
        if let Some(frame) = next {
            let bytes = frame.map_err(|_| {
                ApiError::bad_request("request.unreadable_body", "the upload was interrupted")
            })?;
            received += bytes.len();
            if received > limit {
                abort(&state.store, upload, now).await;
                return Err(ApiError::too_large(limit));
            }
            buffer.extend_from_slice(&bytes);
        }
        // Seal full chunks as they fill, the last one at the end.
        while buffer.len() >= CHUNK_SIZE || (done && !buffer.is_empty()) {
            let take = buffer.len().min(CHUNK_SIZE);
            let chunk = buffer.split_to(take).freeze();
            let current = match upload.take() {
                Some(u) => u,
                None => state.store.begin_upload(&actor, &chunk, now).await?,
            };
            let mut current = current;
            if let Err(e) = state.store.upload_chunk(&mut current, &chunk).await {
                abort(&state.store, Some(current), now).await;
                return Err(e.into());
            }
            upload = Some(current);
        }
        if done {
            break;
        }
    }
    let upload =
        upload.ok_or_else(|| ApiError::unprocessable("attachment.empty", "the upload is empty"))?;
    let meta = state.store.finish_upload(upload, now).await?;
    Ok((StatusCode::CREATED, Json(meta.into())))
}

async fn abort(store: &Store, upload: Option<Upload>, now: Millis) {
    if let Some(u) = upload
        && let Err(e) = store.abort_upload(u, now).await
    {
        tracing::warn!(error = %e, "could not clean up an aborted upload");
    }
}

/// Download an attachment (streamed; `Content-Disposition: attachment`, never sniffed).
#[utoipa::path(get, path = "/v1/attachments/{id}", tag = "attachments", params(("id" = uuid::Uuid, Path)),
    responses((status = 200, description = "The file, typed by what it is.",
            content(
                (schemas::FileBytes = "image/jpeg"),
                (schemas::FileBytes = "image/png"),
                (schemas::FileBytes = "image/webp"),
                (schemas::FileBytes = "image/heic"),
                (schemas::FileBytes = "image/heif"),
                (schemas::FileBytes = "application/pdf"))),
        (status = 404, description = "`attachment.not_found`: no such attachment, or you may not read what holds it."),
        (status = 410, description = "`patient.erased`: the patient it belongs to was erased.")))]
async fn download(
    State(state): State<AppState>,
    Now(now): Now,
    Authenticated(actor): Authenticated,
    ApiPath(id): ApiPath<AttachmentId>,
) -> Result<Response, ApiError> {
    let meta = state.store.attachment_for_read(&actor, id, now).await?;
    // The first chunk is read before answering, so that a missing key is a clear
    // error rather than a cut download.
    let first = if meta.chunks > 0 {
        Some(state.store.attachment_chunk(&meta, 0).await?)
    } else {
        None
    };
    let store = state.store.clone();
    let chunks = meta.chunks;
    let rest = futures_util::stream::unfold(
        (1i64, store, meta.clone()),
        move |(n, store, meta)| async move {
            if n >= chunks {
                return None;
            }
            let item = store
                .attachment_chunk(&meta, n)
                .await
                .map(Bytes::from)
                .map_err(|e| {
                    tracing::error!(error = %e, "attachment chunk unreadable");
                    std::io::Error::other("attachment chunk unreadable")
                });
            Some((item, (n + 1, store, meta)))
        },
    );
    let head =
        futures_util::stream::iter(first.map(|b| Ok::<Bytes, std::io::Error>(Bytes::from(b))));
    let mut response = Body::from_stream(head.chain(rest)).into_response();
    let h = response.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_str(&meta.content_type)
            .unwrap_or(HeaderValue::from_static("application/octet-stream")),
    );
    h.insert(
        header::CONTENT_LENGTH,
        HeaderValue::from(meta.size.max(0) as u64),
    );
    let disposition = format!(
        "attachment; filename=\"{}.{}\"",
        meta.id,
        extension(&meta.content_type)
    );
    if let Ok(v) = HeaderValue::from_str(&disposition) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static("default-src 'none'; sandbox"),
    );
    Ok(response)
}
