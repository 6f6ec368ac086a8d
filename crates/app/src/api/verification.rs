//! Keys and verification: an issuer's `did:web` document, its keys (public;
//! rotating and revoking one needs credentials of someone who manages the
//! issuer), the JWKS of every key that still verifies, and verification of
//! a credential of ours by id or of any OB 3.0 credential posted as JSON.
//!
//! Every route but `GET /credentials/{id}/verify` is served on the bare path
//! only (`did:web` resolves `/issuers/<id>/did.json` there); that one is
//! mounted with the credentials, so under `/v2`, `/v3` and `/assertions`
//! too.

use actix_web::{web, HttpRequest, HttpResponse};
use openbadges_domain::*;
use serde_json::{json, Value};

use super::body::{JsonBody, JsonText};
use super::path_id;
use super::schema;
use crate::auth::Auth;
use crate::http::{ApiError, AppState};
use crate::signing::{verification_method, PublicKey};

/// Bare-path routes (did:web resolves at this path only). `GET
/// /credentials/{id}/verify` is registered with the credentials routes.
pub(super) fn routes(config: &mut web::ServiceConfig) {
    config
        .route("/issuers/{id}/did.json", web::get().to(did_document))
        .route("/issuers/{id}/keys", web::get().to(list_keys))
        .route("/issuers/{id}/keys/rotate", web::post().to(rotate_key))
        .route(
            "/issuers/{id}/keys/{key}/revoke",
            web::post().to(revoke_key),
        )
        .route("/.well-known/jwks.json", web::get().to(jwks))
        .route("/verify", web::post().to(verify_posted));
}

/// `GET /issuers/{id}/did.json`: the issuer's DID document, listing every
/// key that still verifies (active and retired) as `assertionMethod`.
#[utoipa::path(
    get,
    path = "/issuers/{id}/did.json",
    tag = "verification",
    operation_id = "getIssuerDidDocument",
    summary = "Get an issuer's did:web DID document",
    description = "Public. What a `did:web` resolver fetches for the issuer's DID \
        `did:web:<host>[%3A<port>][:<path>]:issuers:<id>` (host, port and path of `BASE_URL`). Lists every key of \
        the issuer that still verifies (active and retired) as a verification method (Ed25519 keys as \
        `Multikey`, RSA keys as `JsonWebKey`) and in `assertionMethod`; a revoked key is left out. Bare path \
        only. An issuer that has signed nothing yet has no key: its document lists none.",
    params(("id" = String, Path, format = "uuid", description = "The issuer's UUID.")),
    responses(
        (status = 200, description = "The DID document.", body = schema::DidDocument,
            content_type = "application/did+json",
            headers(("Cache-Control" = String, description = "`public, max-age=300`."))),
        (status = 404, description = "No such issuer.", body = schema::ErrorMessage),
        (status = 503, description = "The database is unavailable; retry later.", body = schema::ErrorMessage),
    )
)]
async fn did_document(
    state: web::Data<AppState>,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id: IssuerId = path_id(&id, "issuer")?;
    let issuer = state.store.issuers().get(id).await?;
    let document = state.signing.did_document(&issuer).await?;
    Ok(HttpResponse::Ok()
        .insert_header(("Cache-Control", "public, max-age=300"))
        .content_type("application/did+json")
        .body(document.to_string()))
}

fn key_json(state: &AppState, key: &SigningKey) -> Value {
    let (retired, revoked) = match key.status {
        KeyStatus::Active => (None, None),
        KeyStatus::Retired { at } => (Some(at.to_rfc3339()), None),
        KeyStatus::Revoked { at } => (None, Some(at.to_rfc3339())),
    };
    let mut json = json!({
        "id": key.id,
        "verificationMethod": verification_method(&state.urls, key),
        "algorithm": key.algorithm.as_str(),
        "status": key.status.as_str(),
        "createdAt": key.created_at.to_rfc3339(),
        "retiredAt": retired,
        "revokedAt": revoked,
    });
    match key.algorithm {
        KeyAlgorithm::Ed25519 => json["publicKeyMultibase"] = json!(key.public_key),
        KeyAlgorithm::Rs256 => {
            json["publicKeyPem"] = json!(key.public_key);
            json["cryptographicKey"] = json!(state.urls.cryptographic_key(key.issuer_id, key.id));
        }
    }
    json
}

/// `GET /issuers/{id}/keys`: every key of the issuer with its status
/// (public: these are public keys).
#[utoipa::path(
    get,
    path = "/issuers/{id}/keys",
    tag = "verification",
    operation_id = "listIssuerKeys",
    summary = "List an issuer's signing keys",
    description = "Public (public keys only). Every key the issuer ever had, Ed25519 and RS256, with its status: \
        `active` (signs new credentials), `retired` (replaced by a rotation, still verifies what it signed) or \
        `revoked` (verifies nothing). An RS256 key carries its SPKI PEM and the URL of its OB 2.0 \
        `CryptographicKey`. Not paged: an issuer has few keys. Bare path only.",
    params(("id" = String, Path, format = "uuid", description = "The issuer's UUID.")),
    responses(
        (status = 200, description = "The issuer's keys.", body = Vec<schema::SigningKey>),
        (status = 404, description = "No such issuer.", body = schema::ErrorMessage),
        (status = 503, description = "The database is unavailable; retry later.", body = schema::ErrorMessage),
    )
)]
async fn list_keys(
    state: web::Data<AppState>,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id: IssuerId = path_id(&id, "issuer")?;
    state.store.issuers().get(id).await?;
    let keys = state.store.signing_keys().list_for_issuer(id).await?;
    Ok(HttpResponse::Ok().json(keys.iter().map(|k| key_json(&state, k)).collect::<Vec<_>>()))
}

