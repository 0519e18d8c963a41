//! The web client: a static HTML shell and ES modules that call the same `/v1` API as
//! any other client. Everything is compiled into the binary (`assets.rs`), so
//! `cargo run` from a fresh clone serves it with no build step and nothing is fetched
//! from another host at run time.
//!
//! Asset URLs carry a build id (a hash of every asset) so that browsers may cache
//! them for a year (`immutable`); the shell is never cached, so a new binary is
//! picked up at the next load.

mod assets;

use std::sync::OnceLock;

use axum::extract::Path;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use tower_http::compression::CompressionLayer;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::error::ApiError;
use crate::state::AppState;

const IMMUTABLE: &str = "public, max-age=31536000, immutable";

/// The shell is documented in the OpenAPI document (it is where a person starts);
/// the assets are not: their names change with every build.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(shell))
        .route("/assets/{build}/{*path}", get(asset))
        // The client's own files only: they hold no secret, so compressing them
        // cannot leak one (unlike API answers over TLS), and a phone on 4G loads
        // a third of the bytes.
        .layer(CompressionLayer::new().gzip(true))
}

/// The Content-Security-Policy of every response: only this origin's scripts,
/// styles, images (and `blob:` for decrypted attachments), and the stream's WebSocket.
pub fn content_security_policy(public_url: &str) -> String {
    let ws = public_url
        .replacen("https://", "wss://", 1)
        .replacen("http://", "ws://", 1);
    let ws = ws.trim_end_matches('/');
    format!(
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' blob: data:; \
         connect-src 'self' {ws}; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; \
         form-action 'self'"
    )
}

/// The build id: the first 12 hex digits of a SHA-256 over every asset's path and bytes.
pub fn build_id() -> &'static str {
    static ID: OnceLock<String> = OnceLock::new();
    ID.get_or_init(|| {
        let mut ctx = ring::digest::Context::new(&ring::digest::SHA256);
        for a in assets::ASSETS {
            ctx.update(a.path.as_bytes());
            ctx.update(&[0]);
            ctx.update(a.bytes);
        }
        let digest = hex::encode(ctx.finish());
        digest.chars().take(12).collect()
    })
}

fn shell_html() -> &'static str {
    static HTML: OnceLock<String> = OnceLock::new();
    HTML.get_or_init(|| assets::SHELL.replace("{build}", build_id()))
}

/// The web client: an HTML shell that loads the client's modules (in French).
#[utoipa::path(get, path = "/", tag = "auth", security(()),
    responses((status = 200, description = "The web client (HTML)", content_type = "text/html")))]
async fn shell() -> Response {
    (
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/html; charset=utf-8"),
            ),
            (header::CACHE_CONTROL, HeaderValue::from_static("no-store")),
        ],
        shell_html(),
    )
        .into_response()
}

async fn asset(Path((build, path)): Path<(String, String)>) -> Result<Response, ApiError> {
    // An old build id names content this binary no longer has: better a 404 than
    // new bytes cached forever under the old name.
    if build != build_id() {
        return Err(ApiError::not_found("route.not_found"));
    }
    let asset = assets::find(&path).ok_or_else(|| ApiError::not_found("route.not_found"))?;
    Ok((
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static(asset.content_type),
            ),
            (header::CACHE_CONTROL, HeaderValue::from_static(IMMUTABLE)),
        ],
        asset.bytes,
    )
        .into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_shell_names_its_assets_with_the_build_id() {
        let html = shell_html();
        assert!(!html.contains("{build}"));
        assert!(html.contains(&format!("/assets/{}/app.js", build_id())));
        assert!(assets::find("app.js").is_some());
    }

    #[test]
    fn every_asset_the_shell_names_exists() {
        for a in assets::ASSETS {
            assert!(!a.bytes.is_empty(), "{}", a.path);
        }
    }

    #[test]
    fn the_policy_allows_the_stream_origin_only() {
        let csp = content_security_policy("https://cpts.example/");
        assert!(csp.contains("connect-src 'self' wss://cpts.example;"));
        assert!(csp.contains("script-src 'self';"));
        assert!(!csp.contains("unsafe"));
    }
}
