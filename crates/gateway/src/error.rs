//! `ApiError`: every failure leaves the gateway as `application/problem+json` with a
//! stable `code`. Internal failures are logged with their cause chain and reach the
//! client as a generic sentence — never a stack trace, a SQL text or health data.

use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use cordee_pathway::Error as DomainError;

pub const PROBLEM_JSON: &str = "application/problem+json";

#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: &'static str,
    pub detail: String,
    /// Extra members of the problem object (for example the field that failed).
    pub extra: Option<serde_json::Value>,
    /// Logged, never sent.
    pub source: Option<anyhow::Error>,
}

/// The body of a problem+json response (RFC 9457) with Cordée's `code`.
#[derive(Serialize, utoipa::ToSchema)]
pub struct Problem {
    /// A URN naming the problem kind: `urn:cordee:problem:{code}`.
    #[serde(rename = "type")]
    pub kind: String,
    pub title: String,
    pub status: u16,
    pub detail: String,
    /// Stable machine-readable code, for example `patient.not_found`.
    pub code: String,
    #[serde(flatten, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Object)]
    pub extra: Option<serde_json::Value>,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, detail: impl Into<String>) -> ApiError {
        ApiError {
            status,
            code,
            detail: detail.into(),
            extra: None,
            source: None,
        }
    }

    pub fn with_extra(mut self, extra: serde_json::Value) -> ApiError {
        self.extra = Some(extra);
        self
    }

    pub fn bad_request(code: &'static str, detail: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::BAD_REQUEST, code, detail)
    }

    pub fn unprocessable(code: &'static str, detail: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, code, detail)
    }

    pub fn not_found(code: &'static str) -> ApiError {
        ApiError::new(
            StatusCode::NOT_FOUND,
            code,
            "Nothing is here, or you may not see it.",
        )
    }

    pub fn unauthorized(code: &'static str, detail: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::UNAUTHORIZED, code, detail)
    }

    pub fn forbidden(code: &'static str, detail: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::FORBIDDEN, code, detail)
    }

    pub fn too_large(limit: usize) -> ApiError {
        ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "request.too_large",
            format!("The request body is larger than the limit of {limit} bytes."),
        )
    }

    pub fn internal(source: anyhow::Error) -> ApiError {
        ApiError {
            status: StatusCode::INTERNAL_SERVER_ERROR,
            code: "internal.error",
            detail: "Something went wrong on our side; it has been logged.".into(),
            extra: None,
            source: Some(source),
        }
    }

    pub fn unavailable(code: &'static str, detail: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::SERVICE_UNAVAILABLE, code, detail)
    }

    fn title(&self) -> &'static str {
        self.status.canonical_reason().unwrap_or("Error")
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        if self.status.is_server_error() {
            match &self.source {
                Some(source) => {
                    tracing::error!(code = self.code, error = ?source, "request failed")
                }
                None => tracing::warn!(code = self.code, "request refused"),
            }
        }
        let problem = Problem {
            kind: format!("urn:cordee:problem:{}", self.code),
            title: self.title().to_string(),
            status: self.status.as_u16(),
            detail: self.detail,
            code: self.code.to_string(),
            extra: self.extra,
        };
        let mut response = (self.status, Json(problem)).into_response();
        response
            .headers_mut()
            .insert(header::CONTENT_TYPE, HeaderValue::from_static(PROBLEM_JSON));
        response
    }
}

