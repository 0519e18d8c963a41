//! `/v1/organisations`: the structures of the territory. Made from professionals' PSC
//! activities at login and from the RPPS import; coordinators and admins create,
//! edit and merge them; a professional leaves the ones they no longer work in.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use cordee_pathway::ids::OrganisationId;
use cordee_pathway::organisation::{
    NAME_MAX, Organisation, OrganisationCursor, OrganisationInput, OrganisationKind,
    OrganisationQuery, OrganisationSource,
};
use serde::{Deserialize, Serialize};
use utoipa::openapi::schema::Object;
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::schemas;
use super::wire::{page_of, parse_cursor, ts};
use crate::auth::Authenticated;
use crate::clock::Now;
use crate::error::{ApiError, Problem};
use crate::extract::{ApiJson, ApiPath, ApiQuery};
use crate::openapi::schemas as doc;
use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list, create))
        .routes(routes!(get_one, update))
        .routes(routes!(merge))
        .routes(routes!(leave))
}

fn kind_schema() -> Object {
    schemas::words(
        OrganisationKind::NAMES,
        "What the structure is; from a PSC or RPPS activity, the sector says it (SA33 → officine, SA07/SA08 → cabinet, SA05 → centre_sante, SA01–SA04 → etablissement, others → autre)",
    )
}

fn source_schema() -> Object {
    schemas::words(
        OrganisationSource::NAMES,
        "`psc`: from a professional's activity at login; `rpps`: from the import; `manual`: created by a coordinator",
    )
}

#[derive(Serialize, ToSchema)]
pub struct OrganisationOut {
    #[schema(pattern = "^[0-9a-f-]{36}$")]
    pub id: String,
    #[schema(schema_with = kind_schema)]
    pub kind: String,
    pub name: String,
    #[schema(value_type = Option<doc::Finess>)]
    pub finess: Option<String>,
    #[schema(value_type = Option<doc::Siret>)]
    pub siret: Option<String>,
    /// PSC's and the RPPS's "identifiant technique de la structure".
    pub structure_id: Option<String>,
    #[schema(value_type = Option<doc::CommuneCode>)]
    pub commune_code: Option<String>,
    #[schema(schema_with = source_schema)]
    pub source: String,
    /// Accounts working there (from their PSC activities) who have not left.
    pub member_ids: Vec<String>,
    pub created_at: String,
    pub updated_at: String,
}

