//! Command-line administration: `admin create` for the first administrator
//! of a fresh install, `api-key create` for automation. Whoever can run the
//! binary with the database configuration already controls the data, so
//! these act as an administrator without logging in.

use std::io::{BufRead, IsTerminal};
use std::process::ExitCode;

use openbadges_domain::access::{Credential, Principal};
use openbadges_domain::accounts::{self, NewApiKey, NewUser};
use openbadges_domain::*;

use crate::auth::{keys, password};
use crate::config::Settings;
use crate::{startup, EXIT_CONFIG, EXIT_DATABASE};

/// Exit code when the command itself is refused (bad input, name taken).
const EXIT_REFUSED: u8 = 1;

fn operator() -> Principal {
    Principal {
        user_id: None,
        role: Role::Admin,
        permissions: Principal::role_permissions(Role::Admin),
        issuer_scope: None,
        credential: Credential::ConfiguredKey,
    }
}

/// The new password: the first line of standard input when it is not a
/// terminal, else `AUTH_ADMIN_PASSWORD`.
pub fn read_password() -> Option<String> {
    let stdin = std::io::stdin();
    if !stdin.is_terminal() {
        let mut line = String::new();
        if stdin.lock().read_line(&mut line).is_ok() {
            let line = line.trim_end_matches(['\r', '\n']).to_owned();
            if !line.is_empty() {
                return Some(line);
            }
        }
    }
    std::env::var("AUTH_ADMIN_PASSWORD")
        .ok()
        .filter(|p| !p.is_empty())
}

/// Opens the store (migrating it) and runs `work` on an async runtime.
fn with_store<F, Fut>(settings: &Settings, work: F) -> ExitCode
where
    F: FnOnce(std::sync::Arc<dyn ports::Store>) -> Fut,
    Fut: std::future::Future<Output = Result<(), DomainError>>,
{
    let prepared = match startup::open_and_migrate(&settings.database) {
        Ok(prepared) => prepared,
        Err(error) => {
            log::error!("{}", startup::explain(&error, &settings.database));
            return ExitCode::from(EXIT_DATABASE);
        }
    };
    match actix_web::rt::System::new().block_on(work(prepared.store)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(DomainError::Unavailable(message)) => {
            eprintln!("openbadges-server: the database is unavailable: {message}");
            ExitCode::from(EXIT_DATABASE)
        }
        Err(error) => {
            eprintln!("openbadges-server: {error}");
            ExitCode::from(EXIT_REFUSED)
        }
    }
}

/// `admin create`: a new administrator.
pub fn create_admin(
    settings: &Settings,
    username: &str,
    email: Option<&str>,
    secret: &str,
) -> ExitCode {
    let username = match Username::parse(username) {
        Ok(username) => username,
        Err(e) => return refuse("--username", &e.0),
    };
    let email = match email.map(Email::parse).transpose() {
        Ok(email) => email,
        Err(e) => return refuse("--email", &e.0),
    };
    if let Err(e) = password::check_policy(secret) {
        return refuse("password", &e.0);
    }
    let password_hash = match password::hash(secret) {
        Ok(hash) => hash,
        Err(e) => return refuse("password", &e.to_string()),
    };
    with_store(settings, |store| async move {
        let user = accounts::create_user(
            store.as_ref(),
            &operator(),
            NewUser {
                username,
                email,
                password_hash,
                role: Role::Admin,
            },
        )
        .await?;
        println!(
            "created administrator {} ({})",
            user.username.as_str(),
            user.id
        );
        Ok(())
    })
}

/// What `api-key create` was asked for.
#[derive(Debug)]
pub struct KeyRequest {
    /// Username of the key's user.
    pub username: String,
    /// Label.
    pub name: String,
    /// Permission names; empty means what the user's role allows.
    pub permissions: Vec<String>,
    /// Issuer id to scope the key to.
    pub issuer: Option<String>,
    /// Expiry (RFC 3339).
    pub expires: Option<String>,
}

/// `api-key create`: prints the new key once.
pub fn create_api_key(settings: &Settings, request: KeyRequest) -> ExitCode {
    let name = match Name::parse(request.name) {
        Ok(name) => name,
        Err(e) => return refuse("--name", &e.0),
    };
    let mut permissions = Vec::new();
    for raw in &request.permissions {
        match serde_json::from_value::<Permission>(serde_json::Value::String(raw.clone())) {
            Ok(permission) => permissions.push(permission),
            Err(_) => return refuse("--permissions", "must list read, write, admin"),
        }
    }
    let issuer_scope = match request
        .issuer
        .as_deref()
        .map(str::parse::<IssuerId>)
        .transpose()
    {
        Ok(scope) => scope,
        Err(_) => return refuse("--issuer", "must be an issuer id (UUID)"),
    };
    let expires_at = match request.expires.as_deref().map(Timestamp::parse).transpose() {
        Ok(at) => at,
        Err(e) => return refuse("--expires", &e.0),
    };
    let username = request.username;
    with_store(settings, |store| async move {
        let user = store
            .users()
            .find_by_username(&username)
            .await?
            .ok_or_else(|| DomainError::MissingReference {
                entity: "user",
                id: username.clone(),
            })?;
        if permissions.is_empty() {
            permissions = Principal::role_permissions(user.role);
        }
        let secret = keys::generate();
        let key = accounts::create_api_key(
            store.as_ref(),
            &operator(),
            NewApiKey {
                user_id: user.id,
                name,
                key_hash: ApiKeyHash::of_key(&secret),
                prefix: keys::display_prefix(&secret),
                permissions,
                issuer_scope,
                expires_at,
            },
        )
        .await?;
        eprintln!(
            "created API key {} for {}; it is shown only now:",
            key.id,
            user.username.as_str()
        );
        println!("{secret}");
        Ok(())
    })
}

fn refuse(what: &str, why: &str) -> ExitCode {
    eprintln!("openbadges-server: {what} {why}");
    if what == "password" {
        ExitCode::from(EXIT_REFUSED)
    } else {
        ExitCode::from(EXIT_CONFIG)
    }
}
