//! Sending an award to the learner's badge host: this server as an Open
//! Badges 3.0 Service Consumer (write). docs/service-api.md, "Sending badges
//! to a host", tells the story; [`openbadges_domain::deliveries`] the
//! states.
//!
//! - `POST /credentials/{id}/send` (the form on the award's page, field
//!   `host`): reads the host's discovery document, registers once per host,
//!   and redirects the browser to the host's authorization endpoint
//!   (authorization code, PKCE S256, a random `state`).
//! - `GET /oauth/callback`: exchanges the code, keeps the tokens sealed,
//!   upserts the credential at once and shows the learner the outcome;
//!   failures are retried by the sender ([`worker`]).
//! - `GET /credentials/{id}/deliveries`: where the award was sent, for
//!   whoever may read the issuer's credentials.

pub mod host;
pub mod secrets;
pub mod worker;

use std::sync::Arc;

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use openbadges_credentials::KeyVault;
use openbadges_domain::deliveries::{Delivery, DeliveryState, RemoteHost, SealedTokens};
use openbadges_domain::{AssertionId, CredentialStatus, DomainError, Timestamp};
use serde::Serialize;

use crate::auth::Auth;
use crate::error::ApiError;
use crate::outbound::OutboundError;
use crate::state::AppState;
use host::HostError;

/// How long the learner has to authorize at their host.
const AUTHORIZE_FOR: chrono::Duration = chrono::Duration::minutes(10);

/// Unfinished authorizations one award may have at a time: enough for a
/// learner who retries, too few for anyone to use the award's page to make
/// this server register with and call many hosts.
pub const MAX_OPEN_AUTHORIZATIONS: u64 = 5;

/// The path of the OAuth callback, under `BASE_URL`.
pub const CALLBACK_PATH: &str = "/oauth/callback";

/// Registers the browser's routes. Before the API's: its `/credentials`
/// scope would otherwise answer `/credentials/{id}/send` with a 404.
/// (`GET /credentials/{id}/deliveries` is an API route, registered with the
/// credentials'.)
pub fn routes(config: &mut web::ServiceConfig) {
    config
        .route("/credentials/{id}/send", web::post().to(send))
        .route(CALLBACK_PATH, web::get().to(callback))
        .route("/pages/service", web::get().to(service_page))
        .route("/pages/terms", web::get().to(service_page))
        .route("/pages/privacy", web::get().to(service_page))
        .route("/pages/logo.svg", web::get().to(logo));
}

/// Starts the sender on the current runtime. The callback makes the first
/// attempt itself; the sender makes the retries.
pub fn start(state: &AppState) {
    actix_web::rt::spawn(sender(state).run());
}

fn sender(state: &AppState) -> worker::Sender {
    worker::Sender {
        store: Arc::clone(&state.store),
        outbound: state.outbound.client.clone(),
        vault: Arc::clone(&state.outbound.vault),
    }
}