impl From<Organisation> for OrganisationOut {
    fn from(o: Organisation) -> Self {
        OrganisationOut {
            id: o.id.to_string(),
            kind: o.kind.as_str().into(),
            name: o.name,
            finess: o.finess.map(|f| f.as_str().into()),
            siret: o.siret.map(|s| s.as_str().into()),
            structure_id: o.structure_id,
            commune_code: o.commune_code.map(|c| c.to_string()),
            source: o.source.as_str().into(),
            member_ids: o.member_ids.iter().map(|m| m.to_string()).collect(),
            created_at: ts(o.created_at),
            updated_at: ts(o.updated_at),
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct OrganisationList {
    pub items: Vec<OrganisationOut>,
    pub next_cursor: Option<String>,
}

fn kind_param() -> Object {
    schemas::words(OrganisationKind::NAMES, "Only this kind")
}

fn member_param() -> Object {
    schemas::words(&["me"], "`me`: only the organisations you belong to")
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct OrganisationSearch {
    /// Words of the name, anywhere in it (accents and case ignored).
    #[param(max_length = 100)]
    pub q: Option<String>,
    #[param(schema_with = kind_param)]
    pub kind: Option<String>,
    #[param(schema_with = member_param)]
    pub member: Option<String>,
    #[param(value_type = Option<doc::OrganisationCursor>)]
    pub cursor: Option<String>,
    /// Page size, 1 to 200 (default 50); values outside are brought within.
    pub limit: Option<i64>,
}

/// The structures of the territory, in name order (merged duplicates left out).
#[utoipa::path(get, path = "/v1/organisations", tag = "organisations", params(OrganisationSearch),
    responses((status = 200, body = OrganisationList),
        (status = 400, body = Problem, content_type = "application/problem+json", description = "A cursor this API did not return"),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json", description = "`organisation.invalid_query`, `organisation.invalid_kind`, `organisation.invalid_member`")))]
async fn list(
    State(state): State<AppState>,
    Authenticated(actor): Authenticated,
    ApiQuery(params): ApiQuery<OrganisationSearch>,
) -> Result<Json<OrganisationList>, ApiError> {
    let limit = params.limit.unwrap_or(50).clamp(1, 200);
    let q = params.q.as_deref().map(str::trim).filter(|q| !q.is_empty());
    if q.is_some_and(|q| q.chars().count() > 100) {
        return Err(invalid(
            "organisation.invalid_query",
            "q",
            "q must be at most 100 characters",
        ));
    }
    let kind = match params.kind.as_deref().filter(|k| !k.is_empty()) {
        None => None,
        Some(k) => Some(OrganisationKind::parse(k).ok_or_else(|| {
            invalid(
                "organisation.invalid_kind",
                "kind",
                &format!(
                    "kind must be one of: {}",
                    OrganisationKind::NAMES.join(", ")
                ),
            )
        })?),
    };
    let member = match params.member.as_deref().filter(|m| !m.is_empty()) {
        None => None,
        Some("me") => Some(actor.account_id),
        Some(_) => {
            return Err(invalid(
                "organisation.invalid_member",
                "member",
                "member takes one value: me",
            ));
        }
    };
    let query = OrganisationQuery {
        q: q.map(str::to_string),
        kind,
        member,
        after: parse_cursor(params.cursor.as_deref(), OrganisationCursor::parse)?,
        limit: limit + 1,
    };
    let rows = state.store.organisations(&query).await?;
    let (items, next_cursor) = page_of(rows, limit, |o| o.cursor().encode());
    Ok(Json(OrganisationList {
        items: items.into_iter().map(OrganisationOut::from).collect(),
        next_cursor,
    }))
}

fn invalid(code: &'static str, field: &str, detail: &str) -> ApiError {
    ApiError::unprocessable(code, detail).with_extra(serde_json::json!({ "field": field }))
}

/// One organisation. The id of a merged duplicate answers with the organisation it
/// was merged into.
#[utoipa::path(get, path = "/v1/organisations/{id}", tag = "organisations", params(("id" = String, Path)),
    responses((status = 200, body = OrganisationOut),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json", description = "`organisation.not_found`")))]
async fn get_one(
    State(state): State<AppState>,
    Authenticated(_actor): Authenticated,
    ApiPath(id): ApiPath<OrganisationId>,
) -> Result<Json<OrganisationOut>, ApiError> {
    Ok(Json(state.store.organisation(id).await?.into()))
}

/// What a coordinator writes about a structure.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OrganisationBody {
    #[schema(schema_with = kind_schema)]
    pub kind: String,
    #[schema(value_type = doc::OrganisationName)]
    pub name: String,
    #[schema(value_type = Option<doc::FinessInput>)]
    pub finess: Option<String>,
    #[schema(value_type = Option<doc::SiretInput>)]
    pub siret: Option<String>,
    #[schema(value_type = Option<doc::CommuneInput>)]
    pub commune_code: Option<String>,
}

impl OrganisationBody {
    fn parse(&self) -> Result<OrganisationInput, ApiError> {
        // The schema's `max_length = 200` above is the domain's limit.
        const _: () = assert!(NAME_MAX == 200);
        Ok(OrganisationInput::parse(
            &self.kind,
            &self.name,
            self.finess.as_deref(),
            self.siret.as_deref(),
            self.commune_code.as_deref(),
        )?)
    }
}

/// Create a structure (coordinators and admins; audited).
#[utoipa::path(post, path = "/v1/organisations", tag = "organisations", request_body = OrganisationBody,
    responses((status = 201, body = OrganisationOut),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json", description = "`organisation.coordinators_only`"),
        (status = 409, body = Problem, content_type = "application/problem+json", description = "`organisation.duplicate`: another organisation has this FINESS"),
        (status = 422, body = Problem, content_type = "application/problem+json", description = "`organisation.invalid_kind`, `organisation.invalid_name`, `organisation.invalid_finess`, `organisation.invalid_siret`, `organisation.invalid_commune`")))]
async fn create(
    State(state): State<AppState>,
    Now(now): Now,
    Authenticated(actor): Authenticated,
    ApiJson(body): ApiJson<OrganisationBody>,
) -> Result<(StatusCode, Json<OrganisationOut>), ApiError> {
    let input = body.parse()?;
    let org = state.store.create_organisation(&actor, input, now).await?;
    Ok((StatusCode::CREATED, Json(org.into())))
}

/// Correct a structure: kind, name, identifiers, commune (coordinators and admins;
/// audited).
#[utoipa::path(put, path = "/v1/organisations/{id}", tag = "organisations", params(("id" = String, Path)), request_body = OrganisationBody,
    responses((status = 200, body = OrganisationOut),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json", description = "`organisation.coordinators_only`"),
        (status = 404, body = Problem, content_type = "application/problem+json", description = "`organisation.not_found`"),
        (status = 409, body = Problem, content_type = "application/problem+json", description = "`organisation.duplicate`"),
        (status = 422, body = Problem, content_type = "application/problem+json")))]
async fn update(
    State(state): State<AppState>,
    Now(now): Now,
    Authenticated(actor): Authenticated,
    ApiPath(id): ApiPath<OrganisationId>,
    ApiJson(body): ApiJson<OrganisationBody>,
) -> Result<Json<OrganisationOut>, ApiError> {
    let input = body.parse()?;
    Ok(Json(
        state
            .store
            .update_organisation(&actor, id, input, now)
            .await?
            .into(),
    ))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MergeBody {
    /// The duplicate to fold into this organisation.
    #[schema(value_type = uuid::Uuid)]
    pub duplicate_id: String,
}

/// Merge a duplicate into this organisation (coordinators and admins; audited): its
/// members, its professionals' activities and the identifiers this one lacks move
/// over; its id then answers with this organisation.
#[utoipa::path(post, path = "/v1/organisations/{id}/merge", tag = "organisations", params(("id" = String, Path)), request_body = MergeBody,
    responses((status = 200, body = OrganisationOut, description = "The organisation that remains"),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json", description = "`organisation.coordinators_only`"),
        (status = 404, body = Problem, content_type = "application/problem+json", description = "`organisation.not_found`"),
        (status = 409, body = Problem, content_type = "application/problem+json", description = "`organisation.already_merged`"),
        (status = 422, body = Problem, content_type = "application/problem+json", description = "`organisation.merge_self`, `request.invalid_field`")))]
