//! ID token and userinfo validation, each refusal with its own stable code so that a
//! failed login says which check failed (never what the token contained).

use std::sync::Arc;

use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use openidconnect::core::{
    CoreGenderClaim, CoreJsonWebKey, CoreJweContentEncryptionAlgorithm, CoreJwsSigningAlgorithm,
};
use openidconnect::{
    AccessToken, ClaimsVerificationError, IdTokenClaims, IdTokenVerifier, Nonce,
    SignatureVerificationError, SubjectIdentifier, UserInfoClaims, UserInfoJsonWebToken,
    UserInfoVerifier,
};
use serde_json::{Map, Value};

use super::provider::{Discovered, ExtraClaims, Provider, RpIdToken};
use crate::error::ApiError;
use cordee_pathway::Millis;

/// An ID token issued further in the future than this is refused (clock skew allowance).
const MAX_FUTURE_IAT_SECS: i64 = 300;

pub fn refused(code: &'static str) -> ApiError {
    let detail = match code {
        "auth.id_token_issuer" => "The ID token was not issued by the expected identity provider.",
        "auth.id_token_audience" => "The ID token was not issued for Cordée.",
        "auth.id_token_expired" => "The ID token has expired or is not yet valid.",
        "auth.id_token_nonce" => "The ID token does not belong to this login (nonce mismatch).",
        "auth.id_token_signature" => {
            "The ID token signature does not verify against the provider's keys."
        }
        "auth.id_token_alg" => {
            "The ID token is unsigned or signed with an algorithm Cordée does not accept."
        }
        "auth.acr_insufficient" => {
            "The login did not reach the required authentication level (acr)."
        }
        "auth.userinfo_invalid" => {
            "The identity provider's userinfo answer cannot be trusted or read."
        }
        _ => "The ID token is not valid.",
    };
    ApiError::unauthorized(code, detail)
}

fn code_of(err: &ClaimsVerificationError) -> &'static str {
    match err {
        ClaimsVerificationError::Expired(_) => "auth.id_token_expired",
        ClaimsVerificationError::InvalidAudience(_) => "auth.id_token_audience",
        ClaimsVerificationError::InvalidIssuer(_) => "auth.id_token_issuer",
        ClaimsVerificationError::InvalidNonce(_) => "auth.id_token_nonce",
        ClaimsVerificationError::InvalidAuthContext(_) => "auth.acr_insufficient",
        ClaimsVerificationError::SignatureVerification(sig) => match sig {
            SignatureVerificationError::NoSignature
            | SignatureVerificationError::DisallowedAlg(_)
            | SignatureVerificationError::UnsupportedAlg(_) => "auth.id_token_alg",
            _ => "auth.id_token_signature",
        },
        _ => "auth.id_token_invalid",
    }
}

type VerifiedClaims = IdTokenClaims<ExtraClaims, CoreGenderClaim>;

fn verifier<'a>(
    provider: &'a Provider,
    discovered: &Discovered,
    now: DateTime<Utc>,
) -> IdTokenVerifier<'a, CoreJsonWebKey> {
    let acr_values = provider.acr_values.clone();
    // A public-client verifier: without the client secret, HS* tokens cannot verify
    // even if someone lists them; `algs` holds asymmetric algorithms only.
    IdTokenVerifier::new_public_client(
        provider.client_id.clone(),
        provider.issuer.clone(),
        discovered.jwks().clone(),
    )
    .set_allowed_algs(provider.algs.clone())
    .set_auth_context_verifier_fn(move |acr| {
        if acr_values.is_empty() {
            return Ok(());
        }
        match acr {
            Some(acr) if acr_values.iter().any(|a| a.as_str() == acr.as_str()) => Ok(()),
            Some(_) => Err("acr is not one of the required values".into()),
            None => Err("acr is missing".into()),
        }
    })
    .set_time_fn(move || now)
    .set_issue_time_verifier_fn(move |iat: DateTime<Utc>| {
        if iat.timestamp() > now.timestamp() + MAX_FUTURE_IAT_SECS {
            Err("issued in the future".into())
        } else {
            Ok(())
        }
    })
}

