//! The repository ports on PostgreSQL. Each call checks a connection out of
//! the pool on the blocking thread pool, runs one transaction, and maps
//! errors at the end.

use std::collections::HashMap;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use openbadges_domain::ports::*;
use openbadges_domain::*;
use uuid::Uuid;

use crate::errors::{from_diesel, from_pool};
use crate::pool::PgPool;
use crate::rows::*;
use crate::schema::*;

/// Awards inserted per statement. PostgreSQL caps bind parameters at 65,535
/// per statement (awards have 18 columns); and a chunk is held three times
/// (rows, encoded parameters, libpq's copy), about 6 KiB per signed
/// credential, so a smaller chunk keeps a batch's peak down at no cost in
/// speed (a statement per 250 awards is 40 round trips for 10,000).
const INSERT_CHUNK: usize = 250;

/// How long a request waits for a connection when the pool has none: long
/// enough to open one to a healthy server (TLS included), short enough to
/// answer 503 quickly while the database is unreachable.
const OUTAGE_CHECKOUT_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(1);

/// Runs `work` with a pooled connection on the blocking thread pool.
pub(crate) async fn blocking<T, F>(pool: &PgPool, work: F) -> RepoResult<T>
where
    T: Send + 'static,
    F: FnOnce(&mut PgConnection) -> RepoResult<T> + Send + 'static,
{
    let pool = pool.clone();
    tokio::task::spawn_blocking(move || {
        // With no connection at all the database is most likely down (a
        // healthy pool keeps the connections it opened): wait briefly, so
        // that requests fail fast with 503 during an outage instead of each
        // holding a worker for the whole connect timeout.
        let mut conn = if pool.state().connections == 0 {
            pool.get_timeout(OUTAGE_CHECKOUT_TIMEOUT)
        } else {
            pool.get()
        }
        .map_err(from_pool)?;
        let outcome = work(&mut conn);
        if matches!(
            outcome,
            Err(DomainError::Unavailable(_) | DomainError::Internal(_))
        ) {
            conn.suspect();
        }
        outcome
    })
    .await
    .map_err(|e| DomainError::Internal(format!("database task failed: {e}")))?
}

/// Runs `work` in a transaction; diesel errors are mapped with `entity`.
fn in_transaction<T>(
    conn: &mut PgConnection,
    entity: &'static str,
    work: impl FnOnce(&mut PgConnection) -> RepoResult<T>,
) -> RepoResult<T> {
    conn.transaction::<T, TxError, _>(|conn| work(conn).map_err(TxError::Domain))
        .map_err(|e| match e {
            TxError::Domain(e) => e,
            TxError::Diesel(e) => from_diesel(entity, e),
        })
}

/// Lets a transaction closure return domain errors while diesel can still
/// report commit failures.
enum TxError {
    Domain(DomainError),
    Diesel(diesel::result::Error),
}

impl From<diesel::result::Error> for TxError {
    fn from(e: diesel::result::Error) -> Self {
        Self::Diesel(e)
    }
}

fn not_found(entity: &'static str, id: impl ToString) -> DomainError {
    DomainError::NotFound {
        entity,
        id: id.to_string(),
    }
}

fn page_bounds(page: PageRequest) -> (i64, i64) {
    // PageRequest bounds both values within i64.
    (
        i64::from(page.limit()),
        i64::try_from(page.offset()).unwrap_or(i64::MAX),
    )
}

fn to_page<R, T>(rows: Vec<R>, total: i64) -> RepoResult<Page<T>>
where
    T: TryFrom<R, Error = DomainError>,
{
    Ok(Page {
        items: rows
            .into_iter()
            .map(T::try_from)
            .collect::<Result<_, _>>()?,
        total: u64::try_from(total).unwrap_or(0),
    })
}

/// Issuers on PostgreSQL.
pub(crate) struct PgIssuers(pub(crate) PgPool);

#[async_trait]
impl IssuerRepository for PgIssuers {
    async fn create(&self, issuer: &Issuer) -> RepoResult<()> {
        let row = IssuerRow::from(issuer);
        blocking(&self.0, move |conn| {
            diesel::insert_into(issuers::table)
                .values(&row)
                .execute(conn)
                .map(drop)
                .map_err(|e| from_diesel("issuer", e))
        })
        .await
    }

    async fn get(&self, id: IssuerId) -> RepoResult<Issuer> {
        blocking(&self.0, move |conn| {
            issuers::table
                .find(id.as_uuid())
                .select(IssuerRow::as_select())
                .first(conn)
                .optional()
                .map_err(|e| from_diesel("issuer", e))?
                .ok_or_else(|| not_found("issuer", id))?
                .try_into()
        })
        .await
    }