/// `POST /issuers/{id}/keys/rotate`: a new key signs from now on; the old
/// one is retired and still verifies what it signed.
#[utoipa::path(
    post,
    path = "/issuers/{id}/keys/rotate",
    tag = "verification",
    operation_id = "rotateIssuerKey",
    summary = "Rotate an issuer's signing key",
    description = "Makes a new Ed25519 key (or, with `?algorithm=RS256`, RSA key) that signs everything issued \
        from now on; the active key of that algorithm is retired: it signs nothing new but still verifies what it \
        signed, and stays in the DID document and the JWKS (an RSA key also in the OB 2.0 profile's `publicKey`). \
        Credentials already issued keep their proofs. No body. Bare path only.",
    params(("id" = String, Path, format = "uuid", description = "The issuer's UUID."), schema::RotateOptions),
    responses(
        (status = 201, description = "The new active key.", body = schema::SigningKey),
        (status = 400, description = "`algorithm` is neither `Ed25519` nor `RS256`.", body = schema::ValidationError),
        (status = 401, description = "No valid credentials: none sent, or an unknown, revoked or expired key, or \
            an invalid or expired token.", body = schema::Unauthorized,
            headers(("WWW-Authenticate" = String, description = "`Bearer`."))),
        (status = 403, description = "The caller may not write (a viewer, or a key without `write`), \
            or does not manage the issuer.", body = schema::Forbidden),
        (status = 404, description = "No such issuer.", body = schema::ErrorMessage),
        (status = 503, description = "The database is unavailable; retry later.", body = schema::ErrorMessage),
    )
)]
async fn rotate_key(
    request: HttpRequest,
    Auth(actor): Auth,
    state: web::Data<AppState>,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id: IssuerId = path_id(&id, "issuer")?;
    let algorithm = match super::ListQuery::of(&request).get(&["algorithm"]) {
        None => KeyAlgorithm::Ed25519,
        Some(raw) => {
            KeyAlgorithm::parse(raw).map_err(|e| DomainError::invalid("algorithm", e.0))?
        }
    };
    let issuer = state.store.issuers().get(id).await?;
    actor.may_manage(&issuer)?;
    let key = state.signing.rotate(id, algorithm).await?;
    Ok(HttpResponse::Created().json(key_json(&state, &key)))
}

