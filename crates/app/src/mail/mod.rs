//! Award e-mails (docs/email.md), and the verification e-mails of
//! learners' addresses (docs/learners.md). An award that notifies its
//! recipient queues an e-mail in the mail outbox, in the award's
//! transaction, as a learner's new address queues its verification; the
//! sender ([`worker`]), started beside the HTTP server when `SMTP_HOST` is
//! set, delivers both. Issuance never waits for SMTP.

pub mod api;
pub mod config;
pub mod message;
pub mod requests;
pub mod worker;

use std::sync::Arc;

use actix_web::{web, HttpRequest};
use tokio::sync::Notify;

use crate::state::AppState;

/// Wakes the sender after an award queued an e-mail, so it goes out now
/// rather than at the next poll.
#[derive(Clone, Default)]
pub struct Wake(Arc<Notify>);

impl Wake {
    /// Wakes the sender (once, however often called before it looks).
    pub fn wake(&self) {
        self.0.notify_one();
    }
}

/// Whether this server sends e-mail (`SMTP_HOST` is set): only then are
/// e-mails queued.
pub fn enabled(state: &AppState) -> bool {
    state.settings.mail.is_some()
}

/// Wakes the sender of the server handling `request`, if it has one.
pub fn wake(request: &HttpRequest) {
    if let Some(wake) = request.app_data::<web::Data<Wake>>() {
        wake.wake();
    }
}

/// Starts the sender on the current runtime when SMTP is configured, and
/// answers its wake-up handle. `Err` names what is wrong with the SMTP
/// settings (a TLS setup that cannot be built).
pub fn start(state: &AppState) -> Result<Option<Wake>, String> {
    let Some(settings) = state.settings.mail.clone() else {
        return Ok(None);
    };
    let transport = worker::transport(&settings)?;
    let wake = Wake::default();
    log::info!(
        target: "openbadges::mail",
        "sending award e-mails through {}:{} ({:?}) as {}",
        settings.host,
        settings.port,
        settings.tls,
        settings.from
    );
    let sender = worker::Worker {
        store: Arc::clone(&state.store),
        urls: state.urls.clone(),
        settings,
        transport,
        wake: Arc::clone(&wake.0),
        limits: crate::images::limits(state.settings.security.assets_max_file_size),
        verification: state.verification.clone(),
    };
    actix_web::rt::spawn(sender.run());
    Ok(Some(wake))
}
