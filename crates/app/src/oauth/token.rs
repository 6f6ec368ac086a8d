//! The token endpoint (RFC 6749 sections 4.1.3 and 6) and the revocation
//! endpoint (RFC 7009). Clients authenticate with `client_secret_basic`.
//!
//! - `grant_type=authorization_code` redeems a code once: it must be the
//!   client's, unexpired, sent with the same `redirect_uri` and the PKCE
//!   verifier of its challenge. A code presented a second time is refused
//!   and revokes what its first use issued.
//! - `grant_type=refresh_token` rotates: the refresh token is spent and a
//!   new access and refresh token are issued. A spent refresh token
//!   presented again revokes the whole grant (it was stolen, or the client
//!   is broken; either way no one should keep access).
//! - A refresh token is issued when `offline_access` was granted and the
//!   client registered the `refresh_token` grant type.
//! - `scope` may narrow what the access token allows, never widen it.
//!
//! Every answer carries `Cache-Control: no-store`.

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use openbadges_domain::oauth::{
    Grant, OAuthClient, OAuthToken, Redemption, Rotation, Scope, ScopeSet, SecretHash, TokenKind,
    TokenPair,
};
use openbadges_domain::{GrantId, Timestamp};
use serde_json::json;

use super::{after, authenticate_client, form_body, new_secret, no_store, Form, OAuthError};
use crate::state::AppState;

/// A pair of tokens and their secrets, made for `grant`.
struct Minted {
    pair: TokenPair,
    access: String,
    refresh: Option<String>,
}

fn mint(
    state: &AppState,
    grant: GrantId,
    access_scopes: &ScopeSet,
    grant_scopes: &ScopeSet,
    with_refresh: bool,
    now: Timestamp,
) -> Result<Minted, OAuthError> {
    let service = &state.settings.service;
    let access = new_secret()?;
    let token = |secret: &str, kind, scopes: &ScopeSet, lifetime| OAuthToken {
        hash: SecretHash::of(secret),
        grant_id: grant,
        kind,
        scopes: scopes.clone(),
        created_at: now,
        expires_at: after(now, lifetime),
        used_at: None,
        revoked_at: None,
    };
    let refresh = if with_refresh {
        Some(new_secret()?)
    } else {
        None
    };
    Ok(Minted {
        pair: TokenPair {
            access: token(
                &access,
                TokenKind::Access,
                access_scopes,
                service.access_token_lifetime,
            ),
            refresh: refresh.as_deref().map(|secret| {
                token(
                    secret,
                    TokenKind::Refresh,
                    grant_scopes,
                    service.refresh_token_lifetime,
                )
            }),
        },
        access,
        refresh,
    })
}

/// The successful token response (RFC 6749 section 5.1).
fn issued(state: &AppState, minted: &Minted) -> HttpResponse {
    let mut body = json!({
        "access_token": minted.access,
        "token_type": "Bearer",
        "expires_in": state.settings.service.access_token_lifetime.as_secs(),
        "scope": minted.pair.access.scopes.to_string(),
    });
    if let Some(refresh) = &minted.refresh {
        body["refresh_token"] = json!(refresh);
    }
    no_store(StatusCode::OK).json(body)
}

/// The scopes a token request asks for: all of `granted` when `scope` is
/// absent, else a subset of it (`invalid_scope` otherwise).
fn requested_scopes(form: &Form, granted: &ScopeSet) -> Result<ScopeSet, OAuthError> {
    let Some(scope) = form.get("scope") else {
        return Ok(granted.clone());
    };
    let asked = ScopeSet::parse(scope)
        .map_err(|_| OAuthError::new("invalid_scope", "scope names an unknown scope"))?;
    if asked.is_empty() || !asked.is_subset(granted) {
        return Err(OAuthError::new(
            "invalid_scope",
            "scope asks for more than was granted",
        ));
    }
    Ok(asked)
}

