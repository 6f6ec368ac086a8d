//! The repository ports on PostgreSQL. Each call checks a connection out of
//! the pool on the blocking thread pool, runs one transaction, and maps
//! errors at the end.

use std::collections::HashMap;

use async_trait::async_trait;
use diesel::prelude::*;
use openbadges_domain::ports::*;
use openbadges_domain::*;
use uuid::Uuid;

use crate::errors::{from_diesel, from_pool};
use crate::rows::*;
use crate::schema::*;
use crate::PgPool;

/// PostgreSQL caps bind parameters at 65,535 per statement; awards have 18
/// columns, so batches are inserted in chunks well below that.
const INSERT_CHUNK: usize = 1000;

/// Runs `work` with a pooled connection on the blocking thread pool.
pub(crate) async fn blocking<T, F>(pool: &PgPool, work: F) -> RepoResult<T>
where
    T: Send + 'static,
    F: FnOnce(&mut PgConnection) -> RepoResult<T> + Send + 'static,
{
    let pool = pool.clone();
    tokio::task::spawn_blocking(move || {
        let mut conn = pool.get().map_err(from_pool)?;
        work(&mut conn)
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
                    issuers::owner_id.eq(row.owner_id),
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

/// Checks each award's badge class exists and belongs to the award's issuer,
/// looking each badge class up once.
fn check_badge_classes(conn: &mut PgConnection, rows: &[AssertionRow]) -> RepoResult<()> {
    let mut issuer_of: HashMap<Uuid, Option<Uuid>> = HashMap::new();
    for row in rows {
        let issuer = match issuer_of.get(&row.badge_class_id) {
            Some(issuer) => *issuer,
            None => {
                let issuer = badge_classes::table
                    .find(row.badge_class_id)
                    .select(badge_classes::issuer_id)
                    .first::<Uuid>(conn)
                    .optional()
                    .map_err(|e| from_diesel("assertion", e))?;
                issuer_of.insert(row.badge_class_id, issuer);
                issuer
            }
        };
        match issuer {
            None => {
                return Err(DomainError::MissingReference {
                    entity: "badge class",
                    id: row.badge_class_id.to_string(),
                })
            }
            Some(issuer) if issuer != row.issuer_id => {
                return Err(DomainError::invalid(
                    "issuer",
                    format!(
                        "badge class {} belongs to issuer {issuer}, not {}",
                        row.badge_class_id, row.issuer_id
                    ),
                ))
            }
            Some(_) => {}
        }
    }
    Ok(())
}

fn insert_assertions(conn: &mut PgConnection, rows: Vec<AssertionRow>) -> RepoResult<()> {
    in_transaction(conn, "assertion", |conn| {
        check_badge_classes(conn, &rows)?;
        for chunk in rows.chunks(INSERT_CHUNK) {
            diesel::insert_into(assertions::table)
                .values(chunk)
                .execute(conn)
                .map_err(|e| from_diesel("assertion", e))?;
        }
        Ok(())
    })
}

#[async_trait]
impl AssertionRepository for PgAssertions {
    async fn create(&self, assertion: &Assertion) -> RepoResult<()> {
        let row = AssertionRow::from(assertion);
        blocking(&self.0, move |conn| insert_assertions(conn, vec![row])).await
    }

    async fn create_many(&self, assertions: &[Assertion]) -> RepoResult<()> {
        if assertions.is_empty() {
            return Ok(());
        }
        let rows: Vec<_> = assertions.iter().map(AssertionRow::from).collect();
        blocking(&self.0, move |conn| insert_assertions(conn, rows)).await
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
                    assertions::status.eq(&row.status),
                    assertions::status_reason.eq(&row.status_reason),
                    assertions::status_changed_at.eq(row.status_changed_at),
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
                let query = || {
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
                };
                let run = |e| from_diesel("assertion", e);
                let total: i64 = query().count().get_result(conn).map_err(run)?;
                let rows = query()
                    .order((assertions::created_at.asc(), assertions::id.asc()))
                    .limit(limit)
                    .offset(offset)
                    .select(AssertionRow::as_select())
                    .load(conn)
                    .map_err(run)?;
                to_page(rows, total)
            })
        })
        .await
    }
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

    async fn update(&self, user: &User) -> RepoResult<()> {
        let row = UserRow::from(user);
        blocking(&self.0, move |conn| {
            let changed = diesel::update(users::table.find(row.id))
                .set((
                    users::username.eq(&row.username),
                    users::email.eq(&row.email),
                    users::password_hash.eq(&row.password_hash),
                    users::role.eq(&row.role),
                    users::updated_at.eq(row.updated_at),
                ))
                .execute(conn)
                .map_err(|e| from_diesel("user", e))?;
            if changed == 0 {
                return Err(not_found("user", row.id));
            }
            Ok(())
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

    async fn update(&self, key: &ApiKey) -> RepoResult<()> {
        let row = ApiKeyRow::from(key);
        blocking(&self.0, move |conn| {
            let changed = diesel::update(api_keys::table.find(row.id))
                .set((
                    api_keys::name.eq(&row.name),
                    api_keys::permissions.eq(&row.permissions),
                    api_keys::issuer_scope.eq(row.issuer_scope),
                    api_keys::expires_at.eq(row.expires_at),
                    api_keys::revoked_at.eq(row.revoked_at),
                    api_keys::last_used_at.eq(row.last_used_at),
                ))
                .execute(conn)
                .map_err(|e| from_diesel("api key", e))?;
            if changed == 0 {
                return Err(not_found("api key", row.id));
            }
            Ok(())
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
