use std::collections::HashMap;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use openbadges_domain::ports::*;
use openbadges_domain::*;
use openbadges_store_support::ahead::prepare_ahead;
use uuid::Uuid;

use crate::errors::Failure;
use crate::rows::*;
use crate::schema::*;

use super::learners::{link_awards, may_have_holder};
use super::outbox::insert_notifications;
use super::{
    blocking, decode, decode_all, in_transaction, limit_offset, not_found, reading, to_page,
    INSERT_CHUNK,
};

/// Awards on PostgreSQL.
pub(crate) struct PgAssertions(pub(crate) super::Pools);

/// Each badge class looked up so far in a transaction, with its issuer
/// (`None`: there is no such badge class).
type IssuerOf = HashMap<Uuid, Option<Uuid>>;

/// Checks each award's badge class exists and belongs to the award's issuer,
/// looking up only the badge classes `issuer_of` does not know yet.
fn check_badge_classes(
    conn: &mut PgConnection,
    awards: &[Assertion],
    issuer_of: &mut IssuerOf,
) -> Result<(), Failure> {
    for award in awards {
        let (badge_class_id, issuer_id) =
            (award.badge_class_id.as_uuid(), award.issuer_id.as_uuid());
        let issuer = match issuer_of.get(&badge_class_id) {
            Some(issuer) => *issuer,
            None => {
                let issuer = badge_classes::table
                    .find(badge_class_id)
                    .select(badge_classes::issuer_id)
                    .first::<Uuid>(conn)
                    .optional()?;
                issuer_of.insert(badge_class_id, issuer);
                issuer
            }
        };
        match issuer {
            None => {
                return Err(DomainError::MissingReference {
                    entity: "badge class",
                    id: badge_class_id.to_string(),
                }
                .into())
            }
            Some(issuer) if issuer != issuer_id => {
                return Err(DomainError::invalid(
                    "issuer",
                    format!(
                        "badge class {badge_class_id} belongs to issuer {issuer}, not {issuer_id}"
                    ),
                )
                .into())
            }
            Some(_) => {}
        }
    }
    Ok(())
}

/// Checks the awards' badge classes and issuers, then inserts their rows
/// in one statement: at most `INSERT_CHUNK` awards. The caller holds the
/// transaction.
fn insert_assertions(
    conn: &mut PgConnection,
    awards: &[Assertion],
    rows: &[AssertionRow],
    issuer_of: &mut IssuerOf,
) -> Result<(), Failure> {
    check_badge_classes(conn, awards, issuer_of)?;
    diesel::insert_into(assertions::table)
        .values(rows)
        .execute(conn)?;
    Ok(())
}

/// Stores one award, its backpack links and its e-mail in one transaction.
/// Its badge class is checked only if the database refuses the row: the
/// foreign key on (badge class, issuer) refuses exactly the awards
/// [`check_badge_classes`] would, and the check, run then, says which way,
/// as the repositories decide such errors. A single issuance saves a
/// round trip per request so.
///
/// The usual award (no e-mail to queue, to an address no learner has
/// verified) is its row alone: one statement, which PostgreSQL commits by
/// itself, instead of `BEGIN`, the row, the learners' lookup and `COMMIT`,
/// four round trips. Whether a learner verified the address is read just
/// before; one verifying meanwhile is no different from one verifying
/// while the transaction below is open: each links the awards it sees.
fn insert_one(
    conn: &mut PgConnection,
    award: &Assertion,
    notification: Option<&openbadges_domain::mail::Notification>,
) -> Result<(), Failure> {
    let award = std::slice::from_ref(award);
    let alone = notification.is_none() && !may_have_holder(conn, &award[0])?;
    let row = AssertionRow::from(&award[0]);
    let insert_row = |conn: &mut PgConnection| -> Result<(), Failure> {
        diesel::insert_into(assertions::table)
            .values(&row)
            .execute(conn)?;
        Ok(())
    };
    let stored = if alone {
        insert_row(conn)
    } else {
        in_transaction(conn, |conn| {
            insert_row(conn)?;
            link_awards(conn, award, Timestamp::now())?;
            insert_notifications(conn, notification.map_or(&[], std::slice::from_ref))
        })
    };
    match stored {
        Err(Failure::Query(diesel::result::Error::DatabaseError(
            diesel::result::DatabaseErrorKind::ForeignKeyViolation,
            _,
        ))) => {
            check_badge_classes(conn, award, &mut IssuerOf::new())?;
            Err(DomainError::ConcurrentChange.into())
        }
        other => other,
    }
}