    async fn update(&self, issuer: &Issuer) -> RepoResult<()> {
        let row = IssuerRow::from(issuer);
        blocking(&self.0, move |conn| {
            let changed = diesel::update(issuers::table.find(row.id))
                .set((
                    issuers::name.eq(&row.name),
                    issuers::url.eq(&row.url),
                    issuers::email.eq(&row.email),
                    issuers::description.eq(&row.description),
                    issuers::image.eq(&row.image),
                    issuers::updated_at.eq(row.updated_at),
                ))
                .execute(conn)
                .map_err(|e| from_diesel("issuer", e))?;
            if changed == 0 {
                return Err(not_found("issuer", row.id));
            }
            Ok(())
        })
        .await
    }

    async fn delete(&self, id: IssuerId, mode: DeleteMode) -> RepoResult<()> {
        let id = id.as_uuid();
        blocking(&self.0, move |conn| {
            in_transaction(conn, "issuer", |conn| {
                let run = |e| from_diesel("issuer", e);
                let exists: i64 = issuers::table.find(id).count().get_result(conn).map_err(run)?;
                if exists == 0 {
                    return Err(not_found("issuer", id));
                }
                if mode == DeleteMode::Restrict {
                    let awarded: i64 = assertions::table
                        .filter(assertions::issuer_id.eq(id))
                        .count()
                        .get_result(conn)
                        .map_err(run)?;
                    if awarded > 0 {
                        return Err(DomainError::Conflict(format!(
                            "issuer {id} has {awarded} awarded credential(s); delete with cascade to remove them too"
                        )));
                    }
                } else {
                    diesel::delete(assertions::table.filter(assertions::issuer_id.eq(id)))
                        .execute(conn)
                        .map_err(run)?;
                }
                diesel::delete(badge_classes::table.filter(badge_classes::issuer_id.eq(id)))
                    .execute(conn)
                    .map_err(run)?;
                diesel::delete(issuers::table.find(id)).execute(conn).map_err(run)?;
                Ok(())
            })
        })
        .await
    }

    async fn list(&self, filter: &IssuerFilter, page: PageRequest) -> RepoResult<Page<Issuer>> {
        let owner = filter.owner_id.map(|o| o.as_uuid());
        let (limit, offset) = page_bounds(page);
        blocking(&self.0, move |conn| {
            in_transaction(conn, "issuer", |conn| {
                let query = || {
                    let mut query = issuers::table.into_boxed();
                    if let Some(owner) = owner {
                        query = query.filter(issuers::owner_id.eq(owner));
                    }
                    query
                };
                let run = |e| from_diesel("issuer", e);
                let total: i64 = query().count().get_result(conn).map_err(run)?;
                let rows = query()
                    .order((issuers::created_at.asc(), issuers::id.asc()))
                    .limit(limit)
                    .offset(offset)
                    .select(IssuerRow::as_select())
                    .load(conn)
                    .map_err(run)?;
                to_page(rows, total)
            })
        })
        .await
    }
}

/// Badge classes on PostgreSQL.
pub(crate) struct PgBadgeClasses(pub(crate) PgPool);

#[async_trait]
impl BadgeClassRepository for PgBadgeClasses {
    async fn create(&self, badge_class: &BadgeClass) -> RepoResult<()> {
        let row = BadgeClassRow::from(badge_class);
        blocking(&self.0, move |conn| {
            in_transaction(conn, "badge class", |conn| {
                let run = |e| from_diesel("badge class", e);
                let issuer: i64 = issuers::table
                    .find(row.issuer_id)
                    .count()
                    .get_result(conn)
                    .map_err(run)?;
                if issuer == 0 {
                    return Err(DomainError::MissingReference {
                        entity: "issuer",
                        id: row.issuer_id.to_string(),
                    });
                }
                diesel::insert_into(badge_classes::table)
                    .values(&row)
                    .execute(conn)
                    .map(drop)
                    .map_err(run)
            })
        })
        .await
    }

    async fn get(&self, id: BadgeClassId) -> RepoResult<BadgeClass> {
        blocking(&self.0, move |conn| {
            badge_classes::table
                .find(id.as_uuid())
                .select(BadgeClassRow::as_select())
                .first(conn)
                .optional()
                .map_err(|e| from_diesel("badge class", e))?
                .ok_or_else(|| not_found("badge class", id))?
                .try_into()
        })
        .await
    }

