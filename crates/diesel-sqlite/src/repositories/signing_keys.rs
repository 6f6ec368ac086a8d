//! Signing keys.

use async_trait::async_trait;
use diesel::prelude::*;
use openbadges_domain::ports::{RepoResult, SigningKeyRepository};
use openbadges_domain::{
    IssuerId, KeyAlgorithm, Page, PageRequest, SigningKey, SigningKeyId, Timestamp,
};

use super::{decode_all, limit_offset, not_found, require_issuer, total};
use crate::pool::Database;
use crate::rows::{encode_timestamp, SigningKeyRow};
use crate::schema::signing_keys;

/// [`SigningKeyRepository`] on SQLite.
pub(crate) struct SigningKeys {
    db: Database,
}

impl SigningKeys {
    pub(crate) fn new(db: Database) -> Self {
        Self { db }
    }
}

#[async_trait]
impl SigningKeyRepository for SigningKeys {
    async fn create(&self, key: &SigningKey) -> RepoResult<()> {
        let row = SigningKeyRow::from(key);
        let issuer = key.issuer_id;
        self.db
            .write(move |conn| {
                require_issuer(conn, issuer)?;
                diesel::insert_into(signing_keys::table)
                    .values(&row)
                    .execute(conn)?;
                Ok(())
            })
            .await
    }

    async fn get(&self, id: SigningKeyId) -> RepoResult<SigningKey> {
        self.db
            .run(move |conn| {
                let row = signing_keys::table
                    .find(id.to_string())
                    .select(SigningKeyRow::as_select())
                    .first(conn)
                    .optional()?
                    .ok_or_else(|| not_found("signing key", id))?;
                Ok(SigningKey::try_from(row)?)
            })
            .await
    }

    async fn active(
        &self,
        issuer_id: IssuerId,
        algorithm: KeyAlgorithm,
    ) -> RepoResult<Option<SigningKey>> {
        self.db
            .run(move |conn| {
                let row = signing_keys::table
                    .filter(signing_keys::issuer_id.eq(issuer_id.to_string()))
                    .filter(signing_keys::algorithm.eq(algorithm.as_str()))
                    .filter(signing_keys::status.eq("active"))
                    .select(SigningKeyRow::as_select())
                    .first(conn)
                    .optional()?;
                Ok(row.map(SigningKey::try_from).transpose()?)
            })
            .await
    }

    async fn list_for_issuer(&self, issuer_id: IssuerId) -> RepoResult<Vec<SigningKey>> {
        self.db
            .run(move |conn| {
                let rows: Vec<SigningKeyRow> = signing_keys::table
                    .filter(signing_keys::issuer_id.eq(issuer_id.to_string()))
                    .order((signing_keys::created_at.asc(), signing_keys::id.asc()))
                    .select(SigningKeyRow::as_select())
                    .load(conn)?;
                decode_all(rows)
            })
            .await
    }

    async fn list_verifying(&self, page: PageRequest) -> RepoResult<Page<SigningKey>> {
        let (limit, offset) = limit_offset(page);
        self.db
            .read(move |conn| {
                let verifying = || signing_keys::table.filter(signing_keys::status.ne("revoked"));
                let count: i64 = verifying().count().get_result(conn)?;
                let rows: Vec<SigningKeyRow> = verifying()
                    .order((signing_keys::created_at.asc(), signing_keys::id.asc()))
                    .limit(limit)
                    .offset(offset)
                    .select(SigningKeyRow::as_select())
                    .load(conn)?;
                Ok(Page {
                    items: decode_all(rows)?,
                    total: total(count)?,
                })
            })
            .await
    }

    async fn rotate(&self, new: &SigningKey) -> RepoResult<()> {
        let row = SigningKeyRow::from(new);
        let issuer = new.issuer_id;
        self.db
            .write(move |conn| {
                require_issuer(conn, issuer)?;
                diesel::update(
                    signing_keys::table
                        .filter(signing_keys::issuer_id.eq(&row.issuer_id))
                        .filter(signing_keys::algorithm.eq(&row.algorithm))
                        .filter(signing_keys::status.eq("active")),
                )
                .set((
                    signing_keys::status.eq("retired"),
                    signing_keys::retired_at.eq(&row.created_at),
                ))
                .execute(conn)?;
                diesel::insert_into(signing_keys::table)
                    .values(&row)
                    .execute(conn)?;
                Ok(())
            })
            .await
    }

    async fn revoke(&self, id: SigningKeyId, at: Timestamp) -> RepoResult<()> {
        self.db
            .write(move |conn| {
                let changed = diesel::update(signing_keys::table.find(id.to_string()))
                    .set((
                        signing_keys::status.eq("revoked"),
                        signing_keys::revoked_at.eq(encode_timestamp(at)),
                    ))
                    .execute(conn)?;
                if changed == 0 {
                    return Err(not_found("signing key", id));
                }
                Ok(())
            })
            .await
    }
}
