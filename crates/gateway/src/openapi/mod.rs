//! What the document says of every route, added once over the document the
//! `#[utoipa::path]` annotations generate, so that a new route tells the truth about
//! the gateway's common layers without repeating them:
//!
//! - every error is `application/problem+json` with the `Problem` schema: an error
//!   response declared without a body, or with `body = Problem`, is rewritten so;
//! - a route is authenticated by a Cordée session unless its annotation says
//!   `security(())` (public) or names schemes of its own: it gets the
//!   `bearer` and `session` schemes, 401 (`auth.required`, `auth.session_expired`),
//!   403 `auth.csrf` on unsafe methods and 503 `internal.database_busy`;
//! - a JSON body brings 400 (malformed JSON), 413, 415 and 422 (`request.invalid_field`),
//!   any other body 413, query parameters 400 (`request.invalid_query`), path
//!   parameters 404 (a malformed id reads as an unknown one), and every route 500;
//! - operation ids are unique (a handler name used twice is qualified by its path);
//! - a route that creates (201 with an `id`) links to the routes under what it
//!   created, so that clients (and schemathesis's stateful phase) can follow.
//!
//! What a route still declares itself: its success responses, the errors of its own
//! (with their codes in the description), and the constraints of its inputs
//! (`schemas` holds the shared ones).

pub mod schemas;

use std::collections::BTreeMap;

use axum::http::StatusCode;
use utoipa::openapi::link::LinkBuilder;
use utoipa::openapi::path::{Operation, ParameterIn, PathItem};
use utoipa::openapi::request_body::RequestBody;
use utoipa::openapi::response::Response;
use utoipa::openapi::schema::{OneOf, OneOfBuilder, Schema, SchemaType, Type};
use utoipa::openapi::security::{
    ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityRequirement, SecurityScheme,
};
use utoipa::openapi::{Components, Content, OpenApi, Ref, RefOr};
use utoipa::{PartialSchema, ToSchema};

use crate::error::{PROBLEM_JSON, Problem};

const BEARER: &str = "bearer";
const SESSION: &str = "session";

/// Errors every authenticated route can answer.
const UNAUTHENTICATED: &str = "`auth.required`: no credentials, or not those of a session; \
     `auth.session_expired`: the session ended (idle, expired, logged out or revoked).";
const CSRF: &str = "`auth.csrf`: authenticated by cookie without the `X-CSRF-Token` header \
     equal to the `cordee_csrf` cookie (bearer tokens are exempt).";
const BUSY: &str = "`internal.database_busy`: retry in a moment.";
const INTERNAL: &str = "`internal.error`: logged on our side; nothing more is said.";
const TOO_LARGE: &str = "`request.too_large`: the body is over the limit.";
const MALFORMED_BODY: &str = "`request.malformed_json`: the body is not JSON; `request.unreadable_body`: it could not be read.";
const MEDIA_TYPE: &str =
    "`request.unsupported_media_type`: send the body with `Content-Type: application/json`.";
const SHAPE: &str = "`request.invalid_field`: the body does not have the documented shape \
     (the problem's `field` names the member, when one is to blame).";
const QUERY: &str = "`request.invalid_query`: a query parameter does not have the documented type.";
const PATH_ID: &str = "`resource.not_found`: a malformed id reads as an unknown one.";

/// Applies the shared truths to the whole document.
pub fn conform(api: &mut OpenApi) {
    let components = api.components.get_or_insert_with(Components::new);
    components
        .schemas
        .insert(Problem::name().into_owned(), Problem::schema());
    for (name, schema) in schemas::all() {
        components.schemas.entry(name).or_insert(schema);
    }
    components.security_schemes.insert(
        BEARER.into(),
        RefOr::T(SecurityScheme::Http(
            HttpBuilder::new()
                .scheme(HttpAuthScheme::Bearer)
                .description(Some(
                    "A token from `POST /v1/auth/tokens`, as `Authorization: Bearer …`.",
                ))
                .build(),
        )),
    );
    components.security_schemes.insert(
        SESSION.into(),
        RefOr::T(SecurityScheme::ApiKey(ApiKey::Cookie(
            ApiKeyValue::with_description(
                "cordee_session",
                "The browser session cookie set at login; unsafe methods also need the \
                 `X-CSRF-Token` header equal to the `cordee_csrf` cookie.",
            ),
        ))),
    );
    for item in api.paths.paths.values_mut() {
        for (method, operation) in operations(item) {
            conform_operation(method, operation);
        }
    }
    unique_operation_ids(api);
    link_created_resources(api);
}