#[async_trait]
impl AssertionRepository for PgAssertions {
    async fn create(&self, assertion: &Assertion) -> RepoResult<()> {
        let award = assertion.clone();
        blocking(&self.0.primary, move |conn| insert_one(conn, &award, None)).await
    }

    async fn create_notifying(
        &self,
        assertion: &Assertion,
        notification: &openbadges_domain::mail::Notification,
    ) -> RepoResult<()> {
        let award = assertion.clone();
        let notification = notification.clone();
        blocking(&self.0.primary, move |conn| {
            insert_one(conn, &award, Some(&notification))
        })
        .await
    }

    async fn create_many(&self, mut batch: AwardBatch) -> RepoResult<AwardBatch> {
        if batch.is_empty() {
            return Ok(batch);
        }
        blocking(&self.0.primary, move |conn| {
            in_transaction(conn, |conn| {
                // Read out of the batch a statement's worth at a time, made
                // into rows (their credentials packed) on a second thread.
                let mut issuer_of = IssuerOf::new();
                let now = Timestamp::now();
                prepare_ahead(
                    batch.chunks(INSERT_CHUNK),
                    |awards| {
                        let awards = awards?;
                        let rows: Vec<AssertionRow> =
                            awards.iter().map(AssertionRow::from).collect();
                        Ok::<_, Failure>((awards, rows))
                    },
                    |(awards, rows)| {
                        insert_assertions(conn, &awards, &rows, &mut issuer_of)?;
                        link_awards(conn, &awards, now)
                    },
                )?;
                insert_notifications(conn, batch.notifications())
            })?;
            Ok::<_, Failure>(batch)
        })
        .await
    }

    async fn get(&self, id: AssertionId) -> RepoResult<Assertion> {
        reading(&self.0, move |conn| {
            assertions::table
                .find(id.as_uuid())
                .select(AssertionRow::as_select())
                .first(conn)
                .optional()?
                .ok_or_else(|| not_found("assertion", id))
                .and_then(decode)
        })
        .await
    }

    async fn update(&self, assertion: &Assertion) -> RepoResult<()> {
        let row = AssertionRow::from(assertion);
        blocking(&self.0.primary, move |conn| {
            let changed = diesel::update(assertions::table.find(row.id))
                .set((
                    assertions::recipient_type.eq(&row.recipient_type),
                    assertions::recipient_identity.eq(&row.recipient_identity),
                    assertions::recipient_hashed.eq(row.recipient_hashed),
                    assertions::recipient_salt.eq(&row.recipient_salt),
                    assertions::recipient_key.eq(&row.recipient_key),
                    assertions::issued_on.eq(row.issued_on),
                    assertions::expires.eq(row.expires),
                    assertions::evidence.eq(&row.evidence),
                    assertions::narrative.eq(&row.narrative),
                    assertions::image.eq(&row.image),
                    assertions::updated_at.eq(row.updated_at),
                    assertions::details.eq(&row.details),
                    assertions::issued_credential.eq(&row.issued_credential),
                ))
                .execute(conn)?;
            if changed == 0 {
                return Err(not_found("assertion", row.id));
            }
            Ok(())
        })
        .await
    }

    async fn set_status(
        &self,
        id: AssertionId,
        from: &CredentialStatus,
        to: &CredentialStatus,
        at: Timestamp,
    ) -> RepoResult<()> {
        let expected = from.as_str();
        let (status, reason, changed_at) = status_columns(to);
        blocking(&self.0.primary, move |conn| {
            in_transaction(conn, |conn| {
                // The status read is part of the condition: a change made
                // since (a revocation) is never overwritten.
                let changed = diesel::update(
                    assertions::table
                        .find(id.as_uuid())
                        .filter(assertions::status.eq(expected)),
                )
                .set((
                    assertions::status.eq(&status),
                    assertions::status_reason.eq(&reason),
                    assertions::status_changed_at.eq(changed_at),
                    assertions::updated_at.eq(stamp(at)),
                ))
                .execute(conn)?;
                if changed == 1 {
                    return Ok(());
                }
                let now: Option<String> = assertions::table
                    .find(id.as_uuid())
                    .select(assertions::status)
                    .first(conn)
                    .optional()?;
                match now {
                    None => Err(not_found("assertion", id.as_uuid())),
                    Some(now) => Err(DomainError::Stale {
                        entity: "assertion",
                        id: id.to_string(),
                        expected: expected.to_string(),
                        actual: now,
                    }
                    .into()),
                }
            })
        })
        .await
    }

