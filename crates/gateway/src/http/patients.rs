//! Patients: create, find, read, correct, erase.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use cordee_pathway::Millis;
use cordee_pathway::care_team::TeamRole;
use cordee_pathway::ids::PatientId;
use cordee_pathway::patient::{
    Identity as PatientIdentity, IdentityInput, IdentityStatus, PatientQuery, Sex,
};
use cordee_pathway::store::{NewPatient, PatientView};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::wire::{PageQuery, parse_cursor, parse_enum, ts};
use crate::auth::Authenticated;
use crate::clock::Now;
use crate::error::ApiError;
use crate::extract::{ApiJson, ApiPath, ApiQuery};
use crate::openapi::schemas;
use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create, list))
        .routes(routes!(search))
        .routes(routes!(get_one, update, erase))
}

/// INS identity traits and status of a new patient. The creator joins the care team.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreatePatient {
    /// Matricule INS; required for `recuperee` and `qualifiee`.
    #[schema(value_type = Option<schemas::InsMatricule>)]
    pub ins_matricule: Option<String>,
    /// OID of the matricule, e.g. `1.2.250.1.213.1.4.8` (NIR).
    #[schema(value_type = Option<schemas::InsOid>)]
    pub ins_oid: Option<String>,
    #[schema(value_type = schemas::PersonName)]
    pub birth_name: String,
    /// All first names, space-separated, as on the INS.
    #[schema(value_type = schemas::PersonName)]
    pub first_names: String,
    #[schema(value_type = Option<schemas::OptionalPersonName>)]
    pub used_name: Option<String>,
    #[schema(value_type = schemas::BirthDate)]
    pub birth_date: String,
    #[schema(value_type = schemas::Sex, example = "F")]
    pub sex: Sex,
    #[schema(value_type = Option<schemas::BirthPlaceCode>)]
    pub birth_place_code: Option<String>,
    #[schema(value_type = schemas::IdentityStatus)]
    pub identity_status: String,
    /// The creator's role on the team (default from their profession); it must fit
    /// their profession (422 `care_team.role_mismatch`).
    #[schema(value_type = Option<schemas::TeamRole>)]
    pub creator_role: Option<String>,
}

crate::ruled!(
    /// A new patient, with the rule between the INS traits and the status.
    NewPatientBody: CreatePatient => schemas::ins_rules()
);

/// The corrected identity of a patient: every trait and the status, as at creation.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdatePatient {
    /// Matricule INS; required for `recuperee` and `qualifiee`.
    #[schema(value_type = Option<schemas::InsMatricule>)]
    pub ins_matricule: Option<String>,
    #[schema(value_type = Option<schemas::InsOid>)]
    pub ins_oid: Option<String>,
    #[schema(value_type = schemas::PersonName)]
    pub birth_name: String,
    #[schema(value_type = schemas::PersonName)]
    pub first_names: String,
    #[schema(value_type = Option<schemas::OptionalPersonName>)]
    pub used_name: Option<String>,
    #[schema(value_type = schemas::BirthDate)]
    pub birth_date: String,
    #[schema(value_type = schemas::Sex, example = "F")]
    pub sex: Sex,
    #[schema(value_type = Option<schemas::BirthPlaceCode>)]
    pub birth_place_code: Option<String>,
    #[schema(value_type = schemas::IdentityStatus)]
    pub identity_status: String,
}

crate::ruled!(
    /// A corrected identity, with the rule between the INS traits and the status.
    PatientIdentityBody: UpdatePatient => schemas::ins_rules()
);

impl UpdatePatient {
    /// The traits checked against the INS rules for the status they claim.
    fn validated(self, now: Millis) -> Result<(PatientIdentity, IdentityStatus), ApiError> {
        let status = parse_enum(
            "identity_status",
            &self.identity_status,
            IdentityStatus::parse,
            IdentityStatus::NAMES,
        )?;
        let identity = IdentityInput {
            ins_matricule: self.ins_matricule,
            ins_oid: self.ins_oid,
            birth_name: self.birth_name,
            first_names: self.first_names,
            used_name: self.used_name,
            birth_date: self.birth_date,
            sex: self.sex,
            birth_place_code: self.birth_place_code,
        }
        .validate(status, now)?;
        Ok((identity, status))
    }
}

