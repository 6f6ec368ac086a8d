//! OAuth 2.0 clients, codes, grants and tokens. A redemption is one
//! compare-and-set `UPDATE ... WHERE redeemed_at IS NULL`: a concurrent one
//! waits on the row lock, then finds the row redeemed. A refresh locks its
//! token row (`FOR UPDATE`) before it looks at it.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use openbadges_domain::oauth::{
    AuthorizationCode, Grant, GrantSummary, OAuthClient, OAuthToken, Redemption, Rotation,
    ScopeSet, SecretHash, TokenKind, TokenPair,
};
use openbadges_domain::ports::{OAuthRepository, RepoResult};
use openbadges_domain::{DomainError, GrantId, OAuthClientId, Timestamp, UserId};
use serde_json::Value;
use uuid::Uuid;

use crate::errors::Failure;
use crate::pool::PgPool;
use crate::rows::{parse, restamp, stamp};
use crate::schema::{oauth_clients, oauth_codes, oauth_grants, oauth_tokens, users};

use super::{blocking, in_transaction, not_found};

#[derive(Queryable, Selectable, Insertable)]
#[diesel(table_name = oauth_clients, check_for_backend(diesel::pg::Pg))]
struct ClientRow {
    id: Uuid,
    secret_hash: String,
    client_name: String,
    client_uri: String,
    logo_uri: String,
    tos_uri: String,
    policy_uri: String,
    software_id: String,
    software_version: String,
    redirect_uris: Value,
    contacts: Value,
    scopes: String,
    refresh_grant: bool,
    created_at: DateTime<Utc>,
}

fn decode_list(column: &str, value: Value) -> Result<Vec<String>, DomainError> {
    parse(column, value.to_string(), |text| {
        serde_json::from_str::<Vec<String>>(&text)
    })
}

fn decode_scopes(column: &str, text: String) -> Result<ScopeSet, DomainError> {
    parse(column, text, |text| ScopeSet::parse(&text))
}

impl ClientRow {
    fn encode(client: &OAuthClient) -> Self {
        Self {
            id: client.id.as_uuid(),
            secret_hash: client.secret_hash.as_str().to_owned(),
            client_name: client.name.clone(),
            client_uri: client.client_uri.clone(),
            logo_uri: client.logo_uri.clone(),
            tos_uri: client.tos_uri.clone(),
            policy_uri: client.policy_uri.clone(),
            software_id: client.software_id.clone(),
            software_version: client.software_version.clone(),
            redirect_uris: Value::from(client.redirect_uris.clone()),
            contacts: Value::from(client.contacts.clone()),
            scopes: client.scopes.to_string(),
            refresh_grant: client.refresh_grant,
            created_at: stamp(client.created_at),
        }
    }

    fn decode(self) -> Result<OAuthClient, DomainError> {
        Ok(OAuthClient {
            id: self.id.into(),
            secret_hash: parse(
                "oauth_clients.secret_hash",
                self.secret_hash,
                SecretHash::parse,
            )?,
            name: self.client_name,
            client_uri: self.client_uri,
            logo_uri: self.logo_uri,
            tos_uri: self.tos_uri,
            policy_uri: self.policy_uri,
            software_id: self.software_id,
            software_version: self.software_version,
            redirect_uris: decode_list("oauth_clients.redirect_uris", self.redirect_uris)?,
            contacts: decode_list("oauth_clients.contacts", self.contacts)?,
            scopes: decode_scopes("oauth_clients.scopes", self.scopes)?,
            refresh_grant: self.refresh_grant,
            created_at: restamp(self.created_at),
        })
    }
}

#[derive(Queryable, Selectable, Insertable)]
#[diesel(table_name = oauth_codes, check_for_backend(diesel::pg::Pg))]
struct CodeRow {
    code_hash: String,
    client_id: Uuid,
    user_id: Uuid,
    redirect_uri: String,
    scopes: String,
    code_challenge: String,
    grant_id: Uuid,
    created_at: DateTime<Utc>,
    expires_at: DateTime<Utc>,
    redeemed_at: Option<DateTime<Utc>>,
}

impl CodeRow {
    fn encode(code: &AuthorizationCode) -> Self {
        Self {
            code_hash: code.hash.as_str().to_owned(),
            client_id: code.client_id.as_uuid(),
            user_id: code.user_id.as_uuid(),
            redirect_uri: code.redirect_uri.clone(),
            scopes: code.scopes.to_string(),
            code_challenge: code.code_challenge.clone(),
            grant_id: code.grant_id.as_uuid(),
            created_at: stamp(code.created_at),
            expires_at: stamp(code.expires_at),
            redeemed_at: code.redeemed_at.map(stamp),
        }
    }

