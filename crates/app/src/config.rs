//! Configuration: built-in defaults, then an optional TOML file, then the
//! environment, with the variable names of the database connection guide.
//!
//! Layering is done by the `config` crate; every value is then parsed here
//! into typed [`Settings`] so that a wrong value is refused at start with one
//! error naming the variable, the value and what is allowed. Values of secret
//! variables (`PG_PASSWORD`, `DATABASE_URL`) never appear in errors or in
//! `Debug` output: passwords are replaced by `***`.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::net::{IpAddr, Ipv6Addr};
use std::path::{Path, PathBuf};
use std::time::Duration;

use log::LevelFilter;
use openbadges_diesel_postgres::PgOptions;
use openbadges_diesel_sqlite::{SqliteOptions, SyncMode};
use openbadges_domain::operations::Backend;

use crate::logging::LogFormat;

/// The variable naming the optional configuration file (the `--config` flag wins).
pub const CONFIG_FILE_VAR: &str = "CONFIG_FILE";

/// One configuration variable: its name, default, and what it accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Variable {
    /// The environment variable name; the config file uses it in lower case.
    pub name: &'static str,
    /// The default; `None` when it is derived from other settings.
    pub default: Option<&'static str>,
    /// The values accepted, as said in error messages.
    pub allowed: &'static str,
    /// One line for `--help`.
    pub help: &'static str,
    /// Whether the value must never be shown.
    secret: bool,
}

impl Variable {
    const fn new(
        name: &'static str,
        default: Option<&'static str>,
        allowed: &'static str,
        help: &'static str,
    ) -> Self {
        Self {
            name,
            default,
            allowed,
            help,
            secret: false,
        }
    }

    const fn secret(mut self) -> Self {
        self.secret = true;
        self
    }

    /// The key of this variable in the config file and in the `config` crate,
    /// which lower-cases environment keys.
    fn key(&self) -> String {
        self.name.to_ascii_lowercase()
    }

    /// What an error message may show of `value`.
    fn shown(&self, value: &str) -> String {
        if !self.secret {
            format!("{value:?}")
        } else if self.name == DATABASE_URL.name {
            format!("{:?}", redact_url(value))
        } else if self.name == DATABASE_REPLICA_URLS.name {
            let urls: Vec<String> = value.split(',').map(str::trim).map(redact_url).collect();
            format!("{:?}", urls.join(","))
        } else {
            "(hidden)".to_owned()
        }
    }
}

/// `postgresql` or `sqlite`.
pub const DB_TYPE: Variable = Variable::new(
    "DB_TYPE",
    Some("sqlite"),
    "postgresql (alias postgres), sqlite",
    "database backend: postgresql (alias postgres) | sqlite",
);
/// A full PostgreSQL URL; wins over the `PG_*` parts.
pub const DATABASE_URL: Variable = Variable::new(
    "DATABASE_URL",
    None,
    "a postgres:// or postgresql:// URL",
    "PostgreSQL URL, passed to libpq as is (e.g. ?sslmode=require); wins over PG_*",
)
.secret();
/// PostgreSQL host, when `DATABASE_URL` is absent.
pub const PG_HOST: Variable = Variable::new(
    "PG_HOST",
    Some("localhost"),
    "a host name, an IP address, or a Unix socket directory",
    "PostgreSQL host (or socket directory) when DATABASE_URL is unset",
);
/// PostgreSQL port, when `DATABASE_URL` is absent.
pub const PG_PORT: Variable = Variable::new(
    "PG_PORT",
    Some("5432"),
    "a port number 1-65535",
    "PostgreSQL port when DATABASE_URL is unset",
);
/// PostgreSQL user, when `DATABASE_URL` is absent.
pub const PG_USER: Variable = Variable::new(
    "PG_USER",
    Some("postgres"),
    "a non-empty role name",
    "PostgreSQL user when DATABASE_URL is unset",
);
/// PostgreSQL password, when `DATABASE_URL` is absent.
pub const PG_PASSWORD: Variable = Variable::new(
    "PG_PASSWORD",
    Some(""),
    "any text",
    "PostgreSQL password when DATABASE_URL is unset (never logged)",
)
.secret();
/// PostgreSQL database name, when `DATABASE_URL` is absent.
pub const PG_DATABASE: Variable = Variable::new(
    "PG_DATABASE",
    Some("openbadges"),
    "a non-empty database name",
    "PostgreSQL database when DATABASE_URL is unset",
);
/// Most connections the PostgreSQL pool opens.
pub const PG_POOL_MAX: Variable = Variable::new(
    "PG_POOL_MAX",
    Some("10"),
    "a whole number 1-1000",
    "most PostgreSQL connections in the pool",
);
/// Seconds an idle PostgreSQL connection is kept.
pub const PG_POOL_IDLE_TIMEOUT: Variable = Variable::new(
    "PG_POOL_IDLE_TIMEOUT",
    Some("30"),
    "whole seconds, 0 keeps idle connections forever",
    "seconds before an idle pooled connection is closed (0: never)",
);
/// PostgreSQL streaming standbys that serve public reads.
pub const DATABASE_REPLICA_URLS: Variable = Variable::new(
    "DATABASE_REPLICA_URLS",
    Some(""),
    "comma-separated postgres:// or postgresql:// URLs of standbys of DATABASE_URL's server",
    "read replicas (comma-separated PostgreSQL URLs) for public reads; DB_TYPE=postgresql only",
)
.secret();
/// How far behind the primary a replica may be and still serve reads.
pub const REPLICA_MAX_LAG_MS: Variable = Variable::new(
    "REPLICA_MAX_LAG_MS",
    Some("1000"),
    "whole milliseconds 100-3600000",
    "a replica further behind the primary than this is skipped until it catches up",
);
/// Path of the SQLite database file.
pub const SQLITE_FILE: Variable = Variable::new(
    "SQLITE_FILE",
    Some("./openbadges.sqlite"),
    "a file path",
    "SQLite database file; its directory must exist and be writable",
);
/// Milliseconds SQLite waits for a lock.
pub const SQLITE_BUSY_TIMEOUT: Variable = Variable::new(
    "SQLITE_BUSY_TIMEOUT",
    Some("5000"),
    "whole milliseconds 0-2147483647",
    "milliseconds to wait for a locked SQLite database",
);
/// SQLite `PRAGMA synchronous`.
pub const SQLITE_SYNC_MODE: Variable = Variable::new(
    "SQLITE_SYNC_MODE",
    Some("NORMAL"),
    "OFF, NORMAL, FULL, EXTRA",
    "SQLite synchronous mode: OFF | NORMAL | FULL | EXTRA",
);
/// SQLite `PRAGMA cache_size`.
pub const SQLITE_CACHE_SIZE: Variable = Variable::new(
    "SQLITE_CACHE_SIZE",
    Some("4000"),
    "an integer (pages; negative: KiB)",
    "SQLite page cache of the whole pool, in pages (negative: KiB)",
);
/// Whether adapters log every SQL statement.
pub const DB_QUERY_LOGGING: Variable = Variable::new(
    "DB_QUERY_LOGGING",
    Some("false"),
    "true, false, 1, 0",
    "log every SQL statement (target openbadges::sql, at debug)",
);
/// The log level.
pub const LOG_LEVEL: Variable = Variable::new(
    "LOG_LEVEL",
    Some("info"),
    "error, warn, info, debug, trace",
    "log level: error | warn | info | debug | trace",
);
/// How log lines are written.
pub const LOG_FORMAT: Variable = Variable::new(
    "LOG_FORMAT",
    Some("text"),
    "text, json",
    "log lines as text, or as JSON objects one a line: text | json",
);
/// The address the HTTP server binds.
pub const HOST: Variable = Variable::new(
    "HOST",
    Some("0.0.0.0"),
    "an IP address or a host name",
    "address the HTTP server listens on",
);
/// The port the HTTP server binds.
pub const PORT: Variable = Variable::new(
    "PORT",
    Some("3000"),
    "a port number 1-65535",
    "port the HTTP server listens on",
);
/// The public URL documents are addressed by.
pub const BASE_URL: Variable = Variable::new(
    "BASE_URL",
    None,
    "an http:// or https:// URL without query or fragment",
    "public URL of this server [default: http://localhost:<PORT>]",
);

/// `production` makes the server strict: a `JWT_SECRET` is required and
/// authentication cannot be switched off.
pub const NODE_ENV: Variable = Variable::new(
    "NODE_ENV",
    Some("development"),
    "development, production, test",
    "production: require JWT_SECRET, refuse AUTH_ENABLED=false",
);
/// Whether requests must authenticate to write.
pub const AUTH_ENABLED: Variable = Variable::new(
    "AUTH_ENABLED",
    Some("true"),
    "true, false, 1, 0 (false is refused in production)",
    "false: every caller acts as an administrator (development only)",
);
/// Secret for login tokens and list cursors.
pub const JWT_SECRET: Variable = Variable::new(
    "JWT_SECRET",
    None,
    "at least 32 characters",
    "secret signing login tokens and list cursors; required in production (else random per process)",
)
.secret();
/// Lifetime of login tokens.
pub const JWT_TOKEN_EXPIRY_SECONDS: Variable = Variable::new(
    "JWT_TOKEN_EXPIRY_SECONDS",
    Some("3600"),
    "whole seconds 60-2592000",
    "how long a login token is valid",
);
/// Failed logins for one account before each further one must wait.
pub const LOGIN_THROTTLE_FAILURES: Variable = Variable::new(
    "LOGIN_THROTTLE_FAILURES",
    Some("5"),
    "whole number 0-1000 (0: no throttle)",
    "failed logins for one account (or device) before each further attempt waits",
);
/// The longest wait the login throttle imposes.
pub const LOGIN_THROTTLE_MAX_DELAY_SECONDS: Variable = Variable::new(
    "LOGIN_THROTTLE_MAX_DELAY_SECONDS",
    Some("900"),
    "whole seconds 1-86400",
    "longest wait between failed logins; failures are forgotten this long after",
);
/// Username of the administrator created at first start.
pub const AUTH_ADMIN_USERNAME: Variable = Variable::new(
    "AUTH_ADMIN_USERNAME",
    None,
    "3 to 64 letters, digits, . _ - @",
    "create this administrator at start if missing (with AUTH_ADMIN_PASSWORD)",
);
/// E-mail of that administrator.
pub const AUTH_ADMIN_EMAIL: Variable = Variable::new(
    "AUTH_ADMIN_EMAIL",
    None,
    "an e-mail address",
    "e-mail of the bootstrap administrator",
);
/// Password of that administrator.
pub const AUTH_ADMIN_PASSWORD: Variable = Variable::new(
    "AUTH_ADMIN_PASSWORD",
    None,
    "10 to 1024 characters",
    "password of the bootstrap administrator (never logged)",
)
.secret();
/// Key that seals signing keys in the database.
pub const KEY_ENCRYPTION_KEY: Variable = Variable::new(
    "KEY_ENCRYPTION_KEY",
    None,
    "64 hex digits (256 bits), e.g. from `openssl rand -hex 32`",
    "seals issuers' private keys at rest; required in production, the same on every instance",
)
.secret();
/// Origins allowed by CORS.
pub const CORS_ORIGINS: Variable = Variable::new(
    "CORS_ORIGINS",
    Some(""),
    "comma-separated origins like https://app.example.org, or *",
    "browser origins allowed to call the API (empty: none)",
);
/// Requests per minute per client.
pub const RATE_LIMIT_PER_MINUTE: Variable = Variable::new(
    "RATE_LIMIT_PER_MINUTE",
    Some("600"),
    "whole number 0-1000000 (0: no limit)",
    "requests per minute per valid API key, user of login tokens, or else client address (0: off)",
);
/// Proxies whose X-Forwarded-For is believed.
pub const TRUSTED_PROXIES: Variable = Variable::new(
    "TRUSTED_PROXIES",
    Some(""),
    "comma-separated IP addresses",
    "reverse proxies whose X-Forwarded-For names the client",
);
/// Largest request body.
pub const MAX_BODY_BYTES: Variable = Variable::new(
    "MAX_BODY_BYTES",
    Some("16777216"),
    "whole bytes 1024-1073741824",
    "largest request body accepted (a 10,000-award batch fits in 16 MiB)",
);
/// Largest uploaded image (`POST /assets`).
pub const ASSETS_MAX_FILE_SIZE: Variable = Variable::new(
    "ASSETS_MAX_FILE_SIZE",
    Some("5242880"),
    "whole bytes 1024-104857600",
    "largest image accepted by POST /assets (and in an achievement's data: image)",
);
/// Deepest JSON nesting accepted.
pub const MAX_JSON_DEPTH: Variable = Variable::new(
    "MAX_JSON_DEPTH",
    Some("32"),
    "whole number 2-128",
    "deepest nesting of arrays and objects accepted in a JSON body",
);
/// Time limit of one request.
pub const REQUEST_TIMEOUT_SECONDS: Variable = Variable::new(
    "REQUEST_TIMEOUT_SECONDS",
    Some("30"),
    "whole seconds 1-3600",
    "a request still running after this long answers 503",
);

