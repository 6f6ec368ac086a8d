//! OAuth 2.0 clients, codes, grants and tokens. A redemption and a refresh
//! are each one `BEGIN IMMEDIATE` transaction: writers queue, so the
//! compare-and-set on `redeemed_at` / `used_at` sees every earlier one.

use async_trait::async_trait;
use diesel::prelude::*;
use openbadges_domain::oauth::{
    AuthorizationCode, Grant, GrantSummary, OAuthClient, OAuthToken, Redemption, Rotation,
    ScopeSet, SecretHash, TokenKind, TokenPair,
};
use openbadges_domain::ports::{OAuthRepository, RepoResult};
use openbadges_domain::{DomainError, GrantId, OAuthClientId, Timestamp, UserId};

use super::{missing_reference, not_found, require_user};
use crate::errors::Failure;
use crate::pool::Database;
use crate::rows::{
    decode, decode_id, decode_optional_timestamp, decode_timestamp, encode_optional_timestamp,
    encode_timestamp,
};
use crate::schema::{oauth_clients, oauth_codes, oauth_grants, oauth_tokens};

#[derive(Queryable, Selectable, Insertable)]
#[diesel(table_name = oauth_clients, check_for_backend(diesel::sqlite::Sqlite))]
struct ClientRow {
    id: String,
    secret_hash: String,
    client_name: String,
    client_uri: String,
    logo_uri: String,
    tos_uri: String,
    policy_uri: String,
    software_id: String,
    software_version: String,
    redirect_uris: String,
    contacts: String,
    scopes: String,
    refresh_grant: bool,
    created_at: String,
}

fn encode_list(column: &'static str, list: &[String]) -> Result<String, DomainError> {
    serde_json::to_string(list)
        .map_err(|e| DomainError::Internal(format!("cannot encode {column}: {e}")))
}

fn decode_list(column: &'static str, text: &str) -> Result<Vec<String>, DomainError> {
    decode(column, serde_json::from_str::<Vec<String>>(text))
}

fn decode_scopes(column: &'static str, text: &str) -> Result<ScopeSet, DomainError> {
    decode(column, ScopeSet::parse(text))
}

impl ClientRow {
    fn encode(client: &OAuthClient) -> Result<Self, DomainError> {
        Ok(Self {
            id: client.id.to_string(),
            secret_hash: client.secret_hash.as_str().to_owned(),
            client_name: client.name.clone(),
            client_uri: client.client_uri.clone(),
            logo_uri: client.logo_uri.clone(),
            tos_uri: client.tos_uri.clone(),
            policy_uri: client.policy_uri.clone(),
            software_id: client.software_id.clone(),
            software_version: client.software_version.clone(),
            redirect_uris: encode_list("oauth_clients.redirect_uris", &client.redirect_uris)?,
            contacts: encode_list("oauth_clients.contacts", &client.contacts)?,
            scopes: client.scopes.to_string(),
            refresh_grant: client.refresh_grant,
            created_at: encode_timestamp(client.created_at),
        })
    }

    fn decode(self) -> Result<OAuthClient, DomainError> {
        Ok(OAuthClient {
            id: decode_id("oauth_clients.id", &self.id)?,
            secret_hash: decode(
                "oauth_clients.secret_hash",
                SecretHash::parse(self.secret_hash),
            )?,
            name: self.client_name,
            client_uri: self.client_uri,
            logo_uri: self.logo_uri,
            tos_uri: self.tos_uri,
            policy_uri: self.policy_uri,
            software_id: self.software_id,
            software_version: self.software_version,
            redirect_uris: decode_list("oauth_clients.redirect_uris", &self.redirect_uris)?,
            contacts: decode_list("oauth_clients.contacts", &self.contacts)?,
            scopes: decode_scopes("oauth_clients.scopes", &self.scopes)?,
            refresh_grant: self.refresh_grant,
            created_at: decode_timestamp("oauth_clients.created_at", &self.created_at)?,
        })
    }
}

#[derive(Queryable, Selectable, Insertable)]
#[diesel(table_name = oauth_codes, check_for_backend(diesel::sqlite::Sqlite))]
struct CodeRow {
    code_hash: String,
    client_id: String,
    user_id: String,
    redirect_uri: String,
    scopes: String,
    code_challenge: String,
    grant_id: String,
    created_at: String,
    expires_at: String,
    redeemed_at: Option<String>,
}

