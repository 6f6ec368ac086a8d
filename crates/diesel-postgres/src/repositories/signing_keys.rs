use async_trait::async_trait;
use diesel::prelude::*;
use openbadges_domain::ports::*;
use openbadges_domain::*;

use crate::rows::*;
use crate::schema::*;

use super::{blocking, decode, in_transaction, limit_offset, not_found, reading, to_page};

/// Signing keys on PostgreSQL.
pub(crate) struct PgSigningKeys(pub(crate) super::Pools);

#[async_trait]
impl SigningKeyRepository for PgSigningKeys {
    async fn create(&self, key: &SigningKey) -> RepoResult<()> {
        let row = SigningKeyRow::from(key);
        blocking(&self.0.primary, move |conn| {
            diesel::insert_into(signing_keys::table)
                .values(&row)
                .execute(conn)?;
            Ok(())
        })
        .await
    }

    async fn get(&self, id: SigningKeyId) -> RepoResult<SigningKey> {
        reading(&self.0, move |conn| {
            signing_keys::table
                .find(id.as_uuid())
                .select(SigningKeyRow::as_select())
                .first(conn)
                .optional()?
                .ok_or_else(|| not_found("signing key", id))
                .and_then(decode)
        })
        .await
    }

    async fn active(
        &self,
        issuer_id: IssuerId,
        algorithm: KeyAlgorithm,
    ) -> RepoResult<Option<SigningKey>> {
        reading(&self.0, move |conn| {
            signing_keys::table
                .filter(signing_keys::issuer_id.eq(issuer_id.as_uuid()))
                .filter(signing_keys::algorithm.eq(algorithm.as_str()))
                .filter(signing_keys::status.eq("active"))
                .select(SigningKeyRow::as_select())
                .first(conn)
                .optional()?
                .map(decode)
                .transpose()
        })
        .await
    }

    async fn list_for_issuer(&self, issuer_id: IssuerId) -> RepoResult<Vec<SigningKey>> {
        reading(&self.0, move |conn| {
            signing_keys::table
                .filter(signing_keys::issuer_id.eq(issuer_id.as_uuid()))
                .order((signing_keys::created_at.asc(), signing_keys::id.asc()))
                .select(SigningKeyRow::as_select())
                .load(conn)?
                .into_iter()
                .map(decode)
                .collect()
        })
        .await
    }

    async fn list_verifying(&self, page: PageRequest) -> RepoResult<Page<SigningKey>> {
        let (limit, offset) = limit_offset(page);
        reading(&self.0, move |conn| {
            in_transaction(conn, |conn| {
                let verifying = || signing_keys::table.filter(signing_keys::status.ne("revoked"));
                let total: i64 = verifying().count().get_result(conn)?;
                let rows = verifying()
                    .order((signing_keys::created_at.asc(), signing_keys::id.asc()))
                    .limit(limit)
                    .offset(offset)
                    .select(SigningKeyRow::as_select())
                    .load(conn)?;
                to_page(rows, total)
            })
        })
        .await
    }

    async fn rotate(&self, new: &SigningKey) -> RepoResult<()> {
        let row = SigningKeyRow::from(new);
        blocking(&self.0.primary, move |conn| {
            in_transaction(conn, |conn| {
                diesel::update(
                    signing_keys::table
                        .filter(signing_keys::issuer_id.eq(row.issuer_id))
                        .filter(signing_keys::algorithm.eq(&row.algorithm))
                        .filter(signing_keys::status.eq("active")),
                )
                .set((
                    signing_keys::status.eq("retired"),
                    signing_keys::retired_at.eq(row.created_at),
                ))
                .execute(conn)?;
                diesel::insert_into(signing_keys::table)
                    .values(&row)
                    .execute(conn)?;
                Ok(())
            })
        })
        .await
    }

    async fn revoke(&self, id: SigningKeyId, at: Timestamp) -> RepoResult<()> {
        blocking(&self.0.primary, move |conn| {
            let changed = diesel::update(signing_keys::table.find(id.as_uuid()))
                .set((
                    signing_keys::status.eq("revoked"),
                    signing_keys::revoked_at.eq(at.as_datetime()),
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