/// Whether `GET /metrics` is served.
pub const METRICS_ENABLED: Variable = Variable::new(
    "METRICS_ENABLED",
    Some("true"),
    "true, false, 1, 0",
    "serve Prometheus metrics at GET /metrics (no credentials asked)",
);
/// Memory for rendered public documents.
pub const DOCUMENT_CACHE_MB: Variable = Variable::new(
    "DOCUMENT_CACHE_MB",
    Some("32"),
    "whole megabytes 0-4096",
    "memory for rendered public documents (credentials, achievements, issuers, DID documents, \
     status lists), forgotten within 50 ms of a change made by any instance; 0 turns the cache off",
);
/// How long a stopping server lets requests finish.
pub const SHUTDOWN_TIMEOUT: Variable = Variable::new(
    "SHUTDOWN_TIMEOUT",
    Some("30"),
    "whole seconds 0-3600",
    "on SIGTERM/SIGINT, seconds in-flight requests get to finish",
);

/// The SMTP server award e-mails go through (docs/email.md); unset: no
/// e-mail is sent, nor queued.
pub const SMTP_HOST: Variable = Variable::new(
    "SMTP_HOST",
    Some(""),
    "a host name or IP address (empty: no e-mail)",
    "SMTP server for award e-mails (empty: e-mail off)",
);
/// Its port.
pub const SMTP_PORT: Variable = Variable::new(
    "SMTP_PORT",
    None,
    "1-65535 (default by SMTP_TLS: 25 for none, 587 for starttls, 465 for tls)",
    "SMTP port (default 25, 587 or 465 by SMTP_TLS)",
);
/// Its user name.
pub const SMTP_USER: Variable = Variable::new(
    "SMTP_USER",
    Some(""),
    "a user name (empty: no login)",
    "SMTP login user (empty: no login)",
);
/// Its password.
pub const SMTP_PASSWORD: Variable = Variable::new(
    "SMTP_PASSWORD",
    Some(""),
    "the SMTP password (needed with SMTP_USER)",
    "SMTP login password; never logged",
)
.secret();
/// The sender address.
pub const SMTP_FROM: Variable = Variable::new(
    "SMTP_FROM",
    None,
    "an e-mail address, optionally with a name: Badges <badges@example.org>",
    "From of award e-mails (required with SMTP_HOST)",
);
/// How the SMTP connection is secured.
pub const SMTP_TLS: Variable = Variable::new(
    "SMTP_TLS",
    Some("starttls"),
    "none, starttls or tls",
    "SMTP security: none, starttls (required upgrade) or tls (implicit)",
);
/// First retry delay.
pub const MAIL_RETRY_BASE_SECONDS: Variable = Variable::new(
    "MAIL_RETRY_BASE_SECONDS",
    Some("30"),
    "whole seconds 1-3600",
    "first retry delay of a failed e-mail, doubled each time up to an hour (small for tests)",
);
/// Attempts before an e-mail is given up.
pub const MAIL_MAX_ATTEMPTS: Variable = Variable::new(
    "MAIL_MAX_ATTEMPTS",
    Some("10"),
    "whole number 1-100",
    "attempts before an e-mail is marked failed",
);

/// The name the Service API's discovery document gives this server.
pub const SERVICE_NAME: Variable = Variable::new(
    "SERVICE_NAME",
    Some("Open Badges Server"),
    "any non-empty text",
    "name of this server in the OB 3.0 discovery document and on the consent page",
);
/// The terms of service the discovery document links.
pub const SERVICE_TERMS_URL: Variable = Variable::new(
    "SERVICE_TERMS_URL",
    None,
    "an http:// or https:// URL",
    "terms of service of the OB 3.0 Service API [default: <BASE_URL>/terms, a stock page]",
);
/// The privacy policy the discovery document links.
pub const SERVICE_PRIVACY_URL: Variable = Variable::new(
    "SERVICE_PRIVACY_URL",
    None,
    "an http:// or https:// URL",
    "privacy policy of the OB 3.0 Service API [default: <BASE_URL>/privacy, a stock page]",
);
/// An image of this server for the discovery document.
pub const SERVICE_IMAGE_URL: Variable = Variable::new(
    "SERVICE_IMAGE_URL",
    Some(""),
    "an http:// or https:// URL, or a data: URI (empty: none)",
    "x-imssf-image of the OB 3.0 discovery document (empty: none)",
);
/// How long an OAuth authorization code may wait to be redeemed.
pub const OAUTH_CODE_LIFETIME_SECONDS: Variable = Variable::new(
    "OAUTH_CODE_LIFETIME_SECONDS",
    Some("600"),
    "whole seconds 0-600 (0: every code is expired at once, for tests)",
    "lifetime of an OAuth authorization code",
);
/// How long an OAuth access token works.
pub const OAUTH_ACCESS_TOKEN_LIFETIME_SECONDS: Variable = Variable::new(
    "OAUTH_ACCESS_TOKEN_LIFETIME_SECONDS",
    Some("3600"),
    "whole seconds 0-86400 (0: every token is expired at once, for tests)",
    "lifetime of an OAuth access token of the OB 3.0 Service API",
);
/// How long an OAuth refresh token works.
pub const OAUTH_REFRESH_TOKEN_LIFETIME_SECONDS: Variable = Variable::new(
    "OAUTH_REFRESH_TOKEN_LIFETIME_SECONDS",
    Some("7776000"),
    "whole seconds 60-31536000",
    "lifetime of an OAuth refresh token (each refresh issues a new one)",
);
/// Whether people may create learner accounts themselves
/// (`POST /learner/register`, docs/learners.md).
pub const LEARNER_REGISTRATION: Variable = Variable::new(
    "LEARNER_REGISTRATION",
    Some("closed"),
    "open or closed",
    "open: anyone may register a learner account at POST /learner/register; closed: only admins create them",
);

/// Whether outbound requests may use plain HTTP to loopback addresses.
pub const OUTBOUND_ALLOW_LOOPBACK_HTTP: Variable = Variable::new(
    "OUTBOUND_ALLOW_LOOPBACK_HTTP",
    Some("false"),
    "true, false, 1, 0 (true is refused in production)",
    "let requests to badge hosts and did:web use plain HTTP to loopback addresses (tests only)",
);

/// Every variable, in the order `--help` lists them.
pub const VARIABLES: &[Variable] = &[
    DB_TYPE,
    DATABASE_URL,
    PG_HOST,
    PG_PORT,
    PG_USER,
    PG_PASSWORD,
    PG_DATABASE,
    PG_POOL_MAX,
    PG_POOL_IDLE_TIMEOUT,
    DATABASE_REPLICA_URLS,
    REPLICA_MAX_LAG_MS,
    SQLITE_FILE,
    SQLITE_BUSY_TIMEOUT,
    SQLITE_SYNC_MODE,
    SQLITE_CACHE_SIZE,
    DB_QUERY_LOGGING,
    LOG_LEVEL,
    LOG_FORMAT,
    HOST,
    PORT,
    BASE_URL,
    NODE_ENV,
    AUTH_ENABLED,
    JWT_SECRET,
    JWT_TOKEN_EXPIRY_SECONDS,
    LOGIN_THROTTLE_FAILURES,
    LOGIN_THROTTLE_MAX_DELAY_SECONDS,
    AUTH_ADMIN_USERNAME,
    AUTH_ADMIN_EMAIL,
    AUTH_ADMIN_PASSWORD,
    KEY_ENCRYPTION_KEY,
    CORS_ORIGINS,
    RATE_LIMIT_PER_MINUTE,
    TRUSTED_PROXIES,
    MAX_BODY_BYTES,
    ASSETS_MAX_FILE_SIZE,
    MAX_JSON_DEPTH,
    REQUEST_TIMEOUT_SECONDS,
    METRICS_ENABLED,
    DOCUMENT_CACHE_MB,
    SHUTDOWN_TIMEOUT,
    SMTP_HOST,
    SMTP_PORT,
    SMTP_USER,
    SMTP_PASSWORD,
    SMTP_FROM,
    SMTP_TLS,
    MAIL_RETRY_BASE_SECONDS,
    MAIL_MAX_ATTEMPTS,
    LEARNER_REGISTRATION,
    OUTBOUND_ALLOW_LOOPBACK_HTTP,
    SERVICE_NAME,
    SERVICE_TERMS_URL,
    SERVICE_PRIVACY_URL,
    SERVICE_IMAGE_URL,
    OAUTH_CODE_LIFETIME_SECONDS,
    OAUTH_ACCESS_TOKEN_LIFETIME_SECONDS,
    OAUTH_REFRESH_TOKEN_LIFETIME_SECONDS,
];

/// Prefix of the API keys configured the previous server's way,
/// `AUTH_API_KEY_<NAME>=<key>:<userId>:<description>` (environment only).
pub const API_KEY_PREFIX: &str = "AUTH_API_KEY_";

/// The environment-variable table for `--help`, generated from [`VARIABLES`]
/// so that help, defaults and validation cannot drift apart.
pub fn environment_help() -> String {
    let mut help = String::from(
        "Environment variables (a TOML file given by --config or CONFIG_FILE may set the same \
         names in lower case, e.g. db_type = \"postgresql\"; the environment wins):\n",
    );
    for var in VARIABLES {
        let default = match var.default {
            Some("") => "(empty)",
            Some(default) => default,
            None => "-",
        };
        // Writing to a String cannot fail.
        let _ = writeln!(help, "  {:<21} {:<20} {}", var.name, default, var.help);
    }
    help
}

/// Why the configuration was refused. Shown to the operator as is, so it
/// never carries a secret.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    /// A variable has a value that cannot be used.
    #[error("invalid {name} {value}: allowed values are {allowed}{}", reason_suffix(.reason))]
    Invalid {
        /// The variable.
        name: &'static str,
        /// The value as it may be shown: quoted, redacted or hidden.
        value: String,
        /// What the variable accepts.
        allowed: &'static str,
        /// Why the value was refused, when the allowed values do not say it.
        reason: Option<String>,
    },
    /// The configuration file could not be read.
    #[error("cannot read configuration file {path}: {reason}")]
    File {
        /// The file.
        path: PathBuf,
        /// What went wrong.
        reason: String,
    },
    /// The configuration file sets something that is not a setting; refused
    /// because a typo would otherwise be silently ignored.
    #[error(
        "unknown setting `{key}` in configuration file {path}: settings are the environment \
         variable names in lower case ({known})"
    )]
    UnknownKey {
        /// The file.
        path: PathBuf,
        /// The unknown key.
        key: String,
        /// The keys that are allowed.
        known: String,
    },
}

fn reason_suffix(reason: &Option<String>) -> String {
    reason
        .as_ref()
        .map(|reason| format!(" ({reason})"))
        .unwrap_or_default()
}

