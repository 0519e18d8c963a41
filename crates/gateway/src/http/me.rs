//! `/v1/me`: who the caller is, and the choice of the exercice they act under.

use axum::Json;
use axum::extract::State;
use cordee_pathway::account::AccountKind;
use cordee_pathway::profile::mode_label;
use cordee_pathway::session::Session;
use cordee_pathway::store::Account;
use serde::{Deserialize, Serialize};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::auth::CurrentSession;
use crate::error::ApiError;
use crate::extract::ApiJson;
use crate::openapi::schemas;
use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(me))
        .routes(routes!(choose_exercice))
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct CodeLabel {
    pub code: String,
    /// French label; `unknown` for codes Cordée does not know (kept, no rights).
    pub label: String,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct ActivityView {
    pub index: usize,
    /// Mode of practice: L libéral, S salarié, B bénévole.
    pub mode: Option<CodeLabel>,
    pub structure_id: Option<String>,
    pub structure_name: Option<String>,
    pub finess: Option<String>,
    pub siret: Option<String>,
    pub postal_code: Option<String>,
    pub sector: Option<String>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct ExerciceView {
    pub index: usize,
    pub profession: Option<CodeLabel>,
    pub specialty: Option<CodeLabel>,
    pub activities: Vec<ActivityView>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct Me {
    /// The account id (what care teams and conversations refer to).
    #[schema(value_type = uuid::Uuid)]
    pub id: String,
    /// "8" + RPPS or "0" + ADELI; `null` for staff.
    pub national_id: Option<String>,
    pub display_name: String,
    #[schema(value_type = schemas::AccountKind)]
    pub kind: &'static str,
    /// The profession of the exercice active in this session; `null` for staff and
    /// for professionals without a known profession.
    pub profession: Option<CodeLabel>,
    pub specialty: Option<CodeLabel>,
    pub exercices: Vec<ExerciceView>,
    #[schema(value_type = Vec<schemas::CptsRole>)]
    pub cpts_roles: Vec<&'static str>,
    /// Index in `exercices` of the one this session acts under (`null` when none).
    pub active_exercice: Option<usize>,
    /// Index of the active activity within the active exercice.
    pub active_activity: Option<usize>,
}

pub fn view(account: &Account, session: &Session) -> Me {
    let exercices: Vec<ExerciceView> = account
        .profile
        .exercices
        .iter()
        .enumerate()
        .map(|(index, e)| ExerciceView {
            index,
            profession: e.profession.as_ref().map(|p| CodeLabel {
                code: p.as_str().into(),
                label: p.label().into(),
            }),
            specialty: e.specialty.as_ref().map(|s| CodeLabel {
                code: s.code.clone(),
                label: s.label().into(),
            }),
            activities: e
                .activities
                .iter()
                .enumerate()
                .map(|(index, a)| ActivityView {
                    index,
                    mode: a.mode.as_ref().map(|m| CodeLabel {
                        code: m.clone(),
                        label: mode_label(m).into(),
                    }),
                    structure_id: a.structure_id.clone(),
                    structure_name: a.structure_name.clone(),
                    finess: a.finess.clone(),
                    siret: a.siret.clone(),
                    postal_code: a.postal_code.clone(),
                    sector: a.sector.clone(),
                })
                .collect(),
        })
        .collect();
    let health = account.kind == AccountKind::HealthProfessional;
    let active = exercices
        .iter()
        .position(|e| e.index == session.exercice_index)
        .filter(|_| health);
    let active_view = active.and_then(|i| exercices.get(i));
    Me {
        id: account.id.to_string(),
        national_id: account.national_id.as_ref().map(|n| n.to_string()),
        display_name: account.display_name.clone(),
        kind: account.kind.as_str(),
        profession: active_view.and_then(|e| {
            e.profession.as_ref().map(|p| CodeLabel {
                code: p.code.clone(),
                label: p.label.clone(),
            })
        }),
        specialty: active_view.and_then(|e| {
            e.specialty.as_ref().map(|s| CodeLabel {
                code: s.code.clone(),
                label: s.label.clone(),
            })
        }),
        active_activity: active_view
            .filter(|e| !e.activities.is_empty())
            .map(|_| session.activity_index),
        active_exercice: active,
        exercices,
        cpts_roles: account.roles.iter().map(|r| r.as_str()).collect(),
    }
}

/// Who is calling: account, professional identity, active exercice, CPTS roles.
#[utoipa::path(get, path = "/v1/me", tag = "auth",
    responses((status = 200, body = Me)))]
async fn me(current: CurrentSession) -> Json<Me> {
    Json(view(&current.account, &current.session))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ExerciceChoice {
    /// Index in `exercices` from `/v1/me`.
    #[serde(deserialize_with = "super::wire::integral")]
    #[schema(minimum = 0, maximum = 65535)]
    pub index: u16,
    /// Index of the activity within that exercice. Default 0.
    #[serde(default, deserialize_with = "super::wire::integral")]
    #[schema(minimum = 0, maximum = 65535)]
    pub activity: u16,
}

/// Chooses the exercice (and activity) this session acts under; the profession used
/// for every authorisation decision follows it.
#[utoipa::path(put, path = "/v1/me/exercice", tag = "auth", request_body = ExerciceChoice,
    responses((status = 200, body = Me),
        (status = 404, description = "`auth.session_not_found`: the session ended meanwhile."),
        (status = 422, description = "`me.exercice_unknown`: there is no such exercice (or activity) in your professional profile.")))]
async fn choose_exercice(
    State(state): State<AppState>,
    current: CurrentSession,
    ApiJson(choice): ApiJson<ExerciceChoice>,
) -> Result<Json<Me>, ApiError> {
    let account = &current.account;
    let (index, activity) = (usize::from(choice.index), usize::from(choice.activity));
    if account.kind != AccountKind::HealthProfessional
        || account.profile.exercices.is_empty()
        || !account.profile.has_choice(index, activity)
    {
        return Err(ApiError::unprocessable(
            "me.exercice_unknown",
            "There is no such exercice (or activity) in your professional profile.",
        ));
    }
    state
        .store
        .choose_exercice(current.session.id, index, activity)
        .await?;
    // The session's open streams were filtered for its former exercice: they
    // reconnect and receive what the new one may read.
    state
        .hub
        .resync_session(current.account.id, current.session.id);
    let mut session = current.session.clone();
    session.exercice_index = index;
    session.activity_index = activity;
    Ok(Json(view(account, &session)))
}
