//! Issuer profiles.

use async_trait::async_trait;
use diesel::prelude::*;
use openbadges_domain::ports::{DeleteMode, IssuerFilter, IssuerRepository, RepoResult};
use openbadges_domain::{Issuer, IssuerId, Page, PageRequest};

use super::{decode_all, issuer_exists, limit_offset, not_found, require_user, total};
use openbadges_store_support::refusals::has_awards;

use crate::pool::Database;
use crate::rows::IssuerRow;
use crate::schema::{assertions, badge_classes, issuers};

/// [`IssuerRepository`] on SQLite.
pub(crate) struct Issuers {
    db: Database,
}

impl Issuers {
    pub(crate) fn new(db: Database) -> Self {
        Self { db }
    }
}

#[async_trait]
impl IssuerRepository for Issuers {
    async fn create(&self, issuer: &Issuer) -> RepoResult<()> {
        let row = IssuerRow::from(issuer);
        let owner = issuer.owner_id;
        self.db
            .write(move |conn| {
                if let Some(owner) = owner {
                    require_user(conn, owner)?;
                }
                diesel::insert_into(issuers::table)
                    .values(&row)
                    .execute(conn)?;
                Ok(())
            })
            .await
    }

    async fn get(&self, id: IssuerId) -> RepoResult<Issuer> {
        self.db
            .run(move |conn| {
                let row = issuers::table
                    .find(id.to_string())
                    .select(IssuerRow::as_select())
                    .first(conn)
                    .optional()?
                    .ok_or_else(|| not_found("issuer", id))?;
                Ok(Issuer::try_from(row)?)
            })
            .await
    }

    async fn update(&self, issuer: &Issuer) -> RepoResult<()> {
        let row = IssuerRow::from(issuer);
        let id = issuer.id;
        self.db
            .write(move |conn| {
                let changed = diesel::update(issuers::table.find(id.to_string()))
                    .set(row.changes())
                    .execute(conn)?;
                if changed == 0 {
                    return Err(not_found("issuer", id));
                }
                Ok(())
            })
            .await
    }

    async fn delete(&self, id: IssuerId, mode: DeleteMode) -> RepoResult<()> {
        self.db
            .write(move |conn| {
                let key = id.to_string();
                if !issuer_exists(conn, &key)? {
                    return Err(not_found("issuer", id));
                }
                // Awards carry their badge class's issuer (the composite
                // foreign key guarantees it), so one indexed lookup finds
                // every award of every badge class of this issuer.
                let awards = assertions::table.filter(assertions::issuer_id.eq(&key));
                let awarded: i64 = awards.count().get_result(conn)?;
                if awarded > 0 {
                    match mode {
                        DeleteMode::Restrict => {
                            return Err(has_awards("issuer", id, awarded).into())
                        }
                        DeleteMode::Cascade => {
                            diesel::delete(awards).execute(conn)?;
                        }
                    }
                }
                diesel::delete(badge_classes::table.filter(badge_classes::issuer_id.eq(&key)))
                    .execute(conn)?;
                // API keys scoped to this issuer go with it (ON DELETE CASCADE).
                diesel::delete(issuers::table.find(&key)).execute(conn)?;
                Ok(())
            })
            .await
    }

    async fn list(&self, filter: &IssuerFilter, page: PageRequest) -> RepoResult<Page<Issuer>> {
        let owner = filter.owner_id.map(|id| id.to_string());
        let (limit, offset) = limit_offset(page);
        self.db
            .read(move |conn| {
                let filtered = || {
                    let mut query = issuers::table.into_boxed();
                    if let Some(owner) = &owner {
                        query = query.filter(issuers::owner_id.eq(owner));
                    }
                    query
                };
                let count: i64 = filtered().count().get_result(conn)?;
                let rows: Vec<IssuerRow> = filtered()
                    .select(IssuerRow::as_select())
                    .order((issuers::created_at.asc(), issuers::id.asc()))
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
