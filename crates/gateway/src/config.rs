//! Settings: defaults, then the TOML file given by `--config`, then `CORDEE_*`
//! variables, then flags. Every setting is documented once, on its field below
//! (that text is also what `cordee serve --help` prints), and `validate` runs
//! before anything binds a port or opens a database.

use std::fmt;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use clap::{Args, ValueEnum};
use serde::Deserialize;

use crate::secret::{SecretString, redact_url};

/// The settings as they arrive from one layer: every field optional so that layers
/// can be merged. The same struct is the clap argument group and the TOML shape.
#[derive(Args, Deserialize, Default, Clone)]
#[serde(deny_unknown_fields)]
pub struct Layer {
    /// Database URL: `sqlite://PATH` (embedded, the default `sqlite://./data/cordee.db`)
    /// or `postgres://USER:PASSWORD@HOST:PORT/DB`.
    #[arg(long, env = "CORDEE_DATABASE_URL", value_name = "URL")]
    pub database_url: Option<String>,

    /// Most database connections the gateway opens (PostgreSQL pool; SQLite readers). Default 8.
    #[arg(long, env = "CORDEE_DATABASE_MAX_CONNECTIONS", value_name = "N")]
    pub database_max_connections: Option<u32>,

    /// Address and port to listen on. Default 127.0.0.1:8443.
    #[arg(long, env = "CORDEE_LISTEN", value_name = "ADDR:PORT")]
    pub listen: Option<SocketAddr>,

    /// The URL users reach the gateway at (used for OIDC redirect URIs and printed at
    /// start). Default: derived from the listen address.
    #[arg(long, env = "CORDEE_PUBLIC_URL", value_name = "URL")]
    pub public_url: Option<String>,

    /// PEM certificate chain for TLS. With CORDEE_TLS_KEY, the gateway serves HTTPS (TLS 1.2+).
    #[arg(long, env = "CORDEE_TLS_CERT", value_name = "FILE")]
    pub tls_cert: Option<PathBuf>,

    /// PEM private key (PKCS#8, PKCS#1 or SEC1) matching CORDEE_TLS_CERT.
    #[arg(long, env = "CORDEE_TLS_KEY", value_name = "FILE")]
    pub tls_key: Option<PathBuf>,

    /// Declare that a TLS-terminating reverse proxy sits in front, which allows plain
    /// HTTP on a non-loopback address. Default false.
    #[arg(long, env = "CORDEE_BEHIND_PROXY", value_name = "BOOL")]
    pub behind_proxy: Option<bool>,

    /// Master key file (create it with `cordee keys init`). Required unless demo mode is on.
    #[arg(long, env = "CORDEE_MASTER_KEY_FILE", value_name = "FILE")]
    pub master_key_file: Option<PathBuf>,

    /// Demo mode: the PSC sandbox and a generated master key under the data folder.
    /// Default: on only when neither --config nor CORDEE_MASTER_KEY_FILE is given, so a
    /// production configuration never falls back to demo behaviour.
    #[arg(long, env = "CORDEE_DEMO", value_name = "BOOL")]
    pub demo: Option<bool>,

    /// Allow demo mode on a non-loopback address (a shared test server). Default false.
    #[arg(long, env = "CORDEE_DEMO_ALLOW_PUBLIC", value_name = "BOOL")]
    pub demo_allow_public: Option<bool>,

    /// Folder for the demo key and the default SQLite database. Default ./data.
    #[arg(long, env = "CORDEE_DATA_DIR", value_name = "DIR")]
    pub data_dir: Option<PathBuf>,

    /// Log format: human or json. Default human.
    #[arg(long, env = "CORDEE_LOG_FORMAT", value_name = "FORMAT")]
    pub log_format: Option<LogFormat>,

    /// Log filter in tracing's syntax, e.g. `info` or `cordee_gateway=debug`. Default info.
    #[arg(long, env = "CORDEE_LOG", value_name = "FILTER")]
    pub log: Option<String>,

    /// Serve Prometheus metrics on this separate address instead of `/metrics` on the main listener.
    #[arg(long, env = "CORDEE_METRICS_LISTEN", value_name = "ADDR:PORT")]
    pub metrics_listen: Option<SocketAddr>,

