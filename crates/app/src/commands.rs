//! The commands of the binary that run the server or its database:
//! `serve` and `migrate`.

use std::process::ExitCode;
use std::sync::Arc;

use crate::config::Settings;
use crate::{server, startup, state, EXIT_CONFIG, EXIT_DATABASE, EXIT_SERVER};

/// How many stored credentials' valid proofs are remembered (32 bytes
/// each and the set's overhead: about 3 MB when full).
const PROOF_MEMO_CAPACITY: usize = 65_536;

/// Logs the version, backend and (redacted) database location.
pub fn log_start(command: &str, settings: &Settings) {
    log::info!(
        "openbadges-server {} {command}: backend {}, database {}",
        env!("CARGO_PKG_VERSION"),
        settings.database.backend().as_str(),
        settings.database.location()
    );
}

/// `serve`: opens the store, applies pending migrations, serves HTTP until
/// SIGTERM or SIGINT, then closes the database pool.
pub fn serve(settings: Settings) -> ExitCode {
    let prepared = match startup::open_and_migrate(&settings.database) {
        Ok(prepared) => prepared,
        Err(error) => {
            log::error!("{}", startup::explain(&error, &settings.database));
            return ExitCode::from(EXIT_DATABASE);
        }
    };
    startup::log_applied(&prepared.applied);
    if let crate::config::DatabaseSettings::Postgresql(options) = &settings.database {
        for (index, url) in settings.database.replica_locations().iter().enumerate() {
            log::info!(
                "read replica {index}: {url} (skipped while more than {} ms behind the primary)",
                options.replica_max_lag.as_millis()
            );
        }
    }
    let urls = match openbadges_domain::documents::Urls::new(&settings.http.base_url) {
        Ok(urls) => urls,
        Err(error) => {
            log::error!("BASE_URL {}: {error}", settings.http.base_url);
            return ExitCode::from(EXIT_CONFIG);
        }
    };
    let secret = startup::server_secret(&settings.auth);
    let auth = match startup::auth_config(&settings.auth, &secret) {
        Ok(auth) => auth,
        Err(message) => {
            log::error!("{message}");
            return ExitCode::from(EXIT_CONFIG);
        }
    };
    let signing = match startup::signing(&prepared.store, &settings.auth, &urls) {
        Ok(signing) => signing,
        Err(message) => {
            log::error!("{message}");
            return ExitCode::from(EXIT_CONFIG);
        }
    };
    if let Some(problem) = startup::temp_dir_problem(&std::env::temp_dir()) {
        log::warn!("{problem}");
    }
    let outbound = match crate::outbound::Remote::new(
        settings.outbound,
        &startup::key_encryption_key(&settings.auth),
    ) {
        Ok(outbound) => outbound,
        Err(message) => {
            log::error!("{message}");
            return ExitCode::from(EXIT_CONFIG);
        }
    };
    let store = Arc::clone(&prepared.store);
    let documents = Arc::new(crate::cache::DocumentCache::new(
        settings.http.document_cache_bytes,
        settings.database.replica_lag_bound(),
    ));
    signing.remember_active_keys(Arc::clone(&documents) as _);
    let records = Arc::new(crate::cache::CachedRecords::new(
        Arc::clone(&prepared.reads),
        Arc::clone(&documents),
    ));
    let state = state::AppState {
        store: prepared.store,
        reads: prepared.reads,
        settings: Arc::new(settings),
        urls,
        auth,
        cursors: openbadges_domain::CursorKey::derive(&secret),
        signing,
        verification: openbadges_domain::learners::VerificationKey::derive(&secret),
        outbound,
        documents,
        proofs: Arc::new(openbadges_verify::ProofMemo::new(PROOF_MEMO_CAPACITY)),
        records,
    };
    let code = actix_web::rt::System::new().block_on(async move {
        if let Err(error) =
            startup::bootstrap_admin(state.store.as_ref(), &state.settings.auth).await
        {
            log::error!("cannot create the administrator from AUTH_ADMIN_*: {error}");
            return ExitCode::from(EXIT_DATABASE);
        }
        match server::serve(state).await {
            Ok(()) => ExitCode::SUCCESS,
            Err(error) => {
                log::error!("{error}");
                ExitCode::from(EXIT_SERVER)
            }
        }
    });
    close_store(store);
    code
}

/// Closes the database pool once the server's workers have let go of the
/// store (they stop on threads of their own, so it may take a moment):
/// PostgreSQL then sees its connections closed, not cut.
fn close_store(store: Arc<dyn openbadges_domain::ports::Store>) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(2);
    while Arc::strong_count(&store) > 1 && std::time::Instant::now() < deadline {
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    if Arc::strong_count(&store) > 1 {
        log::warn!("the database pool was still in use at exit");
    } else {
        drop(store);
        log::info!("closed the database pool");
    }
}

/// `migrate`: applies pending migrations and exits.
pub fn migrate(settings: &Settings) -> ExitCode {
    match startup::open_and_migrate(&settings.database) {
        Ok(prepared) => {
            startup::log_applied(&prepared.applied);
            ExitCode::SUCCESS
        }
        Err(error) => {
            log::error!("{}", startup::explain(&error, &settings.database));
            ExitCode::from(EXIT_DATABASE)
        }
    }
}