    async fn delete(&self, id: AssertionId) -> RepoResult<()> {
        blocking(&self.0.primary, move |conn| {
            let deleted = diesel::delete(assertions::table.find(id.as_uuid())).execute(conn)?;
            if deleted == 0 {
                return Err(not_found("assertion", id));
            }
            Ok(())
        })
        .await
    }

    async fn list(
        &self,
        filter: &AssertionFilter,
        page: PageRequest,
    ) -> RepoResult<Page<Assertion>> {
        let filter = filter.clone();
        let (limit, offset) = limit_offset(page);
        reading(&self.0, move |conn| {
            in_transaction(conn, |conn| {
                let rows = assertion_query(&filter)
                    .order((assertions::created_at.asc(), assertions::id.asc()))
                    .limit(limit)
                    .offset(offset)
                    .select(AssertionRow::as_select())
                    .load(conn)?;
                // A page that is not full tells the total: no `COUNT(*)` then.
                let total = match page.total_from(rows.len()) {
                    Some(total) => i64::try_from(total).unwrap_or(i64::MAX),
                    None => assertion_query(&filter).count().get_result(conn)?,
                };
                to_page(rows, total)
            })
        })
        .await
    }

    async fn list_after(
        &self,
        filter: &AssertionFilter,
        after: Option<Cursor>,
        limit: u32,
    ) -> RepoResult<Vec<Assertion>> {
        let filter = filter.clone();
        let after = after.map(|cursor| (cursor.created_at().as_datetime(), cursor.id()));
        let limit = i64::from(limit);
        reading(&self.0, move |conn| {
            // One snapshot: the keys of an owner's awards and the awards
            // loaded by those keys agree.
            in_snapshot(conn, |conn| {
                // When it expects few matches, the planner prefers a bitmap
                // scan and a sort of every match after the cursor to an
                // index scan in list order that stops after `limit` rows;
                // the first is cheaper for small lists and slower the
                // deeper a large list is walked. Each index seeked here
                // ends in (created_at, id), so without the sort the plan is
                // always the ordered scan.
                diesel::sql_query("SET LOCAL enable_sort = off").execute(conn)?;
                let rows = match seek(conn, filter.clone())? {
                    Seek::Nothing => Vec::new(),
                    Seek::Range(filter) => after_cursor(assertion_query(&filter), after)
                        .select(AssertionRow::as_select())
                        .limit(limit)
                        .load(conn)?,
                    Seek::Issuers(owned) => {
                        let mut keys: Vec<(DateTime<Utc>, Uuid)> = Vec::new();
                        for issuer in owned {
                            keys.extend(
                                after_cursor(
                                    assertions::table
                                        .filter(assertions::issuer_id.eq(issuer))
                                        .into_boxed(),
                                    after,
                                )
                                .select((assertions::created_at, assertions::id))
                                .limit(limit)
                                .load::<(DateTime<Utc>, Uuid)>(conn)?,
                            );
                        }
                        keys.sort_unstable();
                        keys.truncate(usize::try_from(limit).unwrap_or(usize::MAX));
                        let ids: Vec<Uuid> = keys.into_iter().map(|(_, id)| id).collect();
                        let rows = assertions::table
                            .filter(assertions::id.eq_any(ids))
                            .select(AssertionRow::as_select())
                            .load(conn)?;
                        let mut awards = rows
                            .into_iter()
                            .map(Assertion::try_from)
                            .collect::<RepoResult<Vec<_>>>()?;
                        awards.sort_unstable_by_key(|a| (a.created_at, a.id.as_uuid()));
                        return Ok(awards);
                    }
                };
                decode_all(rows)
            })
        })
        .await
    }
}

