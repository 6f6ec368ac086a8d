use async_trait::async_trait;
use diesel::prelude::*;
use openbadges_domain::ports::*;
use openbadges_domain::*;

use openbadges_store_support::refusals::has_awards;

use crate::rows::*;
use crate::schema::*;

use super::{blocking, decode, in_transaction, limit_offset, not_found, reading, to_page};

/// Issuers on PostgreSQL.
pub(crate) struct PgIssuers(pub(crate) super::Pools);

#[async_trait]
impl IssuerRepository for PgIssuers {
    async fn create(&self, issuer: &Issuer) -> RepoResult<()> {
        let row = IssuerRow::from(issuer);
        blocking(&self.0.primary, move |conn| {
            diesel::insert_into(issuers::table)
                .values(&row)
                .execute(conn)?;
            Ok(())
        })
        .await
    }

    async fn get(&self, id: IssuerId) -> RepoResult<Issuer> {
        reading(&self.0, move |conn| {
            issuers::table
                .find(id.as_uuid())
                .select(IssuerRow::as_select())
                .first(conn)
                .optional()?
                .ok_or_else(|| not_found("issuer", id))
                .and_then(decode)
        })
        .await
    }

    async fn update(&self, issuer: &Issuer) -> RepoResult<()> {
        let row = IssuerRow::from(issuer);
        blocking(&self.0.primary, move |conn| {
            let changed = diesel::update(issuers::table.find(row.id))
                .set((
                    issuers::name.eq(&row.name),
                    issuers::url.eq(&row.url),
                    issuers::email.eq(&row.email),
                    issuers::description.eq(&row.description),
                    issuers::image.eq(&row.image),
                    issuers::updated_at.eq(row.updated_at),
                    issuers::details.eq(&row.details),
                ))
                .execute(conn)?;
            if changed == 0 {
                return Err(not_found("issuer", row.id));
            }
            Ok(())
        })
        .await
    }

    async fn delete(&self, id: IssuerId, mode: DeleteMode) -> RepoResult<()> {
        let id = id.as_uuid();
        blocking(&self.0.primary, move |conn| {
            in_transaction(conn, |conn| {
                let exists: i64 = issuers::table.find(id).count().get_result(conn)?;
                if exists == 0 {
                    return Err(not_found("issuer", id));
                }
                if mode == DeleteMode::Restrict {
                    let awarded: i64 = assertions::table
                        .filter(assertions::issuer_id.eq(id))
                        .count()
                        .get_result(conn)?;
                    if awarded > 0 {
                        return Err(has_awards("issuer", id, awarded).into());
                    }
                } else {
                    diesel::delete(assertions::table.filter(assertions::issuer_id.eq(id)))
                        .execute(conn)?;
                }
                diesel::delete(badge_classes::table.filter(badge_classes::issuer_id.eq(id)))
                    .execute(conn)?;
                diesel::delete(issuers::table.find(id)).execute(conn)?;
                Ok(())
            })
        })
        .await
    }

    async fn list(&self, filter: &IssuerFilter, page: PageRequest) -> RepoResult<Page<Issuer>> {
        let owner = filter.owner_id.map(|o| o.as_uuid());
        let (limit, offset) = limit_offset(page);
        reading(&self.0, move |conn| {
            in_transaction(conn, |conn| {
                let query = || {
                    let mut query = issuers::table.into_boxed();
                    if let Some(owner) = owner {
                        query = query.filter(issuers::owner_id.eq(owner));
                    }
                    query
                };
                let total: i64 = query().count().get_result(conn)?;
                let rows = query()
                    .order((issuers::created_at.asc(), issuers::id.asc()))
                    .limit(limit)
                    .offset(offset)
                    .select(IssuerRow::as_select())
                    .load(conn)?;
                to_page(rows, total)
            })
        })
        .await
    }
}
