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
#[derive(Serialize)]
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
    pub extra: Option<serde_json::Value>,
}

/// Written by hand: the flattened `extra` has members of its own (`field`,
/// `retry_after`) that a derive cannot name.
impl utoipa::PartialSchema for Problem {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        use utoipa::openapi::schema::{ObjectBuilder, Type};
        const CODE: &str = "[a-z][a-z0-9_]*(?:\\.[a-z][a-z0-9_]*)+";
        let string = |description: &str| {
            ObjectBuilder::new()
                .schema_type(Type::String)
                .description(Some(description))
        };
        ObjectBuilder::new()
            .description(Some(
                "An error (RFC 9457 problem details) with Cordée's stable `code`; 5xx say \
                 nothing of what failed inside. Extra members may name the field at fault \
                 (`field`) or when to retry (`retry_after`).",
            ))
            .property(
                "type",
                string("A URN naming the problem kind: `urn:cordee:problem:{code}`.")
                    .pattern(Some(format!("^urn:cordee:problem:{CODE}$"))),
            )
            .required("type")
            .property("title", string("The HTTP status's reason phrase."))
            .required("title")
            .property(
                "status",
                ObjectBuilder::new()
                    .schema_type(Type::Integer)
                    .minimum(Some(400))
                    .maximum(Some(599)),
            )
            .required("status")
            .property("detail", string("What happened, for a person to read."))
            .required("detail")
            .property(
                "code",
                string("Stable machine-readable code, for example `patient.not_found`.")
                    .pattern(Some(format!("^{CODE}$"))),
            )
            .required("code")
            .property("field", string("The request member at fault, when one is."))
            .property(
                "retry_after",
                ObjectBuilder::new()
                    .schema_type(Type::Integer)
                    .minimum(Some(1))
                    .description(Some("Seconds to wait before retrying (rate limits).")),
            )
            .into()
    }
}

impl utoipa::ToSchema for Problem {}

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
            DomainError::NotFound { what } => ApiError::not_found(what.not_found_code()),
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
            DomainError::Busy => ApiError {
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
    use cordee_pathway::error::Noun;
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
            (
                DomainError::not_found(Noun::Patient),
                404,
                "patient.not_found",
            ),
            (DomainError::not_found(Noun::Entry), 404, "entry.not_found"),
            (
                DomainError::not_found(Noun::Member),
                404,
                "care_team.member_not_found",
            ),
            (
                DomainError::not_found(Noun::Record),
                404,
                "resource.not_found",
            ),
            (
                DomainError::not_found(Noun::DirectoryEntry),
                404,
                "directory.not_found",
            ),
            (
                DomainError::not_found(Noun::Organisation),
                404,
                "organisation.not_found",
            ),
            (
                DomainError::not_found(Noun::OrganisationMembership),
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
            (DomainError::Busy, 503, "internal.database_busy"),
            (
                DomainError::Unavailable("the audit writer stopped".into()),
                500,
                "internal.error",
            ),
            // Campaigns (issue 15)
            (
                DomainError::not_found(Noun::Campaign),
                404,
                "campaign.not_found",
            ),
            (
                DomainError::not_found(Noun::CampaignParticipant),
                404,
                "campaign.participant_not_found",
            ),
            (
                DomainError::conflict("campaign.not_participating", "x"),
                409,
                "campaign.not_participating",
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