/// Everything the server is configured with.
#[derive(Debug)]
pub struct Settings {
    /// The chosen backend and its options.
    pub database: DatabaseSettings,
    /// Where HTTP is served.
    pub http: HttpSettings,
    /// The log level (`LOG_LEVEL`).
    pub log_level: LevelFilter,
    /// How log lines are written (`LOG_FORMAT`).
    pub log_format: LogFormat,
    /// Whether SQL statements are logged (`DB_QUERY_LOGGING`).
    pub query_logging: bool,
    /// Authentication.
    pub auth: AuthSettings,
    /// Limits and browser-facing protections.
    pub security: SecuritySettings,
    /// Award e-mails; `None` when `SMTP_HOST` is unset.
    pub mail: Option<crate::mail::config::MailSettings>,
    /// `LEARNER_REGISTRATION=open`: anyone may register a learner account.
    pub learner_registration_open: bool,
    /// The OB 3.0 Service API and its OAuth 2.0 authorization server.
    pub service: ServiceSettings,
    /// What outbound requests (badge hosts, did:web) may reach.
    pub outbound: crate::outbound::OutboundSettings,
}

/// The OB 3.0 Service API and its OAuth 2.0 authorization server
/// (`SERVICE_*`, `OAUTH_*`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceSettings {
    /// `SERVICE_NAME`.
    pub name: String,
    /// `SERVICE_TERMS_URL`, or the stock page under `BASE_URL`.
    pub terms_url: String,
    /// `SERVICE_PRIVACY_URL`, or the stock page under `BASE_URL`.
    pub privacy_url: String,
    /// `SERVICE_IMAGE_URL`, if set.
    pub image_url: Option<String>,
    /// `OAUTH_CODE_LIFETIME_SECONDS`.
    pub code_lifetime: Duration,
    /// `OAUTH_ACCESS_TOKEN_LIFETIME_SECONDS`.
    pub access_token_lifetime: Duration,
    /// `OAUTH_REFRESH_TOKEN_LIFETIME_SECONDS`.
    pub refresh_token_lifetime: Duration,
}

/// Authentication settings. `Debug` hides every secret.
pub struct AuthSettings {
    /// `NODE_ENV=production`.
    pub production: bool,
    /// `AUTH_ENABLED`.
    pub enabled: bool,
    /// `JWT_SECRET`, if set.
    pub jwt_secret: Option<String>,
    /// `JWT_TOKEN_EXPIRY_SECONDS`.
    pub token_lifetime: Duration,
    /// `LOGIN_THROTTLE_*`.
    pub login_throttle: LoginThrottleSettings,
    /// The administrator to create at start, if any.
    pub bootstrap_admin: Option<BootstrapAdmin>,
    /// `AUTH_API_KEY_<NAME>` variables, as (name, value).
    pub configured_keys: Vec<(String, String)>,
    /// `KEY_ENCRYPTION_KEY`, if set.
    pub key_encryption_key: Option<[u8; 32]>,
}

impl std::fmt::Debug for AuthSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AuthSettings")
            .field("production", &self.production)
            .field("enabled", &self.enabled)
            .field("jwt_secret", &self.jwt_secret.as_ref().map(|_| "<hidden>"))
            .field("token_lifetime", &self.token_lifetime)
            .field("login_throttle", &self.login_throttle)
            .field("bootstrap_admin", &self.bootstrap_admin)
            .field(
                "key_encryption_key",
                &self.key_encryption_key.as_ref().map(|_| "<hidden>"),
            )
            .field(
                "configured_keys",
                &self
                    .configured_keys
                    .iter()
                    .map(|(name, _)| name)
                    .collect::<Vec<_>>(),
            )
            .finish()
    }
}

/// How failed logins slow down further ones (`auth::throttle`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LoginThrottleSettings {
    /// `LOGIN_THROTTLE_FAILURES`: failures counted before each further
    /// attempt must wait; 0 switches the throttle off.
    pub failures: u32,
    /// `LOGIN_THROTTLE_MAX_DELAY_SECONDS`: the longest wait, and how long
    /// after its wait a count is kept.
    pub max_delay: Duration,
}

/// The administrator created at first start from `AUTH_ADMIN_*`.
pub struct BootstrapAdmin {
    /// `AUTH_ADMIN_USERNAME`.
    pub username: String,
    /// `AUTH_ADMIN_EMAIL`.
    pub email: Option<String>,
    /// `AUTH_ADMIN_PASSWORD`.
    pub password: String,
}

impl std::fmt::Debug for BootstrapAdmin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BootstrapAdmin")
            .field("username", &self.username)
            .field("email", &self.email)
            .finish_non_exhaustive()
    }
}

/// Limits and browser-facing protections.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SecuritySettings {
    /// `CORS_ORIGINS`; `["*"]` allows any origin.
    pub cors_origins: Vec<String>,
    /// `RATE_LIMIT_PER_MINUTE`; 0 switches the limit off.
    pub rate_limit_per_minute: u32,
    /// `TRUSTED_PROXIES`.
    pub trusted_proxies: Vec<IpAddr>,
    /// `MAX_BODY_BYTES`.
    pub max_body_bytes: usize,
    /// `MAX_JSON_DEPTH`.
    pub max_json_depth: usize,
    /// `ASSETS_MAX_FILE_SIZE`: the largest uploaded image, in bytes.
    pub assets_max_file_size: usize,
    /// `REQUEST_TIMEOUT_SECONDS`.
    pub request_timeout: Duration,
}

/// The backend chosen by `DB_TYPE`, with the adapter's options.
///
/// `Debug` shows a PostgreSQL URL with its password redacted (by the adapter's
/// `PgOptions`).
#[derive(Debug)]
pub enum DatabaseSettings {
    /// PostgreSQL.
    Postgresql(PgOptions),
    /// SQLite.
    Sqlite(SqliteOptions),
}

impl DatabaseSettings {
    /// The backend kind.
    pub fn backend(&self) -> Backend {
        match self {
            Self::Postgresql(_) => Backend::Postgresql,
            Self::Sqlite(_) => Backend::Sqlite,
        }
    }

    /// How long reads through the replicas can trail a change: zero
    /// without replicas.
    pub fn replica_lag_bound(&self) -> Duration {
        match self {
            Self::Postgresql(options) if !options.replica_urls.is_empty() => {
                options.replica_max_lag
            }
            _ => Duration::ZERO,
        }
    }

    /// The read replicas' URLs with their passwords redacted, in the
    /// order configured (replicas are reported by index).
    pub fn replica_locations(&self) -> Vec<String> {
        match self {
            Self::Postgresql(options) => options
                .replica_urls
                .iter()
                .map(|url| redact_url(url))
                .collect(),
            Self::Sqlite(_) => Vec::new(),
        }
    }

    /// Where the data lives, safe to log: the SQLite path, or the PostgreSQL
    /// URL with its password redacted.
    pub fn location(&self) -> String {
        match self {
            Self::Postgresql(options) => redact_url(&options.url),
            Self::Sqlite(options) => options.file.display().to_string(),
        }
    }
}

/// Where HTTP is served.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpSettings {
    /// Address to bind (`HOST`).
    pub host: String,
    /// Port to bind (`PORT`).
    pub port: u16,
    /// Public URL without a trailing slash (`BASE_URL`).
    pub base_url: String,
    /// Whether `GET /metrics` is served (`METRICS_ENABLED`).
    pub metrics_enabled: bool,
    /// Bytes of rendered public documents kept (`DOCUMENT_CACHE_MB`).
    pub document_cache_bytes: usize,
    /// How long in-flight requests get to finish on shutdown (`SHUTDOWN_TIMEOUT`).
    pub shutdown_timeout: Duration,
}

impl Settings {
    /// Reads the process environment, and the file named by `config_file` or
    /// else by `CONFIG_FILE`.
    pub fn from_env(config_file: Option<&Path>) -> Result<Self, ConfigError> {
        // Read as an OS string: a file path need not be UTF-8.
        let config_file = config_file.map(Path::to_path_buf).or_else(|| {
            std::env::var_os(CONFIG_FILE_VAR)
                .filter(|path| !path.is_empty())
                .map(PathBuf::from)
        });
        let mut vars = Vec::new();
        for (key, value) in std::env::vars_os() {
            // Configured API keys have open-ended names.
            if let Some(name) = key.to_str().filter(|k| k.starts_with(API_KEY_PREFIX)) {
                if let Ok(value) = value.clone().into_string() {
                    vars.push((name.to_owned(), value));
                }
                continue;
            }
            // Only our variables are looked at: an unrelated variable with
            // odd content must not stop the server.
            let Some(var) = key.to_str().and_then(variable) else {
                continue;
            };
            match value.into_string() {
                Ok(value) => vars.push((var.name.to_owned(), value)),
                Err(_) => return Err(invalid_shown(var, "(not UTF-8)", None)),
            }
        }
        Self::load(config_file.as_deref(), vars)
    }

    /// Parses the given variables as if they were the whole environment; a
    /// file is read only when they contain `CONFIG_FILE`. Lets tests run
    /// without touching the process environment.
    pub fn from_source<I, K, V>(vars: I) -> Result<Self, ConfigError>
    where
        I: IntoIterator<Item = (K, V)>,
        K: Into<String>,
        V: Into<String>,
    {
        Self::load(None, vars)
    }

    /// Layers defaults < the config file (`config_file`, else `CONFIG_FILE`
    /// from `vars`) < `vars`, then parses and validates every setting.
    pub fn load<I, K, V>(config_file: Option<&Path>, vars: I) -> Result<Self, ConfigError>
    where
        I: IntoIterator<Item = (K, V)>,
        K: Into<String>,
        V: Into<String>,
    {
        let vars: HashMap<String, String> = vars
            .into_iter()
            .map(|(key, value)| (key.into(), value.into()))
            .collect();
        let file = config_file.map(Path::to_path_buf).or_else(|| {
            vars.get(CONFIG_FILE_VAR)
                .filter(|path| !path.is_empty())
                .map(PathBuf::from)
        });
        let configured_keys: Vec<(String, String)> = vars
            .iter()
            .filter(|(key, value)| key.starts_with(API_KEY_PREFIX) && !value.is_empty())
            .map(|(key, value)| (key.clone(), value.clone()))
            .collect();
        let layers = Layers::build(file.as_deref(), vars)?;
        Self::parse(&layers, configured_keys)
    }