    async fn update(&self, badge_class: &BadgeClass) -> RepoResult<()> {
        let row = BadgeClassRow::from(badge_class);
        blocking(&self.0, move |conn| {
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
                ))
                .execute(conn)
                .map_err(|e| from_diesel("badge class", e))?;
            if changed == 0 {
                return Err(not_found("badge class", row.id));
            }
            Ok(())
        })
        .await
    }

    async fn delete(&self, id: BadgeClassId, mode: DeleteMode) -> RepoResult<()> {
        let id = id.as_uuid();
        blocking(&self.0, move |conn| {
            in_transaction(conn, "badge class", |conn| {
                let run = |e| from_diesel("badge class", e);
                let awards = assertions::table.filter(assertions::badge_class_id.eq(id));
                if mode == DeleteMode::Restrict {
                    let awarded: i64 = awards.count().get_result(conn).map_err(run)?;
                    if awarded > 0 {
                        return Err(DomainError::Conflict(format!(
                            "badge class {id} has {awarded} awarded credential(s); delete with cascade to remove them too"
                        )));
                    }
                } else {
                    diesel::delete(awards).execute(conn).map_err(run)?;
                }
                let deleted = diesel::delete(badge_classes::table.find(id))
                    .execute(conn)
                    .map_err(run)?;
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
        let (limit, offset) = page_bounds(page);
        blocking(&self.0, move |conn| {
            in_transaction(conn, "badge class", |conn| {
                let query = || {
                    let mut query = badge_classes::table.into_boxed();
                    if let Some(issuer) = issuer {
                        query = query.filter(badge_classes::issuer_id.eq(issuer));
                    }
                    query
                };
                let run = |e| from_diesel("badge class", e);
                let total: i64 = query().count().get_result(conn).map_err(run)?;
                let rows = query()
                    .order((badge_classes::created_at.asc(), badge_classes::id.asc()))
                    .limit(limit)
                    .offset(offset)
                    .select(BadgeClassRow::as_select())
                    .load(conn)
                    .map_err(run)?;
                to_page(rows, total)
            })
        })
        .await
    }
}

/// Awards on PostgreSQL.
pub(crate) struct PgAssertions(pub(crate) PgPool);

/// Each badge class looked up so far in a transaction, with its issuer
/// (`None`: there is no such badge class).
type IssuerOf = HashMap<Uuid, Option<Uuid>>;

/// Checks each award's badge class exists and belongs to the award's issuer,
/// looking up only the badge classes `issuer_of` does not know yet.
fn check_badge_classes(
    conn: &mut PgConnection,
    awards: &[Assertion],
    issuer_of: &mut IssuerOf,
) -> RepoResult<()> {
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
                    .optional()
                    .map_err(|e| from_diesel("assertion", e))?;
                issuer_of.insert(badge_class_id, issuer);
                issuer
            }
        };
        match issuer {
            None => {
                return Err(DomainError::MissingReference {
                    entity: "badge class",
                    id: badge_class_id.to_string(),
                })
            }
            Some(issuer) if issuer != issuer_id => {
                return Err(DomainError::invalid(
                    "issuer",
                    format!(
                        "badge class {badge_class_id} belongs to issuer {issuer}, not {issuer_id}"
                    ),
                ))
            }
            Some(_) => {}
        }
    }
    Ok(())
}

/// Checks the awards' badge classes and issuers, then inserts them in one
/// statement: at most `INSERT_CHUNK` awards. The caller holds the
/// transaction.
fn insert_assertions(
    conn: &mut PgConnection,
    awards: &[Assertion],
    issuer_of: &mut IssuerOf,
) -> RepoResult<()> {
    check_badge_classes(conn, awards, issuer_of)?;
    let rows: Vec<AssertionRow> = awards.iter().map(AssertionRow::from).collect();
    diesel::insert_into(assertions::table)
        .values(&rows)
        .execute(conn)
        .map_err(|e| from_diesel("assertion", e))?;
    Ok(())
}

#[async_trait]
impl AssertionRepository for PgAssertions {
    async fn create(&self, assertion: &Assertion) -> RepoResult<()> {
        let award = assertion.clone();
        blocking(&self.0, move |conn| {
            in_transaction(conn, "assertion", |conn| {
                insert_assertions(conn, std::slice::from_ref(&award), &mut IssuerOf::new())
            })
        })
        .await
    }

    async fn create_many(&self, mut batch: AwardBatch) -> RepoResult<AwardBatch> {
        if batch.is_empty() {
            return Ok(batch);
        }
        blocking(&self.0, move |conn| {
            in_transaction(conn, "assertion", |conn| {
                // Read out of the batch a statement's worth at a time.
                let mut issuer_of = IssuerOf::new();
                for chunk in batch.chunks(INSERT_CHUNK) {
                    insert_assertions(conn, &chunk?, &mut issuer_of)?;
                }
                Ok(())
            })?;
            Ok(batch)
        })
        .await
    }

    async fn get(&self, id: AssertionId) -> RepoResult<Assertion> {
        blocking(&self.0, move |conn| {
            assertions::table
                .find(id.as_uuid())
                .select(AssertionRow::as_select())
                .first(conn)
                .optional()
                .map_err(|e| from_diesel("assertion", e))?
                .ok_or_else(|| not_found("assertion", id))?
                .try_into()
        })
        .await
    }