/// Why a send could not start or finish, as the learner's page says it.
#[derive(Debug)]
enum SendError {
    /// No such award.
    NotFound,
    /// The award cannot be sent.
    NotSendable(&'static str),
    /// The form is wrong: the field and why.
    Invalid(&'static str, String),
    /// Too many unfinished authorizations.
    Busy,
    /// The host named may not be called.
    Refused(String),
    /// The host failed or answered something unusable.
    Host(String),
    /// The callback is unknown, used, or late.
    Callback(String),
    /// This server failed.
    Internal(DomainError),
}

impl From<DomainError> for SendError {
    fn from(err: DomainError) -> Self {
        match err {
            DomainError::NotFound { .. } => Self::NotFound,
            other => Self::Internal(other),
        }
    }
}

impl From<HostError> for SendError {
    fn from(err: HostError) -> Self {
        match err {
            HostError::Unreachable(
                refused @ (OutboundError::Refused(_) | OutboundError::Forbidden { .. }),
            ) => Self::Refused(refused.to_string()),
            other => Self::Host(other.to_string()),
        }
    }
}

impl SendError {
    fn page(&self, back: Option<String>, url: String) -> HttpResponse {
        let (status, heading, message) = match self {
            Self::NotFound => (
                StatusCode::NOT_FOUND,
                "No such badge",
                "There is no badge here at this address.".to_owned(),
            ),
            Self::NotSendable(why) => (
                StatusCode::CONFLICT,
                "This badge cannot be sent",
                (*why).to_owned(),
            ),
            Self::Invalid(field, why) => (
                StatusCode::BAD_REQUEST,
                "Check the address",
                format!("{field}: {why}"),
            ),
            Self::Busy => (
                StatusCode::TOO_MANY_REQUESTS,
                "Too many attempts",
                "This badge is already waiting for several hosts to be authorized. Finish or \
                 abandon those, and try again in ten minutes."
                    .to_owned(),
            ),
            Self::Refused(why) => (
                StatusCode::BAD_REQUEST,
                "That host cannot be used",
                format!("host: {why}"),
            ),
            Self::Host(why) => (
                StatusCode::BAD_GATEWAY,
                "Your badge host could not be reached",
                why.clone(),
            ),
            Self::Callback(why) => (
                StatusCode::BAD_REQUEST,
                "The badge was not sent",
                why.clone(),
            ),
            Self::Internal(err) => {
                log::error!(target: "openbadges::deliveries", "sending a badge: {err}");
                (
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "Something went wrong here",
                    "The badge could not be sent because of a problem on this server. Try again \
                     later."
                        .to_owned(),
                )
            }
        };
        crate::pages::message(status, heading, &message, back, url)
    }
}

/// The award's page, where the learner comes back to.
fn award_page(state: &AppState, id: AssertionId) -> String {
    format!("{}/v3/credentials/{id}", state.urls.base())
}

/// What this server tells hosts about itself.
fn client_info(state: &AppState) -> host::ClientInfo {
    let base = state.urls.base();
    host::ClientInfo {
        name: format!("Open Badges server at {base}"),
        client_uri: format!("{base}/pages/service"),
        logo_uri: format!("{base}/pages/logo.svg"),
        tos_uri: format!("{base}/pages/terms"),
        policy_uri: format!("{base}/pages/privacy"),
        redirect_uri: format!("{base}{CALLBACK_PATH}"),
    }
}

/// `POST /credentials/{id}/send`: starts sending the award to the host the
/// form names (field `host`).
async fn send(state: web::Data<AppState>, id: web::Path<String>, body: web::Bytes) -> HttpResponse {
    let url = format!("{}/credentials/{id}/send", state.urls.base());
    let Ok(id) = id.parse::<AssertionId>() else {
        return SendError::NotFound.page(None, url);
    };
    let back = Some(award_page(&state, id));
    match start_sending(&state, id, &body).await {
        Ok(location) => HttpResponse::SeeOther()
            .insert_header((actix_web::http::header::LOCATION, location))
            .insert_header((actix_web::http::header::CACHE_CONTROL, "no-store"))
            .finish(),
        Err(err) => err.page(back, url),
    }
}

async fn start_sending(
    state: &AppState,
    id: AssertionId,
    body: &[u8],
) -> Result<String, SendError> {
    let award = state.store.assertions().get(id).await?;
    if !matches!(award.status, CredentialStatus::Active) {
        return Err(SendError::NotSendable(
            "It has been revoked or suspended by its issuer.",
        ));
    }
    if award.issued_credential.is_none() {
        return Err(SendError::NotSendable(
            "It was issued without a digital signature, so a host could not verify it.",
        ));
    }
    let typed = url::form_urlencoded::parse(body)
        .find(|(name, _)| name == "host")
        .map(|(_, value)| value.into_owned())
        .ok_or_else(|| SendError::Invalid("host", "is required".to_owned()))?;
    let base = host::base_url(&typed).map_err(|why| SendError::Invalid("host", why))?;
    let base = base.as_str().trim_end_matches('/').to_owned();
    let now = Timestamp::now();
    let repo = state.store.deliveries();
    if repo.open_authorizations(id, now).await? >= MAX_OPEN_AUTHORIZATIONS {
        return Err(SendError::Busy);
    }
    let remote = known_host(state, &base).await?;
    let state_token = secrets::random_token();
    let verifier = secrets::random_token();
    let until = now
        .as_datetime()
        .checked_add_signed(AUTHORIZE_FOR)
        .map(Timestamp::from_datetime)
        .ok_or_else(|| SendError::Internal(DomainError::Internal("clock overflow".to_owned())))?;
    let delivery = Delivery::authorizing(
        id,
        remote.id,
        secrets::hash(&state_token),
        secrets::seal(&state.outbound.vault, &verifier)?,
        now,
        until,
    );
    repo.start(&delivery).await?;
    let mut location = url::Url::parse(&remote.authorization_url)
        .map_err(|e| SendError::Host(format!("its authorizationUrl: {e}")))?;
    location
        .query_pairs_mut()
        .append_pair("response_type", "code")
        .append_pair("client_id", &remote.client_id)
        .append_pair("redirect_uri", &client_info(state).redirect_uri)
        .append_pair("scope", &remote.scope)
        .append_pair("state", &state_token)
        .append_pair("code_challenge", &secrets::challenge(&verifier))
        .append_pair("code_challenge_method", "S256");
    Ok(location.into())
}

/// The host registered under `base`, registering now if it is new.
async fn known_host(state: &AppState, base: &str) -> Result<RemoteHost, SendError> {
    let repo = state.store.deliveries();
    if let Some(known) = repo.host(base).await? {
        return Ok(known);
    }
    let outbound = &state.outbound.client;
    let discovered = host::discover(outbound, base).await?;
    let registration =
        host::register(outbound, &discovered.registration_url, &client_info(state)).await?;
    let remote = RemoteHost {
        id: openbadges_domain::RemoteHostId::generate(),
        base_url: base.to_owned(),
        authorization_url: discovered.authorization_url.into(),
        token_url: discovered.token_url.into(),
        scope: host::REQUESTED_SCOPE.to_owned(),
        client_id: registration.client_id,
        sealed_client_secret: secrets::seal(&state.outbound.vault, &registration.client_secret)?,
        registered_at: Timestamp::now(),
    };
    match repo.add_host(&remote).await {
        Ok(()) => {
            log::info!(
                target: "openbadges::deliveries",
                "registered with the badge host {base} as client {}",
                remote.client_id
            );
            Ok(remote)
        }
        // Another request registered first: use its registration.
        Err(DomainError::Duplicate { .. }) => repo
            .host(base)
            .await?
            .ok_or(SendError::Internal(DomainError::ConcurrentChange)),
        Err(other) => Err(other.into()),
    }
}

/// The query of the callback.
#[derive(serde::Deserialize)]
struct CallbackQuery {
    state: Option<String>,
    code: Option<String>,
    error: Option<String>,
    error_description: Option<String>,
}

/// `GET /oauth/callback`: where the host sends the learner back.
async fn callback(state: web::Data<AppState>, request: HttpRequest) -> HttpResponse {
    let url = format!("{}{CALLBACK_PATH}", state.urls.base());
    let query = match web::Query::<CallbackQuery>::from_query(request.query_string()) {
        Ok(query) => query.into_inner(),
        Err(_) => {
            return SendError::Callback("The address is not one a host sends back.".to_owned())
                .page(None, url)
        }
    };
    match finish_authorization(&state, query).await {
        Ok((delivery, host)) => outcome_page(&state, &delivery, &host, url),
        Err((err, back)) => err.page(back, url),
    }
}

type CallbackFailure = (SendError, Option<String>);

async fn finish_authorization(
    state: &AppState,
    query: CallbackQuery,
) -> Result<(Delivery, RemoteHost), CallbackFailure> {
    let unknown = || {
        (
            SendError::Callback(
                "This link is unknown or was used already. Send the badge again from its page."
                    .to_owned(),
            ),
            None,
        )
    };
    let Some(state_token) = query.state.filter(|s| !s.is_empty()) else {
        return Err(unknown());
    };
    let repo = state.store.deliveries();
    let delivery = repo
        .find_authorizing(&secrets::hash(&state_token))
        .await
        .map_err(|e| (SendError::Internal(e), None))?
        .ok_or_else(unknown)?;
    let back = Some(award_page(state, delivery.assertion_id));
    let fail = |why: String| {
        let back = back.clone();
        async move {
            // A state is used once, whatever the outcome.
            if let Err(err) = repo
                .authorization_failed(delivery.id, &why, Timestamp::now())
                .await
            {
                return (SendError::Internal(err), back);
            }
            (SendError::Callback(why), back)
        }
    };
    let now = Timestamp::now();
    if delivery.authorize_until <= now {
        return Err(
            fail("The authorization took too long. Send the badge again.".to_owned()).await,
        );
    }
    if let Some(error) = query.error {
        let why = match error.as_str() {
            "access_denied" => "You declined at your badge host, so nothing was sent.".to_owned(),
            _ => format!(
                "Your badge host answered {}{}.",
                clip(&error),
                query
                    .error_description
                    .map(|d| format!(": {}", clip(&d)))
                    .unwrap_or_default()
            ),
        };
        return Err(fail(why).await);
    }
    let Some(code) = query.code.filter(|c| !c.is_empty()) else {
        return Err(fail("Your badge host sent no authorization code.".to_owned()).await);
    };
    let internal = |e: DomainError| (SendError::Internal(e), back.clone());
    let remote = repo.get_host(delivery.host_id).await.map_err(internal)?;
    let vault = &state.outbound.vault;
    let verifier = delivery
        .sealed_verifier
        .as_deref()
        .ok_or_else(|| internal(DomainError::Internal("no verifier".to_owned())))
        .and_then(|sealed| secrets::open(vault, sealed).map_err(internal))?;
    let secret = secrets::open(vault, &remote.sealed_client_secret).map_err(internal)?;
    let tokens = match host::exchange_code(
        &state.outbound.client,
        &remote,
        &secret,
        &code,
        &verifier,
        &client_info(state).redirect_uri,
    )
    .await
    {
        Ok(tokens) => tokens,
        Err(err) => return Err(fail(format!("Your badge host did not give access: {err}")).await),
    };
    let sealed = seal_tokens(vault, &tokens).map_err(internal)?;
    if !repo
        .authorized(delivery.id, &sealed, now)
        .await
        .map_err(internal)?
    {
        return Err(unknown());
    }
    // The first attempt now, so that the learner sees its outcome; the
    // sender retries what fails.
    if let Err(err) = sender(state).round(Timestamp::now()).await {
        log::warn!(target: "openbadges::deliveries", "sending at once failed: {err}");
    }
    let current = repo
        .list_for(delivery.assertion_id)
        .await
        .map_err(internal)?
        .into_iter()
        .find(|d| d.id == delivery.id)
        .ok_or_else(|| internal(DomainError::ConcurrentChange))?;
    Ok((current, remote))
}

fn seal_tokens(vault: &KeyVault, tokens: &host::Tokens) -> Result<SealedTokens, DomainError> {
    Ok(SealedTokens {
        access: secrets::seal(vault, &tokens.access)?,
        refresh: tokens
            .refresh
            .as_ref()
            .map(|token| secrets::seal(vault, token))
            .transpose()?,
    })
}

/// At most 200 characters of what a host said.
fn clip(text: &str) -> String {
    text.chars().take(200).collect()
}

fn outcome_page(
    state: &AppState,
    delivery: &Delivery,
    remote: &RemoteHost,
    url: String,
) -> HttpResponse {
    let back = Some(award_page(state, delivery.assertion_id));
    let host = &remote.base_url;
    let (heading, message) = match delivery.state {
        DeliveryState::Delivered => (
            "Your badge was sent",
            format!("{host} accepted the badge: it is in your collection there."),
        ),
        DeliveryState::Failed => (
            "The badge was not sent",
            format!(
                "{host} did not take the badge: {}",
                delivery.last_error.as_deref().unwrap_or("no reason given")
            ),
        ),
        _ => (
            "Your badge is on its way",
            format!(
                "{host} could not take the badge yet{}. This server will try again{}.",
                delivery
                    .last_error
                    .as_deref()
                    .map(|e| format!(" ({e})"))
                    .unwrap_or_default(),
                delivery
                    .next_attempt_at
                    .map(|at| format!(" at {}", at.to_rfc3339()))
                    .unwrap_or_default()
            ),
        ),
    };
    crate::pages::message(StatusCode::OK, heading, &message, back, url)
}

/// A delivery as `GET /credentials/{id}/deliveries` shows it.
#[derive(Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct DeliveryView {
    /// The delivery's id.
    pub id: String,
    /// The host's base URL.
    pub host: String,
    /// `authorizing`, `pending`, `sending`, `delivered` or `failed`.
    pub state: &'static str,
    /// Attempts at sending so far.
    pub attempts: u32,
    /// When it is tried again (pending after a failure).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_attempt_at: Option<String>,
    /// Why the last attempt failed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_error: Option<String>,
    /// When the host accepted it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub delivered_at: Option<String>,
    /// When the learner asked for it.
    pub created_at: String,
}

/// The award's deliveries with their hosts' URLs, oldest first.
pub(crate) async fn sent_to(
    state: &AppState,
    id: AssertionId,
) -> Result<Vec<(Delivery, String)>, DomainError> {
    let repo = state.store.deliveries();
    let mut listed = Vec::new();
    for delivery in repo.list_for(id).await? {
        let host = repo.get_host(delivery.host_id).await?.base_url;
        listed.push((delivery, host));
    }
    Ok(listed)
}

/// `GET /credentials/{id}/deliveries`: where the award was sent.
#[utoipa::path(
    get,
    path = "/credentials/{id}/deliveries",
    tag = "credentials",
    operation_id = "listCredentialDeliveries",
    summary = "Where the credential was sent",
    description = "The learner's badge hosts the credential was sent to from its page (docs/service-api.md, \
        \"Sending badges to a host\"), oldest first, with the state of each: `authorizing` (the learner is at \
        the host), `pending` (to be tried, again after a failure), `sending`, `delivered` or `failed`. No token \
        or secret is shown.",
    params(("id" = String, Path, format = "uuid", description = "The credential's UUID.")),
    responses(
        (status = 200, description = "The deliveries.", body = Vec<DeliveryView>),
        (status = 401, response = crate::api::responses::Unauthorized),
        (status = 403, description = "The caller may not read credentials.",
            body = crate::api::schema::Forbidden),
        (status = 404, description = "No such credential, or not one of the caller's issuers.",
            body = crate::api::schema::ErrorMessage),
        (status = 503, response = crate::api::responses::Unavailable),
    )
)]
pub async fn deliveries(
    state: web::Data<AppState>,
    Auth(actor): Auth,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let not_found = || {
        ApiError(DomainError::NotFound {
            entity: "credential",
            id: id.to_string(),
        })
    };
    let id: AssertionId = id.parse().map_err(|_| not_found())?;
    actor.may_read_credentials()?;
    let award = state.store.assertions().get(id).await?;
    let issuer = state.store.issuers().get(award.issuer_id).await?;
    if !actor.may_see_credentials_of(&issuer) {
        return Err(not_found());
    }
    let listed: Vec<DeliveryView> = sent_to(&state, id)
        .await?
        .into_iter()
        .map(|(delivery, host)| DeliveryView {
            id: delivery.id.to_string(),
            host,
            state: delivery.state.as_str(),
            attempts: delivery.attempts,
            next_attempt_at: (delivery.state == DeliveryState::Pending && delivery.attempts > 0)
                .then(|| delivery.next_attempt_at.map(|t| t.to_rfc3339()))
                .flatten(),
            last_error: delivery.last_error,
            delivered_at: delivery.delivered_at.map(|t| t.to_rfc3339()),
            created_at: delivery.created_at.to_rfc3339(),
        })
        .collect();
    Ok(HttpResponse::Ok()
        .insert_header((actix_web::http::header::CACHE_CONTROL, "no-store"))
        .json(listed))
}