    fn parse(layers: &Layers, configured_keys: Vec<(String, String)>) -> Result<Self, ConfigError> {
        let query_logging = layers.parse(&DB_QUERY_LOGGING, parse_bool)?;
        let database = match layers.parse(&DB_TYPE, parse_backend)? {
            ServedBackend::Postgresql => {
                DatabaseSettings::Postgresql(postgres_options(layers, query_logging)?)
            }
            ServedBackend::Sqlite => {
                // Refused rather than ignored: whoever set it planned for
                // reads to leave the database, and SQLite has no replicas.
                if let Some(urls) = layers
                    .value(&DATABASE_REPLICA_URLS)?
                    .filter(|urls| !urls.trim().is_empty())
                {
                    return Err(invalid(
                        &DATABASE_REPLICA_URLS,
                        &urls,
                        Some(
                            "read replicas are PostgreSQL standbys: set DB_TYPE=postgresql, \
                             or unset DATABASE_REPLICA_URLS"
                                .to_owned(),
                        ),
                    ));
                }
                DatabaseSettings::Sqlite(sqlite_options(layers, query_logging)?)
            }
        };
        let port = layers.parse(&PORT, parse_port)?;
        let base_url = match layers.value(&BASE_URL)? {
            Some(url) => {
                parse_base_url(&url).map_err(|reason| invalid(&BASE_URL, &url, Some(reason)))?
            }
            None => format!("http://localhost:{port}"),
        };
        let service = service_settings(layers, &base_url)?;
        Ok(Self {
            database,
            http: HttpSettings {
                host: layers.parse(&HOST, parse_host)?,
                port,
                base_url,
                metrics_enabled: layers.parse(&METRICS_ENABLED, parse_bool)?,
                document_cache_bytes: layers.parse(&DOCUMENT_CACHE_MB, |value| {
                    value
                        .parse::<usize>()
                        .ok()
                        .filter(|mb| *mb <= 4096)
                        .map(|mb| mb << 20)
                })?,
                shutdown_timeout: Duration::from_secs(
                    layers.parse(&SHUTDOWN_TIMEOUT, |value| {
                        value.parse::<u64>().ok().filter(|n| *n <= 3600)
                    })?,
                ),
            },
            log_level: layers.parse(&LOG_LEVEL, parse_log_level)?,
            log_format: layers.parse(&LOG_FORMAT, |value| {
                match value.to_ascii_lowercase().as_str() {
                    "text" => Some(LogFormat::Text),
                    "json" => Some(LogFormat::Json),
                    _ => None,
                }
            })?,
            query_logging,
            auth: auth_settings(layers, configured_keys)?,
            security: security_settings(layers)?,
            mail: mail_settings(layers)?,
            learner_registration_open: layers.parse(&LEARNER_REGISTRATION, |value| match value
                .trim()
                .to_ascii_lowercase()
                .as_str()
            {
                "open" => Some(true),
                "closed" => Some(false),
                _ => None,
            })?,
            outbound: outbound_settings(layers)?,
            service,
        })
    }
}

fn service_settings(layers: &Layers, base_url: &str) -> Result<ServiceSettings, ConfigError> {
    let web_url = |value: &str| {
        url::Url::parse(value.trim())
            .ok()
            .filter(|url| matches!(url.scheme(), "http" | "https") && url.host_str().is_some())
            .map(String::from)
    };
    let page = |var: &'static Variable, path: &str| -> Result<String, ConfigError> {
        match layers.value(var)? {
            Some(value) => web_url(&value).ok_or_else(|| invalid(var, &value, None)),
            None => Ok(format!("{base_url}{path}")),
        }
    };
    let seconds = |var: &'static Variable, range: std::ops::RangeInclusive<u64>| {
        layers
            .parse(var, |value| {
                value.parse::<u64>().ok().filter(|n| range.contains(n))
            })
            .map(Duration::from_secs)
    };
    Ok(ServiceSettings {
        name: layers.parse(&SERVICE_NAME, parse_non_empty)?,
        terms_url: page(&SERVICE_TERMS_URL, "/terms")?,
        privacy_url: page(&SERVICE_PRIVACY_URL, "/privacy")?,
        image_url: layers.parse(&SERVICE_IMAGE_URL, |value| {
            let value = value.trim();
            if value.is_empty() {
                Some(None)
            } else if value.starts_with("data:") {
                Some(Some(value.to_owned()))
            } else {
                web_url(value).map(Some)
            }
        })?,
        code_lifetime: seconds(&OAUTH_CODE_LIFETIME_SECONDS, 0..=600)?,
        access_token_lifetime: seconds(&OAUTH_ACCESS_TOKEN_LIFETIME_SECONDS, 0..=86_400)?,
        refresh_token_lifetime: seconds(&OAUTH_REFRESH_TOKEN_LIFETIME_SECONDS, 60..=31_536_000)?,
    })
}

fn auth_settings(
    layers: &Layers,
    configured_keys: Vec<(String, String)>,
) -> Result<AuthSettings, ConfigError> {
    let production = layers.parse(&NODE_ENV, |value| match value {
        "production" => Some(true),
        "development" | "test" => Some(false),
        _ => None,
    })?;
    let enabled = layers.parse(&AUTH_ENABLED, parse_bool)?;
    if production && !enabled {
        return Err(invalid(
            &AUTH_ENABLED,
            "false",
            Some("authentication cannot be switched off with NODE_ENV=production".to_owned()),
        ));
    }
    let jwt_secret = match layers.value(&JWT_SECRET)? {
        Some(secret) if secret.len() >= 32 => Some(secret),
        Some(secret) => return Err(invalid(&JWT_SECRET, &secret, None)),
        None if production => {
            return Err(invalid_shown(
                &JWT_SECRET,
                "(unset)",
                Some(
                    "NODE_ENV=production needs a fixed secret shared by every instance".to_owned(),
                ),
            ))
        }
        None => None,
    };
    let lifetime = layers.parse(&JWT_TOKEN_EXPIRY_SECONDS, |value| {
        value
            .parse::<u64>()
            .ok()
            .filter(|s| (60..=2_592_000).contains(s))
    })?;
    let login_throttle = LoginThrottleSettings {
        failures: layers.parse(&LOGIN_THROTTLE_FAILURES, |value| {
            value.parse::<u32>().ok().filter(|n| *n <= 1000)
        })?,
        max_delay: Duration::from_secs(layers.parse(
            &LOGIN_THROTTLE_MAX_DELAY_SECONDS,
            |value| {
                value
                    .parse::<u64>()
                    .ok()
                    .filter(|s| (1..=86_400).contains(s))
            },
        )?),
    };
    let bootstrap_admin = match (
        layers.value(&AUTH_ADMIN_USERNAME)?,
        layers.value(&AUTH_ADMIN_PASSWORD)?,
    ) {
        (Some(username), Some(password)) => {
            openbadges_domain::Username::parse(username.clone())
                .map_err(|e| invalid(&AUTH_ADMIN_USERNAME, &username, Some(e.0)))?;
            crate::auth::password::check_policy(&password)
                .map_err(|e| invalid(&AUTH_ADMIN_PASSWORD, &password, Some(e.0)))?;
            let email = layers.value(&AUTH_ADMIN_EMAIL)?;
            if let Some(email) = &email {
                openbadges_domain::Email::parse(email.clone())
                    .map_err(|e| invalid(&AUTH_ADMIN_EMAIL, email, Some(e.0)))?;
            }
            Some(BootstrapAdmin {
                username,
                email,
                password,
            })
        }
        (Some(_), None) => {
            return Err(invalid_shown(
                &AUTH_ADMIN_PASSWORD,
                "(unset)",
                Some("AUTH_ADMIN_USERNAME is set, so the password is needed too".to_owned()),
            ))
        }
        (None, Some(_)) => {
            return Err(invalid_shown(
                &AUTH_ADMIN_USERNAME,
                "(unset)",
                Some("AUTH_ADMIN_PASSWORD is set, so the username is needed too".to_owned()),
            ))
        }
        (None, None) => None,
    };
    let key_encryption_key = match layers.value(&KEY_ENCRYPTION_KEY)? {
        Some(hex_key) => {
            let mut key = [0u8; 32];
            hex::decode_to_slice(hex_key.trim(), &mut key)
                .map_err(|_| invalid(&KEY_ENCRYPTION_KEY, &hex_key, None))?;
            Some(key)
        }
        None if production => {
            return Err(invalid_shown(
                &KEY_ENCRYPTION_KEY,
                "(unset)",
                Some("NODE_ENV=production needs it to protect the signing keys".to_owned()),
            ))
        }
        None => None,
    };
    Ok(AuthSettings {
        key_encryption_key,
        production,
        enabled,
        jwt_secret,
        token_lifetime: Duration::from_secs(lifetime),
        login_throttle,
        bootstrap_admin,
        configured_keys,
    })
}

fn security_settings(layers: &Layers) -> Result<SecuritySettings, ConfigError> {
    let cors_origins = layers.parse(&CORS_ORIGINS, |value| {
        let origins: Vec<String> = value
            .split(',')
            .map(str::trim)
            .filter(|o| !o.is_empty())
            .map(str::to_owned)
            .collect();
        let valid = origins.iter().all(|origin| {
            origin == "*"
                || url::Url::parse(origin).is_ok_and(|url| {
                    matches!(url.scheme(), "http" | "https")
                        && url.host_str().is_some()
                        && url.path() == "/"
                        && !origin.ends_with('/')
                })
        });
        valid.then_some(origins)
    })?;
    let trusted_proxies = layers.parse(&TRUSTED_PROXIES, |value| {
        value
            .split(',')
            .map(str::trim)
            .filter(|p| !p.is_empty())
            .map(|p| p.parse::<IpAddr>().ok())
            .collect::<Option<Vec<_>>>()
    })?;
    Ok(SecuritySettings {
        cors_origins,
        rate_limit_per_minute: layers.parse(&RATE_LIMIT_PER_MINUTE, |value| {
            value.parse::<u32>().ok().filter(|n| *n <= 1_000_000)
        })?,
        trusted_proxies,
        max_body_bytes: layers.parse(&MAX_BODY_BYTES, |value| {
            value
                .parse::<usize>()
                .ok()
                .filter(|n| (1024..=1_073_741_824).contains(n))
        })?,
        max_json_depth: layers.parse(&MAX_JSON_DEPTH, |value| {
            value
                .parse::<usize>()
                .ok()
                .filter(|n| (2..=128).contains(n))
        })?,
        assets_max_file_size: layers.parse(&ASSETS_MAX_FILE_SIZE, |value| {
            value
                .parse::<usize>()
                .ok()
                .filter(|n| (1024..=104_857_600).contains(n))
        })?,
        request_timeout: Duration::from_secs(layers.parse(&REQUEST_TIMEOUT_SECONDS, |value| {
            value.parse::<u64>().ok().filter(|n| (1..=3600).contains(n))
        })?),
    })
}

/// What outbound requests may reach. Plain HTTP to loopback is for tests
/// of two instances on one machine; production refuses it.
fn outbound_settings(layers: &Layers) -> Result<crate::outbound::OutboundSettings, ConfigError> {
    let allow_loopback_http = layers.parse(&OUTBOUND_ALLOW_LOOPBACK_HTTP, parse_bool)?;
    let production = layers.parse(&NODE_ENV, |value| Some(value == "production"))?;
    if allow_loopback_http && production {
        return Err(invalid(
            &OUTBOUND_ALLOW_LOOPBACK_HTTP,
            "true",
            Some("plain HTTP is for tests and is refused with NODE_ENV=production".to_owned()),
        ));
    }
    Ok(crate::outbound::OutboundSettings {
        allow_loopback_http,
    })
}

/// The SMTP settings, when `SMTP_HOST` is set; the others are read (and
/// refused when wrong) only then.
fn mail_settings(
    layers: &Layers,
) -> Result<Option<crate::mail::config::MailSettings>, ConfigError> {
    use crate::mail::config::{MailSettings, SmtpTls};
    let host = layers.parse(&SMTP_HOST, |value| {
        let value = value.trim();
        if value.is_empty() {
            Some(None)
        } else {
            parse_host(value).map(Some)
        }
    })?;
    let Some(host) = host else {
        return Ok(None);
    };
    let tls = layers.parse(&SMTP_TLS, SmtpTls::parse)?;
    let port = match layers.value(&SMTP_PORT)? {
        Some(value) => parse_port(&value).ok_or_else(|| invalid(&SMTP_PORT, &value, None))?,
        None => tls.default_port(),
    };
    let user = layers.parse(&SMTP_USER, |value| Some(value.to_owned()))?;
    let password = layers.parse(&SMTP_PASSWORD, |value| Some(value.to_owned()))?;
    let credentials = match (user.is_empty(), password.is_empty()) {
        (true, true) => None,
        (false, false) => Some((user, password)),
        (true, false) => {
            return Err(invalid(
                &SMTP_USER,
                "",
                Some("SMTP_PASSWORD is set, so SMTP_USER is needed too".to_owned()),
            ))
        }
        (false, true) => {
            return Err(invalid(
                &SMTP_PASSWORD,
                "",
                Some("SMTP_USER is set, so SMTP_PASSWORD is needed too".to_owned()),
            ))
        }
    };
    let from = match layers.value(&SMTP_FROM)? {
        Some(value) => value
            .parse::<lettre::message::Mailbox>()
            .map_err(|err| invalid(&SMTP_FROM, &value, Some(err.to_string())))?,
        None => {
            return Err(invalid(
                &SMTP_FROM,
                "",
                Some("the sender address is required when SMTP_HOST is set".to_owned()),
            ))
        }
    };
    let retry_base = layers.parse(&MAIL_RETRY_BASE_SECONDS, |value| {
        value.parse::<u64>().ok().filter(|n| (1..=3600).contains(n))
    })?;
    let max_attempts = layers.parse(&MAIL_MAX_ATTEMPTS, |value| {
        value.parse::<u32>().ok().filter(|n| (1..=100).contains(n))
    })?;
    Ok(Some(MailSettings {
        host,
        port,
        tls,
        credentials: credentials
            .map(|(user, password)| crate::mail::config::SmtpLogin { user, password }),
        from,
        retry_base: Duration::from_secs(retry_base),
        max_attempts,
    }))
}

