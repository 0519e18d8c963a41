//! The identity providers users log in with: their settings, the HTTP client that
//! talks to them, and their discovery document and keys, fetched on first use and
//! cached (a provider being down must not stop the gateway from starting).
//!
//! PSC serves discovery at `{issuer}/.well-known/wallet-openid-configuration`, so the
//! document is fetched from a configurable URL and its `issuer` checked against the
//! configured one. Keys are refreshed when an ID token names a `kid` we do not know
//! (the provider rotated its keys), at most once per `JWKS_MIN_REFRESH`.

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use openidconnect::core::{
    CoreAuthDisplay, CoreAuthPrompt, CoreErrorResponseType, CoreGenderClaim, CoreJsonWebKey,
    CoreJweContentEncryptionAlgorithm, CoreJwsSigningAlgorithm, CoreRevocableToken,
    CoreRevocationErrorResponse, CoreTokenIntrospectionResponse, CoreTokenType,
};
use openidconnect::{
    AdditionalClaims, AuthType, Client, ClientId, ClientSecret, EmptyExtraTokenFields,
    EndpointMaybeSet, EndpointNotSet, EndpointSet, IdToken, IdTokenFields, IssuerUrl,
    JsonWebKeySet, ProviderMetadataWithLogout, RedirectUrl, StandardErrorResponse,
    StandardTokenResponse,
};
use serde::{Deserialize, Serialize};
use tokio::sync::Mutex;

use crate::config::{ProviderConfig, ProviderKind};
use crate::secret::SecretString;

/// A discovery document older than this is fetched again at the next login.
const METADATA_TTL: Duration = Duration::from_secs(3600);
/// An unknown `kid` refetches the keys at most this often, so that tokens with made-up
/// key ids cannot turn the gateway into a load generator against the provider.
const JWKS_MIN_REFRESH: Duration = Duration::from_secs(10);
/// Provider requests that take longer than this fail the login.
const PROVIDER_TIMEOUT: Duration = Duration::from_secs(15);

/// Claims beyond the standard ones, kept as raw JSON for the mapping in `claims.rs`.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct ExtraClaims {
    #[serde(flatten)]
    pub other: serde_json::Map<String, serde_json::Value>,
}
impl AdditionalClaims for ExtraClaims {}

pub type RpIdToken = IdToken<
    ExtraClaims,
    CoreGenderClaim,
    CoreJweContentEncryptionAlgorithm,
    CoreJwsSigningAlgorithm,
>;
pub type RpTokenResponse = StandardTokenResponse<
    IdTokenFields<
        ExtraClaims,
        EmptyExtraTokenFields,
        CoreGenderClaim,
        CoreJweContentEncryptionAlgorithm,
        CoreJwsSigningAlgorithm,
    >,
    CoreTokenType,
>;
pub type RpClient = Client<
    ExtraClaims,
    CoreAuthDisplay,
    CoreGenderClaim,
    CoreJweContentEncryptionAlgorithm,
    CoreJsonWebKey,
    CoreAuthPrompt,
    StandardErrorResponse<CoreErrorResponseType>,
    RpTokenResponse,
    CoreTokenIntrospectionResponse,
    CoreRevocableToken,
    CoreRevocationErrorResponse,
    EndpointSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointMaybeSet,
    EndpointMaybeSet,
>;

/// What discovery told us, with the keys.
pub struct Discovered {
    pub metadata: ProviderMetadataWithLogout,
    fetched_at: Instant,
}

impl Discovered {
    pub fn end_session_endpoint(&self) -> Option<&openidconnect::EndSessionUrl> {
        self.metadata
            .additional_metadata()
            .end_session_endpoint
            .as_ref()
    }

    pub fn jwks(&self) -> &JsonWebKeySet<CoreJsonWebKey> {
        self.metadata.jwks()
    }
}

pub struct Provider {
    pub id: String,
    pub name: String,
    pub kind: ProviderKind,
    pub issuer: IssuerUrl,
    pub discovery_url: String,
    pub client_id: ClientId,
    client_secret: SecretString,
    pub auth_type: AuthType,
    pub scopes: Vec<String>,
    /// Accepted `acr` values (from `acr_values`); empty means not checked.
    pub acr_values: Vec<String>,
    pub algs: Vec<CoreJwsSigningAlgorithm>,
    pub role_claim: Option<String>,
    pub redirect_uri: RedirectUrl,
    pub post_logout_redirect_uri: String,
    pub http: reqwest::Client,
    cache: Mutex<Cache>,
}

#[derive(Default)]
struct Cache {
    discovered: Option<Arc<Discovered>>,
    jwks_refreshed_at: Option<Instant>,
}

/// Extra trust for the HTTP client, for the sandbox served by this very gateway
/// with a certificate no public CA signed.
#[derive(Clone, Default)]
pub struct ClientTrust {
    pub extra_roots_pem: Vec<Vec<u8>>,
}

