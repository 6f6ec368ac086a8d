//! Opening the store chosen by `DB_TYPE`, applying pending migrations, and
//! turning a failure into one line that tells the operator what to check
//! (the Troubleshooting section of the database guide).

use std::sync::Arc;

use openbadges_diesel_postgres::{PgOptions, PgStore};
use openbadges_diesel_sqlite::{SqliteOptions, SqliteStore};
use openbadges_domain::operations::{StartupError, StartupFailure};
use openbadges_domain::ports::Store;

use crate::config::DatabaseSettings;

/// An opened store whose schema is current.
pub struct Prepared {
    /// The store, for the HTTP layer.
    pub store: Arc<dyn Store>,
    /// The view of the store for public reads: on PostgreSQL with read
    /// replicas, plain reads of public records go to a replica; otherwise
    /// the store itself.
    pub reads: Arc<dyn Store>,
    /// The migrations this start applied, oldest first; empty when the schema
    /// was already current.
    pub applied: Vec<String>,
}

/// Opens the configured backend and applies pending migrations. Blocking:
/// call it before the HTTP runtime starts.
pub fn open_and_migrate(database: &DatabaseSettings) -> Result<Prepared, StartupError> {
    match database {
        DatabaseSettings::Postgresql(options) => {
            let store = PgStore::connect(options)?;
            let applied = store.migrate()?;
            Ok(Prepared {
                reads: Arc::new(store.public_reads()),
                store: Arc::new(store),
                applied,
            })
        }
        DatabaseSettings::Sqlite(options) => {
            let store = SqliteStore::open(options)?;
            let applied = store.migrate()?;
            let store: Arc<dyn Store> = Arc::new(store);
            Ok(Prepared {
                reads: Arc::clone(&store),
                store,
                applied,
            })
        }
    }
}

/// Logs what a migration run did.
pub fn log_applied(applied: &[String]) {
    if applied.is_empty() {
        log::info!("database schema is current: no pending migrations");
    } else {
        log::info!(
            "applied {} migration(s): {}",
            applied.len(),
            applied.join(", ")
        );
    }
}

/// One line naming the cause of `error` and what to check, free of secrets.
pub fn explain(error: &StartupError, database: &DatabaseSettings) -> String {
    let detail = &error.detail;
    match (error.kind, database) {
        (StartupFailure::ConnectionRefused, DatabaseSettings::Postgresql(options)) => {
            let endpoint = endpoint(options);
            format!(
                "cannot connect to PostgreSQL at {endpoint}: {detail}. Is PostgreSQL running at \
                 {endpoint}? Check the network, the firewall, and that the server accepts remote \
                 connections (listen_addresses in postgresql.conf)"
            )
        }
        (StartupFailure::AuthenticationFailed, _) => format!(
            "PostgreSQL authentication failed: {detail}. Check the username/password \
             (PG_USER/PG_PASSWORD or DATABASE_URL) and pg_hba.conf, and that the user may \
             access the database"
        ),
        (StartupFailure::DatabaseMissing, _) => format!(
            "the database does not exist: {detail}. Create the database or fix the name \
             (PG_DATABASE or the path of DATABASE_URL)"
        ),
        (StartupFailure::PermissionDenied, DatabaseSettings::Postgresql(options)) => {
            let role = role(options);
            format!(
                "permission denied: {detail}. The role {role} lacks CREATE needed for a pending \
                 migration; run `openbadges-server migrate` as the schema owner, or grant it: \
                 GRANT CREATE ON SCHEMA public TO {role}"
            )
        }
        // The SQLite adapter's details already name the file and directory.
        (StartupFailure::DirectoryMissing, DatabaseSettings::Sqlite(_)) => {
            format!("{detail}. Create the directory or fix SQLITE_FILE")
        }
        (StartupFailure::NotWritable, DatabaseSettings::Sqlite(_)) => format!(
            "{detail}. Check file and directory permissions: the server needs write access to \
             the file and to its directory (for journal files)"
        ),
        (StartupFailure::Locked, DatabaseSettings::Sqlite(options)) => locked(options, detail),
        (StartupFailure::MigrationFailed, _) => format!(
            "a migration failed: {detail}. Check the database connection, the user's \
             permissions, and for a conflicting schema (tables made by something else)"
        ),
        // A kind the adapter of the other backend uses cannot come from this
        // one, and `Other` has no advice: say where, and what happened.
        _ => format!(
            "cannot open the {} database {}: {detail}",
            database.backend().as_str(),
            database.location()
        ),
    }
}