fn postgres_options(layers: &Layers, query_logging: bool) -> Result<PgOptions, ConfigError> {
    let url = match layers.value(&DATABASE_URL)? {
        // A password pasted unencoded makes libpq read another URL and echo
        // a piece of the password as a host or port: say what to encode
        // instead, before connecting.
        Some(url) if is_postgres_url(&url) => match openbadges_diesel_postgres::url_problem(&url) {
            Some(problem) => return Err(invalid(&DATABASE_URL, &url, Some(problem))),
            None => url,
        },
        Some(url) => return Err(invalid(&DATABASE_URL, &url, None)),
        None => postgres_url(
            &layers.parse(&PG_HOST, parse_non_empty)?,
            layers.parse(&PG_PORT, parse_port)?,
            &layers.parse(&PG_USER, parse_non_empty)?,
            &layers.parse(&PG_PASSWORD, |value| Some(value.to_owned()))?,
            &layers.parse(&PG_DATABASE, parse_non_empty)?,
        ),
    };
    let idle_seconds = layers.parse(&PG_POOL_IDLE_TIMEOUT, |value| value.parse::<u64>().ok())?;
    // The guide has no variable for the connect timeout: the adapter's
    // default stands.
    let mut options = PgOptions::new(url);
    options.pool_max = layers.parse(&PG_POOL_MAX, |value| {
        value.parse().ok().filter(|max| (1..=1000).contains(max))
    })?;
    options.idle_timeout = (idle_seconds > 0).then(|| Duration::from_secs(idle_seconds));
    options.query_logging = query_logging;
    options.replica_urls = replica_urls(layers)?;
    options.replica_max_lag =
        Duration::from_millis(layers.parse(&REPLICA_MAX_LAG_MS, |value| {
            value
                .parse::<u64>()
                .ok()
                .filter(|ms| (100..=3_600_000).contains(ms))
        })?);
    Ok(options)
}

/// `DATABASE_REPLICA_URLS`: each URL checked as `DATABASE_URL` is (empty
/// entries, as a trailing comma makes, are skipped).
fn replica_urls(layers: &Layers) -> Result<Vec<String>, ConfigError> {
    let Some(value) = layers.value(&DATABASE_REPLICA_URLS)? else {
        return Ok(Vec::new());
    };
    let urls: Vec<String> = value
        .split(',')
        .map(str::trim)
        .filter(|url| !url.is_empty())
        .map(str::to_owned)
        .collect();
    for (index, url) in urls.iter().enumerate() {
        let problem = if is_postgres_url(url) {
            openbadges_diesel_postgres::url_problem(url)
        } else {
            Some("it is not a postgres:// or postgresql:// URL".to_owned())
        };
        if let Some(problem) = problem {
            return Err(invalid(
                &DATABASE_REPLICA_URLS,
                &value,
                Some(format!("replica {index}: {problem}")),
            ));
        }
    }
    Ok(urls)
}

fn sqlite_options(layers: &Layers, query_logging: bool) -> Result<SqliteOptions, ConfigError> {
    let mut options = SqliteOptions::new(layers.parse(&SQLITE_FILE, |value| {
        parse_non_empty(value).map(PathBuf::from)
    })?);
    let busy_ms = layers.parse(&SQLITE_BUSY_TIMEOUT, |value| {
        value
            .parse::<u64>()
            .ok()
            .filter(|ms| *ms <= i32::MAX as u64)
    })?;
    options.busy_timeout = Duration::from_millis(busy_ms);
    options.sync_mode = layers.parse(&SQLITE_SYNC_MODE, |value| value.parse::<SyncMode>().ok())?;
    options.cache_size = layers.parse(&SQLITE_CACHE_SIZE, |value| value.parse::<i64>().ok())?;
    options.query_logging = query_logging;
    Ok(options)
}

/// The configuration sources, merged by the `config` crate.
struct Layers(config::Config);

impl Layers {
    fn build(file: Option<&Path>, env: HashMap<String, String>) -> Result<Self, ConfigError> {
        let mut builder = config::Config::builder();
        if let Some(path) = file {
            builder = builder.add_source(read_file(path)?);
        }
        // Only our variables reach the `config` crate, and an empty one
        // counts as unset, as `VAR=` in a compose file usually means.
        let env: config::Map<String, String> = env
            .into_iter()
            .filter(|(key, value)| variable(key).is_some() && !value.is_empty())
            .collect();
        builder = builder.add_source(config::Environment::default().source(Some(env)));
        let merged = builder.build().map_err(|error| ConfigError::File {
            path: file.map_or_else(|| PathBuf::from("(environment)"), Path::to_path_buf),
            reason: error.to_string(),
        })?;
        Ok(Self(merged))
    }

    /// The raw value of `var`, if the file or the environment sets it.
    fn value(&self, var: &'static Variable) -> Result<Option<String>, ConfigError> {
        match self.0.get_string(&var.key()) {
            Ok(value) => Ok(Some(value)),
            Err(config::ConfigError::NotFound(_)) => Ok(None),
            Err(_) => Err(invalid_shown(
                var,
                "(a table or list)",
                Some("a single value is needed".to_owned()),
            )),
        }
    }

    /// The value of `var` parsed by `parse`, which returns `None` for a value
    /// outside [`Variable::allowed`]. Defaults come from [`VARIABLES`] and
    /// apply when neither the file nor the environment sets the variable.
    fn parse<T>(
        &self,
        var: &'static Variable,
        parse: impl FnOnce(&str) -> Option<T>,
    ) -> Result<T, ConfigError> {
        let value = self
            .value(var)?
            .or_else(|| var.default.map(str::to_owned))
            .unwrap_or_default();
        parse(&value).ok_or_else(|| invalid(var, &value, None))
    }
}

/// Loads the TOML file alone first, to refuse keys that are not settings.
fn read_file(path: &Path) -> Result<config::Config, ConfigError> {
    let file_error = |reason: String| ConfigError::File {
        path: path.to_path_buf(),
        reason,
    };
    if !path.is_file() {
        return Err(file_error("no such file".to_owned()));
    }
    let file = config::Config::builder()
        .add_source(config::File::from(path).format(config::FileFormat::Toml))
        .build()
        .map_err(|error| file_error(error.to_string()))?;
    let keys = file
        .clone()
        .try_deserialize::<HashMap<String, config::Value>>()
        .map_err(|error| file_error(error.to_string()))?;
    let known: Vec<String> = VARIABLES.iter().map(Variable::key).collect();
    let mut unknown: Vec<&String> = keys.keys().filter(|key| !known.contains(key)).collect();
    unknown.sort();
    match unknown.first() {
        Some(key) => Err(ConfigError::UnknownKey {
            path: path.to_path_buf(),
            key: (*key).clone(),
            known: known.join(", "),
        }),
        None => Ok(file),
    }
}

/// The variable called `name` (exact, upper-case spelling).
fn variable(name: &str) -> Option<&'static Variable> {
    VARIABLES.iter().find(|var| var.name == name)
}

/// `var` refused with `value`, shown as the variable's secrecy allows.
fn invalid(var: &'static Variable, value: &str, reason: Option<String>) -> ConfigError {
    invalid_shown(var, &var.shown(value), reason)
}

/// `var` refused with a description of the value instead of the value.
fn invalid_shown(var: &'static Variable, shown: &str, reason: Option<String>) -> ConfigError {
    ConfigError::Invalid {
        name: var.name,
        value: shown.to_owned(),
        allowed: var.allowed,
        reason,
    }
}

/// The backends `DB_TYPE` names: those a server persists to, not the
/// in-memory store of embedders.
enum ServedBackend {
    Postgresql,
    Sqlite,
}

fn parse_backend(value: &str) -> Option<ServedBackend> {
    match value.to_ascii_lowercase().as_str() {
        "postgresql" | "postgres" => Some(ServedBackend::Postgresql),
        "sqlite" => Some(ServedBackend::Sqlite),
        _ => None,
    }
}

fn parse_bool(value: &str) -> Option<bool> {
    match value.to_ascii_lowercase().as_str() {
        "true" | "1" => Some(true),
        "false" | "0" => Some(false),
        _ => None,
    }
}

fn parse_log_level(value: &str) -> Option<LevelFilter> {
    match value.to_ascii_lowercase().as_str() {
        "error" => Some(LevelFilter::Error),
        "warn" => Some(LevelFilter::Warn),
        "info" => Some(LevelFilter::Info),
        "debug" => Some(LevelFilter::Debug),
        "trace" => Some(LevelFilter::Trace),
        _ => None,
    }
}

fn parse_port(value: &str) -> Option<u16> {
    value.parse().ok().filter(|port| *port > 0)
}

fn parse_non_empty(value: &str) -> Option<String> {
    (!value.is_empty()).then(|| value.to_owned())
}

/// An IP address (IPv6 with or without brackets) or a DNS name, as
/// `std::net::ToSocketAddrs` takes it.
fn parse_host(value: &str) -> Option<String> {
    if value.parse::<IpAddr>().is_ok() {
        return Some(value.to_owned());
    }
    match url::Host::parse(value).ok()? {
        url::Host::Domain(domain) => Some(domain),
        url::Host::Ipv4(address) => Some(address.to_string()),
        url::Host::Ipv6(address) => Some(address.to_string()),
    }
}

fn parse_base_url(value: &str) -> Result<String, String> {
    let url = url::Url::parse(value.trim()).map_err(|error| error.to_string())?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(format!("scheme {:?} is not http or https", url.scheme()));
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err("the host is missing".to_owned());
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err("a query or fragment cannot prefix paths".to_owned());
    }
    // Paths are appended to the base, so it must not end in a slash.
    Ok(url.as_str().trim_end_matches('/').to_owned())
}

fn is_postgres_url(value: &str) -> bool {
    let lower = value.to_ascii_lowercase();
    lower.starts_with("postgres://") || lower.starts_with("postgresql://")
}

/// A libpq URL from its parts. User, password, host and database are
/// percent-encoded so that any character survives; a host starting with `/`
/// is a Unix socket directory, which libpq takes percent-encoded in the host
/// part.
pub fn postgres_url(host: &str, port: u16, user: &str, password: &str, database: &str) -> String {
    let unbracketed = host.trim_start_matches('[').trim_end_matches(']');
    let host = match unbracketed.parse::<Ipv6Addr>() {
        Ok(address) => format!("[{address}]"),
        Err(_) => percent_encode(host),
    };
    let credentials = if password.is_empty() {
        percent_encode(user)
    } else {
        format!("{}:{}", percent_encode(user), percent_encode(password))
    };
    format!(
        "postgres://{credentials}@{host}:{port}/{}",
        percent_encode(database)
    )
}

/// Percent-encodes everything but RFC 3986 unreserved characters.
fn percent_encode(text: &str) -> String {
    let mut encoded = String::with_capacity(text.len());
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~') {
            encoded.push(char::from(byte));
        } else {
            // Writing to a String cannot fail.
            let _ = write!(encoded, "%{byte:02X}");
        }
    }
    encoded
}