impl Provider {
    pub fn new(
        config: &ProviderConfig,
        public_url: &str,
        trust: &ClientTrust,
    ) -> anyhow::Result<Provider> {
        let which = || format!("providers entry \"{}\"", config.id);
        let issuer = IssuerUrl::new(config.issuer.clone())
            .with_context(|| format!("The {} has an issuer that is not a URL", which()))?;
        let issuer_text = config.issuer.trim_end_matches('/');
        let discovery_url = config
            .discovery_url
            .clone()
            .unwrap_or_else(|| match config.kind {
                ProviderKind::Psc => {
                    format!("{issuer_text}/.well-known/wallet-openid-configuration")
                }
                ProviderKind::Oidc => format!("{issuer_text}/.well-known/openid-configuration"),
            });
        let redirect_uri = RedirectUrl::new(
            config
                .redirect_uri
                .clone()
                .unwrap_or_else(|| format!("{public_url}/v1/auth/callback")),
        )
        .with_context(|| format!("The {} has a redirect_uri that is not a URL", which()))?;
        let client_secret = config
            .client_secret
            .clone()
            .with_context(|| format!("The {} has no client secret", which()))?;
        let auth_type = match config.token_auth.as_deref() {
            Some("client_secret_post") => AuthType::RequestBody,
            _ => AuthType::BasicAuth,
        };
        let scopes = config.scopes.clone().unwrap_or_else(|| match config.kind {
            ProviderKind::Psc => vec!["openid".into(), "scope_all".into()],
            ProviderKind::Oidc => vec!["openid".into(), "profile".into(), "email".into()],
        });
        let algs = config
            .id_token_algs
            .clone()
            .unwrap_or_else(|| vec!["RS256".into(), "ES256".into()])
            .iter()
            .map(|alg| {
                serde_plain_alg(alg)
                    .with_context(|| format!("The {} lists an unknown ID token algorithm", which()))
            })
            .collect::<anyhow::Result<Vec<_>>>()?;
        Ok(Provider {
            id: config.id.clone(),
            name: config.name.clone(),
            kind: config.kind,
            issuer,
            discovery_url,
            client_id: ClientId::new(config.client_id.clone()),
            client_secret,
            auth_type,
            scopes,
            acr_values: config
                .acr_values
                .as_deref()
                .unwrap_or_default()
                .split_whitespace()
                .map(str::to_string)
                .collect(),
            algs,
            role_claim: config.role_claim.clone(),
            redirect_uri,
            post_logout_redirect_uri: config
                .post_logout_redirect_uri
                .clone()
                .unwrap_or_else(|| format!("{public_url}/")),
            http: http_client(config, trust)?,
            cache: Mutex::new(Cache::default()),
        })
    }

    /// The discovery document and keys, from cache when fresh.
    pub async fn discovered(&self) -> anyhow::Result<Arc<Discovered>> {
        let mut cache = self.cache.lock().await;
        if let Some(d) = &cache.discovered
            && d.fetched_at.elapsed() < METADATA_TTL
        {
            return Ok(Arc::clone(d));
        }
        let fresh = Arc::new(self.discover().await?);
        cache.discovered = Some(Arc::clone(&fresh));
        Ok(fresh)
    }

    /// Fetches the keys again after an unknown `kid`. `None` when a refresh happened
    /// too recently to try again. (Discovery does not count: a login that starts
    /// just before the provider rotates must still see the new key at its callback.)
    pub async fn refresh_keys(&self) -> anyhow::Result<Option<Arc<Discovered>>> {
        let mut cache = self.cache.lock().await;
        if cache
            .jwks_refreshed_at
            .is_some_and(|t| t.elapsed() < JWKS_MIN_REFRESH)
        {
            return Ok(None);
        }
        cache.jwks_refreshed_at = Some(Instant::now());
        let Some(current) = cache.discovered.clone() else {
            drop(cache);
            return self.discovered().await.map(Some);
        };
        let jwks = JsonWebKeySet::fetch_async(current.metadata.jwks_uri(), &self.http)
            .await
            .with_context(|| format!("Failed to fetch the keys of provider {}", self.id))?;
        let fresh = Arc::new(Discovered {
            metadata: current.metadata.clone().set_jwks(jwks),
            fetched_at: current.fetched_at,
        });
        cache.discovered = Some(Arc::clone(&fresh));
        Ok(Some(fresh))
    }

    async fn discover(&self) -> anyhow::Result<Discovered> {
        let response = self
            .http
            .get(&self.discovery_url)
            .header(reqwest::header::ACCEPT, "application/json")
            .send()
            .await
            .with_context(|| {
                format!(
                    "Failed to fetch the discovery document of provider {}",
                    self.id
                )
            })?;
        let status = response.status();
        if !status.is_success() {
            anyhow::bail!(
                "The discovery document of provider {} answered HTTP {status}",
                self.id
            );
        }
        let body = response.bytes().await?;
        let metadata: ProviderMetadataWithLogout =
            serde_json::from_slice(&body).with_context(|| {
                format!(
                    "The discovery document of provider {} does not parse",
                    self.id
                )
            })?;
        // Mix-up defence: a document that names another issuer is not this provider's.
        if metadata.issuer() != &self.issuer {
            anyhow::bail!(
                "The discovery document of provider {} names issuer {} instead of {}",
                self.id,
                metadata.issuer().as_str(),
                self.issuer.as_str()
            );
        }
        let jwks = JsonWebKeySet::fetch_async(metadata.jwks_uri(), &self.http)
            .await
            .with_context(|| format!("Failed to fetch the keys of provider {}", self.id))?;
        Ok(Discovered {
            metadata: metadata.set_jwks(jwks),
            fetched_at: Instant::now(),
        })
    }