async fn merge(
    State(state): State<AppState>,
    Now(now): Now,
    Authenticated(actor): Authenticated,
    ApiPath(id): ApiPath<OrganisationId>,
    ApiJson(body): ApiJson<MergeBody>,
) -> Result<Json<OrganisationOut>, ApiError> {
    let duplicate = OrganisationId::parse(&body.duplicate_id).ok_or_else(|| {
        invalid(
            "request.invalid_field",
            "duplicate_id",
            "duplicate_id must be an organisation id",
        )
    })?;
    Ok(Json(
        state
            .store
            .merge_organisations(&actor, id, duplicate, now)
            .await?
            .into(),
    ))
}

/// Leave an organisation you no longer work in; your next login does not bring you
/// back.
#[utoipa::path(delete, path = "/v1/organisations/{id}/members/me", tag = "organisations", params(("id" = String, Path)),
    responses((status = 204),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json", description = "`organisation.not_member`")))]
async fn leave(
    State(state): State<AppState>,
    Now(now): Now,
    Authenticated(actor): Authenticated,
    ApiPath(id): ApiPath<OrganisationId>,
) -> Result<StatusCode, ApiError> {
    state.store.leave_organisation(&actor, id, now).await?;
    Ok(StatusCode::NO_CONTENT)
}