/// `url` with any password replaced by `***`: the one in the user-info part,
/// and a libpq `password=` query parameter.
///
/// Operators paste passwords unencoded, so the user-info is taken to end at
/// the *last* `@`, whatever `/`, `?` or `#` precede it: this may hide more
/// than the password, never less. A value without `://` is not a URL whose
/// parts can be told apart, so it is replaced whole.
pub fn redact_url(url: &str) -> String {
    let Some(scheme_end) = url.find("://").map(|index| index + 3) else {
        return "***".to_owned();
    };
    let (scheme, rest) = url.split_at(scheme_end);
    let mut redacted = String::with_capacity(url.len());
    redacted.push_str(scheme);

    let after_userinfo = match rest.rfind('@') {
        Some(at) => {
            let (userinfo, after) = rest.split_at(at);
            match userinfo.split_once(':') {
                Some((user, _password)) => {
                    redacted.push_str(user);
                    redacted.push_str(":***");
                }
                None => redacted.push_str(userinfo),
            }
            after
        }
        None => rest,
    };

    let (before_fragment, fragment) =
        after_userinfo.split_at(after_userinfo.find('#').unwrap_or(after_userinfo.len()));
    match before_fragment.split_once('?') {
        Some((location, query)) => {
            redacted.push_str(location);
            redacted.push('?');
            let parameters: Vec<String> = query
                .split('&')
                .map(|parameter| match parameter.split_once('=') {
                    Some((key, _)) if key.eq_ignore_ascii_case("password") => format!("{key}=***"),
                    _ => parameter.to_owned(),
                })
                .collect();
            redacted.push_str(&parameters.join("&"));
        }
        None => redacted.push_str(before_fragment),
    }
    redacted.push_str(fragment);
    redacted
}

#[cfg(test)]
mod tests {
    use std::io::Write as _;

    use super::*;

    fn load(vars: &[(&str, &str)]) -> Result<Settings, ConfigError> {
        Settings::from_source(vars.iter().copied())
    }

    fn settings(vars: &[(&str, &str)]) -> Settings {
        load(vars).unwrap_or_else(|error| panic!("{vars:?} should be accepted: {error}"))
    }

    /// The refusal message for `vars`, checked to contain every part.
    fn refused(vars: &[(&str, &str)], parts: &[&str]) -> String {
        let message = match load(vars) {
            Ok(settings) => panic!("{vars:?} should be refused, got {settings:?}"),
            Err(error) => error.to_string(),
        };
        for part in parts {
            assert!(
                message.contains(part),
                "{message:?} should contain {part:?}"
            );
        }
        message
    }

    #[test]
    fn mail_is_off_without_an_smtp_host_and_checked_with_one() {
        use crate::mail::config::SmtpTls;
        assert!(settings(&[]).mail.is_none());
        // Without a host the other SMTP settings are not even read.
        assert!(settings(&[("SMTP_TLS", "bogus")]).mail.is_none());
        let from = ("SMTP_FROM", "Badges <badges@example.org>");
        let mail = settings(&[("SMTP_HOST", "smtp.example.org"), from])
            .mail
            .expect("mail on");
        assert_eq!((mail.tls, mail.port), (SmtpTls::StartTls, 587));
        assert_eq!(mail.from.email.to_string(), "badges@example.org");
        assert!(mail.credentials.is_none());
        assert_eq!(mail.retry_base, Duration::from_secs(30));
        assert_eq!(mail.max_attempts, 10);
        let tls = settings(&[("SMTP_HOST", "smtp.example.org"), ("SMTP_TLS", "tls"), from])
            .mail
            .expect("mail on");
        assert_eq!(tls.port, 465);
        let plain = settings(&[
            ("SMTP_HOST", "127.0.0.1"),
            ("SMTP_TLS", "none"),
            ("SMTP_PORT", "2525"),
            ("MAIL_RETRY_BASE_SECONDS", "1"),
            from,
        ])
        .mail
        .expect("mail on");
        assert_eq!((plain.tls, plain.port), (SmtpTls::None, 2525));
        assert_eq!(plain.retry_base, Duration::from_secs(1));

        let host = ("SMTP_HOST", "smtp.example.org");
        refused(&[host], &["SMTP_FROM", "required"]);
        refused(&[host, ("SMTP_FROM", "not an address")], &["SMTP_FROM"]);
        refused(
            &[host, from, ("SMTP_TLS", "ssl")],
            &["SMTP_TLS", "none, starttls or tls"],
        );
        refused(&[host, from, ("SMTP_PORT", "0")], &["SMTP_PORT"]);
        refused(
            &[host, from, ("MAIL_RETRY_BASE_SECONDS", "0")],
            &["MAIL_RETRY_BASE_SECONDS"],
        );
        refused(
            &[host, from, ("MAIL_MAX_ATTEMPTS", "101")],
            &["MAIL_MAX_ATTEMPTS"],
        );
        refused(&[host, from, ("SMTP_USER", "mailer")], &["SMTP_PASSWORD"]);
    }

    #[test]
    fn the_smtp_password_is_never_shown() {
        let secret = "s3cret-smtp-password";
        let vars = [
            ("SMTP_HOST", "smtp.example.org"),
            ("SMTP_FROM", "badges@example.org"),
            ("SMTP_USER", "mailer"),
            ("SMTP_PASSWORD", secret),
        ];
        let loaded = settings(&vars);
        let login = loaded
            .mail
            .as_ref()
            .and_then(|mail| mail.credentials.as_ref())
            .expect("login");
        assert_eq!(
            (login.user.as_str(), login.password.as_str()),
            ("mailer", secret)
        );
        assert!(!format!("{loaded:?}").contains(secret));
        // Refused for another reason, the message does not carry it either.
        let message = refused(&[vars[0], vars[2], vars[3]], &["SMTP_FROM"]);
        assert!(!message.contains(secret), "{message}");
        let message = refused(
            &[("SMTP_PASSWORD", secret), vars[0], vars[1]],
            &["SMTP_USER"],
        );
        assert!(!message.contains(secret), "{message}");
    }

    fn sqlite(settings: &Settings) -> &SqliteOptions {
        match &settings.database {
            DatabaseSettings::Sqlite(options) => options,
            other => panic!("expected SQLite, got {other:?}"),
        }
    }

    fn postgres(settings: &Settings) -> &PgOptions {
        match &settings.database {
            DatabaseSettings::Postgresql(options) => options,
            other => panic!("expected PostgreSQL, got {other:?}"),
        }
    }

    const PG: (&str, &str) = ("DB_TYPE", "postgresql");

    #[test]
    fn defaults_apply_without_any_variable() {
        let settings = settings(&[]);
        let options = sqlite(&settings);
        assert_eq!(options.file, PathBuf::from("./openbadges.sqlite"));
        assert_eq!(options.busy_timeout, Duration::from_millis(5000));
        assert_eq!(options.sync_mode.as_str(), "NORMAL");
        assert_eq!(options.cache_size, 4000);
        assert!(!options.query_logging);
        assert!(!settings.query_logging);
        assert_eq!(settings.log_level, LevelFilter::Info);
        assert_eq!(
            settings.http,
            HttpSettings {
                host: "0.0.0.0".into(),
                port: 3000,
                base_url: "http://localhost:3000".into(),
                metrics_enabled: true,
                document_cache_bytes: 32 << 20,
                shutdown_timeout: Duration::from_secs(30),
            }
        );
        assert_eq!(settings.log_format, LogFormat::Text);
    }

    #[test]
    fn auth_and_security_defaults() {
        let settings = settings(&[]);
        assert!(!settings.auth.production);
        assert!(settings.auth.enabled);
        assert_eq!(settings.auth.jwt_secret, None);
        assert_eq!(settings.auth.token_lifetime, Duration::from_secs(3600));
        assert_eq!(
            settings.auth.login_throttle,
            LoginThrottleSettings {
                failures: 5,
                max_delay: Duration::from_secs(900),
            }
        );
        assert!(settings.auth.bootstrap_admin.is_none());
        assert!(settings.auth.configured_keys.is_empty());
        assert_eq!(
            settings.security,
            SecuritySettings {
                cors_origins: vec![],
                rate_limit_per_minute: 600,
                trusted_proxies: vec![],
                max_body_bytes: 16 * 1024 * 1024,
                max_json_depth: 32,
                assets_max_file_size: 5 * 1024 * 1024,
                request_timeout: Duration::from_secs(30),
            }
        );
    }

    #[test]
    fn production_needs_a_secret_and_authentication() {
        let secret = ("JWT_SECRET", "0123456789abcdef0123456789abcdef");
        let message = refused(&[("NODE_ENV", "production")], &["JWT_SECRET", "production"]);
        assert!(!message.contains("0123456789abcdef"));
        refused(
            &[
                ("NODE_ENV", "production"),
                secret,
                ("AUTH_ENABLED", "false"),
            ],
            &["AUTH_ENABLED", "production"],
        );
        refused(
            &[("NODE_ENV", "production"), secret],
            &["KEY_ENCRYPTION_KEY", "production"],
        );
        let kek = (
            "KEY_ENCRYPTION_KEY",
            "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff",
        );
        refused(
            &[
                ("NODE_ENV", "production"),
                secret,
                kek,
                ("OUTBOUND_ALLOW_LOOPBACK_HTTP", "true"),
            ],
            &["OUTBOUND_ALLOW_LOOPBACK_HTTP", "production"],
        );
        assert!(
            settings(&[("OUTBOUND_ALLOW_LOOPBACK_HTTP", "true")])
                .outbound
                .allow_loopback_http
        );
        let settings = settings(&[("NODE_ENV", "production"), secret, kek]);
        assert!(!settings.outbound.allow_loopback_http);
        assert!(settings.auth.production);
        assert_eq!(settings.auth.key_encryption_key.map(|k| k[1]), Some(0x11));
        assert!(!format!("{:?}", settings.auth).contains("00112233"));
        let message = refused(
            &[("KEY_ENCRYPTION_KEY", "not-hex-at-all")],
            &["KEY_ENCRYPTION_KEY", "(hidden)"],
        );
        assert!(!message.contains("not-hex"), "{message}");
        refused(
            &[("NODE_ENV", "staging")],
            &["NODE_ENV", "development, production, test"],
        );
        let message = refused(
            &[("JWT_SECRET", "too-short-secret")],
            &["JWT_SECRET", "(hidden)"],
        );
        assert!(!message.contains("too-short-secret"), "{message}");
        assert!(!format!("{:?}", settings.auth).contains("0123456789abcdef"));
    }

    #[test]
    fn learner_registration_is_closed_unless_opened() {
        assert!(!settings(&[]).learner_registration_open);
        assert!(settings(&[("LEARNER_REGISTRATION", "open")]).learner_registration_open);
        assert!(settings(&[("LEARNER_REGISTRATION", "Open")]).learner_registration_open);
        assert!(!settings(&[("LEARNER_REGISTRATION", "closed")]).learner_registration_open);
        refused(
            &[("LEARNER_REGISTRATION", "yes")],
            &["LEARNER_REGISTRATION", "open or closed"],
        );
    }

    #[test]
    fn token_lifetime_is_bounded() {
        let settings = settings(&[("JWT_TOKEN_EXPIRY_SECONDS", "900")]);
        assert_eq!(settings.auth.token_lifetime, Duration::from_secs(900));
        for bad in ["59", "2592001", "soon"] {
            refused(
                &[("JWT_TOKEN_EXPIRY_SECONDS", bad)],
                &["JWT_TOKEN_EXPIRY_SECONDS"],
            );
        }
    }