/// Every operation of a path, with its method.
fn operations(item: &mut PathItem) -> Vec<(&'static str, &mut Operation)> {
    [
        ("get", item.get.as_mut()),
        ("put", item.put.as_mut()),
        ("post", item.post.as_mut()),
        ("delete", item.delete.as_mut()),
        ("options", item.options.as_mut()),
        ("head", item.head.as_mut()),
        ("patch", item.patch.as_mut()),
        ("trace", item.trace.as_mut()),
    ]
    .into_iter()
    .filter_map(|(method, op)| op.map(|op| (method, op)))
    .collect()
}

fn conform_operation(method: &str, op: &mut Operation) {
    let authenticated = match &op.security {
        None => true,
        // `security(())`: a public route.
        Some(all) if all.iter().all(|r| *r == SecurityRequirement::default()) => {
            op.security = None;
            false
        }
        // A route with schemes of its own says what they answer.
        Some(_) => false,
    };
    if authenticated {
        op.security = Some(vec![
            SecurityRequirement::new(BEARER, Vec::<String>::new()),
            SecurityRequirement::new(SESSION, Vec::<String>::new()),
        ]);
        add(op, StatusCode::UNAUTHORIZED, UNAUTHENTICATED);
        if !matches!(method, "get" | "head" | "options") {
            add(op, StatusCode::FORBIDDEN, CSRF);
        }
        add(op, StatusCode::SERVICE_UNAVAILABLE, BUSY);
    }
    if let Some(body) = &op.request_body {
        let json = matches!(body, RefOr::T(body) if is_json(body));
        add(op, StatusCode::PAYLOAD_TOO_LARGE, TOO_LARGE);
        if json {
            add(op, StatusCode::BAD_REQUEST, MALFORMED_BODY);
            add(op, StatusCode::UNSUPPORTED_MEDIA_TYPE, MEDIA_TYPE);
            add(op, StatusCode::UNPROCESSABLE_ENTITY, SHAPE);
        }
    }
    for parameter in op.parameters.iter_mut().flatten() {
        if let RefOr::T(parameter) = parameter
            && let Some(schema) = parameter.schema.take()
        {
            parameter.schema = Some(never_null(schema));
        }
    }
    if has_parameter(op, ParameterIn::Query) {
        add(op, StatusCode::BAD_REQUEST, QUERY);
    }
    if has_parameter(op, ParameterIn::Path) {
        add(op, StatusCode::NOT_FOUND, PATH_ID);
    }
    add(op, StatusCode::INTERNAL_SERVER_ERROR, INTERNAL);
    for (status, response) in op.responses.responses.iter_mut() {
        if let RefOr::T(response) = response {
            if is_error(status) {
                as_problem(response);
            }
            if response.description.trim().is_empty() {
                // OpenAPI requires one; the reason phrase says enough for a success.
                response.description = reason(status);
            }
        }
    }
}

fn reason(status: &str) -> String {
    status
        .parse::<u16>()
        .ok()
        .and_then(|s| StatusCode::from_u16(s).ok())
        .and_then(|s| s.canonical_reason())
        .unwrap_or("Error")
        .to_string()
}