impl CodeRow {
    fn encode(code: &AuthorizationCode) -> Self {
        Self {
            code_hash: code.hash.as_str().to_owned(),
            client_id: code.client_id.to_string(),
            user_id: code.user_id.to_string(),
            redirect_uri: code.redirect_uri.clone(),
            scopes: code.scopes.to_string(),
            code_challenge: code.code_challenge.clone(),
            grant_id: code.grant_id.to_string(),
            created_at: encode_timestamp(code.created_at),
            expires_at: encode_timestamp(code.expires_at),
            redeemed_at: encode_optional_timestamp(code.redeemed_at),
        }
    }

    fn decode(self) -> Result<AuthorizationCode, DomainError> {
        Ok(AuthorizationCode {
            hash: decode("oauth_codes.code_hash", SecretHash::parse(self.code_hash))?,
            client_id: decode_id("oauth_codes.client_id", &self.client_id)?,
            user_id: decode_id("oauth_codes.user_id", &self.user_id)?,
            redirect_uri: self.redirect_uri,
            scopes: decode_scopes("oauth_codes.scopes", &self.scopes)?,
            code_challenge: self.code_challenge,
            grant_id: decode_id("oauth_codes.grant_id", &self.grant_id)?,
            created_at: decode_timestamp("oauth_codes.created_at", &self.created_at)?,
            expires_at: decode_timestamp("oauth_codes.expires_at", &self.expires_at)?,
            redeemed_at: decode_optional_timestamp(
                "oauth_codes.redeemed_at",
                self.redeemed_at.as_deref(),
            )?,
        })
    }
}

#[derive(Queryable, Selectable, Insertable)]
#[diesel(table_name = oauth_grants, check_for_backend(diesel::sqlite::Sqlite))]
struct GrantRow {
    id: String,
    client_id: String,
    user_id: String,
    scopes: String,
    created_at: String,
    last_used_at: Option<String>,
    revoked_at: Option<String>,
}

impl GrantRow {
    fn encode(grant: &Grant) -> Self {
        Self {
            id: grant.id.to_string(),
            client_id: grant.client_id.to_string(),
            user_id: grant.user_id.to_string(),
            scopes: grant.scopes.to_string(),
            created_at: encode_timestamp(grant.created_at),
            last_used_at: encode_optional_timestamp(grant.last_used_at),
            revoked_at: encode_optional_timestamp(grant.revoked_at),
        }
    }

    fn decode(self) -> Result<Grant, DomainError> {
        Ok(Grant {
            id: decode_id("oauth_grants.id", &self.id)?,
            client_id: decode_id("oauth_grants.client_id", &self.client_id)?,
            user_id: decode_id("oauth_grants.user_id", &self.user_id)?,
            scopes: decode_scopes("oauth_grants.scopes", &self.scopes)?,
            created_at: decode_timestamp("oauth_grants.created_at", &self.created_at)?,
            last_used_at: decode_optional_timestamp(
                "oauth_grants.last_used_at",
                self.last_used_at.as_deref(),
            )?,
            revoked_at: decode_optional_timestamp(
                "oauth_grants.revoked_at",
                self.revoked_at.as_deref(),
            )?,
        })
    }
}

#[derive(Queryable, Selectable, Insertable)]
#[diesel(table_name = oauth_tokens, check_for_backend(diesel::sqlite::Sqlite))]
struct TokenRow {
    token_hash: String,
    grant_id: String,
    kind: String,
    scopes: String,
    created_at: String,
    expires_at: String,
    used_at: Option<String>,
    revoked_at: Option<String>,
}

impl TokenRow {
    fn encode(token: &OAuthToken) -> Self {
        Self {
            token_hash: token.hash.as_str().to_owned(),
            grant_id: token.grant_id.to_string(),
            kind: token.kind.as_str().to_owned(),
            scopes: token.scopes.to_string(),
            created_at: encode_timestamp(token.created_at),
            expires_at: encode_timestamp(token.expires_at),
            used_at: encode_optional_timestamp(token.used_at),
            revoked_at: encode_optional_timestamp(token.revoked_at),
        }
    }

    fn decode(self) -> Result<OAuthToken, DomainError> {
        Ok(OAuthToken {
            hash: decode(
                "oauth_tokens.token_hash",
                SecretHash::parse(self.token_hash),
            )?,
            grant_id: decode_id("oauth_tokens.grant_id", &self.grant_id)?,
            kind: decode("oauth_tokens.kind", TokenKind::parse(&self.kind))?,
            scopes: decode_scopes("oauth_tokens.scopes", &self.scopes)?,
            created_at: decode_timestamp("oauth_tokens.created_at", &self.created_at)?,
            expires_at: decode_timestamp("oauth_tokens.expires_at", &self.expires_at)?,
            used_at: decode_optional_timestamp("oauth_tokens.used_at", self.used_at.as_deref())?,
            revoked_at: decode_optional_timestamp(
                "oauth_tokens.revoked_at",
                self.revoked_at.as_deref(),
            )?,
        })
    }
}