/// `POST /issuers/{id}/keys/{key}/revoke`: the key verifies nothing from
/// now on (for a compromised key); credentials it signed fail verification.
#[utoipa::path(
    post,
    path = "/issuers/{id}/keys/{key}/revoke",
    tag = "verification",
    operation_id = "revokeIssuerKey",
    summary = "Revoke one of an issuer's signing keys",
    description = "For a compromised key: from now on it verifies nothing, so every credential it signed fails \
        verification (`KEY_REVOKED`), and it leaves the DID document and the JWKS. Final. If it was the active \
        key, the next credential issued gets a new key. Re-issue (`PUT /credentials/{id}`) what should stay \
        valid. No body. Bare path only.",
    params(
        ("id" = String, Path, format = "uuid", description = "The issuer's UUID."),
        ("key" = String, Path, format = "uuid", description = "The key's UUID (`id` in `GET /issuers/{id}/keys`)."),
    ),
    responses(
        (status = 200, description = "Revoked: the key with its new status.", body = schema::SigningKey),
        (status = 401, description = "No valid credentials: none sent, or an unknown, revoked or expired key, or \
            an invalid or expired token.", body = schema::Unauthorized,
            headers(("WWW-Authenticate" = String, description = "`Bearer`."))),
        (status = 403, description = "The caller may not write (a viewer, or a key without `write`), \
            or does not manage the issuer.", body = schema::Forbidden),
        (status = 404, description = "No such issuer, or no such key of this issuer.", body = schema::ErrorMessage),
        (status = 503, description = "The database is unavailable; retry later.", body = schema::ErrorMessage),
    )
)]
async fn revoke_key(
    Auth(actor): Auth,
    state: web::Data<AppState>,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, ApiError> {
    let (issuer_id, key_id) = path.into_inner();
    let issuer_id: IssuerId = path_id(&issuer_id, "issuer")?;
    let key_id: SigningKeyId = path_id(&key_id, "signing key")?;
    let issuer = state.store.issuers().get(issuer_id).await?;
    actor.may_manage(&issuer)?;
    let key = state.store.signing_keys().get(key_id).await?;
    if key.issuer_id != issuer_id {
        return Err(DomainError::NotFound {
            entity: "signing key",
            id: key_id.to_string(),
        }
        .into());
    }
    state
        .store
        .signing_keys()
        .revoke(key_id, Timestamp::now())
        .await?;
    let key = state.store.signing_keys().get(key_id).await?;
    Ok(HttpResponse::Ok().json(key_json(&state, &key)))
}

/// `GET /.well-known/jwks.json`: every key that still verifies, as JWKs
/// whose `kid` is the key's verification method.
#[utoipa::path(
    get,
    path = "/.well-known/jwks.json",
    tag = "verification",
    operation_id = "getJwks",
    summary = "Get the public keys of every issuer as a JWKS",
    description = "Public. Every key of every issuer that still verifies (active and retired; never a revoked \
        one): Ed25519 keys as RFC 8037 `OKP` JSON Web Keys (`alg` `EdDSA`), RSA keys as RFC 7518 `RSA` ones (`n`, \
        `e`, `alg` `RS256`), each with the key's verification method (`<issuer did>#key-<key id>`) as `kid`: \
        what the `kid` of a VC-JWT names. Bare path only.",
    responses(
        (status = 200, description = "The key set.", body = schema::Jwks,
            headers(("Cache-Control" = String, description = "`public, max-age=300`."))),
        (status = 503, description = "The database is unavailable; retry later.", body = schema::ErrorMessage),
    )
)]
async fn jwks(state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    let mut keys = Vec::new();
    let mut offset = 0;
    loop {
        let page = state
            .store
            .signing_keys()
            .list_verifying(PageRequest::new(PageRequest::MAX_LIMIT, offset)?)
            .await?;
        for key in &page.items {
            if let Ok(public) = PublicKey::of(key) {
                let mut jwk = public.jwk();
                jwk["kid"] = json!(verification_method(&state.urls, key));
                jwk["alg"] = json!(public.jws_alg());
                jwk["use"] = json!("sig");
                keys.push(jwk);
            }
        }
        offset += page.items.len() as u64;
        if page.items.is_empty() || offset >= page.total {
            break;
        }
    }
    Ok(HttpResponse::Ok()
        .insert_header(("Cache-Control", "public, max-age=300"))
        .json(json!({ "keys": keys })))
}

/// One check of a verification report.
pub(super) fn check(name: &str, passed: bool, message: impl Into<String>) -> Value {
    json!({ "check": name, "passed": passed, "message": message.into() })
}

/// What a verification found, in the old server's fields plus the list of
/// individual checks.
pub(super) struct Report {
    pub(super) checks: Vec<Value>,
    pub(super) signature: bool,
    pub(super) expired: bool,
    pub(super) revoked: bool,
    error: Option<&'static str>,
}

impl Report {
    pub(super) fn new() -> Self {
        Self {
            checks: Vec::new(),
            signature: false,
            expired: false,
            revoked: false,
            error: None,
        }
    }

    pub(super) fn fail(&mut self, code: &'static str) {
        self.error.get_or_insert(code);
    }

    pub(super) fn into_json(self, id: Option<&str>) -> Value {
        let valid = self.error.is_none();
        json!({
            "id": id,
            "isValid": valid,
            "hasValidSignature": self.signature,
            "isExpired": self.expired,
            "isRevoked": self.revoked,
            "errorCode": self.error,
            "checks": self.checks,
            "verifiedAt": Timestamp::now().to_rfc3339(),
        })
    }
}

/// The proof's verification method, if the document has one.
fn method_of(document: &Value) -> Option<&str> {
    document.get("proof")?.get("verificationMethod")?.as_str()
}

/// A party a proof is bound to: a credential's issuer, or the controller of
/// the key that made the proof. The issuer binding is that both are the
/// same party ([`controller_matches`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Party {
    /// One of our issuers: named by its did:web or a URL of its profile, or
    /// the owner of one of our stored keys.
    Ours(IssuerId),
    /// Anyone else, by identifier: a did:key issuer, or the DID of a
    /// verification method that is not one of our keys.
    Other(String),
}

impl Party {
    /// The issuer a credential's `issuer` names (a string or an object's
    /// `id`): one of ours by did:web or profile URL (under `BASE_URL`
    /// followed by `/`), anyone else as written.
    pub(super) fn issuer_of(urls: &documents::Urls, document: &Value) -> Option<Self> {
        let issuer = document.get("issuer")?;
        let raw = issuer.as_str().or_else(|| issuer.get("id")?.as_str())?;
        let ours = if raw.starts_with("did:") {
            urls.issuer_of_did(raw)
        } else if raw.starts_with(&format!("{}/", urls.base())) {
            crate::requests::issuer_reference(raw, urls)
                .ok()
                .map(IssuerId::from)
        } else {
            None
        };
        Some(ours.map_or_else(|| Self::Other(raw.to_owned()), Self::Ours))
    }

    /// The controller of verification method `method`: the issuer owning
    /// it when it is one of our stored keys (`owner`), else the DID it is
    /// a fragment of (for a did:key, the did:key itself).
    pub(super) fn controller_of(method: &str, owner: Option<IssuerId>) -> Self {
        owner.map_or_else(
            || {
                Self::Other(
                    method
                        .split_once('#')
                        .map_or(method, |(did, _)| did)
                        .to_owned(),
                )
            },
            Self::Ours,
        )
    }

