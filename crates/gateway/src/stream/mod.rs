//! `GET /v1/stream?since=CURSOR`: the real-time WebSocket.
//!
//! A device first gets every committed event after its cursor that it may read
//! (from the database, in cursor order), then a `ready` frame, then live events as
//! they commit. It registers with the hub *before* reading the backlog and skips live
//! events at or below the last cursor sent, so nothing is missed and nothing comes
//! twice. Heartbeats find dead connections; a device cut off for being slow gets a
//! `resync` frame with its cursor and reconnects from there.

pub mod hub;
pub mod push;
mod reads;

use std::sync::atomic::Ordering;
use std::time::Duration;

use axum::extract::State;
use axum::extract::ws::rejection::WebSocketUpgradeRejection;
use axum::extract::ws::{Message as WsMessage, Utf8Bytes, WebSocket, WebSocketUpgrade};
use axum::http::{HeaderMap, header};
use axum::response::Response;
use cordee_pathway::account::Actor;
use cordee_pathway::session::Liveness;
use cordee_pathway::stream::{StreamEvent, StreamKind};
use futures_util::{SinkExt, StreamExt};
use serde::Deserialize;
use utoipa::IntoParams;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::auth::Authenticated;
use crate::error::ApiError;
use crate::extract::ApiQuery;
use crate::http::messages::MessageOut;
use crate::http::notifications::NotificationOut;
use crate::state::AppState;

const BACKLOG_PAGE: i64 = 500;
const FLUSH_EVERY: usize = 64;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(stream))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct StreamQuery {
    /// The last cursor you received; events after it are replayed first. Without it,
    /// only new events are sent.
    pub since: Option<i64>,
}

/// The headers of the WebSocket opening handshake (RFC 6455), as a client library
/// sends them.
#[derive(IntoParams)]
#[into_params(parameter_in = Header)]
#[allow(dead_code)]
struct Handshake {
    #[param(rename = "Connection", value_type = String, pattern = "^[Uu][Pp][Gg][Rr][Aa][Dd][Ee]$")]
    connection: String,
    #[param(rename = "Upgrade", value_type = String, pattern = "^[Ww][Ee][Bb][Ss][Oo][Cc][Kk][Ee][Tt]$")]
    upgrade: String,
    #[param(rename = "Sec-WebSocket-Version", value_type = String, pattern = "^13$")]
    sec_websocket_version: String,
    /// Any value; the answer's `Sec-WebSocket-Accept` is derived from it.
    #[param(rename = "Sec-WebSocket-Key")]
    sec_websocket_key: String,
}

/// The real-time stream (WebSocket). Frames are JSON: `{ "type", "cursor", "data" }`
/// with `type` one of `message.created`, `message.updated`, `message.deleted`,
/// `receipt`, `conversation.updated`, `notification` (yours, `data` as in
/// `GET /v1/notifications`), the account events of the CPTS modules (`task.assigned`,
/// … with ids only in `data`), then `ready` once the backlog is sent, and
/// `resync` (reconnect with `since` = its cursor) when you fell behind, the gateway
/// restarts or your session's exercice changed, and `session.ended` when your session
/// was revoked or expired.
#[utoipa::path(get, path = "/v1/stream", tag = "messaging", params(StreamQuery, Handshake),
    responses((status = 101, description = "Switching to the WebSocket protocol"),
        (status = 400, description = "`stream.websocket_required`: not a WebSocket opening handshake."),
        (status = 403, description = "`stream.foreign_origin`: a browser page of another site (`Origin`)."),
        (status = 405, description = "`stream.websocket_required`: over HTTP/2; open the stream over HTTP/1.1."),
        (status = 426, description = "`stream.websocket_required`: the connection cannot be upgraded (HTTP/1.0).")))]