    /// Largest JSON request body in bytes. Default 1048576 (1 MiB).
    #[arg(long, env = "CORDEE_BODY_LIMIT", value_name = "BYTES")]
    pub body_limit: Option<u64>,

    /// Largest attachment (image or PDF) in bytes. Default 20971520 (20 MiB).
    #[arg(long, env = "CORDEE_ATTACHMENT_LIMIT", value_name = "BYTES")]
    pub attachment_limit: Option<u64>,

    /// Seconds to let in-flight requests finish after SIGTERM/SIGINT. Default 20.
    #[arg(long, env = "CORDEE_SHUTDOWN_GRACE", value_name = "SECONDS")]
    pub shutdown_grace: Option<u64>,

    /// A session unused for this many seconds ends. Default 1800 (30 minutes).
    #[arg(long, env = "CORDEE_SESSION_IDLE_TIMEOUT", value_name = "SECONDS")]
    pub session_idle_timeout: Option<u64>,

    /// A session ends this many seconds after login, used or not. Default 43200 (12 hours).
    #[arg(long, env = "CORDEE_SESSION_LIFETIME", value_name = "SECONDS")]
    pub session_lifetime: Option<u64>,

    /// Login attempts allowed per client address per minute. Default 30.
    #[arg(long, env = "CORDEE_LOGIN_RATE_LIMIT", value_name = "N")]
    pub login_rate_limit: Option<u32>,

    /// How long a break-glass access lasts, in seconds. Default 14400 (4 hours).
    #[arg(long, env = "CORDEE_BREAK_GLASS_DURATION", value_name = "SECONDS")]
    pub break_glass_duration: Option<u64>,

    /// Largest message body in bytes. Default 16384.
    #[arg(long, env = "CORDEE_MESSAGE_LIMIT", value_name = "BYTES")]
    pub message_limit: Option<u64>,

    /// Messages one account may send per minute. Default 120.
    #[arg(long, env = "CORDEE_SEND_RATE_LIMIT", value_name = "N")]
    pub send_rate_limit: Option<u32>,

    /// Seconds between WebSocket pings; a device that misses one pong is dropped, and
    /// every open stream rechecks its session this often. Default 25 (under the
    /// 30–60 s idle timeouts of common proxies and mobile networks).
    #[arg(long, env = "CORDEE_STREAM_HEARTBEAT", value_name = "SECONDS")]
    pub stream_heartbeat: Option<u64>,

    /// Seconds between two looks at the background jobs (expired emergency accesses,
    /// session purges, and the modules' reminders); 0 turns the scheduler off, for an
    /// instance that must not run jobs. Default 5.
    #[arg(long, env = "CORDEE_JOB_TICK", value_name = "SECONDS")]
    pub job_tick: Option<u64>,

    /// Days a waiting-list proposal waits for the GP's answer before it lapses and
    /// the coordinator is told. Default 7.
    #[arg(long, env = "CORDEE_WAITING_PROPOSAL_DAYS", value_name = "DAYS")]
    pub waiting_proposal_days: Option<u64>,