    /// How a report names the party: our issuers by their did:web (the
    /// controller of their keys).
    fn name(&self, urls: &documents::Urls) -> String {
        match self {
            Self::Ours(id) => urls.issuer_did(*id),
            Self::Other(id) => id.clone(),
        }
    }
}

/// The issuer binding of every proof: it counts only if its key is
/// controlled by the credential's issuer. A did:web issuer of ours: one of
/// that issuer's stored keys (whose method's DID is the issuer's); a
/// did:key issuer: exactly that did:key; our profile URLs: that issuer's
/// keys; a credential naming no issuer: no key. Otherwise anyone could sign
/// with a fresh did:key of their own and claim one of our issuers.
pub(super) fn controller_matches(issuer: Option<&Party>, controller: &Party) -> bool {
    issuer == Some(controller)
}

/// Checks the issuer binding (`issuerMatch`), naming both parties when it
/// fails, in the words of the Digital Bazaar verifier.
pub(super) fn check_issuer_match(
    urls: &documents::Urls,
    issuer: Option<&Party>,
    controller: &Party,
    report: &mut Report,
) {
    let matches = controller_matches(issuer, controller);
    let message = if matches {
        format!(
            "the key is controlled by the credential's issuer, {}",
            controller.name(urls)
        )
    } else {
        format!(
            "Credential issuer must match the verification method controller: the key's \
             controller is {}, the credential's issuer is {}",
            controller.name(urls),
            issuer.map_or_else(|| "missing".to_owned(), |i| i.name(urls))
        )
    };
    report.checks.push(check("issuerMatch", matches, message));
    if !matches {
        report.fail("ISSUER_MISMATCH");
    }
}

/// The key a proof's verification method names, as far as it was found.
struct FoundKey {
    /// Who controls it.
    controller: Party,
    /// Its public half, unless it is one of ours that was revoked.
    public: Option<PublicKey>,
}

/// Finds the key behind `method` (one of ours by did:web, or a did:key)
/// and checks its status (`keyStatus`); `None`, after failing the report
/// with `UNKNOWN_KEY`, when there is no such key.
async fn find_key(
    state: &AppState,
    method: &str,
    report: &mut Report,
) -> Result<Option<FoundKey>, ApiError> {
    if let Some((key, public)) = state.signing.our_key(method).await? {
        let verifies = key.status.verifies();
        report.checks.push(check(
            "keyStatus",
            verifies,
            format!("key {} is {}", key.id, key.status.as_str()),
        ));
        if !verifies {
            report.fail("KEY_REVOKED");
        }
        return Ok(Some(FoundKey {
            controller: Party::controller_of(method, Some(key.issuer_id)),
            public: verifies.then_some(public),
        }));
    }
    if let Ok(public) = openbadges_credentials::resolve_did_key(method) {
        report.checks.push(check(
            "keyStatus",
            true,
            "did:key: the key is in the identifier",
        ));
        return Ok(Some(FoundKey {
            controller: Party::controller_of(method, None),
            public: Some(PublicKey::Ed25519(public)),
        }));
    }
    report.checks.push(check(
        "keyStatus",
        false,
        format!("unknown verification method {method}"),
    ));
    report.fail("UNKNOWN_KEY");
    Ok(None)
}

/// Checks the proof: the key (ours by did:web, or did:key), its status,
/// that it is controlled by the credential's issuer, and the signature.
async fn check_proof(
    state: &AppState,
    document: &Value,
    issuer: Option<Party>,
    report: &mut Report,
) -> Result<(), ApiError> {
    let Some(method) = method_of(document) else {
        report
            .checks
            .push(check("proof", false, "the credential has no proof"));
        report.fail("NO_PROOF");
        return Ok(());
    };
    let Some(found) = find_key(state, method, report).await? else {
        return Ok(());
    };
    check_issuer_match(&state.urls, issuer.as_ref(), &found.controller, report);
    let key = match found.public {
        Some(PublicKey::Ed25519(key)) => key,
        Some(PublicKey::Rsa(_)) => {
            report.checks.push(check(
                "proof",
                false,
                "the verification method is an RS256 key: an eddsa-rdfc-2022 proof needs an Ed25519 key",
            ));
            report.fail("INVALID_SIGNATURE");
            return Ok(());
        }
        None => {
            report.checks.push(check(
                "proof",
                false,
                "the signing key verifies nothing any more",
            ));
            return Ok(());
        }
    };
    let integrity = state.signing.integrity();
    let signed = document.clone();
    let outcome = web::block(move || integrity.verify(&signed, |_| Some(key)))
        .await
        .map_err(|e| DomainError::Internal(format!("verification task failed: {e}")))?;
    match outcome {
        Ok(_) => {
            report.signature = true;
            report
                .checks
                .push(check("proof", true, "eddsa-rdfc-2022 signature verified"));
        }
        Err(error) => {
            report.checks.push(check("proof", false, error.to_string()));
            report.fail("INVALID_SIGNATURE");
        }
    }
    Ok(())
}