    #[test]
    fn login_throttle_is_bounded() {
        let settings = settings(&[
            ("LOGIN_THROTTLE_FAILURES", "0"),
            ("LOGIN_THROTTLE_MAX_DELAY_SECONDS", "60"),
        ]);
        assert_eq!(
            settings.auth.login_throttle,
            LoginThrottleSettings {
                failures: 0,
                max_delay: Duration::from_secs(60),
            }
        );
        for bad in ["-1", "1001", "some"] {
            refused(
                &[("LOGIN_THROTTLE_FAILURES", bad)],
                &["LOGIN_THROTTLE_FAILURES"],
            );
        }
        for bad in ["0", "86401", "1.5"] {
            refused(
                &[("LOGIN_THROTTLE_MAX_DELAY_SECONDS", bad)],
                &["LOGIN_THROTTLE_MAX_DELAY_SECONDS"],
            );
        }
    }

    #[test]
    fn bootstrap_admin_needs_both_parts_and_hides_the_password() {
        let settings = settings(&[
            ("AUTH_ADMIN_USERNAME", "admin"),
            ("AUTH_ADMIN_PASSWORD", "a long enough secret"),
            ("AUTH_ADMIN_EMAIL", "admin@example.org"),
        ]);
        let admin = settings.auth.bootstrap_admin.as_ref().expect("admin");
        assert_eq!(admin.username, "admin");
        assert!(!format!("{settings:?}").contains("a long enough secret"));
        refused(
            &[("AUTH_ADMIN_USERNAME", "admin")],
            &["AUTH_ADMIN_PASSWORD"],
        );
        refused(
            &[("AUTH_ADMIN_PASSWORD", "a long enough secret")],
            &["AUTH_ADMIN_USERNAME"],
        );
        let message = refused(
            &[
                ("AUTH_ADMIN_USERNAME", "admin"),
                ("AUTH_ADMIN_PASSWORD", "short"),
            ],
            &["AUTH_ADMIN_PASSWORD", "at least 10"],
        );
        assert!(!message.contains("\"short\""), "{message}");
        refused(
            &[
                ("AUTH_ADMIN_USERNAME", "admin"),
                ("AUTH_ADMIN_PASSWORD", "a long enough secret"),
                ("AUTH_ADMIN_EMAIL", "nope"),
            ],
            &["AUTH_ADMIN_EMAIL"],
        );
    }

    #[test]
    fn configured_api_keys_are_collected_and_hidden() {
        let settings = settings(&[("AUTH_API_KEY_CI", "0123456789abcdefXYZ:ci:deploy")]);
        assert_eq!(
            settings.auth.configured_keys,
            vec![(
                "AUTH_API_KEY_CI".to_owned(),
                "0123456789abcdefXYZ:ci:deploy".to_owned()
            )]
        );
        assert!(!format!("{settings:?}").contains("0123456789abcdefXYZ"));
    }

    #[test]
    fn security_variables_parse_and_refuse() {
        let settings = settings(&[
            (
                "CORS_ORIGINS",
                "https://app.example.org, http://localhost:5173",
            ),
            ("RATE_LIMIT_PER_MINUTE", "0"),
            ("TRUSTED_PROXIES", "10.0.0.1,::1"),
            ("MAX_BODY_BYTES", "2048"),
            ("ASSETS_MAX_FILE_SIZE", "65536"),
            ("MAX_JSON_DEPTH", "8"),
            ("REQUEST_TIMEOUT_SECONDS", "5"),
        ]);
        assert_eq!(
            settings.security.cors_origins,
            ["https://app.example.org", "http://localhost:5173"]
        );
        assert_eq!(settings.security.rate_limit_per_minute, 0);
        assert_eq!(settings.security.trusted_proxies.len(), 2);
        assert_eq!(settings.security.max_body_bytes, 2048);
        assert_eq!(settings.security.assets_max_file_size, 65536);
        assert_eq!(settings.security.max_json_depth, 8);
        assert_eq!(settings.security.request_timeout, Duration::from_secs(5));
        for (name, bad) in [
            ("CORS_ORIGINS", "app.example.org"),
            ("CORS_ORIGINS", "https://app.example.org/path"),
            ("RATE_LIMIT_PER_MINUTE", "-1"),
            ("TRUSTED_PROXIES", "proxy.local"),
            ("MAX_BODY_BYTES", "10"),
            ("ASSETS_MAX_FILE_SIZE", "5MB"),
            ("ASSETS_MAX_FILE_SIZE", "100"),
            ("MAX_JSON_DEPTH", "1000"),
            ("REQUEST_TIMEOUT_SECONDS", "0"),
            ("AUTH_ENABLED", "maybe"),
        ] {
            refused(&[(name, bad)], &[name]);
        }
        assert_eq!(
            load(&[("CORS_ORIGINS", "*")])
                .map(|s| s.security.cors_origins)
                .ok(),
            Some(vec!["*".to_owned()])
        );
    }

    #[test]
    fn db_type_selects_the_backend() {
        for value in ["postgresql", "postgres", "PostgreSQL"] {
            let settings = settings(&[("DB_TYPE", value)]);
            assert_eq!(settings.database.backend(), Backend::Postgresql);
        }
        assert_eq!(
            settings(&[("DB_TYPE", "sqlite")]).database.backend(),
            Backend::Sqlite
        );
        refused(
            &[("DB_TYPE", "mysql")],
            &["DB_TYPE", "\"mysql\"", "postgresql", "postgres", "sqlite"],
        );
    }

    #[test]
    fn database_url_is_passed_through_untouched() {
        for url in [
            "postgres://ob:s3cret@db.example.com:6432/badges?sslmode=require&application_name=ob",
            "postgresql://ob@%2Fvar%2Frun%2Fpostgresql/badges",
        ] {
            let settings = settings(&[PG, ("DATABASE_URL", url)]);
            assert_eq!(postgres(&settings).url, url);
        }
    }

    #[test]
    fn database_url_wins_over_the_parts() {
        let url = "postgres://a@h/db";
        let settings = settings(&[PG, ("DATABASE_URL", url), ("PG_HOST", "other")]);
        assert_eq!(postgres(&settings).url, url);
    }

    #[test]
    fn database_url_refusal_hides_the_password() {
        let message = refused(
            &[PG, ("DATABASE_URL", "mysql://root:hunter2@db/badges")],
            &["DATABASE_URL", "mysql://root:***@db/badges", "postgres://"],
        );
        assert!(!message.contains("hunter2"), "{message}");
        let message = refused(
            &[PG, ("DATABASE_URL", "host=db password=hunter2")],
            &["DATABASE_URL"],
        );
        assert!(!message.contains("hunter2"), "{message}");
    }

    /// libpq would read another URL and print a piece of the password as
    /// a host or port: refused before connecting, saying what to encode,
    /// with no piece of the password.
    #[test]
    fn database_url_with_an_unencoded_password_is_refused_with_advice() {
        for (url, advice) in [
            (
                "postgres://ob:tPw@x@db:5432/ob",
                "unencoded '@'; percent-encode it as %40",
            ),
            (
                "postgres://ob:s3cr/t@db:5432/ob",
                "unencoded '/'; percent-encode it as %2F",
            ),
            (
                "postgres://ob:50%off@db:5432/ob",
                "unencoded '%'; percent-encode it as %25",
            ),
        ] {
            let message = refused(&[PG, ("DATABASE_URL", url)], &["DATABASE_URL", advice]);
            for piece in ["tPw", "x@", "s3cr", "t@", "50%off"] {
                assert!(!message.contains(piece), "{message}");
            }
        }
    }

    #[test]
    fn pg_parts_default_to_local_openbadges() {
        let settings = settings(&[PG]);
        assert_eq!(
            postgres(&settings).url,
            "postgres://postgres@localhost:5432/openbadges"
        );
    }

    #[test]
    fn pg_parts_are_percent_encoded() {
        let settings = settings(&[
            PG,
            ("PG_HOST", "db.example.com"),
            ("PG_PORT", "6543"),
            ("PG_USER", "ob user"),
            ("PG_PASSWORD", "p@ss:w/rd#?%"),
            ("PG_DATABASE", "badges/prod"),
        ]);
        assert_eq!(
            postgres(&settings).url,
            "postgres://ob%20user:p%40ss%3Aw%2Frd%23%3F%25@db.example.com:6543/badges%2Fprod"
        );
    }

    #[test]
    fn pg_host_takes_ipv6_and_socket_directories() {
        let url = |host| postgres(&settings(&[PG, ("PG_HOST", host)])).url.clone();
        assert_eq!(url("::1"), "postgres://postgres@[::1]:5432/openbadges");
        assert_eq!(url("[::1]"), "postgres://postgres@[::1]:5432/openbadges");
        assert_eq!(
            url("/var/run/postgresql"),
            "postgres://postgres@%2Fvar%2Frun%2Fpostgresql:5432/openbadges"
        );
    }

    #[test]
    fn pg_port_must_be_a_port() {
        assert!(postgres(&settings(&[PG, ("PG_PORT", "6000")]))
            .url
            .contains(":6000/"));
        for value in ["abc", "0", "70000"] {
            refused(&[PG, ("PG_PORT", value)], &["PG_PORT", value, "1-65535"]);
        }
    }

    #[test]
    fn pg_password_is_never_shown() {
        let settings = settings(&[PG, ("PG_PASSWORD", "hunter2")]);
        assert!(postgres(&settings).url.contains(":hunter2@"));
        for shown in [format!("{settings:?}"), settings.database.location()] {
            assert!(!shown.contains("hunter2"), "{shown}");
        }
        let settings = settings_with_url("postgres://ob:hunter2@db/badges?password=hunter2");
        for shown in [format!("{settings:?}"), settings.database.location()] {
            assert!(!shown.contains("hunter2"), "{shown}");
        }
    }

    #[test]
    fn replicas_are_read_checked_and_never_shown() {
        let configured = settings(&[
            PG,
            (
                "DATABASE_REPLICA_URLS",
                " postgres://ob:hunter2@r1:5433/badges ,postgresql://r2/badges,",
            ),
            ("REPLICA_MAX_LAG_MS", "250"),
        ]);
        let options = postgres(&configured);
        assert_eq!(
            options.replica_urls,
            [
                "postgres://ob:hunter2@r1:5433/badges",
                "postgresql://r2/badges"
            ]
        );
        assert_eq!(options.replica_max_lag, Duration::from_millis(250));
        assert_eq!(
            configured.database.replica_locations(),
            ["postgres://ob:***@r1:5433/badges", "postgresql://r2/badges"]
        );
        assert!(!format!("{configured:?}").contains("hunter2"));

        let defaults = settings(&[PG]);
        assert!(postgres(&defaults).replica_urls.is_empty());
        assert_eq!(postgres(&defaults).replica_max_lag, Duration::from_secs(1));

        for value in ["50", "0", "-1", "1.5", "3600001"] {
            refused(
                &[PG, ("REPLICA_MAX_LAG_MS", value)],
                &["REPLICA_MAX_LAG_MS", "100-3600000"],
            );
        }
        let message = refused(
            &[
                PG,
                (
                    "DATABASE_REPLICA_URLS",
                    "postgres://ob:hunter2@r1/badges,mysql://root:hunter2@r2/badges",
                ),
            ],
            &[
                "DATABASE_REPLICA_URLS",
                "replica 1",
                "postgres://ob:***@r1/badges",
            ],
        );
        assert!(!message.contains("hunter2"), "{message}");
        let message = refused(
            &[
                PG,
                ("DATABASE_REPLICA_URLS", "postgres://ob:tPw@x@r1/badges"),
            ],
            &["DATABASE_REPLICA_URLS", "replica 0", "percent-encode"],
        );
        assert!(!message.contains("tPw@x"), "{message}");
    }

    #[test]
    fn replicas_with_sqlite_are_refused() {
        let message = refused(
            &[
                ("DB_TYPE", "sqlite"),
                ("DATABASE_REPLICA_URLS", "postgres://ob:hunter2@r1/badges"),
            ],
            &["DATABASE_REPLICA_URLS", "DB_TYPE=postgresql"],
        );
        assert!(!message.contains("hunter2"), "{message}");
        // The lag bound alone is harmless, as PG_POOL_MAX is.
        settings(&[("DB_TYPE", "sqlite"), ("REPLICA_MAX_LAG_MS", "500")]);
    }