    /// Identity providers; TOML file only (see `[[providers]]` in the README).
    #[arg(skip)]
    #[serde(default)]
    pub providers: Vec<ProviderConfig>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    Human,
    Json,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ProviderKind {
    /// Pro Santé Connect: health professionals, claims from `SubjectRefPro`.
    Psc,
    /// A generic OpenID provider for CPTS staff; the CPTS role comes from `role_claim`.
    Oidc,
}

/// One `[[providers]]` entry of the TOML file: an OpenID provider users log in with.
/// The redirect URI to register with it is `{CORDEE_PUBLIC_URL}/v1/auth/callback`.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProviderConfig {
    /// Used in `/v1/auth/login?provider=ID`: letters, digits, `-`, `_`.
    pub id: String,
    /// Shown to users on the login page.
    pub name: String,
    /// `psc` (health professionals, claims from `SubjectRefPro`) or `oidc` (staff).
    pub kind: ProviderKind,
    /// The issuer, exactly as the provider writes it in its ID tokens.
    pub issuer: String,
    /// Where the discovery document is, when not at `{issuer}/.well-known/openid-configuration`.
    /// PSC serves it at `{issuer}/.well-known/wallet-openid-configuration`, which is the
    /// default for kind `psc`.
    #[serde(default)]
    pub discovery_url: Option<String>,
    pub client_id: String,
    /// The client secret; prefer `client_secret_file` so that the TOML file holds none.
    #[serde(default)]
    pub client_secret: Option<SecretString>,
    /// A file holding the client secret (surrounding whitespace ignored), read at start.
    #[serde(default)]
    pub client_secret_file: Option<PathBuf>,
    /// `client_secret_basic` (default) or `client_secret_post`.
    #[serde(default)]
    pub token_auth: Option<String>,
    /// Scopes requested; default `["openid", "scope_all"]` for `psc`, `["openid",
    /// "profile", "email"]` for `oidc`.
    #[serde(default)]
    pub scopes: Option<Vec<String>>,
    /// Sent as `acr_values`; when set, the ID token's `acr` must be one of these
    /// (space-separated) values. PSC: `eidas1`.
    #[serde(default)]
    pub acr_values: Option<String>,
    /// ID token signature algorithms accepted (default RS256 and ES256). `none` and
    /// the shared-secret HS* algorithms are refused.
    #[serde(default)]
    pub id_token_algs: Option<Vec<String>>,
    /// Kind `oidc` only: the claim holding the CPTS role (`member`, `coordinator`,
    /// `admin`), a string or a list; a dotted path reaches nested claims
    /// (`realm_access.roles`). Values may carry a prefix (`/cpts/admin`, `cpts:admin`).
    #[serde(default)]
    pub role_claim: Option<String>,
    /// The redirect URI registered with the provider. Default `{public_url}/v1/auth/callback`.
    #[serde(default)]
    pub redirect_uri: Option<String>,
    /// Where the provider sends the browser after RP-initiated logout (must be
    /// registered with it). Default: the gateway's home page `{public_url}/`.
    #[serde(default)]
    pub post_logout_redirect_uri: Option<String>,
    /// Mutual TLS towards the provider (PSC's "espace de confiance" requires it for the
    /// token and userinfo endpoints): PEM certificate chain presented as client
    /// certificate. Give it together with `client_key_file`.
    #[serde(default)]
    pub client_cert_file: Option<PathBuf>,
    /// PEM private key of `client_cert_file`.
    #[serde(default)]
    pub client_key_file: Option<PathBuf>,
}

/// Validated settings, ready to use.
#[derive(Clone)]
pub struct Settings {
    pub database_url: SecretString,
    pub database_max_connections: u32,
    pub listen: SocketAddr,
    pub public_url: String,
    pub tls: Option<TlsFiles>,
    pub behind_proxy: bool,
    pub master_key_file: PathBuf,
    pub demo: bool,
    pub data_dir: PathBuf,
    pub log_format: LogFormat,
    pub log: String,
    pub metrics_listen: Option<SocketAddr>,
    pub body_limit: usize,
    pub attachment_limit: usize,
    pub shutdown_grace_secs: u64,
    pub session_idle_timeout_secs: u64,
    pub session_lifetime_secs: u64,
    pub login_rate_limit: u32,
    pub break_glass_duration_secs: u64,
    pub message_limit: usize,
    pub send_rate_limit: u32,
    pub stream_heartbeat_secs: u64,
    pub job_tick_secs: u64,
    pub waiting_proposal_days: u64,
    pub providers: Vec<ProviderConfig>,
}

#[derive(Clone, Debug)]
pub struct TlsFiles {
    pub cert: PathBuf,
    pub key: PathBuf,
}

impl fmt::Debug for Settings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Settings")
            .field("database_url", &redact_url(self.database_url.expose()))
            .field("listen", &self.listen)
            .field("public_url", &self.public_url)
            .field("tls", &self.tls)
            .field("behind_proxy", &self.behind_proxy)
            .field("master_key_file", &self.master_key_file)
            .field("demo", &self.demo)
            .field("providers", &self.providers)
            .finish_non_exhaustive()
    }
}