/// A parameter is absent or has a value; `Option<T>` in a `value_type` makes utoipa
/// say it may be `null`, which no URL or header can carry.
fn never_null(schema: RefOr<Schema>) -> RefOr<Schema> {
    let is_null = |s: &RefOr<Schema>| matches!(s, RefOr::T(Schema::Object(o)) if o.schema_type == SchemaType::Type(Type::Null));
    match schema {
        RefOr::T(Schema::OneOf(one_of)) if one_of.items.iter().any(is_null) => {
            let mut rest: Vec<RefOr<Schema>> =
                one_of.items.into_iter().filter(|s| !is_null(s)).collect();
            match (rest.pop(), rest.is_empty()) {
                (Some(only), true) => only,
                (Some(last), false) => {
                    rest.push(last);
                    let mut builder = OneOfBuilder::new();
                    for item in rest {
                        builder = builder.item(item);
                    }
                    RefOr::T(builder.into())
                }
                (None, _) => RefOr::T(Schema::OneOf(OneOf::new())),
            }
        }
        RefOr::T(Schema::Object(mut object)) => {
            if let SchemaType::Array(types) = &object.schema_type {
                let kept: Vec<Type> = types
                    .iter()
                    .filter(|t| **t != Type::Null)
                    .cloned()
                    .collect();
                object.schema_type = match kept.as_slice() {
                    [one] => SchemaType::Type(one.clone()),
                    _ => SchemaType::Array(kept),
                };
            }
            RefOr::T(Schema::Object(object))
        }
        other => other,
    }
}

fn is_json(body: &RequestBody) -> bool {
    body.content.keys().any(|c| c == "application/json")
}

fn has_parameter(op: &Operation, location: ParameterIn) -> bool {
    op.parameters.iter().flatten().any(|p| match p {
        RefOr::T(p) => p.parameter_in == location,
        RefOr::Ref(_) => false,
    })
}

fn is_error(status: &str) -> bool {
    status.starts_with('4') || status.starts_with('5') || status == "default"
}

/// Adds a status the common layers answer, or adds their codes to the route's own
/// description of it.
fn add(op: &mut Operation, status: StatusCode, codes: &str) {
    let key = status.as_u16().to_string();
    match op.responses.responses.get_mut(&key) {
        Some(RefOr::T(response)) => {
            if !response.description.contains(codes) {
                response.description = if response.description.trim().is_empty() {
                    codes.to_string()
                } else {
                    format!("{} {codes}", response.description.trim_end())
                };
            }
        }
        Some(RefOr::Ref(_)) => {}
        None => {
            op.responses
                .responses
                .insert(key, RefOr::T(Response::new(codes)));
        }
    }
}

/// An error answered by `ApiError` is problem+json. A route that documents another
/// body for an error (the sandbox's OAuth errors) keeps it.
fn as_problem(response: &mut Response) {
    let problem_only = response.content.values().all(|c| match c {
        RefOr::T(c) => is_problem_ref(c),
        RefOr::Ref(_) => false,
    });
    if problem_only {
        response.content.clear();
        response.content.insert(
            PROBLEM_JSON.into(),
            RefOr::T(Content::new(Some(Ref::from_schema_name(Problem::name())))),
        );
    }
}

fn is_problem_ref(content: &Content) -> bool {
    match &content.schema {
        None => true,
        Some(RefOr::Ref(r)) => {
            r.ref_location == Ref::from_schema_name(Problem::name()).ref_location
        }
        Some(RefOr::T(_)) => false,
    }
}

/// Handler names repeat across modules (`list`, `create`…); a repeated one is
/// qualified by the words of its path, so that generated clients get distinct methods.
fn unique_operation_ids(api: &mut OpenApi) {
    let mut seen: BTreeMap<String, usize> = BTreeMap::new();
    for item in api.paths.paths.values_mut() {
        for (_, op) in operations(item) {
            if let Some(id) = &op.operation_id {
                *seen.entry(id.clone()).or_default() += 1;
            }
        }
    }
    let mut taken: BTreeMap<String, usize> = BTreeMap::new();
    for (path, item) in api.paths.paths.iter_mut() {
        for (method, op) in operations(item) {
            let Some(id) = op.operation_id.clone() else {
                continue;
            };
            if seen.get(&id).copied().unwrap_or(0) < 2 {
                continue;
            }
            let words: Vec<String> = path
                .split('/')
                .filter(|w| !w.is_empty() && *w != "v1" && !w.starts_with('{'))
                .map(|w| w.replace(['-', '.'], "_"))
                .collect();
            let mut qualified = format!("{id}_{}", words.join("_"));
            if taken.contains_key(&qualified) {
                qualified = format!("{qualified}_{method}");
            }
            *taken.entry(qualified.clone()).or_default() += 1;
            op.operation_id = Some(qualified);
        }
    }
}

