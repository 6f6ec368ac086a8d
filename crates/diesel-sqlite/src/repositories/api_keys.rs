//! API keys.

use async_trait::async_trait;
use diesel::prelude::*;
use openbadges_domain::ports::{ApiKeyRepository, RepoResult};
use openbadges_domain::{ApiKey, ApiKeyHash, ApiKeyId, Page, PageRequest, Timestamp, UserId};

use super::{decode_all, limit_offset, not_found, require_issuer, require_user, total};
use crate::pool::Database;
use crate::rows::{encode_timestamp, ApiKeyRow};
use crate::schema::api_keys;

/// [`ApiKeyRepository`] on SQLite.
pub(crate) struct ApiKeys {
    db: Database,
}

impl ApiKeys {
    pub(crate) fn new(db: Database) -> Self {
        Self { db }
    }
}

#[async_trait]
impl ApiKeyRepository for ApiKeys {
    async fn create(&self, key: &ApiKey) -> RepoResult<()> {
        let row = ApiKeyRow::try_from(key)?;
        let (user, scope) = (key.user_id, key.issuer_scope);
        self.db
            .write(move |conn| {
                require_user(conn, user)?;
                if let Some(scope) = scope {
                    require_issuer(conn, scope)?;
                }
                diesel::insert_into(api_keys::table)
                    .values(&row)
                    .execute(conn)?;
                Ok(())
            })
            .await
    }

    async fn get(&self, id: ApiKeyId) -> RepoResult<ApiKey> {
        self.db
            .run(move |conn| {
                let row = api_keys::table
                    .find(id.to_string())
                    .select(ApiKeyRow::as_select())
                    .first(conn)
                    .optional()?
                    .ok_or_else(|| not_found("api key", id))?;
                Ok(ApiKey::try_from(row)?)
            })
            .await
    }

    async fn find_by_hash(&self, hash: &ApiKeyHash) -> RepoResult<Option<ApiKey>> {
        let hash = hash.as_str().to_owned();
        self.db
            .run(move |conn| {
                let row = api_keys::table
                    .filter(api_keys::key_hash.eq(&hash))
                    .select(ApiKeyRow::as_select())
                    .first(conn)
                    .optional()?;
                Ok(row.map(ApiKey::try_from).transpose()?)
            })
            .await
    }

    async fn record_use(&self, id: ApiKeyId, at: Timestamp) -> RepoResult<()> {
        let at = encode_timestamp(at);
        self.db
            .write(move |conn| {
                // Fixed-width UTC text: text order is time order.
                diesel::update(
                    api_keys::table.find(id.to_string()).filter(
                        api_keys::last_used_at
                            .is_null()
                            .or(api_keys::last_used_at.lt(&at)),
                    ),
                )
                .set(api_keys::last_used_at.eq(&at))
                .execute(conn)?;
                Ok(())
            })
            .await
    }

    async fn revoke(&self, id: ApiKeyId, at: Timestamp) -> RepoResult<ApiKey> {
        let at = encode_timestamp(at);
        self.db
            .write(move |conn| {
                let key = id.to_string();
                diesel::update(
                    api_keys::table
                        .find(&key)
                        .filter(api_keys::revoked_at.is_null()),
                )
                .set(api_keys::revoked_at.eq(&at))
                .execute(conn)?;
                let row = api_keys::table
                    .find(&key)
                    .select(ApiKeyRow::as_select())
                    .first(conn)
                    .optional()?
                    .ok_or_else(|| not_found("api key", id))?;
                Ok(ApiKey::try_from(row)?)
            })
            .await
    }

    async fn delete(&self, id: ApiKeyId) -> RepoResult<()> {
        self.db
            .write(move |conn| {
                let deleted = diesel::delete(api_keys::table.find(id.to_string())).execute(conn)?;
                if deleted == 0 {
                    return Err(not_found("api key", id));
                }
                Ok(())
            })
            .await
    }

    async fn list_for_user(&self, user_id: UserId, page: PageRequest) -> RepoResult<Page<ApiKey>> {
        let user = user_id.to_string();
        let (limit, offset) = limit_offset(page);
        self.db
            .read(move |conn| {
                let of_user = || api_keys::table.filter(api_keys::user_id.eq(&user));
                let count: i64 = of_user().count().get_result(conn)?;
                let rows: Vec<ApiKeyRow> = of_user()
                    .select(ApiKeyRow::as_select())
                    .order((api_keys::created_at.asc(), api_keys::id.asc()))
                    .limit(limit)
                    .offset(offset)
                    .load(conn)?;
                Ok(Page {
                    items: decode_all(rows)?,
                    total: total(count)?,
                })
            })
            .await
    }
}