#[derive(Serialize, ToSchema)]
pub struct Identity {
    /// The 15 characters of the matricule, uppercase, without spaces.
    pub ins_matricule: Option<String>,
    pub ins_oid: Option<String>,
    pub birth_name: String,
    pub first_names: String,
    pub used_name: Option<String>,
    #[schema(format = Date)]
    pub birth_date: String,
    #[schema(value_type = schemas::Sex)]
    pub sex: Sex,
    pub birth_place_code: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct PatientOut {
    #[schema(value_type = uuid::Uuid)]
    pub id: PatientId,
    pub display_name: String,
    #[serde(flatten)]
    pub identity: Identity,
    #[schema(value_type = schemas::IdentityStatus)]
    pub identity_status: String,
    /// Another record may describe the same person; identitovigilance should check.
    pub possible_duplicate: bool,
    /// The account that created the file.
    #[schema(value_type = uuid::Uuid)]
    pub created_by: String,
    #[schema(format = DateTime)]
    pub created_at: String,
}

impl From<PatientView> for PatientOut {
    fn from(v: PatientView) -> Self {
        PatientOut {
            id: v.id,
            display_name: v.identity.display_name(),
            identity: Identity {
                ins_matricule: v.identity.ins_matricule.map(|m| m.as_str().to_string()),
                ins_oid: v.identity.ins_oid,
                birth_name: v.identity.birth_name,
                first_names: v.identity.first_names,
                used_name: v.identity.used_name,
                birth_date: v.identity.birth_date,
                sex: v.identity.sex,
                birth_place_code: v.identity.birth_place_code,
            },
            identity_status: v.identity_status.as_str().to_string(),
            possible_duplicate: v.possible_duplicate,
            created_by: v.created_by.to_string(),
            created_at: ts(v.created_at),
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct PatientList {
    pub items: Vec<PatientOut>,
    pub next_cursor: Option<String>,
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PatientSearch {
    /// An INS matricule, or a birth name and a birth date (`DUPONT 1950-03-12` or `DUPONT 12/03/1950`).
    #[param(value_type = Option<schemas::PatientQuery>)]
    pub q: Option<String>,
    #[param(value_type = Option<schemas::IdCursor>)]
    pub cursor: Option<String>,
    /// Page size, 1 to 200 (default 50); values outside are brought within.
    pub limit: Option<i64>,
}

/// Create a patient file.
#[utoipa::path(post, path = "/v1/patients", tag = "patients", request_body = NewPatientBody,
    responses((status = 201, body = PatientOut),
        (status = 403, description = "`patient.create_forbidden`: only health professionals and coordinators create patients."),
        (status = 422, description = "`patient.invalid_ins`, `patient.invalid_name`, `patient.invalid_birth_date`, `patient.invalid_birth_place`: a trait is not valid; `care_team.role_mismatch`: `creator_role` does not fit your profession.")))]
async fn create(
    State(state): State<AppState>,
    Now(now): Now,
    Authenticated(actor): Authenticated,
    ApiJson(body): ApiJson<CreatePatient>,
) -> Result<(StatusCode, Json<PatientOut>), ApiError> {
    let creator_role = body
        .creator_role
        .as_deref()
        .map(|r| parse_enum("creator_role", r, TeamRole::parse, TeamRole::NAMES))
        .transpose()?;
    let (identity, status) = UpdatePatient {
        ins_matricule: body.ins_matricule,
        ins_oid: body.ins_oid,
        birth_name: body.birth_name,
        first_names: body.first_names,
        used_name: body.used_name,
        birth_date: body.birth_date,
        sex: body.sex,
        birth_place_code: body.birth_place_code,
        identity_status: body.identity_status,
    }
    .validated(now)?;
    let view = state
        .store
        .create_patient(
            &actor,
            NewPatient {
                identity,
                status,
                creator_role,
            },
            now,
        )
        .await?;
    Ok((StatusCode::CREATED, Json(view.into())))
}

/// Patients you may see (care team or break-glass), newest first; `q` finds exact
/// matches through blind indexes.
#[utoipa::path(get, path = "/v1/patients", tag = "patients", params(PatientSearch),
    responses((status = 200, body = PatientList),
        (status = 400, description = "`request.invalid_cursor`: not a cursor this API returned."),
        (status = 422, description = "`patient.invalid_query`: `q` is neither an INS matricule with a right key nor a name and a date.")))]
async fn list(
    State(state): State<AppState>,
    Now(now): Now,
    Authenticated(actor): Authenticated,
    ApiQuery(query): ApiQuery<PatientSearch>,
) -> Result<Json<PatientList>, ApiError> {
    let q = query
        .q
        .as_deref()
        .filter(|q| !q.trim().is_empty())
        .map(PatientQuery::parse)
        .transpose()?;
    let page = PageQuery {
        cursor: query.cursor,
        limit: query.limit,
    };
    let before = parse_cursor(page.cursor.as_deref(), PatientId::parse)?;
    let limit = page.limit();
    let mut items = state
        .store
        .list_patients(&actor, q.as_ref(), before, limit + 1, now)
        .await?;
    let next_cursor = if items.len() as i64 > limit {
        items.truncate(limit as usize);
        items.last().map(|p| p.id.to_string())
    } else {
        None
    };
    Ok(Json(PatientList {
        items: items.into_iter().map(PatientOut::from).collect(),
        next_cursor,
    }))
}

/// The search of `GET /v1/patients`, its terms in the body: names and birth dates
/// must not travel in URLs, which end up in proxy and browser logs.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PatientSearchBody {
    /// An INS matricule, or a birth name and a birth date (`DUPONT 1950-03-12` or `DUPONT 12/03/1950`); empty or absent lists every patient you may see.
    #[schema(value_type = Option<schemas::PatientQuery>)]
    pub q: Option<String>,
    #[schema(value_type = Option<schemas::IdCursor>)]
    pub cursor: Option<String>,
    /// Page size, 1 to 200 (default 50); values outside are brought within.
    /// A number, as JSON Schema reads `integer` (`50.0` too); serde's `i64` would
    /// refuse `50.0`.
    #[schema(value_type = Option<i64>)]
    pub limit: Option<serde_json::Number>,
}