/// A configuration problem, as one sentence naming the setting.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct ConfigError(pub String);

fn err(sentence: impl Into<String>) -> ConfigError {
    ConfigError(sentence.into())
}

impl Layer {
    /// Reads a TOML settings file.
    pub fn from_file(path: &Path) -> Result<Layer, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|e| {
            err(format!(
                "The configuration file {} cannot be read: {e}.",
                path.display()
            ))
        })?;
        toml::from_str(&text).map_err(|e| {
            err(format!(
                "The configuration file {} is not valid: {}",
                path.display(),
                e.message()
            ))
        })
    }

    /// `self` wins over `lower`, field by field.
    fn over(self, lower: Layer) -> Layer {
        Layer {
            database_url: self.database_url.or(lower.database_url),
            database_max_connections: self
                .database_max_connections
                .or(lower.database_max_connections),
            listen: self.listen.or(lower.listen),
            public_url: self.public_url.or(lower.public_url),
            tls_cert: self.tls_cert.or(lower.tls_cert),
            tls_key: self.tls_key.or(lower.tls_key),
            behind_proxy: self.behind_proxy.or(lower.behind_proxy),
            master_key_file: self.master_key_file.or(lower.master_key_file),
            demo: self.demo.or(lower.demo),
            demo_allow_public: self.demo_allow_public.or(lower.demo_allow_public),
            data_dir: self.data_dir.or(lower.data_dir),
            log_format: self.log_format.or(lower.log_format),
            log: self.log.or(lower.log),
            metrics_listen: self.metrics_listen.or(lower.metrics_listen),
            body_limit: self.body_limit.or(lower.body_limit),
            attachment_limit: self.attachment_limit.or(lower.attachment_limit),
            shutdown_grace: self.shutdown_grace.or(lower.shutdown_grace),
            session_idle_timeout: self.session_idle_timeout.or(lower.session_idle_timeout),
            session_lifetime: self.session_lifetime.or(lower.session_lifetime),
            login_rate_limit: self.login_rate_limit.or(lower.login_rate_limit),
            break_glass_duration: self.break_glass_duration.or(lower.break_glass_duration),
            message_limit: self.message_limit.or(lower.message_limit),
            send_rate_limit: self.send_rate_limit.or(lower.send_rate_limit),
            stream_heartbeat: self.stream_heartbeat.or(lower.stream_heartbeat),
            job_tick: self.job_tick.or(lower.job_tick),
            waiting_proposal_days: self.waiting_proposal_days.or(lower.waiting_proposal_days),
            providers: if self.providers.is_empty() {
                lower.providers
            } else {
                self.providers
            },
        }
    }
}

impl Settings {
    /// Merges the command line/environment layer over the file (when given) over the
    /// defaults, then validates.
    pub fn load(cli: Layer, config_file: Option<&Path>) -> Result<Settings, ConfigError> {
        let file = match config_file {
            Some(path) => Layer::from_file(path)?,
            None => Layer::default(),
        };
        let demo_default = config_file.is_none() && cli.master_key_file.is_none();
        Settings::resolve(cli.over(file), demo_default)
    }