/// A JWT's `nbf` or `exp` (RFC 7519 NumericDate, seconds since the epoch):
/// `None` when absent, `Some(None)` when not a date.
fn numeric_date(claims: &Value, name: &str) -> Option<Option<i64>> {
    claims.get(name).map(|value| {
        value
            .as_i64()
            .or_else(|| value.as_f64().filter(|f| f.is_finite()).map(|f| f as i64))
    })
}

/// Checks `validFrom` / `validUntil` against now, and for a VC-JWT its
/// `nbf` / `exp` as well (`jwt`, the claims): a JWT is not accepted before
/// its `nbf` nor from its `exp` on, whatever the credential inside says.
fn check_window(document: &Value, jwt: Option<&Value>, report: &mut Report) {
    let now = Timestamp::now();
    let from = document
        .get("validFrom")
        .and_then(Value::as_str)
        .map(Timestamp::parse);
    let until = document
        .get("validUntil")
        .and_then(Value::as_str)
        .map(Timestamp::parse);
    let seconds = now.as_datetime().timestamp();
    let (nbf, exp) = jwt.map_or((None, None), |claims| {
        (numeric_date(claims, "nbf"), numeric_date(claims, "exp"))
    });
    let (passed, message) = match (from, until) {
        (Some(Err(_)), _) | (_, Some(Err(_))) => {
            (false, "validFrom or validUntil is not a date-time")
        }
        _ if matches!(nbf, Some(None)) || matches!(exp, Some(None)) => {
            (false, "the JWT's nbf or exp is not a NumericDate")
        }
        (Some(Ok(from)), _) if from > now => (false, "not valid yet (validFrom is in the future)"),
        _ if nbf.flatten().is_some_and(|nbf| nbf > seconds) => {
            (false, "not valid yet (the JWT's nbf is in the future)")
        }
        (_, Some(Ok(until))) if until <= now => {
            report.expired = true;
            (false, "expired (validUntil has passed)")
        }
        _ if exp.flatten().is_some_and(|exp| exp <= seconds) => {
            report.expired = true;
            (false, "expired (the JWT's exp has passed)")
        }
        (None, _) => (false, "validFrom is missing"),
        _ if jwt.is_some() => (
            true,
            "within validFrom and validUntil, and the JWT's nbf and exp",
        ),
        _ => (true, "within validFrom and validUntil"),
    };
    report.checks.push(check("validityWindow", passed, message));
    if !passed {
        report.fail(if report.expired {
            "EXPIRED"
        } else {
            "NOT_VALID_NOW"
        });
    }
}

/// Checks the stored status of one of our awards.
fn check_status(award: &Assertion, urls: &documents::Urls, report: &mut Report) {
    // The status lists publish exactly this state (their bits are read from
    // it), so the report names the bit a verifier would find.
    let bit = |purpose: StatusPurpose| {
        award.status_slot.map_or_else(String::new, |slot| {
            let set = u8::from(purpose.flags(&award.status));
            format!(
                " (bit {} of {} is {set})",
                slot.index,
                urls.status_list(slot.list_id, purpose)
            )
        })
    };
    let (passed, message) = match &award.status {
        CredentialStatus::Active => (
            true,
            format!("not revoked or suspended{}", bit(StatusPurpose::Revocation)),
        ),
        CredentialStatus::Revoked { reason, .. } => {
            report.revoked = true;
            (
                false,
                format!(
                    "revoked: {}{}",
                    reason.as_ref().map_or("no reason given", |r| r.as_str()),
                    bit(StatusPurpose::Revocation)
                ),
            )
        }
        CredentialStatus::Suspended { reason, .. } => (
            false,
            format!(
                "suspended: {}{}",
                reason.as_ref().map_or("no reason given", |r| r.as_str()),
                bit(StatusPurpose::Suspension)
            ),
        ),
    };
    report.checks.push(check("status", passed, message));
    if !passed {
        report.fail(if report.revoked {
            "REVOKED"
        } else {
            "SUSPENDED"
        });
    }
}