/// The awards matching every given filter, in no particular order.
fn assertion_query(filter: &AssertionFilter) -> assertions::BoxedQuery<'static, diesel::pg::Pg> {
    let mut query = assertions::table.into_boxed();
    if let Some(badge) = filter.badge_class_id {
        query = query.filter(assertions::badge_class_id.eq(badge.as_uuid()));
    }
    if let Some(issuer) = filter.issuer_id {
        query = query.filter(assertions::issuer_id.eq(issuer.as_uuid()));
    }
    if let Some(key) = &filter.recipient_key {
        query = query.filter(assertions::recipient_key.eq(key.clone()));
    }
    if let Some(owner) = filter.owner_id {
        let owned = issuers::table
            .filter(issuers::owner_id.eq(owner.as_uuid()))
            .select(issuers::id);
        query = query.filter(assertions::issuer_id.eq_any(owned));
    }
    query
}

/// Runs read-only `work` in one `REPEATABLE READ` transaction: every
/// statement sees the same snapshot.
fn in_snapshot<T>(
    conn: &mut PgConnection,
    work: impl FnOnce(&mut PgConnection) -> Result<T, Failure>,
) -> Result<T, Failure> {
    conn.build_transaction()
        .repeatable_read()
        .read_only()
        .run(work)
}

/// How a cursor page is read: always by seeking one index range that ends
/// in `(created_at, id)` and stopping after `limit` rows, so that a page
/// costs the same however deep it is and however large the table.
enum Seek {
    /// The filters contradict each other (a badge class of another
    /// issuer, an issuer of another owner): nothing matches.
    Nothing,
    /// One range of the index of the filter's column: badge class, issuer,
    /// recipient, or none (creation order).
    Range(AssertionFilter),
    /// An owner's awards: each of their issuers' ranges, merged.
    Issuers(Vec<Uuid>),
}

/// Settles, with one lookup, what a badge class or an issuer implies about
/// the other filters, so that one index serves the page. A badge class has
/// one issuer, which has one owner: left to the planner, `badge_class_id =
/// $1 AND issuer_id = $2` may read the badge class's awards through a
/// bitmap and sort them; and awards of an owner's issuers lie in several
/// ranges, which no single index scan returns in list order.
fn seek(conn: &mut PgConnection, mut filter: AssertionFilter) -> Result<Seek, Failure> {
    if let Some(badge) = filter.badge_class_id {
        let issuer: Option<Uuid> = badge_classes::table
            .find(badge.as_uuid())
            .select(badge_classes::issuer_id)
            .first(conn)
            .optional()?;
        match issuer {
            None => return Ok(Seek::Nothing),
            Some(issuer)
                if filter
                    .issuer_id
                    .is_some_and(|wanted| wanted.as_uuid() != issuer) =>
            {
                return Ok(Seek::Nothing)
            }
            Some(issuer) => filter.issuer_id = Some(IssuerId::from(issuer)),
        }
    }
    if let (Some(issuer), Some(owner)) = (filter.issuer_id, filter.owner_id) {
        let owned: bool = diesel::select(diesel::dsl::exists(
            issuers::table
                .find(issuer.as_uuid())
                .filter(issuers::owner_id.eq(owner.as_uuid())),
        ))
        .get_result(conn)?;
        if !owned {
            return Ok(Seek::Nothing);
        }
        filter.owner_id = None;
    }
    if filter.badge_class_id.is_some() {
        // Implied by the badge class, and checked above.
        filter.issuer_id = None;
    }
    match filter.owner_id {
        Some(owner) if filter.recipient_key.is_none() => {
            let owned = issuers::table
                .filter(issuers::owner_id.eq(owner.as_uuid()))
                .select(issuers::id)
                .load(conn)?;
            Ok(Seek::Issuers(owned))
        }
        // A recipient's awards are few: their index, the owner a filter.
        _ => Ok(Seek::Range(filter)),
    }
}

/// The awards of `query` after the cursor, in list order; the row
/// comparison is an index condition on `(…, created_at, id)`.
fn after_cursor(
    query: assertions::BoxedQuery<'static, diesel::pg::Pg>,
    after: Option<(DateTime<Utc>, Uuid)>,
) -> assertions::BoxedQuery<'static, diesel::pg::Pg> {
    let query = match after {
        Some((created_at, id)) => query.filter(
            diesel::dsl::sql::<diesel::sql_types::Bool>(
                "(assertions.created_at, assertions.id) > (",
            )
            .bind::<diesel::sql_types::Timestamptz, _>(created_at)
            .sql(", ")
            .bind::<diesel::sql_types::Uuid, _>(id)
            .sql(")"),
        ),
        None => query,
    };
    query.order((assertions::created_at.asc(), assertions::id.asc()))
}