    fn resolve(layer: Layer, demo_default: bool) -> Result<Settings, ConfigError> {
        let data_dir = layer.data_dir.unwrap_or_else(|| PathBuf::from("./data"));
        let demo = layer.demo.unwrap_or(demo_default);
        let listen = layer
            .listen
            .unwrap_or_else(|| SocketAddr::from(([127, 0, 0, 1], 8443)));
        let database_url = layer
            .database_url
            .unwrap_or_else(|| format!("sqlite://{}/cordee.db", data_dir.display()));
        let tls = match (layer.tls_cert, layer.tls_key) {
            (Some(cert), Some(key)) => Some(TlsFiles { cert, key }),
            (None, None) => None,
            (Some(_), None) => {
                return Err(err(
                    "CORDEE_TLS_CERT is set but CORDEE_TLS_KEY is not: give both or neither.",
                ));
            }
            (None, Some(_)) => {
                return Err(err(
                    "CORDEE_TLS_KEY is set but CORDEE_TLS_CERT is not: give both or neither.",
                ));
            }
        };
        let scheme = if tls.is_some() { "https" } else { "http" };
        let public_url = layer
            .public_url
            .unwrap_or_else(|| format!("{scheme}://{listen}"))
            .trim_end_matches('/')
            .to_string();
        let master_key_file = match layer.master_key_file {
            Some(path) => path,
            None if demo => data_dir.join("master.key"),
            None => {
                return Err(err(
                    "CORDEE_MASTER_KEY_FILE is not set and demo mode is off: create a key with `cordee keys init --master-key-file PATH` and point CORDEE_MASTER_KEY_FILE at it.",
                ));
            }
        };
        let settings = Settings {
            database_url: SecretString::new(database_url),
            database_max_connections: layer.database_max_connections.unwrap_or(8),
            listen,
            public_url,
            tls,
            behind_proxy: layer.behind_proxy.unwrap_or(false),
            master_key_file,
            demo,
            data_dir,
            log_format: layer.log_format.unwrap_or(LogFormat::Human),
            log: layer.log.unwrap_or_else(|| "info".into()),
            metrics_listen: layer.metrics_listen,
            body_limit: to_usize(layer.body_limit.unwrap_or(1 << 20), "CORDEE_BODY_LIMIT")?,
            attachment_limit: to_usize(
                layer.attachment_limit.unwrap_or(20 << 20),
                "CORDEE_ATTACHMENT_LIMIT",
            )?,
            shutdown_grace_secs: layer.shutdown_grace.unwrap_or(20),
            session_idle_timeout_secs: layer.session_idle_timeout.unwrap_or(1800),
            session_lifetime_secs: layer.session_lifetime.unwrap_or(12 * 3600),
            login_rate_limit: layer.login_rate_limit.unwrap_or(30),
            break_glass_duration_secs: layer.break_glass_duration.unwrap_or(4 * 3600),
            message_limit: to_usize(
                layer.message_limit.unwrap_or(16 * 1024),
                "CORDEE_MESSAGE_LIMIT",
            )?,
            send_rate_limit: layer.send_rate_limit.unwrap_or(120),
            stream_heartbeat_secs: layer.stream_heartbeat.unwrap_or(25),
            job_tick_secs: layer.job_tick.unwrap_or(5),
            waiting_proposal_days: layer.waiting_proposal_days.unwrap_or(7),
            providers: layer.providers,
        };
        let mut settings = settings;
        settings.validate(layer.demo_allow_public.unwrap_or(false))?;
        settings.load_provider_secrets()?;
        Ok(settings)
    }

