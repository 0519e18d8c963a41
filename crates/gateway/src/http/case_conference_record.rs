//! `/v1/case-conferences/{id}/record` and `…/addenda`: the validated record with its
//! hash, as JSON or as a printable French page, and the corrections (addenda)
//! chained to it. A validated record is never edited: a correction is a new addendum.

use axum::Json;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use cordee_pathway::case_conference::addendum::{Addendum, RecordView};
use cordee_pathway::case_conference::record::Record;
use cordee_pathway::ids::{CaseConferenceId, CaseId};
use serde::{Deserialize, Serialize};
use utoipa::openapi::schema::Object;
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::case_conference_render::html;
use super::schemas;
use super::wire::ts;
use crate::auth::Authenticated;
use crate::clock::Now;
use crate::error::{ApiError, Problem};
use crate::extract::{ApiJson, ApiPath, ApiQuery};
use crate::openapi::schemas as doc;
use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(record))
        .routes(routes!(list_addenda, add_addendum))
}

#[derive(Serialize, ToSchema)]
pub struct AddendumOut {
    #[schema(format = Uuid)]
    pub id: String,
    #[schema(format = Uuid)]
    pub conference_id: String,
    /// 1 for the first addendum, in chain order.
    pub position: i64,
    /// The case it corrects; `null` for a correction to the conference itself.
    #[schema(format = Uuid)]
    pub case_id: Option<String>,
    #[schema(format = Uuid)]
    pub patient_id: Option<String>,
    #[schema(format = Uuid)]
    pub author_id: String,
    pub author_name: String,
    #[schema(format = DateTime)]
    pub created_at: String,
    /// `null` once the patient it concerns was erased.
    pub text: Option<String>,
    /// The `rcp` entry the correction became in the patient's file.
    #[schema(format = Uuid)]
    pub entry_id: Option<String>,
    /// The record's hash for the first addendum, the previous addendum's after.
    pub previous_hash: String,
    /// SHA-256 (lowercase hex) of `canonical`.
    pub hash: String,
    /// The compact JSON (format `cordee.case_conference.addendum/1`) that hashes to
    /// `hash`; it holds `previous_hash`, which chains it. `null` once erased.
    pub canonical: Option<String>,
}

impl From<Addendum> for AddendumOut {
    fn from(a: Addendum) -> Self {
        let canonical = a
            .canonical()
            .and_then(|c| c.bytes().ok())
            .and_then(|b| String::from_utf8(b).ok());
        AddendumOut {
            id: a.id.to_string(),
            conference_id: a.conference_id.to_string(),
            position: a.position,
            case_id: a.case_id.map(|c| c.to_string()),
            patient_id: a.patient_id.map(|p| p.to_string()),
            author_id: a.author_id.to_string(),
            author_name: a.author_name,
            created_at: ts(a.created_at),
            text: a.text,
            entry_id: a.entry_id,
            previous_hash: a.previous_hash,
            hash: a.hash,
            canonical,
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct RecordOut {
    /// The canonical record (fixed shape, format `cordee.case_conference.record/1`):
    /// its compact JSON serialisation, fields in this order, hashes to `hash`.
    #[schema(value_type = Object)]
    pub record: serde_json::Value,
    /// The record's compact JSON, exactly the bytes that were hashed.
    pub canonical: String,
    /// SHA-256 (lowercase hex) kept at validation.
    pub hash: String,
    pub algorithm: String,
    /// The corrections, in chain order: each one's `previous_hash` is the hash
    /// before it (the record's for the first).
    pub addenda: Vec<AddendumOut>,
    /// The last hash of the chain: the last addendum's, or the record's.
    pub chain_head: String,
}

fn record_out(view: RecordView) -> Result<RecordOut, ApiError> {
    let chain_head = view.head().to_string();
    let RecordView {
        record,
        hash,
        addenda,
    } = view;
    Ok(RecordOut {
        canonical: canonical_text(&record)?,
        record: serde_json::to_value(&record)
            .map_err(|e| ApiError::internal(anyhow::Error::new(e)))?,
        hash,
        algorithm: "sha256".into(),
        addenda: addenda.into_iter().map(Into::into).collect(),
        chain_head,
    })
}

fn canonical_text(record: &Record) -> Result<String, ApiError> {
    String::from_utf8(record.canonical()?).map_err(|e| ApiError::internal(anyhow::Error::new(e)))
}

fn format_param() -> Object {
    schemas::words(
        &["json", "html"],
        "`json` (default): the record, its hash and addenda; `html`: a printable page in French (print or save as PDF from the browser)",
    )
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct RecordQuery {
    #[param(schema_with = format_param)]
    pub format: Option<String>,
}

/// The validated record with its hash and addenda (participants and managers;
/// audited per patient). `format=html` gives a printable page. A correction is a
/// new addendum, never an edit.
#[utoipa::path(get, path = "/v1/case-conferences/{id}/record", tag = "case conferences",
    params(("id" = uuid::Uuid, Path), RecordQuery),
    responses((status = 200, description = "`format=json` (default) or `html`",
            content((RecordOut = "application/json"), (String = "text/html"))),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json", description = "`case_conference.not_found`"),
        (status = 409, body = Problem, content_type = "application/problem+json", description = "`case_conference.not_validated`"),
        (status = 422, body = Problem, content_type = "application/problem+json", description = "`case_conference.invalid_format`")))]
async fn record(
    State(state): State<AppState>,
    Now(now): Now,
    Authenticated(actor): Authenticated,
    ApiPath(id): ApiPath<CaseConferenceId>,
    ApiQuery(q): ApiQuery<RecordQuery>,
) -> Result<Response, ApiError> {
    // Checked before anything is read, so a bad request leaves no audit record.
    let as_html = match q.format.as_deref() {
        None | Some("json") => false,
        Some("html") => true,
        Some(_) => {
            return Err(ApiError::unprocessable(
                "case_conference.invalid_format",
                "format must be json or html",
            ));
        }
    };
    let view = state.store.case_conference_record(&actor, id, now).await?;
    Ok(if as_html {
        let page = html(&view, now);
        ([(header::CONTENT_TYPE, "text/html; charset=utf-8")], page).into_response()
    } else {
        Json(record_out(view)?).into_response()
    })
}

#[derive(Serialize, ToSchema)]
pub struct AddendumList {
    pub items: Vec<AddendumOut>,
}

/// The addenda of a validated record, in chain order (who may read the record;
/// audited like it).
#[utoipa::path(get, path = "/v1/case-conferences/{id}/addenda", tag = "case conferences", params(("id" = uuid::Uuid, Path)),
    responses((status = 200, body = AddendumList),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json", description = "`case_conference.not_found`"),
        (status = 409, body = Problem, content_type = "application/problem+json", description = "`case_conference.not_validated`")))]