    fn decode(self) -> Result<AuthorizationCode, DomainError> {
        Ok(AuthorizationCode {
            hash: parse("oauth_codes.code_hash", self.code_hash, SecretHash::parse)?,
            client_id: self.client_id.into(),
            user_id: self.user_id.into(),
            redirect_uri: self.redirect_uri,
            scopes: decode_scopes("oauth_codes.scopes", self.scopes)?,
            code_challenge: self.code_challenge,
            grant_id: self.grant_id.into(),
            created_at: restamp(self.created_at),
            expires_at: restamp(self.expires_at),
            redeemed_at: self.redeemed_at.map(restamp),
        })
    }
}

#[derive(Queryable, Selectable, Insertable)]
#[diesel(table_name = oauth_grants, check_for_backend(diesel::pg::Pg))]
struct GrantRow {
    id: Uuid,
    client_id: Uuid,
    user_id: Uuid,
    scopes: String,
    created_at: DateTime<Utc>,
    last_used_at: Option<DateTime<Utc>>,
    revoked_at: Option<DateTime<Utc>>,
}

impl GrantRow {
    fn encode(grant: &Grant) -> Self {
        Self {
            id: grant.id.as_uuid(),
            client_id: grant.client_id.as_uuid(),
            user_id: grant.user_id.as_uuid(),
            scopes: grant.scopes.to_string(),
            created_at: stamp(grant.created_at),
            last_used_at: grant.last_used_at.map(stamp),
            revoked_at: grant.revoked_at.map(stamp),
        }
    }

    fn decode(self) -> Result<Grant, DomainError> {
        Ok(Grant {
            id: self.id.into(),
            client_id: self.client_id.into(),
            user_id: self.user_id.into(),
            scopes: decode_scopes("oauth_grants.scopes", self.scopes)?,
            created_at: restamp(self.created_at),
            last_used_at: self.last_used_at.map(restamp),
            revoked_at: self.revoked_at.map(restamp),
        })
    }
}

#[derive(Queryable, Selectable, Insertable)]
#[diesel(table_name = oauth_tokens, check_for_backend(diesel::pg::Pg))]
struct TokenRow {
    token_hash: String,
    grant_id: Uuid,
    kind: String,
    scopes: String,
    created_at: DateTime<Utc>,
    expires_at: DateTime<Utc>,
    used_at: Option<DateTime<Utc>>,
    revoked_at: Option<DateTime<Utc>>,
}

impl TokenRow {
    fn encode(token: &OAuthToken) -> Self {
        Self {
            token_hash: token.hash.as_str().to_owned(),
            grant_id: token.grant_id.as_uuid(),
            kind: token.kind.as_str().to_owned(),
            scopes: token.scopes.to_string(),
            created_at: stamp(token.created_at),
            expires_at: stamp(token.expires_at),
            used_at: token.used_at.map(stamp),
            revoked_at: token.revoked_at.map(stamp),
        }
    }

    fn decode(self) -> Result<OAuthToken, DomainError> {
        Ok(OAuthToken {
            hash: parse(
                "oauth_tokens.token_hash",
                self.token_hash,
                SecretHash::parse,
            )?,
            grant_id: self.grant_id.into(),
            kind: parse("oauth_tokens.kind", self.kind, |k| TokenKind::parse(&k))?,
            scopes: decode_scopes("oauth_tokens.scopes", self.scopes)?,
            created_at: restamp(self.created_at),
            expires_at: restamp(self.expires_at),
            used_at: self.used_at.map(restamp),
            revoked_at: self.revoked_at.map(restamp),
        })
    }
}

fn token_rows(tokens: &TokenPair, grant: Uuid) -> Vec<TokenRow> {
    std::iter::once(&tokens.access)
        .chain(tokens.refresh.as_ref())
        .map(|token| TokenRow {
            grant_id: grant,
            ..TokenRow::encode(token)
        })
        .collect()
}

/// Revokes a grant as of `at` unless it is revoked already.
fn revoke_grant_row(
    conn: &mut PgConnection,
    id: Uuid,
    at: DateTime<Utc>,
) -> Result<usize, Failure> {
    Ok(diesel::update(
        oauth_grants::table
            .find(id)
            .filter(oauth_grants::revoked_at.is_null()),
    )
    .set(oauth_grants::revoked_at.eq(at))
    .execute(conn)?)
}

fn missing_reference(entity: &'static str, id: impl ToString) -> Failure {
    DomainError::MissingReference {
        entity,
        id: id.to_string(),
    }
    .into()
}

/// [`OAuthRepository`] on PostgreSQL.
pub(crate) struct PgOAuth(pub(crate) PgPool);

#[async_trait]
impl OAuthRepository for PgOAuth {
    async fn create_client(&self, client: &OAuthClient) -> RepoResult<()> {
        let row = ClientRow::encode(client);
        blocking(&self.0, move |conn| {
            diesel::insert_into(oauth_clients::table)
                .values(&row)
                .execute(conn)?;
            Ok(())
        })
        .await
    }

    async fn client(&self, id: OAuthClientId) -> RepoResult<Option<OAuthClient>> {
        blocking(&self.0, move |conn| {
            let row = oauth_clients::table
                .find(id.as_uuid())
                .select(ClientRow::as_select())
                .first(conn)
                .optional()?;
            Ok(row.map(ClientRow::decode).transpose()?)
        })
        .await
    }