    /// Checks that the settings make sense together, before anything binds.
    pub fn validate(&self, demo_allow_public: bool) -> Result<(), ConfigError> {
        let url = self.database_url.expose();
        if cordee_pathway::store::Backend::from_url(url).is_none() {
            return Err(err(format!(
                "CORDEE_DATABASE_URL must start with sqlite:// or postgres:// (got {}).",
                redact_url(url)
            )));
        }
        let loopback = self.listen.ip().is_loopback();
        if self.tls.is_none() && !loopback && !self.behind_proxy {
            return Err(err(format!(
                "CORDEE_LISTEN is {}, which is not a loopback address, and no TLS certificate is set: set CORDEE_TLS_CERT and CORDEE_TLS_KEY, or CORDEE_BEHIND_PROXY=true if a TLS-terminating proxy sits in front.",
                self.listen
            )));
        }
        if self.demo && !loopback && !demo_allow_public {
            return Err(err(format!(
                "CORDEE_DEMO is on and CORDEE_LISTEN is {}, which is not a loopback address: demo mode would expose the PSC sandbox and a generated key; turn demo off or set CORDEE_DEMO_ALLOW_PUBLIC=true for a shared test server.",
                self.listen
            )));
        }
        if !(self.public_url.starts_with("https://") || self.public_url.starts_with("http://")) {
            return Err(err(format!(
                "CORDEE_PUBLIC_URL must be an http:// or https:// URL (got {}).",
                self.public_url
            )));
        }
        if !loopback && !self.public_url.starts_with("https://") {
            return Err(err(format!(
                "CORDEE_PUBLIC_URL is {}, but a gateway reachable from the network must be published over https.",
                self.public_url
            )));
        }
        if self.body_limit < 1024 {
            return Err(err("CORDEE_BODY_LIMIT must be at least 1024 bytes."));
        }
        if self.attachment_limit < 1024 {
            return Err(err("CORDEE_ATTACHMENT_LIMIT must be at least 1024 bytes."));
        }
        if self.session_idle_timeout_secs == 0 || self.session_lifetime_secs == 0 {
            return Err(err(
                "CORDEE_SESSION_IDLE_TIMEOUT and CORDEE_SESSION_LIFETIME must be positive.",
            ));
        }
        if self.session_idle_timeout_secs > self.session_lifetime_secs {
            return Err(err(
                "CORDEE_SESSION_IDLE_TIMEOUT must not exceed CORDEE_SESSION_LIFETIME.",
            ));
        }
        if self.break_glass_duration_secs == 0 || self.break_glass_duration_secs > 24 * 3600 {
            return Err(err(
                "CORDEE_BREAK_GLASS_DURATION must be between 1 second and 24 hours.",
            ));
        }
        if self.message_limit == 0 || self.message_limit > self.body_limit {
            return Err(err(
                "CORDEE_MESSAGE_LIMIT must be between 1 byte and CORDEE_BODY_LIMIT.",
            ));
        }
        if self.send_rate_limit == 0 {
            return Err(err("CORDEE_SEND_RATE_LIMIT must be at least 1."));
        }
        if self.stream_heartbeat_secs == 0 || self.stream_heartbeat_secs > 300 {
            return Err(err(
                "CORDEE_STREAM_HEARTBEAT must be between 1 and 300 seconds.",
            ));
        }
        if self.login_rate_limit == 0 {
            return Err(err("CORDEE_LOGIN_RATE_LIMIT must be at least 1."));
        }
        if !(1..=90).contains(&self.waiting_proposal_days) {
            return Err(err(
                "CORDEE_WAITING_PROPOSAL_DAYS must be between 1 and 90 days.",
            ));
        }
        if self.job_tick_secs > 3600 {
            return Err(err(
                "CORDEE_JOB_TICK must be at most 3600 seconds (0 turns the scheduler off).",
            ));
        }
        self.validate_providers()
    }

    fn validate_providers(&self) -> Result<(), ConfigError> {
        let mut seen = std::collections::HashSet::new();
        for p in &self.providers {
            let which = format!("providers entry \"{}\"", p.id);
            if p.id.is_empty()
                || !p
                    .id
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
            {
                return Err(err(format!(
                    "The {which} needs an id made of letters, digits, '-' or '_'."
                )));
            }
            if !seen.insert(p.id.as_str()) {
                return Err(err(format!("The {which} is declared twice.")));
            }
            if self.demo && (p.id == "psc-sandbox" || p.id == "staff-sandbox") {
                return Err(err(format!(
                    "The {which} uses an id reserved for the demo sandbox."
                )));
            }
            if !(p.issuer.starts_with("https://") || p.issuer.starts_with("http://")) {
                return Err(err(format!("The {which} has an issuer that is not a URL.")));
            }
            if p.client_secret.is_none() && p.client_secret_file.is_none() {
                return Err(err(format!(
                    "The {which} needs client_secret or client_secret_file."
                )));
            }
            if let Some(auth) = &p.token_auth
                && auth != "client_secret_basic"
                && auth != "client_secret_post"
            {
                return Err(err(format!(
                    "The {which} has token_auth \"{auth}\"; use client_secret_basic or client_secret_post."
                )));
            }
            if let Some(algs) = &p.id_token_algs {
                if algs.is_empty() {
                    return Err(err(format!("The {which} has an empty id_token_algs list.")));
                }
                for alg in algs {
                    if !ACCEPTED_ID_TOKEN_ALGS.contains(&alg.as_str()) {
                        return Err(err(format!(
                            "The {which} lists id_token_algs \"{alg}\"; accepted: {}.",
                            ACCEPTED_ID_TOKEN_ALGS.join(", ")
                        )));
                    }
                }
            }
            if p.client_cert_file.is_some() != p.client_key_file.is_some() {
                return Err(err(format!(
                    "The {which} needs both client_cert_file and client_key_file for mutual TLS, or neither."
                )));
            }
            for (key, uri) in [
                ("redirect_uri", &p.redirect_uri),
                ("post_logout_redirect_uri", &p.post_logout_redirect_uri),
                ("discovery_url", &p.discovery_url),
            ] {
                if let Some(uri) = uri
                    && !(uri.starts_with("https://") || uri.starts_with("http://"))
                {
                    return Err(err(format!("The {which} has a {key} that is not a URL.")));
                }
            }
            if p.kind == ProviderKind::Oidc && p.role_claim.is_none() {
                return Err(err(format!(
                    "The {which} is of kind \"oidc\" and needs role_claim (for example \"groups\")."
                )));
            }
        }
        Ok(())
    }
}