fn required<'f>(form: &'f Form, name: &str) -> Result<&'f str, OAuthError> {
    form.get(name)
        .ok_or_else(|| OAuthError::new("invalid_request", format!("{name} is required")))
}

fn invalid_grant(description: &str) -> OAuthError {
    OAuthError::new("invalid_grant", description)
}

async fn redeem(
    state: &AppState,
    client: &OAuthClient,
    form: &Form,
) -> Result<HttpResponse, OAuthError> {
    let code_secret = required(form, "code")?;
    let redirect_uri = required(form, "redirect_uri")?;
    let verifier = required(form, "code_verifier")?;
    let hash = SecretHash::of(code_secret);
    let oauth = state.store.oauth();
    let Some(code) = oauth.find_code(&hash).await? else {
        return Err(invalid_grant("unknown authorization code"));
    };
    if code.client_id != client.id {
        return Err(invalid_grant("the code was issued to another client"));
    }
    let now = Timestamp::now();
    let with_refresh = client.refresh_grant && code.scopes.contains(Scope::OfflineAccess);
    if code.redeemed_at.is_none() {
        if now >= code.expires_at {
            return Err(invalid_grant("the authorization code has expired"));
        }
        if code.redirect_uri != redirect_uri {
            return Err(invalid_grant(
                "redirect_uri differs from the authorization request's",
            ));
        }
        if !code.verifies(verifier) {
            return Err(invalid_grant(
                "the PKCE code_verifier does not match the code_challenge",
            ));
        }
    }
    let access_scopes = requested_scopes(form, &code.scopes)?;
    let grant = Grant {
        id: code.grant_id,
        client_id: client.id,
        user_id: code.user_id,
        scopes: code.scopes.clone(),
        created_at: now,
        last_used_at: None,
        revoked_at: None,
    };
    let minted = mint(
        state,
        grant.id,
        &access_scopes,
        &code.scopes,
        with_refresh,
        now,
    )?;
    // A code redeemed before is refused here too, and what it issued is
    // revoked: whoever presents it again may have stolen it.
    match oauth.redeem_code(&hash, &grant, &minted.pair, now).await? {
        Redemption::Issued => Ok(issued(state, &minted)),
        Redemption::AlreadyUsed => {
            log::warn!(
                "OAuth code of client {} presented twice: the tokens it issued are revoked",
                client.id
            );
            Err(invalid_grant(
                "the authorization code was used before; the tokens it issued are revoked",
            ))
        }
    }
}

async fn refresh(
    state: &AppState,
    client: &OAuthClient,
    form: &Form,
) -> Result<HttpResponse, OAuthError> {
    if !client.refresh_grant {
        return Err(OAuthError::new(
            "unauthorized_client",
            "the client did not register the refresh_token grant type",
        ));
    }
    let hash = SecretHash::of(required(form, "refresh_token")?);
    let oauth = state.store.oauth();
    let found = oauth.find_token(&hash).await?;
    let Some((token, grant)) = found.filter(|(token, _)| token.kind == TokenKind::Refresh) else {
        return Err(invalid_grant("unknown refresh token"));
    };
    if grant.client_id != client.id {
        return Err(invalid_grant(
            "the refresh token was issued to another client",
        ));
    }
    let now = Timestamp::now();
    if now >= token.expires_at {
        return Err(invalid_grant("the refresh token has expired"));
    }
    let access_scopes = requested_scopes(form, &grant.scopes)?;
    let minted = mint(state, grant.id, &access_scopes, &grant.scopes, true, now)?;
    match oauth.rotate_refresh(&hash, &minted.pair, now).await? {
        Rotation::Rotated => Ok(issued(state, &minted)),
        Rotation::Reused => {
            log::warn!(
                "a spent OAuth refresh token of client {} was presented again: grant {} revoked",
                client.id,
                grant.id
            );
            Err(invalid_grant(
                "the refresh token was used before; the authorization is revoked",
            ))
        }
        Rotation::Revoked => Err(invalid_grant("the refresh token is revoked")),
    }
}