fn locked(options: &SqliteOptions, detail: &str) -> String {
    format!(
        "{detail}. Increase SQLITE_BUSY_TIMEOUT (now {} ms), make sure no other process holds \
         the database, and check for lingering -journal/-wal files next to it",
        options.busy_timeout.as_millis()
    )
}

/// `host:port` of a PostgreSQL URL, for advice; the URL itself may carry a
/// password, so only these two parts are shown. libpq takes both from the
/// query too (`?host=/run/postgresql&port=5433`), which then wins.
fn endpoint(options: &PgOptions) -> String {
    // libpq accepts URLs the `url` crate refuses (`postgres://ob@/db`), so
    // the query is read on its own.
    let query = options
        .url
        .split_once('?')
        .map_or("", |(_, query)| query.split('#').next().unwrap_or_default());
    let parameter = |name: &str| {
        url::form_urlencoded::parse(query.as_bytes())
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.into_owned())
    };
    let url = url::Url::parse(&options.url).ok();
    let host = match (parameter("host"), &url) {
        (Some(host), _) => host,
        (None, Some(url)) => url
            .host_str()
            .map(percent_decode)
            .filter(|host| !host.is_empty())
            .unwrap_or_else(|| "localhost".to_owned()),
        (None, None) => "the configured host".to_owned(),
    };
    let port = parameter("port")
        .or_else(|| url.as_ref()?.port().map(|port| port.to_string()))
        .unwrap_or_else(|| "5432".to_owned());
    format!("{host}:{port}")
}

/// The role a PostgreSQL URL logs in as, quoted when SQL needs it, for the
/// GRANT advice.
fn role(options: &PgOptions) -> String {
    let user = url::Url::parse(&options.url)
        .ok()
        .map(|url| percent_decode(url.username()))
        .filter(|user| !user.is_empty());
    match user {
        Some(user) if is_plain_identifier(&user) => user,
        Some(user) => format!("\"{}\"", user.replace('"', "\"\"")),
        None => "<role>".to_owned(),
    }
}

/// Whether PostgreSQL takes `name` unquoted without changing it.
fn is_plain_identifier(name: &str) -> bool {
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|first| first.is_ascii_lowercase() || first == '_')
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '$')
}

/// Decodes `%XX` escapes; URL parts are shown decoded, as the operator wrote them.
fn percent_decode(text: &str) -> String {
    percent_encoding::percent_decode_str(text)
        .decode_utf8_lossy()
        .into_owned()
}

/// The server's secret: `JWT_SECRET`, or random for this process when it is
/// unset (with a warning). Login tokens are signed with it and the cursor
/// key is derived from it, so neither survives a restart nor crosses
/// instances without `JWT_SECRET`.
pub fn server_secret(settings: &crate::config::AuthSettings) -> Vec<u8> {
    match &settings.jwt_secret {
        Some(secret) => secret.as_bytes().to_vec(),
        None => {
            log::warn!(
                "JWT_SECRET is not set: login tokens and list cursors are signed with a random \
                 secret that lasts until this process stops and is not shared with other \
                 instances; set JWT_SECRET (NODE_ENV=production requires it)"
            );
            (0..3)
                .flat_map(|_| *uuid::Uuid::new_v4().as_bytes())
                .collect()
        }
    }
}

/// The authentication settings turned into keys: login tokens signed with
/// `secret` (see [`server_secret`]) and the `AUTH_API_KEY_<NAME>` keys.
/// `Err` is a configuration error, free of secrets.
pub fn auth_config(
    settings: &crate::config::AuthSettings,
    secret: &[u8],
) -> Result<crate::auth::config::AuthConfig, String> {
    if !settings.enabled {
        log::warn!(
            "AUTH_ENABLED=false: every request acts as an administrator; never expose this \
             server beyond a development machine"
        );
    }
    let configured = crate::auth::keys::configured_keys(
        settings
            .configured_keys
            .iter()
            .map(|(name, value)| (name.as_str(), value.as_str())),
    )
    .map_err(|message| format!("configuration error: {message}"))?;
    if !configured.is_empty() {
        let names: Vec<&str> = configured.iter().map(|k| k.name.as_str()).collect();
        log::info!(
            "API keys configured in the environment: {}",
            names.join(", ")
        );
    }
    let lifetime = i64::try_from(settings.token_lifetime.as_secs()).unwrap_or(3600);
    Ok(crate::auth::config::AuthConfig {
        enabled: settings.enabled,
        tokens: crate::auth::tokens::TokenKeys::new(secret, lifetime),
        configured,
        logins: crate::auth::throttle::LoginThrottle::new(secret, settings.login_throttle),
        pending: crate::oauth::pending::PendingKeys::new(secret),
    })
}