/// Asymmetric signatures only: `none` is never a signature, and HS* would make the
/// client secret (known to the gateway, and to anyone who reads its config) a key
/// that can forge ID tokens.
pub const ACCEPTED_ID_TOKEN_ALGS: [&str; 9] = [
    "RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "EdDSA",
];

impl Settings {
    /// Reads each provider's `client_secret_file` into its `client_secret`, so that a
    /// missing or empty file stops the start with a sentence, not the first login.
    fn load_provider_secrets(&mut self) -> Result<(), ConfigError> {
        for p in &mut self.providers {
            if let Some(path) = &p.client_secret_file {
                let text = std::fs::read_to_string(path).map_err(|e| {
                    err(format!(
                        "The client_secret_file {} of providers entry \"{}\" cannot be read: {e}.",
                        path.display(),
                        p.id
                    ))
                })?;
                let secret = text.trim();
                if secret.is_empty() {
                    return Err(err(format!(
                        "The client_secret_file {} of providers entry \"{}\" is empty.",
                        path.display(),
                        p.id
                    )));
                }
                p.client_secret = Some(SecretString::new(secret));
            }
        }
        Ok(())
    }

    /// Whether cookies must carry `Secure`: the browser reaches us over HTTPS, either
    /// directly or through the TLS-terminating proxy.
    pub fn cookies_secure(&self) -> bool {
        self.tls.is_some() || self.behind_proxy || self.public_url.starts_with("https://")
    }
}

