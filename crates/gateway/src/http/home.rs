//! `/`: a plain page with a login link per provider — and, in demo mode, one per
//! sandbox persona, landing on `/v1/me` — so that a newcomer sees something useful.

use axum::extract::State;
use axum::response::Html;
use openidconnect::url::form_urlencoded;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::http::page::{escape, html};
use crate::sandbox::personas::{PERSONAS, SandboxIdp};
use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(home))
}

fn login_link(provider: &str, hint: Option<&str>) -> String {
    let mut q = form_urlencoded::Serializer::new(String::new());
    q.append_pair("provider", provider);
    if let Some(h) = hint {
        q.append_pair("login_hint", h);
    }
    q.append_pair("redirect_to", "/v1/me");
    format!("/v1/auth/login?{}", q.finish())
}

/// Home page (HTML): login links.
#[utoipa::path(get, path = "/", tag = "auth", security(()),
    responses((status = 200, description = "HTML page with login links", content_type = "text/html")))]
async fn home(State(state): State<AppState>) -> Html<String> {
    let mut body = String::from(
        "<p>Secure coordination for the health professionals of a CPTS.</p>\n<h2>Log in</h2>\n<ul>\n",
    );
    for p in state.auth.providers.iter() {
        body.push_str(&format!(
            "<li><a href=\"{}\">{}</a></li>\n",
            escape(&login_link(&p.id, None)),
            escape(&p.name)
        ));
    }
    body.push_str("</ul>\n");
    if state.sandbox.is_some() {
        body.push_str("<h2>Demo personas (sandbox)</h2>\n<p>Demo mode: do not put real patients here.</p>\n<ul>\n");
        for p in PERSONAS {
            let provider = match p.idp {
                SandboxIdp::Psc => "psc-sandbox",
                SandboxIdp::Staff => "staff-sandbox",
            };
            body.push_str(&format!(
                "<li><a href=\"{}\"><strong>{}</strong></a> — {} {}, {}</li>\n",
                escape(&login_link(provider, Some(p.hint))),
                escape(p.hint),
                escape(p.given_name),
                escape(p.family_name),
                escape(p.who)
            ));
        }
        body.push_str("</ul>\n");
    }
    body.push_str("<p>After login: <a href=\"/v1/me\">/v1/me</a> shows who you are; the API is described at <a href=\"/v1/openapi.json\">/v1/openapi.json</a>.</p>");
    html("Cordée", &body)
}