    /// An openidconnect client for one login.
    pub fn client(&self, discovered: &Discovered) -> RpClient {
        RpClient::from_provider_metadata(
            discovered.metadata.clone(),
            self.client_id.clone(),
            Some(ClientSecret::new(self.client_secret.expose().to_string())),
        )
        .set_redirect_uri(self.redirect_uri.clone())
        .set_auth_type(self.auth_type.clone())
    }
}

fn serde_plain_alg(alg: &str) -> Option<CoreJwsSigningAlgorithm> {
    serde_json::from_value(serde_json::Value::String(alg.to_string())).ok()
}

/// The HTTP client for one provider: no redirects (a redirect from a token endpoint is
/// an SSRF vector, as openidconnect warns), bounded time, and — where the provider
/// requires mutual TLS, as PSC does in its "espace de confiance" — the client
/// certificate from `client_cert_file` / `client_key_file`. This is the one place a
/// provider connection is configured.
fn http_client(config: &ProviderConfig, trust: &ClientTrust) -> anyhow::Result<reqwest::Client> {
    let mut builder = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(PROVIDER_TIMEOUT)
        .connect_timeout(Duration::from_secs(5))
        .user_agent(concat!("cordee/", env!("CARGO_PKG_VERSION")));
    if let (Some(cert), Some(key)) = (&config.client_cert_file, &config.client_key_file) {
        let mut pem = std::fs::read(cert)
            .with_context(|| format!("Cannot read client_cert_file {}", cert.display()))?;
        pem.extend(
            std::fs::read(key)
                .with_context(|| format!("Cannot read client_key_file {}", key.display()))?,
        );
        let identity = reqwest::Identity::from_pem(&pem).with_context(|| {
            format!(
                "The client certificate of providers entry \"{}\" is not a PEM certificate and key",
                config.id
            )
        })?;
        builder = builder.identity(identity);
    }
    for pem in &trust.extra_roots_pem {
        for cert in reqwest::Certificate::from_pem_bundle(pem)
            .context("The TLS certificate cannot be trusted by the sandbox client")?
        {
            builder = builder.add_root_certificate(cert);
        }
    }
    builder
        .build()
        .context("Failed to build the HTTP client for identity providers")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(extra: &str) -> ProviderConfig {
        toml::from_str(&format!(
            "id='psc'\nname='PSC'\nkind='psc'\nissuer='https://auth.example/realms/w'\nclient_id='c'\nclient_secret='s'\n{extra}"
        ))
        .unwrap()
    }

    #[test]
    fn psc_discovery_defaults_to_the_wallet_path() {
        let p = Provider::new(&entry(""), "https://cpts.example", &ClientTrust::default()).unwrap();
        assert_eq!(
            p.discovery_url,
            "https://auth.example/realms/w/.well-known/wallet-openid-configuration"
        );
        assert_eq!(
            p.redirect_uri.as_str(),
            "https://cpts.example/v1/auth/callback"
        );
        assert_eq!(p.scopes, vec!["openid", "scope_all"]);
        assert!(matches!(p.auth_type, AuthType::BasicAuth));
        let p = Provider::new(
            &entry("token_auth='client_secret_post'\nacr_values='eidas1 eidas2'"),
            "https://cpts.example",
            &ClientTrust::default(),
        )
        .unwrap();
        assert!(matches!(p.auth_type, AuthType::RequestBody));
        assert_eq!(p.acr_values, vec!["eidas1", "eidas2"]);
    }

    #[test]
    fn a_client_certificate_is_loaded_for_mutual_tls() {
        let dir = std::env::temp_dir().join(format!("cordee-mtls-{}", uuid::Uuid::now_v7()));
        std::fs::create_dir_all(&dir).unwrap();
        let key = rcgen::KeyPair::generate().unwrap();
        let cert = rcgen::CertificateParams::new(vec!["cordee.example".into()])
            .unwrap()
            .self_signed(&key)
            .unwrap();
        std::fs::write(dir.join("cert.pem"), cert.pem()).unwrap();
        std::fs::write(dir.join("key.pem"), key.serialize_pem()).unwrap();
        std::fs::write(dir.join("junk.pem"), "not a key").unwrap();
        let with = |key_file: &str| {
            entry(&format!(
                "client_cert_file='{}'\nclient_key_file='{}'",
                dir.join("cert.pem").display(),
                dir.join(key_file).display()
            ))
        };
        assert!(Provider::new(&with("key.pem"), "https://c", &ClientTrust::default()).is_ok());
        let err = Provider::new(&with("junk.pem"), "https://c", &ClientTrust::default())
            .err()
            .unwrap();
        assert!(format!("{err:#}").contains("client certificate"), "{err:#}");
        std::fs::remove_dir_all(dir).unwrap();
    }
}