    async fn create_code(&self, code: &AuthorizationCode) -> RepoResult<()> {
        let row = CodeRow::encode(code);
        blocking(&self.0, move |conn| {
            in_transaction(conn, |conn| {
                let clients: i64 = oauth_clients::table
                    .find(row.client_id)
                    .count()
                    .get_result(conn)?;
                if clients == 0 {
                    return Err(missing_reference("oauth client", row.client_id));
                }
                let found: i64 = users::table.find(row.user_id).count().get_result(conn)?;
                if found == 0 {
                    return Err(missing_reference("user", row.user_id));
                }
                diesel::insert_into(oauth_codes::table)
                    .values(&row)
                    .execute(conn)?;
                Ok(())
            })
        })
        .await
    }

    async fn find_code(&self, hash: &SecretHash) -> RepoResult<Option<AuthorizationCode>> {
        let hash = hash.as_str().to_owned();
        blocking(&self.0, move |conn| {
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
        let tokens = token_rows(tokens, grant.id);
        let now = stamp(now);
        blocking(&self.0, move |conn| {
            in_transaction(conn, |conn| {
                let redeemed = diesel::update(
                    oauth_codes::table
                        .find(&hash)
                        .filter(oauth_codes::redeemed_at.is_null()),
                )
                .set(oauth_codes::redeemed_at.eq(now))
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
                let first: Uuid = oauth_codes::table
                    .find(&hash)
                    .select(oauth_codes::grant_id)
                    .first(conn)
                    .optional()?
                    .ok_or_else(|| not_found("authorization code", "(hidden)"))?;
                revoke_grant_row(conn, first, now)?;
                Ok(Redemption::AlreadyUsed)
            })
        })
        .await
    }

    async fn find_token(&self, hash: &SecretHash) -> RepoResult<Option<(OAuthToken, Grant)>> {
        let hash = hash.as_str().to_owned();
        blocking(&self.0, move |conn| {
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
        let tokens = tokens.clone();
        let now = stamp(now);
        blocking(&self.0, move |conn| {
            in_transaction(conn, |conn| {
                // Locked until commit: a concurrent exchange of the same
                // token waits here, then sees it used.
                let token = oauth_tokens::table
                    .find(&hash)
                    .filter(oauth_tokens::kind.eq(TokenKind::Refresh.as_str()))
                    .select(TokenRow::as_select())
                    .for_update()
                    .first(conn)
                    .optional()?
                    .ok_or_else(|| not_found("refresh token", "(hidden)"))?;
                let grant_revoked: Option<DateTime<Utc>> = oauth_grants::table
                    .find(token.grant_id)
                    .select(oauth_grants::revoked_at)
                    .first(conn)?;
                if token.revoked_at.is_some() || grant_revoked.is_some() {
                    return Ok(Rotation::Revoked);
                }
                if token.used_at.is_some() {
                    revoke_grant_row(conn, token.grant_id, now)?;
                    return Ok(Rotation::Reused);
                }
                diesel::update(oauth_tokens::table.find(&hash))
                    .set(oauth_tokens::used_at.eq(now))
                    .execute(conn)?;
                diesel::insert_into(oauth_tokens::table)
                    .values(&token_rows(&tokens, token.grant_id))
                    .execute(conn)?;
                Ok(Rotation::Rotated)
            })
        })
        .await
    }

    async fn revoke_token(&self, hash: &SecretHash, at: Timestamp) -> RepoResult<()> {
        let hash = hash.as_str().to_owned();
        let at = stamp(at);
        blocking(&self.0, move |conn| {
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
        let at = stamp(at);
        blocking(&self.0, move |conn| {
            in_transaction(conn, |conn| {
                let owner: Option<Uuid> = oauth_grants::table
                    .find(id.as_uuid())
                    .select(oauth_grants::user_id)
                    .first(conn)
                    .optional()?;
                if owner != Some(user.as_uuid()) {
                    return Err(not_found("authorization", id));
                }
                revoke_grant_row(conn, id.as_uuid(), at)?;
                Ok(())
            })
        })
        .await
    }

    async fn record_grant_use(&self, id: GrantId, at: Timestamp) -> RepoResult<()> {
        let at = stamp(at);
        blocking(&self.0, move |conn| {
            diesel::update(
                oauth_grants::table.find(id.as_uuid()).filter(
                    oauth_grants::last_used_at
                        .is_null()
                        .or(oauth_grants::last_used_at.lt(at)),
                ),
            )
            .set(oauth_grants::last_used_at.eq(at))
            .execute(conn)?;
            Ok(())
        })
        .await
    }

    async fn grants_of(&self, user: UserId) -> RepoResult<Vec<GrantSummary>> {
        blocking(&self.0, move |conn| {
            let rows: Vec<(GrantRow, String, String)> = oauth_grants::table
                .inner_join(oauth_clients::table)
                .filter(oauth_grants::user_id.eq(user.as_uuid()))
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