/// The key encryption key when `KEY_ENCRYPTION_KEY` is unset (development
/// only; production requires the variable).
const DEVELOPMENT_KEY: [u8; 32] = *b"openbadges-server development kk";

/// The key that seals secrets at rest: `KEY_ENCRYPTION_KEY`, else the
/// development key ([`signing`] warns about it).
pub fn key_encryption_key(settings: &crate::config::AuthSettings) -> [u8; 32] {
    settings.key_encryption_key.unwrap_or(DEVELOPMENT_KEY)
}

/// The credential signer: the vault from `KEY_ENCRYPTION_KEY` (a fixed
/// development key, with a warning, when unset outside production).
pub fn signing(
    store: &std::sync::Arc<dyn openbadges_domain::ports::Store>,
    settings: &crate::config::AuthSettings,
    urls: &openbadges_domain::documents::Urls,
) -> Result<std::sync::Arc<openbadges_signing::Signing>, String> {
    let key = settings.key_encryption_key.unwrap_or_else(|| {
        log::warn!(
            "KEY_ENCRYPTION_KEY is not set: issuers' private keys are sealed with a fixed \
             development key, which protects nothing; set KEY_ENCRYPTION_KEY (NODE_ENV=production \
             requires it) before issuing credentials that matter"
        );
        DEVELOPMENT_KEY
    });
    openbadges_signing::Signing::new(
        std::sync::Arc::clone(store),
        openbadges_credentials::KeyVault::new(&key),
        urls.clone(),
    )
    .map(std::sync::Arc::new)
    .map_err(|e| format!("loading JSON-LD contexts: {e}"))
}

/// Why `dir` cannot hold the temporary files of large batches, if it
/// cannot (docs/operations.md, "Temporary files"). Checked at start so the
/// operator hears of it before the first large batch fails.
pub fn temp_dir_problem(dir: &std::path::Path) -> Option<String> {
    let err = tempfile::tempfile_in(dir).err()?;
    Some(format!(
        "the temporary directory {} cannot hold a file ({err}): batches of more than about \
         500 signed credentials will fail; set TMPDIR to a writable directory",
        dir.display()
    ))
}