async fn stream(
    State(state): State<AppState>,
    Authenticated(actor): Authenticated,
    ApiQuery(query): ApiQuery<StreamQuery>,
    headers: HeaderMap,
    ws: Result<WebSocketUpgrade, WebSocketUpgradeRejection>,
) -> Result<Response, ApiError> {
    // axum's own rejection is plain text; every error of the API is problem+json.
    let ws = ws.map_err(|rejection| {
        ApiError::new(
            rejection.status(),
            "stream.websocket_required",
            "Open the stream as a WebSocket: an HTTP/1.1 GET with `Connection: Upgrade`, \
             `Upgrade: websocket`, `Sec-WebSocket-Version: 13` and a `Sec-WebSocket-Key`.",
        )
    })?;
    // Browsers send cookies on cross-site WebSocket handshakes: only our own pages
    // may open the stream with a cookie (clients without an Origin are not browsers).
    if let Some(origin) = headers.get(header::ORIGIN).and_then(|o| o.to_str().ok())
        && !same_origin(origin, &state.settings.public_url)
    {
        return Err(ApiError::forbidden(
            "stream.foreign_origin",
            "the stream only accepts connections from Cordée's own pages",
        ));
    }
    let since = query.since;
    Ok(ws
        .read_buffer_size(4 * 1024)
        .write_buffer_size(4 * 1024)
        .max_message_size(64 * 1024)
        .on_upgrade(move |socket| connection(socket, state, actor, since)))
}

fn same_origin(origin: &str, public_url: &str) -> bool {
    let base = public_url.trim_end_matches('/');
    let host_part = |u: &str| u.splitn(4, '/').take(3).collect::<Vec<_>>().join("/");
    origin.trim_end_matches('/') == host_part(base)
}

/// One frame, rendered once per event whoever receives it.
pub fn render(event: &StreamEvent) -> String {
    let conversation_id = event.conversation_id().map(|c| c.to_string());
    let data = match &event.kind {
        StreamKind::MessageCreated(m)
        | StreamKind::MessageUpdated(m)
        | StreamKind::MessageDeleted(m) => {
            serde_json::to_value(MessageOut::from(m)).unwrap_or_default()
        }
        StreamKind::Receipt {
            account_id,
            up_to_seq,
        } => serde_json::json!({
            "conversation_id": conversation_id,
            "account_id": account_id.to_string(),
            "up_to_seq": up_to_seq,
        }),
        StreamKind::ConversationUpdated => {
            serde_json::json!({ "conversation_id": conversation_id })
        }
        StreamKind::Notification(n) => {
            serde_json::to_value(NotificationOut::from(n.clone())).unwrap_or_default()
        }
        StreamKind::Account { payload, .. } => payload.clone(),
    };
    serde_json::json!({ "type": event.kind.name(), "cursor": event.cursor, "data": data })
        .to_string()
}

fn control(kind: &str, cursor: i64) -> WsMessage {
    WsMessage::Text(Utf8Bytes::from(
        serde_json::json!({ "type": kind, "cursor": cursor }).to_string(),
    ))
}