fn to_usize(value: u64, name: &str) -> Result<usize, ConfigError> {
    usize::try_from(value).map_err(|_| err(format!("{name} is too large for this machine.")))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn layer() -> Layer {
        Layer::default()
    }

    #[test]
    fn no_configuration_is_the_demo() {
        let s = Settings::resolve(layer(), true).unwrap();
        assert!(s.demo);
        assert_eq!(s.listen.to_string(), "127.0.0.1:8443");
        assert_eq!(s.database_url.expose(), "sqlite://./data/cordee.db");
        assert_eq!(s.master_key_file, PathBuf::from("./data/master.key"));
        assert_eq!(s.public_url, "http://127.0.0.1:8443");
    }

    #[test]
    fn production_without_key_is_refused() {
        let e = Settings::resolve(layer(), false).unwrap_err();
        assert!(e.0.contains("CORDEE_MASTER_KEY_FILE"), "{e}");
    }

    #[test]
    fn plaintext_on_public_address_is_refused() {
        let mut l = layer();
        l.listen = Some("0.0.0.0:8443".parse().unwrap());
        l.demo = Some(false);
        l.master_key_file = Some("k".into());
        let e = Settings::resolve(l.clone(), false).unwrap_err();
        assert!(e.0.contains("CORDEE_LISTEN"), "{e}");
        l.behind_proxy = Some(true);
        l.public_url = Some("https://cpts.example".into());
        assert!(Settings::resolve(l, false).is_ok());
    }

    #[test]
    fn demo_on_public_address_is_refused() {
        let mut l = layer();
        l.listen = Some("0.0.0.0:8443".parse().unwrap());
        l.behind_proxy = Some(true);
        l.public_url = Some("https://cpts.example".into());
        let e = Settings::resolve(l, true).unwrap_err();
        assert!(e.0.contains("CORDEE_DEMO"), "{e}");
    }

    #[test]
    fn half_tls_is_refused() {
        let mut l = layer();
        l.tls_cert = Some("c.pem".into());
        let e = Settings::resolve(l, true).unwrap_err();
        assert!(e.0.contains("CORDEE_TLS_KEY"), "{e}");
    }

    #[test]
    fn bad_database_url_names_the_setting_without_password() {
        let mut l = layer();
        l.database_url = Some("mysql://u:pw@h/db".into());
        let e = Settings::resolve(l, true).unwrap_err();
        assert!(e.0.contains("CORDEE_DATABASE_URL"), "{e}");
        assert!(!e.0.contains("pw"), "{e}");
    }

    #[test]
    fn env_layer_wins_over_file() {
        let file: Layer = toml::from_str("listen = \"127.0.0.1:9000\"\nlog = \"debug\"").unwrap();
        let mut cli = layer();
        cli.listen = Some("127.0.0.1:9001".parse().unwrap());
        let merged = cli.over(file);
        assert_eq!(merged.listen.unwrap().to_string(), "127.0.0.1:9001");
        assert_eq!(merged.log.as_deref(), Some("debug"));
    }

    #[test]
    fn unknown_file_keys_are_refused() {
        assert!(toml::from_str::<Layer>("lisen = \"127.0.0.1:9000\"").is_err());
    }

    fn provider(extra: &str) -> ProviderConfig {
        toml::from_str(&format!(
            "id='psc'\nname='PSC'\nkind='psc'\nissuer='https://x'\nclient_id='c'\nclient_secret='s'\n{extra}"
        ))
        .unwrap()
    }

    #[test]
    fn provider_settings_are_checked() {
        let cases = [
            ("id_token_algs = ['none']", "id_token_algs"),
            ("id_token_algs = ['HS256']", "id_token_algs"),
            ("id_token_algs = []", "id_token_algs"),
            ("client_cert_file = 'c.pem'", "client_key_file"),
            ("redirect_uri = 'javascript:x'", "redirect_uri"),
        ];
        for (extra, needle) in cases {
            let mut l = layer();
            l.providers = vec![provider(extra)];
            let e = Settings::resolve(l, true).unwrap_err();
            assert!(e.0.contains(needle), "{extra}: {e}");
        }
        let mut l = layer();
        l.providers = vec![provider("id_token_algs = ['RS256', 'PS256']")];
        assert!(Settings::resolve(l, true).is_ok());
    }

    #[test]
    fn client_secret_file_is_read_at_start() {
        let dir = std::env::temp_dir().join(format!("cordee-secret-{}", uuid::Uuid::now_v7()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("secret");
        std::fs::write(&file, "  s3cr3t\n").unwrap();
        let mut p = provider("");
        p.client_secret = None;
        p.client_secret_file = Some(file.clone());
        let mut l = layer();
        l.providers = vec![p.clone()];
        let s = Settings::resolve(l, true).unwrap();
        assert_eq!(
            s.providers[0].client_secret.as_ref().unwrap().expose(),
            "s3cr3t"
        );
        p.client_secret_file = Some(dir.join("missing"));
        let mut l = layer();
        l.providers = vec![p];
        let e = Settings::resolve(l, true).unwrap_err();
        assert!(e.0.contains("client_secret_file"), "{e}");
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn debug_never_prints_secrets() {
        let mut l = layer();
        l.database_url = Some("postgres://app:s3cret@db/cordee".into());
        l.providers = vec![
            toml::from_str::<ProviderConfig>(
                "id='psc'\nname='PSC'\nkind='psc'\nissuer='https://x'\nclient_id='c'\nclient_secret='hunter2'",
            )
            .unwrap(),
        ];
        let s = Settings::resolve(l, true).unwrap();
        let text = format!("{s:?}");
        assert!(
            !text.contains("s3cret") && !text.contains("hunter2"),
            "{text}"
        );
    }
}
