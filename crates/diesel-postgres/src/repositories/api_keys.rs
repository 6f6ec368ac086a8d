use async_trait::async_trait;
use diesel::prelude::*;
use openbadges_domain::ports::*;
use openbadges_domain::*;

use crate::rows::*;
use crate::schema::*;

use super::{blocking, decode, in_transaction, limit_offset, not_found, to_page};

/// API keys on PostgreSQL.
pub(crate) struct PgApiKeys(pub(crate) super::Pools);

#[async_trait]
impl ApiKeyRepository for PgApiKeys {
    async fn create(&self, key: &ApiKey) -> RepoResult<()> {
        let row = ApiKeyRow::from(key);
        blocking(&self.0.primary, move |conn| {
            in_transaction(conn, |conn| {
                let user: i64 = users::table.find(row.user_id).count().get_result(conn)?;
                if user == 0 {
                    return Err(DomainError::MissingReference {
                        entity: "user",
                        id: row.user_id.to_string(),
                    }
                    .into());
                }
                if let Some(scope) = row.issuer_scope {
                    let issuer: i64 = issuers::table.find(scope).count().get_result(conn)?;
                    if issuer == 0 {
                        return Err(DomainError::MissingReference {
                            entity: "issuer",
                            id: scope.to_string(),
                        }
                        .into());
                    }
                }
                diesel::insert_into(api_keys::table)
                    .values(&row)
                    .execute(conn)?;
                Ok(())
            })
        })
        .await
    }

    async fn get(&self, id: ApiKeyId) -> RepoResult<ApiKey> {
        blocking(&self.0.primary, move |conn| {
            api_keys::table
                .find(id.as_uuid())
                .select(ApiKeyRow::as_select())
                .first(conn)
                .optional()?
                .ok_or_else(|| not_found("api key", id))
                .and_then(decode)
        })
        .await
    }

    async fn find_by_hash(&self, hash: &ApiKeyHash) -> RepoResult<Option<ApiKey>> {
        let hash = hash.as_str().to_owned();
        blocking(&self.0.primary, move |conn| {
            api_keys::table
                .filter(api_keys::key_hash.eq(hash))
                .select(ApiKeyRow::as_select())
                .first(conn)
                .optional()?
                .map(decode)
                .transpose()
        })
        .await
    }

    async fn record_use(&self, id: ApiKeyId, at: Timestamp) -> RepoResult<()> {
        let at = stamp(at);
        blocking(&self.0.primary, move |conn| {
            diesel::update(
                api_keys::table.find(id.as_uuid()).filter(
                    api_keys::last_used_at
                        .is_null()
                        .or(api_keys::last_used_at.lt(at)),
                ),
            )
            .set(api_keys::last_used_at.eq(at))
            .execute(conn)?;
            Ok(())
        })
        .await
    }

    async fn revoke(&self, id: ApiKeyId, at: Timestamp) -> RepoResult<ApiKey> {
        let at = stamp(at);
        blocking(&self.0.primary, move |conn| {
            in_transaction(conn, |conn| {
                diesel::update(
                    api_keys::table
                        .find(id.as_uuid())
                        .filter(api_keys::revoked_at.is_null()),
                )
                .set(api_keys::revoked_at.eq(at))
                .execute(conn)?;
                let row = api_keys::table
                    .find(id.as_uuid())
                    .select(ApiKeyRow::as_select())
                    .first(conn)
                    .optional()?
                    .ok_or_else(|| not_found("api key", id.as_uuid()))?;
                decode(row)
            })
        })
        .await
    }

    async fn delete(&self, id: ApiKeyId) -> RepoResult<()> {
        blocking(&self.0.primary, move |conn| {
            let deleted = diesel::delete(api_keys::table.find(id.as_uuid())).execute(conn)?;
            if deleted == 0 {
                return Err(not_found("api key", id));
            }
            Ok(())
        })
        .await
    }

    async fn list_for_user(&self, user_id: UserId, page: PageRequest) -> RepoResult<Page<ApiKey>> {
        let user = user_id.as_uuid();
        let (limit, offset) = limit_offset(page);
        blocking(&self.0.primary, move |conn| {
            in_transaction(conn, |conn| {
                let mine = api_keys::table.filter(api_keys::user_id.eq(user));
                let total: i64 = mine.count().get_result(conn)?;
                let rows = mine
                    .order((api_keys::created_at.asc(), api_keys::id.asc()))
                    .limit(limit)
                    .offset(offset)
                    .select(ApiKeyRow::as_select())
                    .load(conn)?;
                to_page(rows, total)
            })
        })
        .await
    }
}