async fn connection(socket: WebSocket, state: AppState, actor: Actor, since: Option<i64>) {
    let mut registration = state
        .hub
        .register(actor.account_id, actor.session_id, actor.group());
    let _counted = OpenStream::counted();
    let (mut sink, mut incoming) = socket.split();
    let mut closing = state.closing.clone();
    let mut reads = reads::Reads::default();
    let mut last = match since {
        Some(c) => c.max(0),
        None => state.store.stream_head().await.unwrap_or(0),
    };
    // Backlog, page by page, in cursor order.
    loop {
        let page = match state
            .store
            .stream_since(&actor, last, BACKLOG_PAGE, state.now())
            .await
        {
            Ok(p) => p,
            Err(e) => {
                tracing::error!(error = %e, "stream backlog failed");
                let _ = sink.send(control("resync", last)).await;
                return;
            }
        };
        let full = page.len() as i64 == BACKLOG_PAGE;
        let records: Vec<_> = page
            .iter()
            .filter_map(|e| reads.due(&actor, e.conversation_id(), e.patient_id(), state.now()))
            .collect();
        if !records.is_empty() && !audited(&state, records).await {
            let _ = sink.send(control("resync", last)).await;
            return;
        }
        for event in &page {
            if sink
                .send(WsMessage::Text(Utf8Bytes::from(render(event))))
                .await
                .is_err()
            {
                return;
            }
            last = event.cursor;
        }
        if !full {
            break;
        }
    }
    if sink.send(control("ready", last)).await.is_err() {
        return;
    }
    let mut heartbeat =
        tokio::time::interval(Duration::from_secs(state.settings.stream_heartbeat_secs));
    heartbeat.tick().await;
    let mut waiting_for_pong = false;
    loop {
        tokio::select! {
            frame = registration.rx.recv() => match frame {
                Some(_) if registration.ended.load(Ordering::SeqCst) => {
                    let _ = sink.send(control("session.ended", last)).await;
                    let _ = sink.close().await;
                    return;
                }
                Some(first) => {
                    // Write whatever is queued, then flush once: one syscall for a
                    // burst instead of one per message.
                    let mut next = Some(first);
                    let mut written = 0;
                    while let Some(frame) = next.take() {
                        if frame.cursor > last {
                            if let Some(record) = reads.due(&actor, frame.conversation_id, frame.patient_id, state.now())
                                && !audited(&state, vec![record]).await
                            {
                                let _ = sink.send(control("resync", last)).await;
                                return;
                            }
                            if sink.feed(WsMessage::Text(Utf8Bytes::from(frame.json.as_ref()))).await.is_err() {
                                return;
                            }
                            last = frame.cursor;
                            written += 1;
                        }
                        if written < FLUSH_EVERY {
                            next = registration.rx.try_recv().ok();
                        }
                    }
                    if sink.flush().await.is_err() {
                        return;
                    }
                }
                None => {
                    if registration.ended.load(Ordering::SeqCst) {
                        let _ = sink.send(control("session.ended", last)).await;
                    } else if registration.cut_off.load(Ordering::SeqCst) {
                        let _ = sink.send(control("resync", last)).await;
                    }
                    let _ = sink.close().await;
                    return;
                }
            },
            message = incoming.next() => match message {
                Some(Ok(WsMessage::Pong(_))) => waiting_for_pong = false,
                Some(Ok(WsMessage::Close(_))) | None | Some(Err(_)) => return,
                Some(Ok(_)) => {}
            },
            _ = heartbeat.tick() => {
                if !session_still_open(&state, &actor).await {
                    let _ = sink.send(control("session.ended", last)).await;
                    let _ = sink.close().await;
                    return;
                }
                if waiting_for_pong {
                    tracing::debug!(account = %actor.account_id, "stream heartbeat missed; closing");
                    return;
                }
                if sink.send(WsMessage::Ping(Default::default())).await.is_err() {
                    return;
                }
                waiting_for_pong = true;
            },
            _ = closing.changed() => {
                let _ = sink.send(control("resync", last)).await;
                let _ = sink.close().await;
                return;
            }
        }
    }
}

/// Counts open streams in the `cordee_stream_connections` gauge while it lives.
struct OpenStream;

impl OpenStream {
    fn counted() -> OpenStream {
        metrics::gauge!("cordee_stream_connections").increment(1.0);
        OpenStream
    }
}

impl Drop for OpenStream {
    fn drop(&mut self) {
        metrics::gauge!("cordee_stream_connections").decrement(1.0);
    }
}

/// Appends the read records due before a delivery; false (deliver nothing) when the
/// audit log cannot be written: no read of patient data without its record.
async fn audited(state: &AppState, records: Vec<cordee_pathway::audit::AuditEvent>) -> bool {
    match state.store.audit_all(records).await {
        Ok(_) => true,
        Err(e) => {
            tracing::error!(error = %e, "stream read not audited; closing");
            false
        }
    }
}

/// A revoked, expired or idle session ends its streams too; an open stream counts as
/// use of the session (it is touched like a request would).
async fn session_still_open(state: &AppState, actor: &Actor) -> bool {
    let Some(id) = actor.session_id else {
        return true;
    };
    let now = state.now();
    match state.store.session(id).await {
        Ok(session) => match session.liveness(crate::auth::session::policy(state), now) {
            Liveness::Active => {
                if session.needs_touch(now) {
                    let _ = state.store.touch_session(id, now).await;
                }
                true
            }
            _ => false,
        },
        Err(_) => false,
    }
}
