//! OAuth 2.0 clients, codes, grants and tokens in memory. Every call holds
//! the store's lock, so a redemption or a refresh is one compare-and-set:
//! of two at once, the second sees the first's mark.

use std::collections::HashMap;

use async_trait::async_trait;
use openbadges_domain::oauth::{
    AuthorizationCode, Grant, GrantSummary, OAuthClient, OAuthToken, Redemption, Rotation,
    SecretHash, TokenKind, TokenPair,
};
use openbadges_domain::ports::{OAuthRepository, RepoResult};
use openbadges_domain::{GrantId, OAuthClientId, Timestamp, UserId};

use super::{missing_reference, not_found, taken, Tables};
use crate::Db;

/// The OAuth tables.
#[derive(Debug, Default)]
pub(crate) struct OAuthTables {
    clients: HashMap<OAuthClientId, OAuthClient>,
    codes: HashMap<SecretHash, AuthorizationCode>,
    grants: HashMap<GrantId, Grant>,
    tokens: HashMap<SecretHash, OAuthToken>,
}

impl Tables {
    /// Drops what belonged to deleted users: the SQL schemas' cascade.
    fn drop_oauth_orphans(&mut self) {
        let users = &self.users;
        let oauth = &mut self.oauth;
        oauth
            .codes
            .retain(|_, code| users.contains_key(&code.user_id));
        oauth
            .grants
            .retain(|_, grant| users.contains_key(&grant.user_id));
        let grants = &oauth.grants;
        oauth
            .tokens
            .retain(|_, token| grants.contains_key(&token.grant_id));
    }

    fn store_tokens(&mut self, tokens: &TokenPair, grant: GrantId) {
        for token in std::iter::once(&tokens.access).chain(tokens.refresh.as_ref()) {
            let token = OAuthToken {
                grant_id: grant,
                ..token.clone()
            };
            self.oauth.tokens.insert(token.hash.clone(), token);
        }
    }

    fn revoke_grant_at(&mut self, id: GrantId, at: Timestamp) {
        if let Some(grant) = self.oauth.grants.get_mut(&id) {
            grant.revoked_at.get_or_insert(at);
        }
    }
}

#[async_trait]
impl OAuthRepository for Db {
    async fn create_client(&self, client: &OAuthClient) -> RepoResult<()> {
        let mut tables = self.lock()?;
        if tables.oauth.clients.contains_key(&client.id) {
            return Err(taken("oauth_clients", "id"));
        }
        tables.oauth.clients.insert(client.id, client.clone());
        Ok(())
    }

    async fn client(&self, id: OAuthClientId) -> RepoResult<Option<OAuthClient>> {
        Ok(self.lock()?.oauth.clients.get(&id).cloned())
    }

    async fn create_code(&self, code: &AuthorizationCode) -> RepoResult<()> {
        let mut tables = self.lock()?;
        if !tables.oauth.clients.contains_key(&code.client_id) {
            return Err(missing_reference("oauth client", code.client_id));
        }
        if !tables.users.contains_key(&code.user_id) {
            return Err(missing_reference("user", code.user_id));
        }
        if tables.oauth.codes.contains_key(&code.hash) {
            return Err(taken("oauth_codes", "code_hash"));
        }
        tables.oauth.codes.insert(code.hash.clone(), code.clone());
        Ok(())
    }

    async fn find_code(&self, hash: &SecretHash) -> RepoResult<Option<AuthorizationCode>> {
        let mut tables = self.lock()?;
        tables.drop_oauth_orphans();
        Ok(tables.oauth.codes.get(hash).cloned())
    }