/// `POST /v1/patients` answers 201 with the patient's `id`: it links to every route
/// of `/v1/patients/{id}…` whose path parameters it can fill (its own, and the new id).
fn link_created_resources(api: &mut OpenApi) {
    let schemas_with_id: Vec<String> = api
        .components
        .iter()
        .flat_map(|c| c.schemas.iter())
        .filter(|(_, s)| has_id(s))
        .map(|(name, _)| Ref::from_schema_name(name.as_str()).ref_location)
        .collect();
    let mut targets: Vec<(String, String)> = Vec::new();
    for (path, item) in api.paths.paths.iter_mut() {
        for (_, op) in operations(item) {
            if let Some(id) = &op.operation_id {
                targets.push((path.clone(), id.clone()));
            }
        }
    }
    for (path, item) in api.paths.paths.iter_mut() {
        for (_, op) in operations(item) {
            let Some(RefOr::T(created)) = op.responses.responses.get_mut("201") else {
                continue;
            };
            let creates = created.content.values().any(|c| {
                matches!(c, RefOr::T(Content { schema: Some(RefOr::Ref(r)), .. }) if schemas_with_id.contains(&r.ref_location))
            });
            if !creates {
                continue;
            }
            let own: Vec<&str> = path_parameters(path);
            for (target, operation_id) in &targets {
                let Some(rest) = target.strip_prefix(&format!("{path}/")) else {
                    continue;
                };
                let mut segments = rest.split('/');
                let Some(new) = segments
                    .next()
                    .and_then(|s| s.strip_prefix('{'))
                    .and_then(|s| s.strip_suffix('}'))
                else {
                    continue;
                };
                if segments.any(|s| s.starts_with('{')) {
                    continue;
                }
                let mut link = LinkBuilder::new()
                    .operation_id(operation_id.clone())
                    .parameter(new, "$response.body#/id");
                for p in &own {
                    link = link.parameter(*p, format!("$request.path.{p}"));
                }
                created
                    .links
                    .insert(operation_id.clone(), RefOr::T(link.build()));
            }
        }
    }
}

fn has_id(schema: &RefOr<Schema>) -> bool {
    match schema {
        RefOr::T(Schema::Object(o)) => o.properties.contains_key("id"),
        RefOr::T(Schema::AllOf(all)) => all.items.iter().any(has_id),
        _ => false,
    }
}

