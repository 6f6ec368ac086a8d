//! Badge classes (achievements).

use async_trait::async_trait;
use diesel::dsl::{exists, select};
use diesel::prelude::*;
use openbadges_domain::ports::{BadgeClassFilter, BadgeClassRepository, DeleteMode, RepoResult};
use openbadges_domain::{BadgeClass, BadgeClassId, Issuer, Page, PageRequest};

use super::{decode_all, limit_offset, not_found, require_issuer, total};
use openbadges_store_support::refusals::has_awards;

use crate::pool::Database;
use crate::rows::{BadgeClassRow, IssuerRow};
use crate::schema::{assertions, badge_classes, issuers};

/// [`BadgeClassRepository`] on SQLite.
pub(crate) struct BadgeClasses {
    db: Database,
}

impl BadgeClasses {
    pub(crate) fn new(db: Database) -> Self {
        Self { db }
    }
}

#[async_trait]
impl BadgeClassRepository for BadgeClasses {
    async fn create(&self, badge_class: &BadgeClass) -> RepoResult<()> {
        let row = BadgeClassRow::try_from(badge_class)?;
        let issuer = badge_class.issuer_id;
        self.db
            .write(move |conn| {
                require_issuer(conn, issuer)?;
                diesel::insert_into(badge_classes::table)
                    .values(&row)
                    .execute(conn)?;
                Ok(())
            })
            .await
    }

    async fn get(&self, id: BadgeClassId) -> RepoResult<BadgeClass> {
        self.db
            .run(move |conn| {
                let row = badge_classes::table
                    .find(id.to_string())
                    .select(BadgeClassRow::as_select())
                    .first(conn)
                    .optional()?
                    .ok_or_else(|| not_found("badge class", id))?;
                Ok(BadgeClass::try_from(row)?)
            })
            .await
    }

    async fn get_with_issuer(&self, id: BadgeClassId) -> RepoResult<(BadgeClass, Issuer)> {
        self.db
            .run(move |conn| {
                let (badge, issuer): (BadgeClassRow, IssuerRow) = badge_classes::table
                    .inner_join(issuers::table.on(issuers::id.eq(badge_classes::issuer_id)))
                    .filter(badge_classes::id.eq(id.to_string()))
                    .select((BadgeClassRow::as_select(), IssuerRow::as_select()))
                    .first(conn)
                    .optional()?
                    .ok_or_else(|| not_found("badge class", id))?;
                Ok((BadgeClass::try_from(badge)?, Issuer::try_from(issuer)?))
            })
            .await
    }

    async fn update(&self, badge_class: &BadgeClass) -> RepoResult<()> {
        let row = BadgeClassRow::try_from(badge_class)?;
        let id = badge_class.id;
        self.db
            .write(move |conn| {
                let changed = diesel::update(badge_classes::table.find(id.to_string()))
                    .set(row.changes())
                    .execute(conn)?;
                if changed == 0 {
                    return Err(not_found("badge class", id));
                }
                Ok(())
            })
            .await
    }

    async fn delete(&self, id: BadgeClassId, mode: DeleteMode) -> RepoResult<()> {
        self.db
            .write(move |conn| {
                let key = id.to_string();
                let found: bool =
                    select(exists(badge_classes::table.find(&key))).get_result(conn)?;
                if !found {
                    return Err(not_found("badge class", id));
                }
                let awards = assertions::table.filter(assertions::badge_class_id.eq(&key));
                let awarded: i64 = awards.count().get_result(conn)?;
                if awarded > 0 {
                    match mode {
                        DeleteMode::Restrict => {
                            return Err(has_awards("badge class", id, awarded).into())
                        }
                        DeleteMode::Cascade => {
                            diesel::delete(awards).execute(conn)?;
                        }
                    }
                }
                diesel::delete(badge_classes::table.find(&key)).execute(conn)?;
                Ok(())
            })
            .await
    }

    async fn list(
        &self,
        filter: &BadgeClassFilter,
        page: PageRequest,
    ) -> RepoResult<Page<BadgeClass>> {
        let issuer = filter.issuer_id.map(|id| id.to_string());
        let (limit, offset) = limit_offset(page);
        self.db
            .read(move |conn| {
                let filtered = || {
                    let mut query = badge_classes::table.into_boxed();
                    if let Some(issuer) = &issuer {
                        query = query.filter(badge_classes::issuer_id.eq(issuer));
                    }
                    query
                };
                let count: i64 = filtered().count().get_result(conn)?;
                let rows: Vec<BadgeClassRow> = filtered()
                    .select(BadgeClassRow::as_select())
                    .order((badge_classes::created_at.asc(), badge_classes::id.asc()))
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
