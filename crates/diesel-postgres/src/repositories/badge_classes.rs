use async_trait::async_trait;
use diesel::prelude::*;
use openbadges_domain::ports::*;
use openbadges_domain::*;

use openbadges_store_support::refusals::has_awards;

use crate::rows::*;
use crate::schema::*;

use super::{blocking, decode, in_transaction, limit_offset, not_found, reading, to_page};

/// Badge classes on PostgreSQL.
pub(crate) struct PgBadgeClasses(pub(crate) super::Pools);

#[async_trait]
impl BadgeClassRepository for PgBadgeClasses {
    async fn create(&self, badge_class: &BadgeClass) -> RepoResult<()> {
        let row = BadgeClassRow::from(badge_class);
        blocking(&self.0.primary, move |conn| {
            in_transaction(conn, |conn| {
                let issuer: i64 = issuers::table
                    .find(row.issuer_id)
                    .count()
                    .get_result(conn)?;
                if issuer == 0 {
                    return Err(DomainError::MissingReference {
                        entity: "issuer",
                        id: row.issuer_id.to_string(),
                    }
                    .into());
                }
                diesel::insert_into(badge_classes::table)
                    .values(&row)
                    .execute(conn)?;
                Ok(())
            })
        })
        .await
    }

    async fn get(&self, id: BadgeClassId) -> RepoResult<BadgeClass> {
        reading(&self.0, move |conn| {
            badge_classes::table
                .find(id.as_uuid())
                .select(BadgeClassRow::as_select())
                .first(conn)
                .optional()?
                .ok_or_else(|| not_found("badge class", id))
                .and_then(decode)
        })
        .await
    }

    async fn get_with_issuer(&self, id: BadgeClassId) -> RepoResult<(BadgeClass, Issuer)> {
        reading(&self.0, move |conn| {
            let (badge, issuer): (BadgeClassRow, IssuerRow) = badge_classes::table
                .inner_join(issuers::table.on(issuers::id.eq(badge_classes::issuer_id)))
                .filter(badge_classes::id.eq(id.as_uuid()))
                .select((BadgeClassRow::as_select(), IssuerRow::as_select()))
                .first(conn)
                .optional()?
                .ok_or_else(|| not_found("badge class", id))?;
            Ok((decode(badge)?, decode(issuer)?))
        })
        .await
    }

    async fn update(&self, badge_class: &BadgeClass) -> RepoResult<()> {
        let row = BadgeClassRow::from(badge_class);
        blocking(&self.0.primary, move |conn| {
            let changed = diesel::update(badge_classes::table.find(row.id))
                .set((
                    badge_classes::name.eq(&row.name),
                    badge_classes::description.eq(&row.description),
                    badge_classes::image.eq(&row.image),
                    badge_classes::criteria_url.eq(&row.criteria_url),
                    badge_classes::criteria_narrative.eq(&row.criteria_narrative),
                    badge_classes::tags.eq(&row.tags),
                    badge_classes::alignments.eq(&row.alignments),
                    badge_classes::version.eq(&row.version),
                    badge_classes::achievement_type.eq(&row.achievement_type),
                    badge_classes::updated_at.eq(row.updated_at),
                    badge_classes::details.eq(&row.details),
                    badge_classes::notify_recipients.eq(row.notify_recipients),
                ))
                .execute(conn)?;
            if changed == 0 {
                return Err(not_found("badge class", row.id));
            }
            Ok(())
        })
        .await
    }

    async fn delete(&self, id: BadgeClassId, mode: DeleteMode) -> RepoResult<()> {
        let id = id.as_uuid();
        blocking(&self.0.primary, move |conn| {
            in_transaction(conn, |conn| {
                let awards = assertions::table.filter(assertions::badge_class_id.eq(id));
                if mode == DeleteMode::Restrict {
                    let awarded: i64 = awards.count().get_result(conn)?;
                    if awarded > 0 {
                        return Err(has_awards("badge class", id, awarded).into());
                    }
                } else {
                    diesel::delete(awards).execute(conn)?;
                }
                let deleted = diesel::delete(badge_classes::table.find(id)).execute(conn)?;
                if deleted == 0 {
                    return Err(not_found("badge class", id));
                }
                Ok(())
            })
        })
        .await
    }

    async fn list(
        &self,
        filter: &BadgeClassFilter,
        page: PageRequest,
    ) -> RepoResult<Page<BadgeClass>> {
        let issuer = filter.issuer_id.map(|i| i.as_uuid());
        let (limit, offset) = limit_offset(page);
        reading(&self.0, move |conn| {
            in_transaction(conn, |conn| {
                let query = || {
                    let mut query = badge_classes::table.into_boxed();
                    if let Some(issuer) = issuer {
                        query = query.filter(badge_classes::issuer_id.eq(issuer));
                    }
                    query
                };
                let total: i64 = query().count().get_result(conn)?;
                let rows = query()
                    .order((badge_classes::created_at.asc(), badge_classes::id.asc()))
                    .limit(limit)
                    .offset(offset)
                    .select(BadgeClassRow::as_select())
                    .load(conn)?;
                to_page(rows, total)
            })
        })
        .await
    }
}