impl From<DomainError> for ApiError {
    fn from(err: DomainError) -> ApiError {
        match err {
            DomainError::NotFound { what } => ApiError::not_found(not_found_code(what)),
            DomainError::Conflict { code, detail } => {
                ApiError::new(StatusCode::CONFLICT, code, detail)
            }
            DomainError::Invalid { code, detail } => ApiError::unprocessable(code, detail),
            DomainError::Forbidden { code, detail } => ApiError::forbidden(code, detail),
            DomainError::Erased => ApiError::new(
                StatusCode::GONE,
                "patient.erased",
                "This patient's data was erased at the end of its retention period.",
            ),
            DomainError::Database(sqlx::Error::PoolTimedOut) => ApiError {
                source: Some(anyhow::anyhow!("database pool timed out")),
                ..ApiError::unavailable(
                    "internal.database_busy",
                    "The database is busy; retry in a moment.",
                )
            },
            other => ApiError::internal(anyhow::Error::new(other)),
        }
    }
}

/// `what` is a domain noun; the code is `{noun}.not_found` for the nouns clients
/// branch on, so that the list of codes stays closed and documented.
fn not_found_code(what: &str) -> &'static str {
    match what {
        "patient" => "patient.not_found",
        "entry" => "entry.not_found",
        "attachment" => "attachment.not_found",
        "account" => "account.not_found",
        "member" => "care_team.member_not_found",
        "session" => "auth.session_not_found",
        "conversation" => "conversation.not_found",
        "message" => "message.not_found",
        "notification" => "notification.not_found",
        "directory_entry" => "directory.not_found",
        "invitation" => "directory.invitation_not_found",
        "organisation" => "organisation.not_found",
        "organisation_membership" => "organisation.not_member",
        _ => "resource.not_found",
    }
}

/// Fallback for unknown routes.
pub async fn not_found_route() -> ApiError {
    ApiError::new(
        StatusCode::NOT_FOUND,
        "route.not_found",
        "There is no such route.",
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use http_body_util::BodyExt;

    async fn render(err: ApiError) -> (StatusCode, String, serde_json::Value) {
        let response = err.into_response();
        let status = response.status();
        let ctype = response
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_string();
        let body = response.into_body().collect().await.unwrap().to_bytes();
        (status, ctype, serde_json::from_slice(&body).unwrap())
    }

    #[tokio::test]
    async fn domain_errors_map_to_stable_codes() {
        let cases = [
            (DomainError::not_found("patient"), 404, "patient.not_found"),
            (DomainError::not_found("entry"), 404, "entry.not_found"),
            (DomainError::not_found("widget"), 404, "resource.not_found"),
            (
                DomainError::not_found("directory_entry"),
                404,
                "directory.not_found",
            ),
            (
                DomainError::not_found("organisation"),
                404,
                "organisation.not_found",
            ),
            (
                DomainError::not_found("organisation_membership"),
                404,
                "organisation.not_member",
            ),
            (
                DomainError::conflict("care_team.duplicate", "x"),
                409,
                "care_team.duplicate",
            ),
            (
                DomainError::invalid("patient.invalid_ins", "x"),
                422,
                "patient.invalid_ins",
            ),
            (
                DomainError::forbidden("policy.denied", "x"),
                403,
                "policy.denied",
            ),
            (DomainError::Erased, 410, "patient.erased"),
            (
                DomainError::Database(sqlx::Error::PoolTimedOut),
                503,
                "internal.database_busy",
            ),
            (
                DomainError::Database(sqlx::Error::PoolClosed),
                500,
                "internal.error",
            ),
        ];
        for (err, status, code) in cases {
            let (s, ctype, body) = render(ApiError::from(err)).await;
            assert_eq!(s.as_u16(), status, "{code}");
            assert_eq!(ctype, PROBLEM_JSON);
            assert_eq!(body["code"], code);
            assert_eq!(body["status"], status);
            assert_eq!(body["type"], format!("urn:cordee:problem:{code}"));
        }
    }

    #[tokio::test]
    async fn internal_errors_say_nothing_inside() {
        let (_, _, body) = render(ApiError::internal(anyhow::anyhow!(
            "relation \"patients\" violates SECRET_MARKER"
        )))
        .await;
        assert!(!body.to_string().contains("SECRET_MARKER"));
        assert_eq!(body["code"], "internal.error");
    }
}
