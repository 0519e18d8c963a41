//! The PSC sandbox: a small OpenID provider served by `cordee serve` in demo mode
//! only, shaped like Pro Santé Connect (discovery at the non-standard
//! `/.well-known/wallet-openid-configuration`, RS256 ID tokens with a `kid`, `acr`
//! `eidas1`, userinfo carrying `SubjectRefPro`, an end-session endpoint), plus a
//! generic staff provider. The gateway logs in against it exactly as against PSC:
//! the same relying-party code, over real HTTP to its own `public_url`.
//!
//! It authenticates nobody — anyone may pick any persona — which is why it exists
//! only when `settings.demo` is on (and demo mode refuses a public address unless
//! explicitly forced), and why its providers' ids are reserved.

mod endpoints;
pub mod keys;
pub mod personas;

use std::collections::HashMap;
use std::sync::Mutex;

use cordee_pathway::Millis;

use utoipa_axum::router::OpenApiRouter;

use crate::config::{ProviderConfig, ProviderKind, Settings};
use crate::secret::SecretString;
use crate::state::AppState;
use personas::{Persona, SandboxIdp};

pub const CLIENT_ID: &str = "cordee-demo";
const CODE_TTL_MS: i64 = 60_000;
const ACCESS_TOKEN_TTL_MS: i64 = 300_000;

pub struct Sandbox {
    public_url: String,
    /// Made at each start: both ends of the exchange live in this process.
    client_secret: String,
    key: keys::SigningKey,
    codes: Mutex<HashMap<String, CodeGrant>>,
    tokens: Mutex<HashMap<String, TokenGrant>>,
}

struct CodeGrant {
    idp: SandboxIdp,
    persona: &'static Persona,
    redirect_uri: String,
    nonce: String,
    code_challenge: String,
    expires: Millis,
}

struct TokenGrant {
    idp: SandboxIdp,
    persona: &'static Persona,
    expires: Millis,
}

impl Sandbox {
    /// Loads (or makes, on first start) the signing key under the data folder.
    pub async fn start(settings: &Settings) -> anyhow::Result<Sandbox> {
        let data_dir = settings.data_dir.clone();
        let key = tokio::task::spawn_blocking(move || keys::load_or_generate(&data_dir)).await??;
        Ok(Sandbox {
            public_url: settings.public_url.clone(),
            client_secret: crate::auth::token::random()?,
            key,
            codes: Mutex::new(HashMap::new()),
            tokens: Mutex::new(HashMap::new()),
        })
    }

    pub fn issuer(&self, idp: SandboxIdp) -> String {
        format!("{}/sandbox/{}", self.public_url, idp.path())
    }

    /// The two providers the gateway adds in demo mode, pointing at this sandbox.
    pub fn provider_configs(&self) -> Vec<ProviderConfig> {
        [SandboxIdp::Psc, SandboxIdp::Staff]
            .into_iter()
            .map(|idp| ProviderConfig {
                id: idp.provider_id().into(),
                name: match idp {
                    SandboxIdp::Psc => "Pro Santé Connect (bac à sable)".into(),
                    SandboxIdp::Staff => "Équipe CPTS (bac à sable)".into(),
                },
                kind: match idp {
                    SandboxIdp::Psc => ProviderKind::Psc,
                    SandboxIdp::Staff => ProviderKind::Oidc,
                },
                issuer: self.issuer(idp),
                discovery_url: None,
                client_id: CLIENT_ID.into(),
                client_secret: Some(SecretString::new(self.client_secret.clone())),
                client_secret_file: None,
                token_auth: Some(match idp {
                    // One of each, so that both client authentication methods run.
                    SandboxIdp::Psc => "client_secret_basic".into(),
                    SandboxIdp::Staff => "client_secret_post".into(),
                }),
                scopes: None,
                acr_values: match idp {
                    SandboxIdp::Psc => Some("eidas1".into()),
                    SandboxIdp::Staff => None,
                },
                id_token_algs: Some(vec!["RS256".into()]),
                role_claim: match idp {
                    SandboxIdp::Psc => None,
                    SandboxIdp::Staff => Some("groups".into()),
                },
                redirect_uri: None,
                post_logout_redirect_uri: None,
                client_cert_file: None,
                client_key_file: None,
            })
            .collect()
    }

    fn issue_code(&self, code: String, grant: CodeGrant, now: Millis) {
        let mut codes = lock(&self.codes);
        codes.retain(|_, g| g.expires > now);
        codes.insert(code, grant);
    }

    /// A code is good once.
    fn take_code(&self, code: &str, now: Millis) -> Option<CodeGrant> {
        lock(&self.codes).remove(code).filter(|g| g.expires > now)
    }

    fn issue_access_token(
        &self,
        token: String,
        idp: SandboxIdp,
        persona: &'static Persona,
        now: Millis,
    ) {
        let mut tokens = lock(&self.tokens);
        tokens.retain(|_, g| g.expires > now);
        tokens.insert(
            token,
            TokenGrant {
                idp,
                persona,
                expires: now.plus_millis(ACCESS_TOKEN_TTL_MS),
            },
        );
    }

    fn persona_for_token(
        &self,
        idp: SandboxIdp,
        token: &str,
        now: Millis,
    ) -> Option<&'static Persona> {
        lock(&self.tokens)
            .get(token)
            .filter(|g| g.idp == idp && g.expires > now)
            .map(|g| g.persona)
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    match m.lock() {
        Ok(g) => g,
        Err(poisoned) => poisoned.into_inner(),
    }
}

/// The sandbox's routes, merged into the router in demo mode only.
pub fn router() -> OpenApiRouter<AppState> {
    endpoints::router()
}

pub use endpoints::document;