/// Checks the shape an OB 3.0 credential must have.
fn check_shape(document: &Value, report: &mut Report) {
    let types: Vec<&str> = document
        .get("type")
        .and_then(Value::as_array)
        .map(|t| t.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    let context_ok = document
        .get("@context")
        .and_then(Value::as_array)
        .and_then(|c| c.first())
        .and_then(Value::as_str)
        == Some(documents::VC2_CONTEXT);
    let passed = context_ok
        && types.contains(&"VerifiableCredential")
        && (types.contains(&"OpenBadgeCredential") || types.contains(&"AchievementCredential"))
        && document.get("credentialSubject").is_some()
        && document.get("issuer").is_some();
    report.checks.push(check(
        "schema",
        passed,
        if passed {
            "an OB 3.0 credential (VC 2.0 context, types, issuer, subject)"
        } else {
            "not an OB 3.0 credential: needs the VC 2.0 context first, the types \
             VerifiableCredential and OpenBadgeCredential, an issuer and a credentialSubject"
        },
    ));
    if !passed {
        report.fail("INVALID_CREDENTIAL");
    }
}

/// `GET /credentials/{id}/verify`: verifies one of our credentials as a
/// verifier would: proof, key status, issuer, validity window, status.
#[utoipa::path(
    get,
    path = "/credentials/{id}/verify",
    tag = "verification",
    operation_id = "verifyCredential",
    summary = "Verify a credential of this server",
    description = "Public. Verifies the credential as it was issued (its OB 3.0 form with its proof), as a \
        verifier would: its shape (`schema`), the proof's key (`keyStatus`: known and not revoked; \
        `issuerMatch`: controlled by the credential's issuer), the `eddsa-rdfc-2022` signature (`proof`), `validFrom` / \
        `validUntil` (`validityWindow`) and whether it was revoked or suspended (`status`). A credential issued \
        with `?sign=false` has no proof: `NO_PROOF`. A revoked credential answers 200 with `errorCode: REVOKED` \
        here (not 410). Served under every prefix, and under `/assertions`.",
    params(("id" = String, Path, format = "uuid", description = "The credential's UUID.")),
    responses(
        (status = 200, description = "The verification report, whatever its outcome.",
            body = schema::VerificationReport,
            headers(("Cache-Control" = String, description = "`no-store`."))),
        (status = 404, description = "No such credential (or the id is not a UUID).", body = schema::ErrorMessage),
        (status = 503, description = "The database is unavailable; retry later.", body = schema::ErrorMessage),
    )
)]
pub(super) async fn verify_stored(
    state: web::Data<AppState>,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id: AssertionId = path_id(&id, "credential")?;
    let award = state.store.assertions().get(id).await?;
    let mut report = Report::new();
    match &award.issued_credential {
        Some(issued) => {
            let document = issued.document()?;
            check_shape(&document, &mut report);
            let issuer = Party::Ours(award.issuer_id);
            check_proof(&state, &document, Some(issuer), &mut report).await?;
            check_window(&document, None, &mut report);
        }
        None => {
            report.checks.push(check(
                "proof",
                false,
                "the credential was issued without a proof",
            ));
            report.fail("NO_PROOF");
        }
    }
    check_status(&award, &state.urls, &mut report);
    let url = state.urls.credential(documents::Version::V3, award.id);
    Ok(HttpResponse::Ok()
        .insert_header(("Cache-Control", "no-store"))
        .json(report.into_json(Some(&url))))
}

/// `POST /verify` with an OB 3.0 credential (JSON): ours, or a did:key
/// issuer's signed with that did:key.
#[utoipa::path(
    post,
    path = "/verify",
    tag = "verification",
    operation_id = "verifyPostedCredential",
    summary = "Verify a credential given as JSON, VC-JWT or JWS",
    description = "Public. Verifies a credential as given: an OB 3.0 credential as JSON, a VC-JWT (EdDSA or \
        RS256) or an OB 2.0 signed assertion (an RS256 compact JWS whose `verification.creator` is one of this \
        server's `CryptographicKey` URLs: the key must not be revoked and must belong to the issuer of the \
        assertion's badge; then `issuedOn` / `expires` and, for one of this server's assertions, revocation). \
        For a JSON credential: its shape, its proof (one of this server's issuer \
        keys, named `<issuer did>#key-<key id>`, not revoked; or a `did:key`), that the proof's key is \
        controlled by the credential's issuer (`issuerMatch`: one of that issuer's keys for one of this \
        server's issuers, by did:web or profile URL; the issuer's own did:key for a did:key issuer; otherwise \
        `ISSUER_MISMATCH`, naming both), the `eddsa-rdfc-2022` signature over the document as posted (any \
        change after signing gives `INVALID_SIGNATURE`), and `validFrom` / `validUntil` (for a VC-JWT, its \
        `nbf` and `exp` too). When its `id` is the URL of one \
        of this server's credentials, whether that credential was revoked or suspended too. JSON-LD contexts \
        are never fetched: a credential using a context that is not bundled, or a term its contexts do not \
        define, fails the `proof` check. Bare path only.",
    request_body(
        description = "The credential, or `{\"credential\": {...}}`; a VC-JWT or OB 2.0 signed assertion as a JSON \
            string (`\"eyJ...\"`) or `{\"credential\": \"eyJ...\"}`, read as JSON whatever the `Content-Type`; or, \
            as the OB 3.0 API posts it, the compact VC-JWT or JWS itself as the raw body with `Content-Type: \
            application/vc+jwt`, `application/jose` or `text/plain` (a JSON body with one of these types is still \
            read as JSON).",
        content(
            (schema::VerifyRequest = "application/json"),
            (String = "application/vc+jwt", example = "eyJhbGciOiJFZERTQSIsImtpZCI6Ii4uLiJ9.eyJ...fQ.c2ln"),
            (String = "application/jose"),
            (String = "text/plain"),
        )),
    responses(
        (status = 200, description = "The verification report, whatever its outcome.",
            body = schema::VerificationReport,
            headers(("Cache-Control" = String, description = "`no-store`."))),
        (status = 400, description = "The body is not JSON (nor, with a token media type, a compact JWS), too \
            large or nested too deeply.",
            body = schema::ValidationError),
        (status = 503, description = "The database is unavailable; retry later.", body = schema::ErrorMessage),
    )
)]
async fn verify_posted(
    state: web::Data<AppState>,
    body: VerifyBody,
) -> Result<HttpResponse, ApiError> {
    let document = match body {
        VerifyBody::Token(token) => Value::String(token),
        VerifyBody::Json(document) => document,
    };
    let token = match &document {
        Value::String(token) => Some(token.clone()),
        _ => document
            .get("credential")
            .and_then(Value::as_str)
            .map(str::to_owned),
    };
    if let Some(token) = token {
        if super::signed::is_ob2_jws(&token) {
            return super::signed::verify_ob2_jws(&state, &token).await;
        }
        return verify_jwt(&state, &token).await;
    }
    let document = match document.get("credential") {
        Some(inner @ Value::Object(_)) => inner.clone(),
        _ => document,
    };
    let mut report = Report::new();
    check_shape(&document, &mut report);
    let issuer = Party::issuer_of(&state.urls, &document);
    check_proof(&state, &document, issuer, &mut report).await?;
    check_window(&document, None, &mut report);
    let id = document
        .get("id")
        .and_then(Value::as_str)
        .map(str::to_owned);
    check_our_status(&state, id.as_deref(), &mut report).await?;
    Ok(HttpResponse::Ok()
        .insert_header(("Cache-Control", "no-store"))
        .json(report.into_json(id.as_deref())))
}