/// Validates the ID token; on an unknown key id, refreshes the provider's keys once
/// and tries again. Returns the claims and what `at_hash` needs (algorithm, key).
pub async fn id_token(
    provider: &Provider,
    discovered: Arc<Discovered>,
    id_token: &RpIdToken,
    nonce: &Nonce,
    now: Millis,
) -> Result<(VerifiedClaims, (CoreJwsSigningAlgorithm, CoreJsonWebKey)), ApiError> {
    let attempt = |d: &Discovered| -> Result<_, ClaimsVerificationError> {
        let now = DateTime::<Utc>::from_timestamp_millis(now.0).unwrap_or_default();
        let v = verifier(provider, d, now);
        let claims = id_token.claims(&v, nonce)?.clone();
        let alg = id_token
            .signing_alg()
            .map_err(ClaimsVerificationError::SignatureVerification)?
            .clone();
        let key = id_token
            .signing_key(&v)
            .map_err(ClaimsVerificationError::SignatureVerification)?
            .clone();
        Ok((claims, (alg, key)))
    };
    match attempt(&discovered) {
        Ok(ok) => Ok(ok),
        Err(ClaimsVerificationError::SignatureVerification(
            SignatureVerificationError::NoMatchingKey,
        )) => {
            let refreshed = provider.refresh_keys().await.map_err(unavailable)?;
            let Some(refreshed) = refreshed else {
                return Err(refused("auth.id_token_signature"));
            };
            attempt(&refreshed).map_err(|e| refused(code_of(&e)))
        }
        Err(e) => Err(refused(code_of(&e))),
    }
}

/// The userinfo claims, when the provider has a userinfo endpoint. JSON, or a JWT
/// signed by the provider (`application/jwt`), whose `sub` must be the ID token's.
pub async fn userinfo(
    provider: &Provider,
    discovered: &Discovered,
    access_token: &AccessToken,
    subject: &SubjectIdentifier,
) -> Result<Option<Map<String, Value>>, ApiError> {
    let Some(url) = discovered.metadata.userinfo_endpoint() else {
        return Ok(None);
    };
    let response = provider
        .http
        .get(url.url().as_str())
        .bearer_auth(access_token.secret())
        .header(reqwest::header::ACCEPT, "application/json, application/jwt")
        .send()
        .await
        .map_err(|e| unavailable(anyhow::anyhow!("userinfo of provider {}: {e}", provider.id)))?;
    if !response.status().is_success() {
        return Err(unavailable(anyhow::anyhow!(
            "userinfo of provider {} answered HTTP {}",
            provider.id,
            response.status()
        )));
    }
    let is_jwt = response
        .headers()
        .get(reqwest::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| {
            v.trim_start()
                .to_ascii_lowercase()
                .starts_with("application/jwt")
        });
    let body = response
        .bytes()
        .await
        .map_err(|e| unavailable(anyhow::anyhow!("userinfo of provider {}: {e}", provider.id)))?;
    let claims = if is_jwt {
        let text = std::str::from_utf8(&body).map_err(|_| refused("auth.userinfo_invalid"))?;
        let jwt: UserInfoJsonWebToken<
            ExtraClaims,
            CoreGenderClaim,
            CoreJweContentEncryptionAlgorithm,
            CoreJwsSigningAlgorithm,
        > = serde_json::from_value(Value::String(text.trim().to_string()))
            .map_err(|_| refused("auth.userinfo_invalid"))?;
        let verifier = UserInfoVerifier::new(
            provider.client_id.clone(),
            provider.issuer.clone(),
            discovered.jwks().clone(),
            Some(subject.clone()),
        );
        let claims: UserInfoClaims<ExtraClaims, CoreGenderClaim> = jwt
            .claims(&verifier)
            .map_err(|_| refused("auth.userinfo_invalid"))?;
        serde_json::to_value(&claims).map_err(|_| refused("auth.userinfo_invalid"))?
    } else {
        serde_json::from_slice::<Value>(&body).map_err(|_| refused("auth.userinfo_invalid"))?
    };
    let Value::Object(map) = claims else {
        return Err(refused("auth.userinfo_invalid"));
    };
    // OIDC Core 5.3.2: the userinfo `sub` must be the ID token's, or the answer is
    // about someone else.
    if map.get("sub").and_then(Value::as_str) != Some(subject.as_str()) {
        return Err(refused("auth.userinfo_invalid"));
    }
    Ok(Some(map))
}

/// 502: the provider cannot be reached or answered something unusable (its
/// discovery document, keys, tokens or userinfo).
pub fn unavailable(source: anyhow::Error) -> ApiError {
    ApiError {
        source: Some(source),
        ..ApiError::new(
            StatusCode::BAD_GATEWAY,
            "auth.provider_unavailable",
            "The identity provider cannot be reached or answered something unusable; try again later.",
        )
    }
}
