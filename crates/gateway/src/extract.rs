//! Extractors whose rejections are problem+json with stable codes.

use axum::extract::rejection::{JsonRejection, PathRejection, QueryRejection};
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::StatusCode;
use axum::http::request::Parts;
use serde::de::DeserializeOwned;

use crate::error::ApiError;

/// `Json<T>` whose errors name the field that failed.
pub struct ApiJson<T>(pub T);

impl<T, S> FromRequest<S> for ApiJson<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        if !json_content_type(req.headers()) {
            return Err(json_rejection(JsonRejection::MissingJsonContentType(
                Default::default(),
            )));
        }
        let bytes = axum::body::Bytes::from_request(req, state)
            .await
            .map_err(|e| json_rejection(JsonRejection::BytesRejection(e)))?;
        // Every body of this API is an object; serde would also read a struct from an
        // array (`[null, null]`), which no client means.
        let first = bytes.iter().find(|b| !b.is_ascii_whitespace());
        if first.is_some_and(|b| *b != b'{')
            && serde_json::from_slice::<serde::de::IgnoredAny>(&bytes).is_ok()
        {
            return Err(ApiError::unprocessable(
                "request.invalid_field",
                "The JSON body must be an object.",
            ));
        }
        match axum::Json::<T>::from_bytes(&bytes) {
            Ok(axum::Json(value)) => Ok(ApiJson(value)),
            Err(rejection) => Err(json_rejection(rejection)),
        }
    }
}

/// `application/json` or any `+json` type, as axum's `Json` accepts.
fn json_content_type(headers: &axum::http::HeaderMap) -> bool {
    let Some(ct) = headers
        .get(axum::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
    else {
        return false;
    };
    let essence = ct
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    essence == "application/json"
        || (essence.starts_with("application/") && essence.ends_with("+json"))
}

fn json_rejection(rejection: JsonRejection) -> ApiError {
    match rejection {
        JsonRejection::JsonDataError(e) => {
            // axum's text reads "Failed to deserialize the JSON body into the target
            // type: field: reason at line L column C"; keep the part after the prefix,
            // which names the field (serde_path_to_error).
            let text = e.body_text();
            let detail = scrub_values(
                text.split_once("target type: ")
                    .map(|(_, rest)| rest)
                    .unwrap_or(&text),
            );
            let field = detail.split_once(": ").map(|(f, _)| f.to_string());
            let err = ApiError::unprocessable(
                "request.invalid_field",
                format!("The JSON body does not have the expected shape: {detail}"),
            );
            match field {
                Some(f) if !f.contains(' ') => err.with_extra(serde_json::json!({ "field": f })),
                _ => err,
            }
        }
        JsonRejection::JsonSyntaxError(e) => ApiError::bad_request(
            "request.malformed_json",
            format!(
                "The body is not valid JSON: {}",
                e.body_text().rsplit(": ").next().unwrap_or("syntax error")
            ),
        ),
        JsonRejection::MissingJsonContentType(_) => ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "request.unsupported_media_type",
            "Send the body as JSON with `Content-Type: application/json`.",
        ),
        JsonRejection::BytesRejection(e) if e.status() == StatusCode::PAYLOAD_TOO_LARGE => {
            ApiError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                "request.too_large",
                "The request body is larger than the limit.",
            )
        }
        other => ApiError::bad_request("request.unreadable_body", other.body_text()),
    }
}

/// Path parameters; an id that does not parse is reported like an unknown id, so
/// that malformed and foreign ids are indistinguishable.
pub struct ApiPath<T>(pub T);

impl<T, S> FromRequestParts<S> for ApiPath<T>
where
    T: DeserializeOwned + Send,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        match axum::extract::Path::<T>::from_request_parts(parts, state).await {
            Ok(axum::extract::Path(value)) => Ok(ApiPath(value)),
            Err(PathRejection::FailedToDeserializePathParams(_)) => {
                Err(ApiError::not_found("resource.not_found"))
            }
            Err(other) => Err(ApiError::internal(anyhow::anyhow!(
                "path extraction: {other}"
            ))),
        }
    }
}

/// Query string parameters with problem+json errors.
pub struct ApiQuery<T>(pub T);

impl<T, S> FromRequestParts<S> for ApiQuery<T>
where
    T: DeserializeOwned + Send,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        match axum::extract::Query::<T>::from_request_parts(parts, state).await {
            Ok(axum::extract::Query(value)) => Ok(ApiQuery(value)),
            Err(QueryRejection::FailedToDeserializeQueryString(e)) => Err(ApiError::bad_request(
                "request.invalid_query",
                format!(
                    "The query string is not valid: {}",
                    scrub_values(&e.body_text())
                ),
            )),
            Err(other) => Err(ApiError::bad_request(
                "request.invalid_query",
                other.body_text(),
            )),
        }
    }
}

/// serde quotes the offending value in its messages (`invalid type: string "DUPONT"`,
/// ``unknown variant `x` ``); a patient's name must not come back in an error, so the
/// quoted values are replaced. Expected values (our own names) stay.
pub fn scrub_values(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut quoted: Option<(char, String)> = None;
    for c in text.chars() {
        match quoted.as_mut() {
            None if c == '"' || c == '`' => quoted = Some((c, String::new())),
            None => out.push(c),
            Some((q, inner)) if c == *q => {
                let before = out.trim_end();
                let ours = ["expected", ",", "one of", "or"]
                    .iter()
                    .any(|w| before.ends_with(w));
                if ours {
                    out.push(*q);
                    out.push_str(inner);
                    out.push(*q);
                } else {
                    out.push('…');
                }
                quoted = None;
            }
            Some((_, inner)) => inner.push(c),
        }
    }
    if quoted.is_some() {
        out.push('…');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoted_values_are_scrubbed_but_expectations_kept() {
        let s = scrub_values("sex: unknown variant `DUPONT`, expected `F`, `M` or `U` at line 1");
        assert!(!s.contains("DUPONT"), "{s}");
        assert!(s.contains("`F`") && s.contains("`U`"), "{s}");
        let s = scrub_values("birth_date: invalid type: string \"Jean\", expected u32");
        assert!(!s.contains("Jean"), "{s}");
    }
}