/// Media types whose body is a compact token, as the OB 3.0 API posts a
/// VC-JWT: `application/vc+jwt`, `application/jose` (RFC 7515) and
/// `text/plain`.
const TOKEN_TYPES: [&str; 3] = ["application/vc+jwt", super::signed::JOSE, "text/plain"];

/// What `POST /verify` was given: a compact VC-JWT or JWS as the raw body
/// (with one of [`TOKEN_TYPES`]), or JSON (any other `Content-Type`, or
/// none, as before).
enum VerifyBody {
    /// A compact token, surrounding whitespace removed.
    Token(String),
    /// A credential, `{"credential": ...}`, or a token as a JSON string.
    Json(Value),
}

impl actix_web::FromRequest for VerifyBody {
    type Error = actix_web::Error;
    type Future = std::pin::Pin<Box<dyn std::future::Future<Output = Result<Self, Self::Error>>>>;

    fn from_request(request: &HttpRequest, payload: &mut actix_web::dev::Payload) -> Self::Future {
        use actix_web::HttpMessage as _;
        let raw = TOKEN_TYPES
            .iter()
            .any(|t| request.content_type().eq_ignore_ascii_case(t));
        if !raw {
            let json = JsonBody::from_request(request, payload);
            return Box::pin(async move { Ok(Self::Json(json.await?.0)) });
        }
        let text = JsonText::from_request(request, payload);
        Box::pin(async move {
            let JsonText { text, max_depth } = text.await?;
            let token = std::str::from_utf8(&text).map(str::trim).unwrap_or("");
            if is_compact(token) {
                return Ok(Self::Token(token.to_owned()));
            }
            // A JSON body sent as text/plain was read as JSON before raw
            // tokens were accepted, and still is.
            let value: Value = serde_json::from_slice(&text).map_err(|_| {
                ApiError(DomainError::invalid(
                    "body",
                    "is neither a compact JWS (header.payload.signature in base64url) nor JSON",
                ))
            })?;
            if crate::requests::json_depth(&value) > max_depth {
                return Err(ApiError(crate::requests::too_deep(max_depth)).into());
            }
            Ok(Self::Json(value))
        })
    }
}

/// Whether `text` has the form of a compact JWS: three base64url parts
/// joined by dots (nothing is decoded or verified here).
fn is_compact(text: &str) -> bool {
    let parts: Vec<&str> = text.split('.').collect();
    parts.len() == 3
        && parts[..2].iter().all(|p| !p.is_empty())
        && parts.iter().all(|p| {
            p.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        })
}