/// `POST /oauth/token`.
#[utoipa::path(
    post,
    path = "/oauth/token",
    tag = "oauth",
    operation_id = "token",
    summary = "OAuth 2.0 token endpoint: redeem a code or a refresh token",
    description = "application/x-www-form-urlencoded, client authenticated with HTTP Basic (client_secret_basic). \
        grant_type=authorization_code with code, redirect_uri, code_verifier (PKCE) and optionally scope; or \
        grant_type=refresh_token with refresh_token and optionally scope (refresh tokens rotate: each is \
        spent by its use, and one used twice revokes the whole authorization). Access tokens last \
        OAUTH_ACCESS_TOKEN_LIFETIME_SECONDS (default 3600).",
    responses(
        (status = 200, description = "access_token, token_type Bearer, expires_in, scope, and refresh_token \
            when offline_access was granted.", body = Object,
            headers(("Cache-Control" = String, description = "`no-store`."))),
        (status = 400, description = "invalid_request, invalid_grant, unsupported_grant_type, invalid_scope or \
            unauthorized_client, with error_description.", body = Object),
        (status = 401, description = "invalid_client: the Basic credentials are missing or wrong.", body = Object,
            headers(("WWW-Authenticate" = String, description = "`Basic realm=\"oauth\"`."))),
    ),
    security(("oauthClient" = []))
)]
pub async fn token(
    state: web::Data<AppState>,
    request: HttpRequest,
    body: web::Bytes,
) -> HttpResponse {
    let outcome = async {
        let client = authenticate_client(&state, &request).await?;
        let form = form_body(&request, &body).map_err(|e| OAuthError::new("invalid_request", e))?;
        match form.get("grant_type") {
            Some("authorization_code") => redeem(&state, &client, &form).await,
            Some("refresh_token") => refresh(&state, &client, &form).await,
            Some(_) => Err(OAuthError::new(
                "unsupported_grant_type",
                "grant_type must be authorization_code or refresh_token",
            )),
            None => Err(OAuthError::new("invalid_request", "grant_type is required")),
        }
    }
    .await;
    outcome.unwrap_or_else(|error| error.response())
}

/// `POST /oauth/revoke`: RFC 7009. 200 whether or not the token was known
/// (an unknown or another client's token changes nothing). Revoking an
/// access token ends it; revoking a refresh token ends the whole grant,
/// its access tokens with it.
#[utoipa::path(
    post,
    path = "/oauth/revoke",
    tag = "oauth",
    operation_id = "revokeToken",
    summary = "OAuth 2.0 token revocation (RFC 7009)",
    description = "application/x-www-form-urlencoded: token, and optionally token_type_hint (access_token | \
        refresh_token); client authenticated with HTTP Basic. Answers 200 for unknown tokens too. Revoking a \
        refresh token revokes every token of its authorization.",
    responses(
        (status = 200, description = "Revoked, or unknown."),
        (status = 400, description = "invalid_request: no token.", body = Object),
        (status = 401, description = "invalid_client.", body = Object),
    ),
    security(("oauthClient" = []))
)]
pub async fn revoke(
    state: web::Data<AppState>,
    request: HttpRequest,
    body: web::Bytes,
) -> HttpResponse {
    let outcome = async {
        let client = authenticate_client(&state, &request).await?;
        let form = form_body(&request, &body).map_err(|e| OAuthError::new("invalid_request", e))?;
        let hash = SecretHash::of(required(&form, "token")?);
        let oauth = state.store.oauth();
        let now = Timestamp::now();
        if let Some((token, grant)) = oauth.find_token(&hash).await? {
            if grant.client_id == client.id {
                match token.kind {
                    TokenKind::Access => oauth.revoke_token(&hash, now).await?,
                    TokenKind::Refresh => oauth.revoke_grant(grant.user_id, grant.id, now).await?,
                }
            }
        }
        Ok::<_, OAuthError>(no_store(StatusCode::OK).finish())
    }
    .await;
    outcome.unwrap_or_else(|error| error.response())
}