/// Creates the administrator named by `AUTH_ADMIN_*` unless that user
/// exists; a restart never resets a password changed since.
pub async fn bootstrap_admin(
    store: &dyn openbadges_domain::ports::Store,
    settings: &crate::config::AuthSettings,
) -> Result<(), openbadges_domain::DomainError> {
    use openbadges_domain::{accounts, DomainError, Email, Role, Username};
    let Some(admin) = &settings.bootstrap_admin else {
        return Ok(());
    };
    let invalid = |e: openbadges_domain::InvalidValue| DomainError::Internal(e.0);
    let password = admin.password.clone();
    let password_hash =
        crate::auth::password::off_workers(move || crate::auth::password::hash(&password))
            .await
            .map_err(|e| DomainError::Internal(e.to_string()))??;
    let new = accounts::NewUser {
        username: Username::parse(admin.username.clone()).map_err(invalid)?,
        email: admin
            .email
            .clone()
            .map(Email::parse)
            .transpose()
            .map_err(invalid)?,
        password_hash,
        role: Role::Admin,
    };
    let (user, created) = accounts::bootstrap_admin(store, new).await?;
    if created {
        log::info!(
            "created administrator {} from AUTH_ADMIN_USERNAME",
            user.username.as_str()
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    fn postgres(url: &str) -> DatabaseSettings {
        DatabaseSettings::Postgresql(PgOptions::new(url))
    }

    fn sqlite(file: &str) -> DatabaseSettings {
        let mut options = SqliteOptions::new(file);
        options.busy_timeout = Duration::from_millis(250);
        DatabaseSettings::Sqlite(options)
    }

    fn explain_kind(kind: StartupFailure, database: &DatabaseSettings) -> String {
        explain(&StartupError::new(kind, "what the adapter saw"), database)
    }

    #[test]
    fn a_temp_dir_that_cannot_hold_a_file_is_named() {
        let dir = tempfile::tempdir().expect("temp dir");
        assert_eq!(temp_dir_problem(dir.path()), None);
        let missing = dir.path().join("missing");
        let problem = temp_dir_problem(&missing).expect("a problem");
        assert!(
            problem.contains(&missing.display().to_string()),
            "{problem}"
        );
        assert!(problem.contains("TMPDIR"), "{problem}");
    }

    #[test]
    fn connection_refused_names_host_and_port_not_the_password() {
        let line = explain_kind(
            StartupFailure::ConnectionRefused,
            &postgres("postgres://ob:hunter2@db.example.com:6432/badges"),
        );
        assert!(
            line.contains("Is PostgreSQL running at db.example.com:6432?"),
            "{line}"
        );
        assert!(line.contains("what the adapter saw"), "{line}");
        assert!(line.contains("listen_addresses"), "{line}");
        assert!(!line.contains("hunter2"), "{line}");
    }

    #[test]
    fn endpoint_follows_libpq_defaults_and_parameters() {
        let endpoint_of = |url| endpoint(&PgOptions::new(url));
        assert_eq!(endpoint_of("postgres://ob@db/badges"), "db:5432");
        assert_eq!(endpoint_of("postgres:///badges"), "localhost:5432");
        assert_eq!(
            endpoint_of("postgres://ob@%2Frun%2Fpostgresql/badges"),
            "/run/postgresql:5432"
        );
        assert_eq!(
            endpoint_of("postgres://ob@/badges?host=/tmp&port=5433"),
            "/tmp:5433"
        );
    }

    #[test]
    fn permission_denied_advises_migrate_and_the_grant() {
        let line = explain_kind(
            StartupFailure::PermissionDenied,
            &postgres("postgres://ob_app:hunter2@db/badges"),
        );
        assert!(
            line.contains("lacks CREATE needed for a pending migration"),
            "{line}"
        );
        assert!(line.contains("`openbadges-server migrate`"), "{line}");
        assert!(
            line.contains("GRANT CREATE ON SCHEMA public TO ob_app"),
            "{line}"
        );
        assert!(!line.contains("hunter2"), "{line}");

        let line = explain_kind(
            StartupFailure::PermissionDenied,
            &postgres("postgres://Ob%20App@db/badges"),
        );
        assert!(line.contains("TO \"Ob App\""), "{line}");
    }

    #[test]
    fn authentication_and_missing_database_say_what_to_check() {
        let database = postgres("postgres://ob:hunter2@db/badges");
        let line = explain_kind(StartupFailure::AuthenticationFailed, &database);
        assert!(
            line.contains("PG_USER/PG_PASSWORD or DATABASE_URL"),
            "{line}"
        );
        assert!(line.contains("pg_hba.conf"), "{line}");
        let line = explain_kind(StartupFailure::DatabaseMissing, &database);
        assert!(
            line.contains("Create the database or fix the name"),
            "{line}"
        );
        let line = explain_kind(StartupFailure::MigrationFailed, &database);
        assert!(line.contains("conflicting schema"), "{line}");
    }

    #[test]
    fn sqlite_advice_says_what_to_do() {
        let database = sqlite("/data/ob.sqlite");
        let line = explain_kind(StartupFailure::DirectoryMissing, &database);
        assert!(
            line.contains("Create the directory or fix SQLITE_FILE"),
            "{line}"
        );
        let line = explain_kind(StartupFailure::NotWritable, &database);
        assert!(
            line.contains("Check file and directory permissions"),
            "{line}"
        );
        let line = explain_kind(StartupFailure::Locked, &database);
        assert!(
            line.contains("Increase SQLITE_BUSY_TIMEOUT (now 250 ms)"),
            "{line}"
        );
        assert!(line.contains("-journal/-wal"), "{line}");
    }

    #[test]
    fn other_failures_say_where_without_the_password() {
        let line = explain_kind(
            StartupFailure::Other,
            &postgres("postgres://ob:hunter2@db/badges"),
        );
        assert!(line.contains("postgres://ob:***@db/badges"), "{line}");
        assert!(!line.contains("hunter2"), "{line}");
    }
}