/// The page hosts show their users about this server as a client: what it
/// does with the access it is given (`client_uri`, `tos_uri`,
/// `policy_uri` of its registrations).
async fn service_page(state: web::Data<AppState>, request: HttpRequest) -> HttpResponse {
    crate::pages::message(
        StatusCode::OK,
        "Sending badges to your badge host",
        "This server issues Open Badges. When you ask it, from a badge's page, to send the badge to \
         your badge host, it asks your host for permission to add credentials to your collection, \
         adds that one badge, and uses the permission for nothing else. It keeps the permission \
         sealed, only until the badge is delivered or given up, and shares it with no one.",
        None,
        format!("{}{}", state.urls.base(), request.path()),
    )
}

/// The logo hosts show beside this server's name (`logo_uri`).
async fn logo() -> HttpResponse {
    HttpResponse::Ok()
        .insert_header((
            actix_web::http::header::CACHE_CONTROL,
            "public, max-age=86400",
        ))
        .content_type("image/svg+xml")
        .body(
            "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 64 64\" width=\"64\" \
             height=\"64\"><circle cx=\"32\" cy=\"32\" r=\"30\" fill=\"#2b6cb0\"/><path d=\"M20 \
             33l8 8 16-18\" stroke=\"#fff\" stroke-width=\"6\" fill=\"none\"/></svg>",
        )
}