fn token_rows(tokens: &TokenPair) -> Vec<TokenRow> {
    std::iter::once(&tokens.access)
        .chain(tokens.refresh.as_ref())
        .map(TokenRow::encode)
        .collect()
}

/// Revokes a grant as of `at` unless it is revoked already.
fn revoke_grant_row(conn: &mut SqliteConnection, id: &str, at: &str) -> Result<usize, Failure> {
    Ok(diesel::update(
        oauth_grants::table
            .find(id)
            .filter(oauth_grants::revoked_at.is_null()),
    )
    .set(oauth_grants::revoked_at.eq(at))
    .execute(conn)?)
}

/// [`OAuthRepository`] on SQLite.
pub(crate) struct OAuth {
    db: Database,
}

impl OAuth {
    pub(crate) fn new(db: Database) -> Self {
        Self { db }
    }
}

#[async_trait]
impl OAuthRepository for OAuth {
    async fn create_client(&self, client: &OAuthClient) -> RepoResult<()> {
        let row = ClientRow::encode(client)?;
        self.db
            .write(move |conn| {
                diesel::insert_into(oauth_clients::table)
                    .values(&row)
                    .execute(conn)?;
                Ok(())
            })
            .await
    }

    async fn client(&self, id: OAuthClientId) -> RepoResult<Option<OAuthClient>> {
        self.db
            .run(move |conn| {
                let row = oauth_clients::table
                    .find(id.to_string())
                    .select(ClientRow::as_select())
                    .first(conn)
                    .optional()?;
                Ok(row.map(ClientRow::decode).transpose()?)
            })
            .await
    }

    async fn create_code(&self, code: &AuthorizationCode) -> RepoResult<()> {
        let row = CodeRow::encode(code);
        let (client, user) = (code.client_id, code.user_id);
        self.db
            .write(move |conn| {
                let found: bool = diesel::select(diesel::dsl::exists(
                    oauth_clients::table.find(client.to_string()),
                ))
                .get_result(conn)?;
                if !found {
                    return Err(missing_reference("oauth client", client));
                }
                require_user(conn, user)?;
                diesel::insert_into(oauth_codes::table)
                    .values(&row)
                    .execute(conn)?;
                Ok(())
            })
            .await
    }

    async fn find_code(&self, hash: &SecretHash) -> RepoResult<Option<AuthorizationCode>> {
        let hash = hash.as_str().to_owned();
        self.db
            .run(move |conn| {
                let row = oauth_codes::table
                    .find(hash)
                    .select(CodeRow::as_select())
                    .first(conn)
                    .optional()?;
                Ok(row.map(CodeRow::decode).transpose()?)
            })
            .await
    }

    async fn redeem_code(
        &self,
        hash: &SecretHash,
        grant: &Grant,
        tokens: &TokenPair,
        now: Timestamp,
    ) -> RepoResult<Redemption> {
        let hash = hash.as_str().to_owned();
        let grant = GrantRow::encode(grant);
        let tokens = token_rows(tokens);
        let now = encode_timestamp(now);
        self.db
            .write(move |conn| {
                let redeemed = diesel::update(
                    oauth_codes::table
                        .find(&hash)
                        .filter(oauth_codes::redeemed_at.is_null()),
                )
                .set(oauth_codes::redeemed_at.eq(&now))
                .execute(conn)?;
                if redeemed == 1 {
                    diesel::insert_into(oauth_grants::table)
                        .values(&grant)
                        .execute(conn)?;
                    diesel::insert_into(oauth_tokens::table)
                        .values(&tokens)
                        .execute(conn)?;
                    return Ok(Redemption::Issued);
                }
                let first: String = oauth_codes::table
                    .find(&hash)
                    .select(oauth_codes::grant_id)
                    .first(conn)
                    .optional()?
                    .ok_or_else(|| not_found("authorization code", "(hidden)"))?;
                revoke_grant_row(conn, &first, &now)?;
                Ok(Redemption::AlreadyUsed)
            })
            .await
    }

    async fn find_token(&self, hash: &SecretHash) -> RepoResult<Option<(OAuthToken, Grant)>> {
        let hash = hash.as_str().to_owned();
        self.db
            .read(move |conn| {
                let row = oauth_tokens::table
                    .inner_join(oauth_grants::table)
                    .filter(oauth_tokens::token_hash.eq(hash))
                    .select((TokenRow::as_select(), GrantRow::as_select()))
                    .first::<(TokenRow, GrantRow)>(conn)
                    .optional()?;
                Ok(match row {
                    Some((token, grant)) => Some((token.decode()?, grant.decode()?)),
                    None => None,
                })
            })
            .await
    }