/// Verifies a VC-JWT: the EdDSA or RS256 signature with the key its `kid`
/// names (ours by did:web, or a did:key), the claims OB 3.0 maps against the
/// credential they carry, then the same checks as a JSON credential, the
/// JWT's own `nbf` and `exp` included.
async fn verify_jwt(state: &AppState, token: &str) -> Result<HttpResponse, ApiError> {
    let mut report = Report::new();
    let kid = jsonwebtoken::decode_header(token).ok().and_then(|h| h.kid);
    let Some(kid) = kid else {
        report
            .checks
            .push(check("proof", false, "not a JWT with a kid header"));
        report.fail("INVALID_SIGNATURE");
        return Ok(HttpResponse::Ok()
            .insert_header(("Cache-Control", "no-store"))
            .json(report.into_json(None)));
    };
    let Some(found) = find_key(state, &kid, &mut report).await? else {
        return Ok(HttpResponse::Ok()
            .insert_header(("Cache-Control", "no-store"))
            .json(report.into_json(None)));
    };
    let Some(public) = found.public else {
        report.checks.push(check(
            "proof",
            false,
            "the signing key verifies nothing any more",
        ));
        return Ok(HttpResponse::Ok()
            .insert_header(("Cache-Control", "no-store"))
            .json(report.into_json(None)));
    };
    // The validity window is checked below, on the credential and on the
    // JWT's own nbf and exp.
    let Some(payload) = crate::signing::verified_jwt_payload(token, &public) else {
        report
            .checks
            .push(check("proof", false, "the JWT signature does not verify"));
        report.fail("INVALID_SIGNATURE");
        return Ok(HttpResponse::Ok()
            .insert_header(("Cache-Control", "no-store"))
            .json(report.into_json(None)));
    };
    report.signature = true;
    report.checks.push(check(
        "proof",
        true,
        format!("{} JWT signature verified", public.jws_alg()),
    ));
    let expected = crate::signing::jwt_claims(&payload);
    let claims_match = ["iss", "jti", "sub", "nbf", "exp"]
        .iter()
        .all(|claim| payload.get(*claim) == expected.get(*claim))
        && payload.get("iss").is_some()
        && payload.get("jti").is_some()
        && payload.get("nbf").is_some();
    report.checks.push(check(
        "jwtClaims",
        claims_match,
        if claims_match {
            "iss, jti, sub, nbf and exp match the credential"
        } else {
            "the JWT claims do not match the credential they carry"
        },
    ));
    if !claims_match {
        report.fail("CLAIMS_MISMATCH");
    }
    check_shape(&payload, &mut report);
    let issuer = Party::issuer_of(&state.urls, &payload);
    check_issuer_match(&state.urls, issuer.as_ref(), &found.controller, &mut report);
    check_window(&payload, Some(&payload), &mut report);
    let id = payload.get("id").and_then(Value::as_str).map(str::to_owned);
    check_our_status(state, id.as_deref(), &mut report).await?;
    Ok(HttpResponse::Ok()
        .insert_header(("Cache-Control", "no-store"))
        .json(report.into_json(id.as_deref())))
}

/// For a credential id of ours (under `BASE_URL` followed by `/`, so that
/// `https://badges.example.org.evil/...` is not ours), checks its stored status.
pub(super) async fn check_our_status(
    state: &AppState,
    id: Option<&str>,
    report: &mut Report,
) -> Result<(), ApiError> {
    let Some(raw) = id.filter(|raw| raw.starts_with(&format!("{}/", state.urls.base()))) else {
        return Ok(());
    };
    let Some(award_id) = raw
        .rsplit('/')
        .next()
        .and_then(|tail| tail.parse::<AssertionId>().ok())
    else {
        return Ok(());
    };
    match state.store.assertions().get(award_id).await {
        Ok(award) => check_status(&award, &state.urls, report),
        Err(DomainError::NotFound { .. }) => {
            report
                .checks
                .push(check("status", false, "no such credential here"));
            report.fail("UNKNOWN_CREDENTIAL");
        }
        Err(other) => return Err(other.into()),
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The issuer binding on its own: who may sign for which issuer.
    #[test]
    fn only_the_issuers_own_keys_sign_for_it() {
        let urls = documents::Urls::new("http://localhost:3000/ob").unwrap();
        let ours = IssuerId::generate();
        let did = urls.issuer_did(ours);
        let stranger = "did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK";
        let issuer = |id: &str| Party::issuer_of(&urls, &json!({"issuer": {"id": id}}));
        let ours_by_key = Party::controller_of(&format!("{did}#key-1"), Some(ours));
        let strangers = Party::controller_of(&format!("{stranger}#z6Mk"), None);

        for named in [
            did.clone(),
            urls.issuer(documents::Version::V3, ours),
            urls.issuer(documents::Version::V2, ours),
        ] {
            assert_eq!(issuer(&named), Some(Party::Ours(ours)), "{named}");
            assert!(controller_matches(issuer(&named).as_ref(), &ours_by_key));
            assert!(!controller_matches(issuer(&named).as_ref(), &strangers));
        }
        // Another of our issuers' keys, and our keys for someone else.
        let other = Party::controller_of("x#key-2", Some(IssuerId::generate()));
        assert!(!controller_matches(issuer(&did).as_ref(), &other));
        assert!(!controller_matches(issuer(stranger).as_ref(), &ours_by_key));
        // A did:key issuer signs for itself only.
        assert!(controller_matches(issuer(stranger).as_ref(), &strangers));
        // Our issuer's id on another host, or in a form that is no URL of
        // ours, is someone else.
        for elsewhere in [
            did.replace("localhost", "evil"),
            format!("urn:uuid:{ours}"),
            format!("http://localhost:3000/obx/v3/issuers/{ours}"),
        ] {
            assert_eq!(
                issuer(&elsewhere),
                Some(Party::Other(elsewhere.clone())),
                "{elsewhere}"
            );
        }
        // No issuer: nothing matches.
        assert_eq!(Party::issuer_of(&urls, &json!({})), None);
        assert!(!controller_matches(None, &strangers));
    }
}