    async fn update(&self, assertion: &Assertion) -> RepoResult<()> {
        let row = AssertionRow::from(assertion);
        blocking(&self.0, move |conn| {
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
                    assertions::issued_credential.eq(&row.issued_credential),
                ))
                .execute(conn)
                .map_err(|e| from_diesel("assertion", e))?;
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
        blocking(&self.0, move |conn| {
            in_transaction(conn, "assertion", |conn| {
                let run = |e| from_diesel("assertion", e);
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
                .execute(conn)
                .map_err(run)?;
                if changed == 1 {
                    return Ok(());
                }
                let now: Option<String> = assertions::table
                    .find(id.as_uuid())
                    .select(assertions::status)
                    .first(conn)
                    .optional()
                    .map_err(run)?;
                match now {
                    None => Err(not_found("assertion", id.as_uuid())),
                    Some(now) => Err(DomainError::Conflict(format!(
                        "credential {id} is {now} now, no longer {expected}; read it again"
                    ))),
                }
            })
        })
        .await
    }

    async fn delete(&self, id: AssertionId) -> RepoResult<()> {
        blocking(&self.0, move |conn| {
            let deleted = diesel::delete(assertions::table.find(id.as_uuid()))
                .execute(conn)
                .map_err(|e| from_diesel("assertion", e))?;
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
        let (limit, offset) = page_bounds(page);
        blocking(&self.0, move |conn| {
            in_transaction(conn, "assertion", |conn| {
                let run = |e| from_diesel("assertion", e);
                let rows = assertion_query(&filter)
                    .order((assertions::created_at.asc(), assertions::id.asc()))
                    .limit(limit)
                    .offset(offset)
                    .select(AssertionRow::as_select())
                    .load(conn)
                    .map_err(run)?;
                // A page that is not full tells the total: no `COUNT(*)` then.
                let total = match page.total_from(rows.len()) {
                    Some(total) => i64::try_from(total).unwrap_or(i64::MAX),
                    None => assertion_query(&filter)
                        .count()
                        .get_result(conn)
                        .map_err(run)?,
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
        blocking(&self.0, move |conn| {
            // One snapshot: the keys of an owner's awards and the awards
            // loaded by those keys agree.
            in_snapshot(conn, "assertion", |conn| {
                let run = |e| from_diesel("assertion", e);
                // When it expects few matches, the planner prefers a bitmap
                // scan and a sort of every match after the cursor to an
                // index scan in list order that stops after `limit` rows;
                // the first is cheaper for small lists and slower the
                // deeper a large list is walked. Each index seeked here
                // ends in (created_at, id), so without the sort the plan is
                // always the ordered scan.
                diesel::sql_query("SET LOCAL enable_sort = off")
                    .execute(conn)
                    .map_err(run)?;
                let rows = match seek(conn, filter)? {
                    Seek::Nothing => Vec::new(),
                    Seek::Range(filter) => after_cursor(assertion_query(&filter), after)
                        .select(AssertionRow::as_select())
                        .limit(limit)
                        .load(conn)
                        .map_err(run)?,
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
                                .load::<(DateTime<Utc>, Uuid)>(conn)
                                .map_err(run)?,
                            );
                        }
                        keys.sort_unstable();
                        keys.truncate(usize::try_from(limit).unwrap_or(usize::MAX));
                        let ids: Vec<Uuid> = keys.into_iter().map(|(_, id)| id).collect();
                        let rows = assertions::table
                            .filter(assertions::id.eq_any(ids))
                            .select(AssertionRow::as_select())
                            .load(conn)
                            .map_err(run)?;
                        let mut awards = rows
                            .into_iter()
                            .map(Assertion::try_from)
                            .collect::<RepoResult<Vec<_>>>()?;
                        awards.sort_unstable_by_key(|a| (a.created_at, a.id.as_uuid()));
                        return Ok(awards);
                    }
                };
                rows.into_iter().map(Assertion::try_from).collect()
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
    entity: &'static str,
    work: impl FnOnce(&mut PgConnection) -> RepoResult<T>,
) -> RepoResult<T> {
    conn.build_transaction()
        .repeatable_read()
        .read_only()
        .run::<T, TxError, _>(|conn| work(conn).map_err(TxError::Domain))
        .map_err(|e| match e {
            TxError::Domain(e) => e,
            TxError::Diesel(e) => from_diesel(entity, e),
        })
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
fn seek(conn: &mut PgConnection, mut filter: AssertionFilter) -> RepoResult<Seek> {
    let run = |e| from_diesel("assertion", e);
    if let Some(badge) = filter.badge_class_id {
        let issuer: Option<Uuid> = badge_classes::table
            .find(badge.as_uuid())
            .select(badge_classes::issuer_id)
            .first(conn)
            .optional()
            .map_err(run)?;
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
        .get_result(conn)
        .map_err(run)?;
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
                .load(conn)
                .map_err(run)?;
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

/// Users on PostgreSQL.
pub(crate) struct PgUsers(pub(crate) PgPool);

#[async_trait]
impl UserRepository for PgUsers {
    async fn create(&self, user: &User) -> RepoResult<()> {
        let row = UserRow::from(user);
        blocking(&self.0, move |conn| {
            diesel::insert_into(users::table)
                .values(&row)
                .execute(conn)
                .map(drop)
                .map_err(|e| from_diesel("user", e))
        })
        .await
    }

    async fn get(&self, id: UserId) -> RepoResult<User> {
        blocking(&self.0, move |conn| {
            users::table
                .find(id.as_uuid())
                .select(UserRow::as_select())
                .first(conn)
                .optional()
                .map_err(|e| from_diesel("user", e))?
                .ok_or_else(|| not_found("user", id))?
                .try_into()
        })
        .await
    }

    async fn find_by_username(&self, username: &str) -> RepoResult<Option<User>> {
        let username = username.to_owned();
        blocking(&self.0, move |conn| {
            users::table
                .filter(users::username.eq(username))
                .select(UserRow::as_select())
                .first(conn)
                .optional()
                .map_err(|e| from_diesel("user", e))?
                .map(User::try_from)
                .transpose()
        })
        .await
    }

    async fn find_by_email(&self, email: &str) -> RepoResult<Option<User>> {
        let email = email.to_owned();
        blocking(&self.0, move |conn| {
            users::table
                .filter(users::email.eq(email))
                .select(UserRow::as_select())
                .first(conn)
                .optional()
                .map_err(|e| from_diesel("user", e))?
                .map(User::try_from)
                .transpose()
        })
        .await
    }

    async fn update(&self, id: UserId, changes: &UserUpdate, at: Timestamp) -> RepoResult<User> {
        let columns = UserChangeset::from(changes);
        let bump = i32::from(changes.ends_sessions());
        blocking(&self.0, move |conn| {
            // One statement: the given columns, and the counter raised from
            // its stored value, never from a value read earlier.
            let row = diesel::update(users::table.find(id.as_uuid()))
                .set((
                    &columns,
                    users::session_generation.eq(users::session_generation + bump),
                    users::updated_at.eq(stamp(at)),
                ))
                .returning(UserRow::as_returning())
                .get_result(conn)
                .optional()
                .map_err(|e| from_diesel("user", e))?
                .ok_or_else(|| not_found("user", id.as_uuid()))?;
            User::try_from(row)
        })
        .await
    }

    async fn delete(&self, id: UserId) -> RepoResult<()> {
        blocking(&self.0, move |conn| {
            // The foreign keys remove the user's keys and clear issuer owners.
            let deleted = diesel::delete(users::table.find(id.as_uuid()))
                .execute(conn)
                .map_err(|e| from_diesel("user", e))?;
            if deleted == 0 {
                return Err(not_found("user", id));
            }
            Ok(())
        })
        .await
    }

    async fn list(&self, page: PageRequest) -> RepoResult<Page<User>> {
        let (limit, offset) = page_bounds(page);
        blocking(&self.0, move |conn| {
            in_transaction(conn, "user", |conn| {
                let run = |e| from_diesel("user", e);
                let total: i64 = users::table.count().get_result(conn).map_err(run)?;
                let rows = users::table
                    .order((users::created_at.asc(), users::id.asc()))
                    .limit(limit)
                    .offset(offset)
                    .select(UserRow::as_select())
                    .load(conn)
                    .map_err(run)?;
                to_page(rows, total)
            })
        })
        .await
    }
}

/// API keys on PostgreSQL.
pub(crate) struct PgApiKeys(pub(crate) PgPool);

#[async_trait]
impl ApiKeyRepository for PgApiKeys {
    async fn create(&self, key: &ApiKey) -> RepoResult<()> {
        let row = ApiKeyRow::from(key);
        blocking(&self.0, move |conn| {
            in_transaction(conn, "api key", |conn| {
                let run = |e| from_diesel("api key", e);
                let user: i64 = users::table
                    .find(row.user_id)
                    .count()
                    .get_result(conn)
                    .map_err(run)?;
                if user == 0 {
                    return Err(DomainError::MissingReference {
                        entity: "user",
                        id: row.user_id.to_string(),
                    });
                }
                if let Some(scope) = row.issuer_scope {
                    let issuer: i64 = issuers::table
                        .find(scope)
                        .count()
                        .get_result(conn)
                        .map_err(run)?;
                    if issuer == 0 {
                        return Err(DomainError::MissingReference {
                            entity: "issuer",
                            id: scope.to_string(),
                        });
                    }
                }
                diesel::insert_into(api_keys::table)
                    .values(&row)
                    .execute(conn)
                    .map(drop)
                    .map_err(run)
            })
        })
        .await
    }

    async fn get(&self, id: ApiKeyId) -> RepoResult<ApiKey> {
        blocking(&self.0, move |conn| {
            api_keys::table
                .find(id.as_uuid())
                .select(ApiKeyRow::as_select())
                .first(conn)
                .optional()
                .map_err(|e| from_diesel("api key", e))?
                .ok_or_else(|| not_found("api key", id))?
                .try_into()
        })
        .await
    }

    async fn find_by_hash(&self, hash: &ApiKeyHash) -> RepoResult<Option<ApiKey>> {
        let hash = hash.as_str().to_owned();
        blocking(&self.0, move |conn| {
            api_keys::table
                .filter(api_keys::key_hash.eq(hash))
                .select(ApiKeyRow::as_select())
                .first(conn)
                .optional()
                .map_err(|e| from_diesel("api key", e))?
                .map(ApiKey::try_from)
                .transpose()
        })
        .await
    }

    async fn record_use(&self, id: ApiKeyId, at: Timestamp) -> RepoResult<()> {
        let at = stamp(at);
        blocking(&self.0, move |conn| {
            diesel::update(
                api_keys::table.find(id.as_uuid()).filter(
                    api_keys::last_used_at
                        .is_null()
                        .or(api_keys::last_used_at.lt(at)),
                ),
            )
            .set(api_keys::last_used_at.eq(at))
            .execute(conn)
            .map(drop)
            .map_err(|e| from_diesel("api key", e))
        })
        .await
    }

    async fn revoke(&self, id: ApiKeyId, at: Timestamp) -> RepoResult<ApiKey> {
        let at = stamp(at);
        blocking(&self.0, move |conn| {
            in_transaction(conn, "api key", |conn| {
                let run = |e| from_diesel("api key", e);
                diesel::update(
                    api_keys::table
                        .find(id.as_uuid())
                        .filter(api_keys::revoked_at.is_null()),
                )
                .set(api_keys::revoked_at.eq(at))
                .execute(conn)
                .map_err(run)?;
                let row = api_keys::table
                    .find(id.as_uuid())
                    .select(ApiKeyRow::as_select())
                    .first(conn)
                    .optional()
                    .map_err(run)?
                    .ok_or_else(|| not_found("api key", id.as_uuid()))?;
                ApiKey::try_from(row)
            })
        })
        .await
    }

    async fn delete(&self, id: ApiKeyId) -> RepoResult<()> {
        blocking(&self.0, move |conn| {
            let deleted = diesel::delete(api_keys::table.find(id.as_uuid()))
                .execute(conn)
                .map_err(|e| from_diesel("api key", e))?;
            if deleted == 0 {
                return Err(not_found("api key", id));
            }
            Ok(())
        })
        .await
    }

    async fn list_for_user(&self, user_id: UserId, page: PageRequest) -> RepoResult<Page<ApiKey>> {
        let user = user_id.as_uuid();
        let (limit, offset) = page_bounds(page);
        blocking(&self.0, move |conn| {
            in_transaction(conn, "api key", |conn| {
                let run = |e| from_diesel("api key", e);
                let mine = api_keys::table.filter(api_keys::user_id.eq(user));
                let total: i64 = mine.count().get_result(conn).map_err(run)?;
                let rows = mine
                    .order((api_keys::created_at.asc(), api_keys::id.asc()))
                    .limit(limit)
                    .offset(offset)
                    .select(ApiKeyRow::as_select())
                    .load(conn)
                    .map_err(run)?;
                to_page(rows, total)
            })
        })
        .await
    }
}

/// Signing keys on PostgreSQL.
pub(crate) struct PgSigningKeys(pub(crate) PgPool);

#[async_trait]
impl SigningKeyRepository for PgSigningKeys {
    async fn create(&self, key: &SigningKey) -> RepoResult<()> {
        let row = SigningKeyRow::from(key);
        blocking(&self.0, move |conn| {
            diesel::insert_into(signing_keys::table)
                .values(&row)
                .execute(conn)
                .map(drop)
                .map_err(|e| from_diesel("signing key", e))
        })
        .await
    }

    async fn get(&self, id: SigningKeyId) -> RepoResult<SigningKey> {
        blocking(&self.0, move |conn| {
            signing_keys::table
                .find(id.as_uuid())
                .select(SigningKeyRow::as_select())
                .first(conn)
                .optional()
                .map_err(|e| from_diesel("signing key", e))?
                .ok_or_else(|| not_found("signing key", id))?
                .try_into()
        })
        .await
    }

    async fn active(
        &self,
        issuer_id: IssuerId,
        algorithm: KeyAlgorithm,
    ) -> RepoResult<Option<SigningKey>> {
        blocking(&self.0, move |conn| {
            signing_keys::table
                .filter(signing_keys::issuer_id.eq(issuer_id.as_uuid()))
                .filter(signing_keys::algorithm.eq(algorithm.as_str()))
                .filter(signing_keys::status.eq("active"))
                .select(SigningKeyRow::as_select())
                .first(conn)
                .optional()
                .map_err(|e| from_diesel("signing key", e))?
                .map(SigningKey::try_from)
                .transpose()
        })
        .await
    }

    async fn list_for_issuer(&self, issuer_id: IssuerId) -> RepoResult<Vec<SigningKey>> {
        blocking(&self.0, move |conn| {
            signing_keys::table
                .filter(signing_keys::issuer_id.eq(issuer_id.as_uuid()))
                .order((signing_keys::created_at.asc(), signing_keys::id.asc()))
                .select(SigningKeyRow::as_select())
                .load(conn)
                .map_err(|e| from_diesel("signing key", e))?
                .into_iter()
                .map(SigningKey::try_from)
                .collect()
        })
        .await
    }

    async fn list_verifying(&self, page: PageRequest) -> RepoResult<Page<SigningKey>> {
        let (limit, offset) = page_bounds(page);
        blocking(&self.0, move |conn| {
            in_transaction(conn, "signing key", |conn| {
                let run = |e| from_diesel("signing key", e);
                let verifying = || signing_keys::table.filter(signing_keys::status.ne("revoked"));
                let total: i64 = verifying().count().get_result(conn).map_err(run)?;
                let rows = verifying()
                    .order((signing_keys::created_at.asc(), signing_keys::id.asc()))
                    .limit(limit)
                    .offset(offset)
                    .select(SigningKeyRow::as_select())
                    .load(conn)
                    .map_err(run)?;
                to_page(rows, total)
            })
        })
        .await
    }

    async fn rotate(&self, new: &SigningKey) -> RepoResult<()> {
        let row = SigningKeyRow::from(new);
        blocking(&self.0, move |conn| {
            in_transaction(conn, "signing key", |conn| {
                let run = |e| from_diesel("signing key", e);
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
                .execute(conn)
                .map_err(run)?;
                diesel::insert_into(signing_keys::table)
                    .values(&row)
                    .execute(conn)
                    .map(drop)
                    .map_err(run)
            })
        })
        .await
    }

    async fn revoke(&self, id: SigningKeyId, at: Timestamp) -> RepoResult<()> {
        blocking(&self.0, move |conn| {
            let changed = diesel::update(signing_keys::table.find(id.as_uuid()))
                .set((
                    signing_keys::status.eq("revoked"),
                    signing_keys::revoked_at.eq(at.as_datetime()),
                ))
                .execute(conn)
                .map_err(|e| from_diesel("signing key", e))?;
            if changed == 0 {
                return Err(not_found("signing key", id));
            }
            Ok(())
        })
        .await
    }
}

/// Status lists on PostgreSQL.
pub(crate) struct PgStatusLists(pub(crate) PgPool);

/// `status <> 'active'` as a literal, the condition of the partial indexes
/// on flagged awards (a planner matches it only when written out).
fn flagged_rows() -> diesel::expression::SqlLiteral<diesel::sql_types::Bool> {
    diesel::dsl::sql::<diesel::sql_types::Bool>("status <> 'active'")
}

/// The stored status name a list of `purpose` flags.
fn flagged_status(purpose: StatusPurpose) -> &'static str {
    match purpose {
        StatusPurpose::Revocation => "revoked",
        StatusPurpose::Suspension => "suspended",
    }
}

fn to_index(value: i32) -> RepoResult<u32> {
    u32::try_from(value).map_err(|_| crate::errors::corrupt("status index", value))
}

#[async_trait]
impl StatusListRepository for PgStatusLists {
    async fn allocate(
        &self,
        issuer_id: IssuerId,
        count: u32,
        capacity: u32,
        now: Timestamp,
    ) -> RepoResult<Vec<StatusSlot>> {
        let capacity = i32::try_from(capacity)
            .map_err(|_| DomainError::invalid("capacity", "must fit in 31 bits"))?;
        blocking(&self.0, move |conn| {
            in_transaction(conn, "status list", |conn| {
                let issuer_exists: i64 = issuers::table
                    .find(issuer_id.as_uuid())
                    .count()
                    .get_result(conn)
                    .map_err(|e| from_diesel("issuer", e))?;
                if issuer_exists == 0 {
                    return Err(DomainError::MissingReference {
                        entity: "issuer",
                        id: issuer_id.to_string(),
                    });
                }
                let mut slots = Vec::with_capacity(count as usize);
                // FOR UPDATE: a concurrent allocator waits here, then sees
                // the list as this transaction left it (and skips it if
                // it is now full), so no bit is handed out twice.
                let open: Option<StatusListRow> = status_lists::table
                    .filter(status_lists::issuer_id.eq(issuer_id.as_uuid()))
                    .filter(status_lists::allocated.lt(status_lists::capacity))
                    .order((status_lists::created_at.asc(), status_lists::id.asc()))
                    .select(StatusListRow::as_select())
                    .for_update()
                    .first(conn)
                    .optional()
                    .map_err(|e| from_diesel("status list", e))?;
                if let Some(row) = open {
                    let wanted = i32::try_from(count).unwrap_or(i32::MAX);
                    let taken = wanted.min(row.capacity - row.allocated);
                    diesel::update(status_lists::table.find(row.id))
                        .set(status_lists::allocated.eq(row.allocated + taken))
                        .execute(conn)
                        .map_err(|e| from_diesel("status list", e))?;
                    for index in row.allocated..row.allocated + taken {
                        slots.push(StatusSlot {
                            list_id: row.id.into(),
                            index: to_index(index)?,
                        });
                    }
                }
                while slots.len() < count as usize {
                    let remaining = i32::try_from(count as usize - slots.len()).unwrap_or(i32::MAX);
                    let row = StatusListRow {
                        id: Uuid::new_v4(),
                        issuer_id: issuer_id.as_uuid(),
                        capacity,
                        allocated: remaining.min(capacity),
                        created_at: now.as_datetime(),
                    };
                    diesel::insert_into(status_lists::table)
                        .values(&row)
                        .execute(conn)
                        .map_err(|e| from_diesel("status list", e))?;
                    for index in 0..row.allocated {
                        slots.push(StatusSlot {
                            list_id: row.id.into(),
                            index: to_index(index)?,
                        });
                    }
                }
                Ok(slots)
            })
        })
        .await
    }

    async fn get(&self, id: StatusListId) -> RepoResult<StatusList> {
        blocking(&self.0, move |conn| {
            status_lists::table
                .find(id.as_uuid())
                .select(StatusListRow::as_select())
                .first(conn)
                .optional()
                .map_err(|e| from_diesel("status list", e))?
                .ok_or_else(|| not_found("status list", id))?
                .try_into()
        })
        .await
    }

    async fn list_for_issuer(&self, issuer_id: IssuerId) -> RepoResult<Vec<StatusList>> {
        blocking(&self.0, move |conn| {
            status_lists::table
                .filter(status_lists::issuer_id.eq(issuer_id.as_uuid()))
                .order((status_lists::created_at.asc(), status_lists::id.asc()))
                .select(StatusListRow::as_select())
                .load(conn)
                .map_err(|e| from_diesel("status list", e))?
                .into_iter()
                .map(StatusList::try_from)
                .collect()
        })
        .await
    }

    async fn flagged(&self, id: StatusListId, purpose: StatusPurpose) -> RepoResult<Vec<u32>> {
        blocking(&self.0, move |conn| {
            let indices: Vec<Option<i32>> = assertions::table
                .filter(assertions::status_list_id.eq(id.as_uuid()))
                .filter(flagged_rows())
                .filter(assertions::status.eq(flagged_status(purpose)))
                .order(assertions::status_index.asc())
                .select(assertions::status_index)
                .load(conn)
                .map_err(|e| from_diesel("status list", e))?;
            indices.into_iter().flatten().map(to_index).collect()
        })
        .await
    }

    async fn flagged_awards(
        &self,
        issuer_id: IssuerId,
        purpose: StatusPurpose,
    ) -> RepoResult<Vec<Assertion>> {
        blocking(&self.0, move |conn| {
            assertions::table
                .filter(assertions::issuer_id.eq(issuer_id.as_uuid()))
                .filter(flagged_rows())
                .filter(assertions::status.eq(flagged_status(purpose)))
                .order((assertions::created_at.asc(), assertions::id.asc()))
                .select(AssertionRow::as_select())
                .load(conn)
                .map_err(|e| from_diesel("assertion", e))?
                .into_iter()
                .map(Assertion::try_from)
                .collect()
        })
        .await
    }

    async fn counts(&self, id: StatusListId) -> RepoResult<StatusCounts> {
        blocking(&self.0, move |conn| {
            let mut count = |status: &str| -> RepoResult<u64> {
                let n: i64 = assertions::table
                    .filter(assertions::status_list_id.eq(id.as_uuid()))
                    .filter(flagged_rows())
                    .filter(assertions::status.eq(status))
                    .count()
                    .get_result(conn)
                    .map_err(|e| from_diesel("status list", e))?;
                Ok(u64::try_from(n).unwrap_or(0))
            };
            Ok(StatusCounts {
                revoked: count("revoked")?,
                suspended: count("suspended")?,
            })
        })
        .await
    }
}