    async fn redeem_code(
        &self,
        hash: &SecretHash,
        grant: &Grant,
        tokens: &TokenPair,
        now: Timestamp,
    ) -> RepoResult<Redemption> {
        let mut tables = self.lock()?;
        tables.drop_oauth_orphans();
        let code = tables
            .oauth
            .codes
            .get_mut(hash)
            .ok_or_else(|| not_found("authorization code", "(hidden)"))?;
        if code.redeemed_at.is_some() {
            let first = code.grant_id;
            tables.revoke_grant_at(first, now);
            return Ok(Redemption::AlreadyUsed);
        }
        code.redeemed_at = Some(now);
        tables.oauth.grants.insert(grant.id, grant.clone());
        tables.store_tokens(tokens, grant.id);
        Ok(Redemption::Issued)
    }

    async fn find_token(&self, hash: &SecretHash) -> RepoResult<Option<(OAuthToken, Grant)>> {
        let mut tables = self.lock()?;
        tables.drop_oauth_orphans();
        let Some(token) = tables.oauth.tokens.get(hash) else {
            return Ok(None);
        };
        Ok(tables
            .oauth
            .grants
            .get(&token.grant_id)
            .map(|grant| (token.clone(), grant.clone())))
    }

    async fn rotate_refresh(
        &self,
        hash: &SecretHash,
        tokens: &TokenPair,
        now: Timestamp,
    ) -> RepoResult<Rotation> {
        let mut tables = self.lock()?;
        tables.drop_oauth_orphans();
        let token = tables
            .oauth
            .tokens
            .get(hash)
            .filter(|token| token.kind == TokenKind::Refresh)
            .cloned()
            .ok_or_else(|| not_found("refresh token", "(hidden)"))?;
        let grant_revoked = tables
            .oauth
            .grants
            .get(&token.grant_id)
            .is_none_or(|grant| grant.revoked_at.is_some());
        if token.revoked_at.is_some() || grant_revoked {
            return Ok(Rotation::Revoked);
        }
        if token.used_at.is_some() {
            tables.revoke_grant_at(token.grant_id, now);
            return Ok(Rotation::Reused);
        }
        if let Some(stored) = tables.oauth.tokens.get_mut(hash) {
            stored.used_at = Some(now);
        }
        tables.store_tokens(tokens, token.grant_id);
        Ok(Rotation::Rotated)
    }

    async fn revoke_token(&self, hash: &SecretHash, at: Timestamp) -> RepoResult<()> {
        let mut tables = self.lock()?;
        if let Some(token) = tables.oauth.tokens.get_mut(hash) {
            token.revoked_at.get_or_insert(at);
        }
        Ok(())
    }

    async fn revoke_grant(&self, user: UserId, id: GrantId, at: Timestamp) -> RepoResult<()> {
        let mut tables = self.lock()?;
        tables.drop_oauth_orphans();
        match tables.oauth.grants.get(&id) {
            Some(grant) if grant.user_id == user => {
                tables.revoke_grant_at(id, at);
                Ok(())
            }
            _ => Err(not_found("authorization", id)),
        }
    }

    async fn record_grant_use(&self, id: GrantId, at: Timestamp) -> RepoResult<()> {
        let mut tables = self.lock()?;
        if let Some(grant) = tables.oauth.grants.get_mut(&id) {
            if grant.last_used_at.is_none_or(|last| last < at) {
                grant.last_used_at = Some(at);
            }
        }
        Ok(())
    }

    async fn grants_of(&self, user: UserId) -> RepoResult<Vec<GrantSummary>> {
        let mut tables = self.lock()?;
        tables.drop_oauth_orphans();
        let oauth = &tables.oauth;
        let mut listed: Vec<GrantSummary> = oauth
            .grants
            .values()
            .filter(|grant| grant.user_id == user && grant.revoked_at.is_none())
            .filter_map(|grant| {
                oauth
                    .clients
                    .get(&grant.client_id)
                    .map(|client| GrantSummary {
                        grant: grant.clone(),
                        client_name: client.name.clone(),
                        client_uri: client.client_uri.clone(),
                    })
            })
            .collect();
        listed.sort_by_key(|s| (s.grant.created_at, *s.grant.id.as_uuid().as_bytes()));
        Ok(listed)
    }
}