fn path_parameters(path: &str) -> Vec<&str> {
    path.split('/')
        .filter_map(|s| s.strip_prefix('{').and_then(|s| s.strip_suffix('}')))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::Value;

    fn document() -> Value {
        serde_json::to_value(crate::app::openapi()).unwrap()
    }

    fn operations_of(doc: &Value) -> Vec<(String, String, Value)> {
        let mut out = Vec::new();
        for (path, item) in doc["paths"].as_object().unwrap() {
            for (method, op) in item.as_object().unwrap() {
                out.push((path.clone(), method.clone(), op.clone()));
            }
        }
        out
    }

    #[test]
    fn every_error_is_problem_json() {
        let doc = document();
        for (path, method, op) in operations_of(&doc) {
            for (status, response) in op["responses"].as_object().unwrap() {
                if !is_error(status) {
                    continue;
                }
                let content = response["content"].as_object().unwrap();
                assert_eq!(
                    content.keys().collect::<Vec<_>>(),
                    [PROBLEM_JSON],
                    "{method} {path} {status}"
                );
                assert_eq!(
                    content[PROBLEM_JSON]["schema"]["$ref"], "#/components/schemas/Problem",
                    "{method} {path} {status}"
                );
                assert!(
                    !response["description"].as_str().unwrap().is_empty(),
                    "{method} {path} {status}"
                );
            }
            for (status, response) in op["responses"].as_object().unwrap() {
                assert!(
                    response["description"]
                        .as_str()
                        .is_some_and(|d| !d.is_empty()),
                    "OpenAPI requires a description: {method} {path} {status}"
                );
            }
        }
    }

    #[test]
    fn authenticated_routes_say_so_and_public_ones_are_few() {
        let doc = document();
        let public: Vec<String> = operations_of(&doc)
            .into_iter()
            .filter(|(_, _, op)| op.get("security").is_none())
            .map(|(path, method, _)| format!("{method} {path}"))
            .collect();
        assert_eq!(
            public,
            [
                "get /",
                "get /healthz",
                "get /readyz",
                "get /v1/auth/callback",
                "get /v1/auth/login",
                "get /v1/auth/providers",
            ]
        );
        for (path, method, op) in operations_of(&doc) {
            if op.get("security").is_some() {
                assert!(op["responses"]["401"].is_object(), "{method} {path}");
                if method != "get" {
                    let forbidden = op["responses"]["403"]["description"].as_str().unwrap();
                    assert!(forbidden.contains("auth.csrf"), "{method} {path}");
                }
            }
        }
    }

    /// `Option<T>` becomes `oneOf [T, null]`: `T` must not admit null too, or null
    /// matches both branches and `oneOf` refuses it.
    #[test]
    fn null_matches_one_branch_of_a_one_of() {
        let doc = document();
        let schemas = &doc["components"]["schemas"];
        let admits_null = |s: &Value| {
            let s = match s["$ref"].as_str() {
                Some(r) => &schemas[r.trim_start_matches("#/components/schemas/")],
                None => s,
            };
            s["type"] == "null"
                || s["type"]
                    .as_array()
                    .is_some_and(|t| t.iter().any(|t| t == "null"))
        };
        let mut stack = vec![doc.clone()];
        while let Some(v) = stack.pop() {
            match &v {
                Value::Object(map) => {
                    if let Some(Value::Array(branches)) = map.get("oneOf") {
                        let nulls = branches.iter().filter(|b| admits_null(b)).count();
                        assert!(nulls <= 1, "null matches {nulls} branches of {v}");
                    }
                    stack.extend(map.values().cloned());
                }
                Value::Array(items) => stack.extend(items.iter().cloned()),
                _ => {}
            }
        }
    }

    /// `IntoParams` without `parameter_in = Query` makes path parameters of query ones.
    #[test]
    fn path_parameters_are_those_of_the_path() {
        let doc = document();
        for (path, method, op) in operations_of(&doc) {
            let mut documented: Vec<&str> = op["parameters"]
                .as_array()
                .into_iter()
                .flatten()
                .filter(|p| p["in"] == "path")
                .filter_map(|p| p["name"].as_str())
                .collect();
            documented.sort_unstable();
            let mut templated = path_parameters(&path);
            templated.sort_unstable();
            assert_eq!(documented, templated, "{method} {path}");
        }
    }

    #[test]
    fn operation_ids_are_unique() {
        let doc = document();
        let mut ids: Vec<String> = operations_of(&doc)
            .into_iter()
            .map(|(_, _, op)| op["operationId"].as_str().unwrap().to_string())
            .collect();
        let count = ids.len();
        ids.sort();
        ids.dedup();
        assert_eq!(ids.len(), count, "{ids:?}");
    }

    #[test]
    fn every_reference_resolves() {
        let doc = document();
        let text = doc.to_string();
        for piece in text.split("\"$ref\":\"#/components/schemas/").skip(1) {
            let name = piece.split('"').next().unwrap();
            assert!(
                doc["components"]["schemas"][name].is_object(),
                "missing schema {name}"
            );
        }
    }
}