/// Find patients you may see: the same answer as `GET /v1/patients`, with the search
/// terms in the body.
#[utoipa::path(post, path = "/v1/patients/search", tag = "patients", request_body = PatientSearchBody,
    responses((status = 200, body = PatientList),
        (status = 422, description = "`patient.invalid_query`: neither an INS matricule nor a birth name and a birth date.")))]
async fn search(
    state: State<AppState>,
    now: Now,
    actor: Authenticated,
    ApiJson(body): ApiJson<PatientSearchBody>,
) -> Result<Json<PatientList>, ApiError> {
    let query = PatientSearch {
        q: body.q,
        cursor: body.cursor,
        limit: body.limit.as_ref().map(super::wire::whole).transpose()?,
    };
    list(state, now, actor, ApiQuery(query)).await
}

/// One patient (404 if you may not know them, 410 if erased).
#[utoipa::path(get, path = "/v1/patients/{id}", tag = "patients", params(("id" = uuid::Uuid, Path)),
    responses((status = 200, body = PatientOut),
        (status = 404, description = "`patient.not_found`: no such patient, or you may not see them."),
        (status = 410, description = "`patient.erased`: erased at the end of its retention period.")))]
async fn get_one(
    State(state): State<AppState>,
    Now(now): Now,
    Authenticated(actor): Authenticated,
    ApiPath(id): ApiPath<PatientId>,
) -> Result<Json<PatientOut>, ApiError> {
    Ok(Json(state.store.get_patient(&actor, id, now).await?.into()))
}

/// Correct a patient's identity traits or status (care-team health professionals and
/// coordinator). The duplicate flag is re-evaluated; the change is audited.
#[utoipa::path(put, path = "/v1/patients/{id}", tag = "patients", params(("id" = uuid::Uuid, Path)), request_body = PatientIdentityBody,
    responses((status = 200, body = PatientOut),
        (status = 403, description = "`patient.identity_update_forbidden`: only the care team's health professionals and coordinators correct an identity."),
        (status = 404, description = "`patient.not_found`: no such patient, or you may not see them."),
        (status = 410, description = "`patient.erased`: erased at the end of its retention period."),
        (status = 422, description = "`patient.invalid_ins`, `patient.invalid_name`, `patient.invalid_birth_date`, `patient.invalid_birth_place`: a trait is not valid.")))]
async fn update(
    State(state): State<AppState>,
    Now(now): Now,
    Authenticated(actor): Authenticated,
    ApiPath(id): ApiPath<PatientId>,
    ApiJson(body): ApiJson<UpdatePatient>,
) -> Result<Json<PatientOut>, ApiError> {
    let (identity, status) = body.validated(now)?;
    let view = state
        .store
        .update_identity(&actor, id, identity, status, now)
        .await?;
    Ok(Json(view.into()))
}

/// Erase a patient at the end of retention (CPTS admin): the data key is destroyed.
#[utoipa::path(delete, path = "/v1/patients/{id}", tag = "patients", params(("id" = uuid::Uuid, Path)),
    responses((status = 204, description = "Erased: the data key is destroyed."),
        (status = 403, description = "`patient.erase_forbidden`: only a CPTS admin erases a patient."),
        (status = 404, description = "`patient.not_found`: no such patient."),
        (status = 410, description = "`patient.erased`: already erased.")))]
async fn erase(
    State(state): State<AppState>,
    Now(now): Now,
    Authenticated(actor): Authenticated,
    ApiPath(id): ApiPath<PatientId>,
) -> Result<StatusCode, ApiError> {
    state.store.erase_patient(&actor, id, now).await?;
    Ok(StatusCode::NO_CONTENT)
}