    async fn rotate_refresh(
        &self,
        hash: &SecretHash,
        tokens: &TokenPair,
        now: Timestamp,
    ) -> RepoResult<Rotation> {
        let hash = hash.as_str().to_owned();
        let new = token_rows(tokens);
        let now = encode_timestamp(now);
        self.db
            .write(move |conn| {
                let (token, grant) = oauth_tokens::table
                    .inner_join(oauth_grants::table)
                    .filter(oauth_tokens::token_hash.eq(&hash))
                    .filter(oauth_tokens::kind.eq(TokenKind::Refresh.as_str()))
                    .select((TokenRow::as_select(), GrantRow::as_select()))
                    .first::<(TokenRow, GrantRow)>(conn)
                    .optional()?
                    .ok_or_else(|| not_found("refresh token", "(hidden)"))?;
                if token.revoked_at.is_some() || grant.revoked_at.is_some() {
                    return Ok(Rotation::Revoked);
                }
                if token.used_at.is_some() {
                    revoke_grant_row(conn, &grant.id, &now)?;
                    return Ok(Rotation::Reused);
                }
                diesel::update(oauth_tokens::table.find(&hash))
                    .set(oauth_tokens::used_at.eq(&now))
                    .execute(conn)?;
                let new: Vec<TokenRow> = new
                    .into_iter()
                    .map(|row| TokenRow {
                        grant_id: grant.id.clone(),
                        ..row
                    })
                    .collect();
                diesel::insert_into(oauth_tokens::table)
                    .values(&new)
                    .execute(conn)?;
                Ok(Rotation::Rotated)
            })
            .await
    }

    async fn revoke_token(&self, hash: &SecretHash, at: Timestamp) -> RepoResult<()> {
        let hash = hash.as_str().to_owned();
        let at = encode_timestamp(at);
        self.db
            .write(move |conn| {
                diesel::update(
                    oauth_tokens::table
                        .find(hash)
                        .filter(oauth_tokens::revoked_at.is_null()),
                )
                .set(oauth_tokens::revoked_at.eq(at))
                .execute(conn)?;
                Ok(())
            })
            .await
    }

    async fn revoke_grant(&self, user: UserId, id: GrantId, at: Timestamp) -> RepoResult<()> {
        let at = encode_timestamp(at);
        self.db
            .write(move |conn| {
                let owner: Option<String> = oauth_grants::table
                    .find(id.to_string())
                    .select(oauth_grants::user_id)
                    .first(conn)
                    .optional()?;
                if owner != Some(user.to_string()) {
                    return Err(not_found("authorization", id));
                }
                revoke_grant_row(conn, &id.to_string(), &at)?;
                Ok(())
            })
            .await
    }

    async fn record_grant_use(&self, id: GrantId, at: Timestamp) -> RepoResult<()> {
        let at = encode_timestamp(at);
        self.db
            .write(move |conn| {
                // Fixed-width UTC text: text order is time order.
                diesel::update(
                    oauth_grants::table.find(id.to_string()).filter(
                        oauth_grants::last_used_at
                            .is_null()
                            .or(oauth_grants::last_used_at.lt(&at)),
                    ),
                )
                .set(oauth_grants::last_used_at.eq(&at))
                .execute(conn)?;
                Ok(())
            })
            .await
    }

    async fn grants_of(&self, user: UserId) -> RepoResult<Vec<GrantSummary>> {
        self.db
            .read(move |conn| {
                let rows: Vec<(GrantRow, String, String)> = oauth_grants::table
                    .inner_join(oauth_clients::table)
                    .filter(oauth_grants::user_id.eq(user.to_string()))
                    .filter(oauth_grants::revoked_at.is_null())
                    .order((oauth_grants::created_at.asc(), oauth_grants::id.asc()))
                    .select((
                        GrantRow::as_select(),
                        oauth_clients::client_name,
                        oauth_clients::client_uri,
                    ))
                    .load(conn)?;
                rows.into_iter()
                    .map(|(grant, client_name, client_uri)| {
                        Ok(GrantSummary {
                            grant: grant.decode()?,
                            client_name,
                            client_uri,
                        })
                    })
                    .collect::<Result<Vec<_>, DomainError>>()
                    .map_err(Failure::from)
            })
            .await
    }
}