async fn list_addenda(
    State(state): State<AppState>,
    Now(now): Now,
    Authenticated(actor): Authenticated,
    ApiPath(id): ApiPath<CaseConferenceId>,
) -> Result<Json<AddendumList>, ApiError> {
    let items = state.store.case_conference_addenda(&actor, id, now).await?;
    Ok(Json(AddendumList {
        items: items.into_iter().map(Into::into).collect(),
    }))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AddendumBody {
    #[schema(value_type = doc::AddendumText)]
    pub text: String,
    /// The case it corrects (it then lands in the patient's file as an `rcp`
    /// entry); absent or `null` for a correction to the conference itself.
    #[serde(default)]
    #[schema(value_type = Option<uuid::Uuid>)]
    pub case_id: Option<String>,
}

/// Add a correction to a validated record: a new addendum, hashed over the previous
/// hash (the record's first), sealed, audited. About a case: a health professional
/// who chaired or attended, and the correction lands in the patient's file as an
/// `rcp` entry. About the conference: also its creator, coordinators and admins.
#[utoipa::path(post, path = "/v1/case-conferences/{id}/addenda", tag = "case conferences", params(("id" = uuid::Uuid, Path)), request_body = AddendumBody,
    responses((status = 201, body = AddendumOut),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json", description = "`case_conference.addendum_forbidden`"),
        (status = 404, body = Problem, content_type = "application/problem+json", description = "`case_conference.not_found`"),
        (status = 409, body = Problem, content_type = "application/problem+json", description = "`case_conference.not_validated`"),
        (status = 410, body = Problem, content_type = "application/problem+json", description = "`patient.erased`: the case's patient was erased"),
        (status = 422, body = Problem, content_type = "application/problem+json", description = "`case_conference.invalid_addendum`, `case_conference.unknown_case`, `request.invalid_field`")))]
async fn add_addendum(
    State(state): State<AppState>,
    Now(now): Now,
    Authenticated(actor): Authenticated,
    ApiPath(id): ApiPath<CaseConferenceId>,
    ApiJson(body): ApiJson<AddendumBody>,
) -> Result<(StatusCode, Json<AddendumOut>), ApiError> {
    let case = body
        .case_id
        .as_deref()
        .map(|c| {
            CaseId::parse(c).ok_or_else(|| {
                ApiError::unprocessable("request.invalid_field", "case_id must be a case id")
                    .with_extra(serde_json::json!({ "field": "case_id" }))
            })
        })
        .transpose()?;
    let added = state
        .store
        .add_case_conference_addendum(&actor, id, case, &body.text, now)
        .await?;
    Ok((StatusCode::CREATED, Json(added.into())))
}