    fn settings_with_url(url: &str) -> Settings {
        settings(&[PG, ("DATABASE_URL", url)])
    }

    /// An empty environment variable counts as unset, so only a file can
    /// set these to nothing.
    #[test]
    fn empty_names_in_the_file_are_refused() {
        for (key, name, backend) in [
            ("pg_host", "PG_HOST", "postgresql"),
            ("pg_user", "PG_USER", "postgresql"),
            ("pg_database", "PG_DATABASE", "postgresql"),
            ("sqlite_file", "SQLITE_FILE", "sqlite"),
        ] {
            let file = toml_file(&format!("{key} = \"\"\n"));
            let error = Settings::load(Some(file.path()), [("DB_TYPE", backend)])
                .expect_err("an empty name is refused")
                .to_string();
            assert!(error.contains(name), "{error}");
        }
    }

    #[test]
    fn pg_pool_max_is_bounded() {
        assert_eq!(postgres(&settings(&[PG])).pool_max, 10);
        assert_eq!(
            postgres(&settings(&[PG, ("PG_POOL_MAX", "20")])).pool_max,
            20
        );
        for value in ["0", "1001", "many"] {
            refused(
                &[PG, ("PG_POOL_MAX", value)],
                &["PG_POOL_MAX", value, "1-1000"],
            );
        }
    }

    #[test]
    fn pg_pool_idle_timeout_is_seconds() {
        assert_eq!(
            postgres(&settings(&[PG])).idle_timeout,
            Some(Duration::from_secs(30))
        );
        assert_eq!(
            postgres(&settings(&[PG, ("PG_POOL_IDLE_TIMEOUT", "120")])).idle_timeout,
            Some(Duration::from_secs(120))
        );
        assert_eq!(
            postgres(&settings(&[PG, ("PG_POOL_IDLE_TIMEOUT", "0")])).idle_timeout,
            None
        );
        refused(
            &[PG, ("PG_POOL_IDLE_TIMEOUT", "-1")],
            &["PG_POOL_IDLE_TIMEOUT", "-1", "seconds"],
        );
    }

    #[test]
    fn postgres_settings_are_not_validated_for_sqlite() {
        let settings = settings(&[("PG_PORT", "abc"), ("DATABASE_URL", "mysql://x")]);
        assert_eq!(settings.database.backend(), Backend::Sqlite);
    }

    #[test]
    fn sqlite_file_is_a_path() {
        let settings = settings(&[("SQLITE_FILE", "/data/ob.sqlite")]);
        assert_eq!(sqlite(&settings).file, PathBuf::from("/data/ob.sqlite"));
        assert_eq!(settings.database.location(), "/data/ob.sqlite");
    }

    #[test]
    fn sqlite_busy_timeout_is_milliseconds() {
        assert_eq!(
            sqlite(&settings(&[("SQLITE_BUSY_TIMEOUT", "200")])).busy_timeout,
            Duration::from_millis(200)
        );
        for value in ["soon", "-5", "2147483648"] {
            refused(
                &[("SQLITE_BUSY_TIMEOUT", value)],
                &["SQLITE_BUSY_TIMEOUT", value, "milliseconds"],
            );
        }
    }

    #[test]
    fn sqlite_sync_mode_is_one_of_four() {
        assert_eq!(
            sqlite(&settings(&[("SQLITE_SYNC_MODE", "full")]))
                .sync_mode
                .as_str(),
            "FULL"
        );
        refused(
            &[("SQLITE_SYNC_MODE", "sometimes")],
            &["SQLITE_SYNC_MODE", "sometimes", "OFF, NORMAL, FULL, EXTRA"],
        );
    }

    #[test]
    fn sqlite_cache_size_is_an_integer() {
        assert_eq!(
            sqlite(&settings(&[("SQLITE_CACHE_SIZE", "-2000")])).cache_size,
            -2000
        );
        refused(
            &[("SQLITE_CACHE_SIZE", "big")],
            &["SQLITE_CACHE_SIZE", "big", "integer"],
        );
    }

    #[test]
    fn db_query_logging_is_a_boolean() {
        for (value, expected) in [("true", true), ("1", true), ("TRUE", true), ("0", false)] {
            let settings = settings(&[("DB_QUERY_LOGGING", value)]);
            assert_eq!(settings.query_logging, expected, "{value}");
            assert_eq!(sqlite(&settings).query_logging, expected, "{value}");
        }
        let settings = settings(&[PG, ("DB_QUERY_LOGGING", "true")]);
        assert!(postgres(&settings).query_logging);
        refused(
            &[("DB_QUERY_LOGGING", "yes")],
            &["DB_QUERY_LOGGING", "yes", "true, false, 1, 0"],
        );
    }

    #[test]
    fn log_level_is_one_of_five() {
        assert_eq!(
            settings(&[("LOG_LEVEL", "debug")]).log_level,
            LevelFilter::Debug
        );
        assert_eq!(
            settings(&[("LOG_LEVEL", "WARN")]).log_level,
            LevelFilter::Warn
        );
        refused(
            &[("LOG_LEVEL", "verbose")],
            &["LOG_LEVEL", "verbose", "error, warn, info, debug, trace"],
        );
    }

    #[test]
    fn log_format_is_text_or_json() {
        assert_eq!(settings(&[]).log_format, LogFormat::Text);
        assert_eq!(
            settings(&[("LOG_FORMAT", "JSON")]).log_format,
            LogFormat::Json
        );
        refused(
            &[("LOG_FORMAT", "logfmt")],
            &["LOG_FORMAT", "logfmt", "text, json"],
        );
    }

    #[test]
    fn metrics_and_shutdown_settings() {
        let defaults = settings(&[]);
        assert!(defaults.http.metrics_enabled);
        assert_eq!(defaults.http.shutdown_timeout, Duration::from_secs(30));
        let set = settings(&[("METRICS_ENABLED", "false"), ("SHUTDOWN_TIMEOUT", "0")]);
        assert!(!set.http.metrics_enabled);
        assert_eq!(set.http.shutdown_timeout, Duration::ZERO);
        refused(
            &[("METRICS_ENABLED", "maybe")],
            &["METRICS_ENABLED", "maybe"],
        );
        for bad in ["-1", "3601", "soon"] {
            refused(
                &[("SHUTDOWN_TIMEOUT", bad)],
                &["SHUTDOWN_TIMEOUT", bad, "0-3600"],
            );
        }
    }

    #[test]
    fn host_is_an_address_or_a_name() {
        for (value, expected) in [
            ("127.0.0.1", "127.0.0.1"),
            ("::1", "::1"),
            ("[::1]", "::1"),
            ("badges.internal", "badges.internal"),
        ] {
            assert_eq!(settings(&[("HOST", value)]).http.host, expected);
        }
        refused(
            &[("HOST", "bad host!")],
            &["HOST", "bad host!", "IP address"],
        );
    }

    #[test]
    fn port_is_a_port() {
        assert_eq!(settings(&[("PORT", "8080")]).http.port, 8080);
        for value in ["abc", "0", "65536"] {
            refused(&[("PORT", value)], &["PORT", value, "1-65535"]);
        }
    }

    #[test]
    fn base_url_defaults_to_localhost_and_port() {
        assert_eq!(
            settings(&[("PORT", "8080")]).http.base_url,
            "http://localhost:8080"
        );
    }

    #[test]
    fn base_url_loses_its_trailing_slash() {
        for (value, expected) in [
            ("https://badges.example.org/", "https://badges.example.org"),
            ("https://example.org/ob/", "https://example.org/ob"),
            ("http://example.org:8080", "http://example.org:8080"),
        ] {
            assert_eq!(settings(&[("BASE_URL", value)]).http.base_url, expected);
        }
    }

    #[test]
    fn base_url_must_be_http() {
        refused(
            &[("BASE_URL", "ftp://example.org")],
            &["BASE_URL", "ftp", "http"],
        );
        refused(&[("BASE_URL", "example.org")], &["BASE_URL", "example.org"]);
        refused(
            &[("BASE_URL", "https://example.org/?a=b")],
            &["BASE_URL", "query"],
        );
    }

    #[test]
    fn empty_variables_count_as_unset() {
        let settings = settings(&[("PORT", ""), ("DB_TYPE", ""), ("LOG_LEVEL", "")]);
        assert_eq!(settings.http.port, 3000);
        assert_eq!(settings.database.backend(), Backend::Sqlite);
    }

    fn toml_file(content: &str) -> tempfile::NamedTempFile {
        let mut file = tempfile::Builder::new()
            .suffix(".toml")
            .tempfile()
            .expect("temp file");
        file.write_all(content.as_bytes()).expect("write config");
        file
    }

    #[test]
    fn file_sits_between_defaults_and_environment() {
        let file = toml_file(
            "db_type = \"postgresql\"\npg_port = 6000\nport = 4000\ndb_query_logging = true\n",
        );
        let settings =
            Settings::load(Some(file.path()), [("PORT", "5000")]).expect("valid configuration");
        assert_eq!(settings.http.port, 5000, "the environment wins");
        assert!(
            postgres(&settings).url.contains(":6000/"),
            "the file applies"
        );
        assert!(settings.query_logging);
        assert_eq!(settings.log_level, LevelFilter::Info, "defaults fill in");
    }

    #[test]
    fn config_file_variable_names_the_file() {
        let file = toml_file("port = 4100\n");
        let path = file.path().to_string_lossy().into_owned();
        let settings = settings(&[("CONFIG_FILE", path.as_str())]);
        assert_eq!(settings.http.port, 4100);
    }

    #[test]
    fn missing_file_is_refused() {
        let error = Settings::load(Some(Path::new("/nonexistent/ob.toml")), [PG])
            .expect_err("a missing file is refused")
            .to_string();
        assert!(error.contains("/nonexistent/ob.toml"), "{error}");
        assert!(error.contains("no such file"), "{error}");
    }

    #[test]
    fn unknown_file_keys_are_refused() {
        let file = toml_file("db_tpye = \"sqlite\"\n");
        let error = Settings::load(Some(file.path()), [PG])
            .expect_err("a typo is refused")
            .to_string();
        assert!(error.contains("db_tpye"), "{error}");
        assert!(error.contains("db_type"), "{error}");
    }

    #[test]
    fn bad_file_values_name_the_variable() {
        let file = toml_file("port = \"abc\"\n");
        let error = Settings::load(Some(file.path()), [PG])
            .expect_err("a bad port is refused")
            .to_string();
        assert!(error.contains("PORT") && error.contains("abc"), "{error}");
        let file = toml_file("[port]\nvalue = 1\n");
        let error = Settings::load(Some(file.path()), [PG])
            .expect_err("a table is refused")
            .to_string();
        assert!(error.contains("PORT"), "{error}");
    }

    #[test]
    fn redact_url_hides_passwords_only() {
        for (url, expected) in [
            (
                "postgres://ob:hunter2@db:5432/badges?sslmode=require",
                "postgres://ob:***@db:5432/badges?sslmode=require",
            ),
            ("postgres://ob@db/badges", "postgres://ob@db/badges"),
            ("postgres://db/badges", "postgres://db/badges"),
            (
                "postgres://ob:p/ss?w@rd@db/badges",
                "postgres://ob:***@db/badges",
            ),
            (
                "postgres://db/badges?user=ob&password=hunter2&sslmode=require",
                "postgres://db/badges?user=ob&password=***&sslmode=require",
            ),
            ("host=db password=hunter2", "***"),
        ] {
            assert_eq!(redact_url(url), expected, "{url}");
        }
    }

    #[test]
    fn help_lists_every_variable() {
        let help = environment_help();
        for var in VARIABLES {
            assert!(help.contains(var.name), "{} missing from help", var.name);
        }
        assert!(help.contains("CONFIG_FILE"));
    }
}
