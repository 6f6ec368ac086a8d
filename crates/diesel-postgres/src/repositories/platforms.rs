//! Platforms of the previous server's backpack API on PostgreSQL, their
//! users (mapped to learner accounts) and their entries (held credentials
//! seen by the platform).

use async_trait::async_trait;
use diesel::dsl::{exists, select};
use diesel::prelude::*;
use openbadges_domain::platforms::{
    Added, EntryStatus, Platform, PlatformEntry, PlatformRepository, PlatformStatus, PlatformUser,
};
use openbadges_domain::ports::RepoResult;
use openbadges_domain::{
    AssertionId, DomainError, HeldCredential, PlatformId, PlatformUserId, User,
};
use uuid::Uuid;

use super::backpack::hold_unless_held;
use super::{blocking, decode_all, in_transaction, not_found};
use crate::errors::{corrupt, Failure};
use crate::pool::PgPool;
use crate::rows::{restamp, stamp, JsonbText, Stamp, UserRow};
use crate::schema::{
    assertions, backpack_platforms, held_credentials, platform_assertions, platform_users, users,
};

fn missing(entity: &'static str, id: impl ToString) -> Failure {
    DomainError::MissingReference {
        entity,
        id: id.to_string(),
    }
    .into()
}

#[derive(Queryable, Selectable, Insertable)]
#[diesel(table_name = backpack_platforms, check_for_backend(diesel::pg::Pg))]
struct PlatformRow {
    id: Uuid,
    name: String,
    description: Option<String>,
    client_id: String,
    public_key: String,
    webhook_url: Option<String>,
    status: String,
    created_at: Stamp,
    updated_at: Stamp,
}

impl From<&Platform> for PlatformRow {
    fn from(platform: &Platform) -> Self {
        Self {
            id: platform.id.as_uuid(),
            name: platform.name.clone(),
            description: platform.description.clone(),
            client_id: platform.client_id.clone(),
            public_key: platform.public_key.clone(),
            webhook_url: platform.webhook_url.clone(),
            status: platform.status.as_str().to_owned(),
            created_at: stamp(platform.created_at),
            updated_at: stamp(platform.updated_at),
        }
    }
}

impl TryFrom<PlatformRow> for Platform {
    type Error = DomainError;

    fn try_from(row: PlatformRow) -> Result<Self, Self::Error> {
        Ok(Self {
            id: row.id.into(),
            name: row.name,
            description: row.description,
            client_id: row.client_id,
            public_key: row.public_key,
            webhook_url: row.webhook_url,
            status: PlatformStatus::parse(&row.status)
                .map_err(|e| corrupt("backpack_platforms.status", e))?,
            created_at: restamp(row.created_at),
            updated_at: restamp(row.updated_at),
        })
    }
}

#[derive(Queryable, Selectable, Insertable)]
#[diesel(table_name = platform_users, check_for_backend(diesel::pg::Pg))]
struct PlatformUserRow {
    id: Uuid,
    platform_id: Uuid,
    external_user_id: String,
    user_id: Uuid,
    display_name: Option<String>,
    email: Option<String>,
    created_at: Stamp,
    updated_at: Stamp,
}

impl From<&PlatformUser> for PlatformUserRow {
    fn from(user: &PlatformUser) -> Self {
        Self {
            id: user.id.as_uuid(),
            platform_id: user.platform.as_uuid(),
            external_user_id: user.external_id.clone(),
            user_id: user.user.as_uuid(),
            display_name: user.display_name.clone(),
            email: user.email.clone(),
            created_at: stamp(user.created_at),
            updated_at: stamp(user.updated_at),
        }
    }
}

impl From<PlatformUserRow> for PlatformUser {
    fn from(row: PlatformUserRow) -> Self {
        Self {
            id: row.id.into(),
            platform: row.platform_id.into(),
            external_id: row.external_user_id,
            user: row.user_id.into(),
            display_name: row.display_name,
            email: row.email,
            created_at: restamp(row.created_at),
            updated_at: restamp(row.updated_at),
        }
    }
}

#[derive(Queryable, Selectable, Insertable)]
#[diesel(table_name = platform_assertions, check_for_backend(diesel::pg::Pg))]
struct EntryRow {
    held_id: Uuid,
    platform_user_id: Uuid,
    assertion_id: Uuid,
    status: String,
    metadata: Option<JsonbText>,
    added_at: Stamp,
}

impl From<&PlatformEntry> for EntryRow {
    fn from(entry: &PlatformEntry) -> Self {
        Self {
            held_id: entry.held.as_uuid(),
            platform_user_id: entry.user.as_uuid(),
            assertion_id: entry.assertion.as_uuid(),
            status: entry.status.as_str().to_owned(),
            metadata: entry.metadata.clone().map(JsonbText::new),
            added_at: stamp(entry.added_at),
        }
    }
}

impl TryFrom<EntryRow> for PlatformEntry {
    type Error = DomainError;

    fn try_from(row: EntryRow) -> Result<Self, Self::Error> {
        Ok(Self {
            held: row.held_id.into(),
            user: row.platform_user_id.into(),
            assertion: row.assertion_id.into(),
            status: EntryStatus::parse(&row.status)
                .map_err(|e| corrupt("platform_assertions.status", e))?,
            metadata: row.metadata.map(JsonbText::into_text),
            added_at: restamp(row.added_at),
        })
    }
}

fn entry_of(
    conn: &mut PgConnection,
    user: PlatformUserId,
    assertion: AssertionId,
) -> Result<Option<EntryRow>, Failure> {
    Ok(platform_assertions::table
        .filter(platform_assertions::platform_user_id.eq(user.as_uuid()))
        .filter(platform_assertions::assertion_id.eq(assertion.as_uuid()))
        .select(EntryRow::as_select())
        .for_update()
        .first(conn)
        .optional()?)
}

/// [`PlatformRepository`] on PostgreSQL.
pub(crate) struct PgPlatforms(pub(crate) PgPool);

#[async_trait]
impl PlatformRepository for PgPlatforms {
    async fn create(&self, platform: &Platform) -> RepoResult<()> {
        let row = PlatformRow::from(platform);
        blocking(&self.0, move |conn| {
            diesel::insert_into(backpack_platforms::table)
                .values(&row)
                .execute(conn)?;
            Ok(())
        })
        .await
    }

    async fn get(&self, id: PlatformId) -> RepoResult<Platform> {
        blocking(&self.0, move |conn| {
            let row = backpack_platforms::table
                .find(id.as_uuid())
                .select(PlatformRow::as_select())
                .first(conn)
                .optional()?
                .ok_or_else(|| not_found("platform", id))?;
            Ok(Platform::try_from(row)?)
        })
        .await
    }

    async fn find_by_client_id(&self, client_id: &str) -> RepoResult<Option<Platform>> {
        let client_id = client_id.to_owned();
        blocking(&self.0, move |conn| {
            let row = backpack_platforms::table
                .filter(backpack_platforms::client_id.eq(&client_id))
                .select(PlatformRow::as_select())
                .first(conn)
                .optional()?;
            Ok(row.map(Platform::try_from).transpose()?)
        })
        .await
    }

    async fn list(&self) -> RepoResult<Vec<Platform>> {
        blocking(&self.0, move |conn| {
            let rows: Vec<PlatformRow> = backpack_platforms::table
                .order((
                    backpack_platforms::created_at.asc(),
                    backpack_platforms::id.asc(),
                ))
                .select(PlatformRow::as_select())
                .load(conn)?;
            decode_all(rows)
        })
        .await
    }

    async fn update(&self, platform: &Platform) -> RepoResult<()> {
        let row = PlatformRow::from(platform);
        blocking(&self.0, move |conn| {
            let changed = diesel::update(backpack_platforms::table.find(row.id))
                .set((
                    backpack_platforms::name.eq(&row.name),
                    backpack_platforms::description.eq(&row.description),
                    backpack_platforms::client_id.eq(&row.client_id),
                    backpack_platforms::public_key.eq(&row.public_key),
                    backpack_platforms::webhook_url.eq(&row.webhook_url),
                    backpack_platforms::status.eq(&row.status),
                    backpack_platforms::updated_at.eq(row.updated_at),
                ))
                .execute(conn)?;
            if changed == 0 {
                return Err(not_found("platform", row.id));
            }
            Ok(())
        })
        .await
    }

    async fn delete(&self, id: PlatformId) -> RepoResult<()> {
        blocking(&self.0, move |conn| {
            let removed =
                diesel::delete(backpack_platforms::table.find(id.as_uuid())).execute(conn)?;
            if removed == 0 {
                return Err(not_found("platform", id));
            }
            Ok(())
        })
        .await
    }

    async fn enter(&self, visitor: &PlatformUser, account: &User) -> RepoResult<PlatformUser> {
        let visitor = visitor.clone();
        let account_id = account.id.as_uuid();
        let account = UserRow::from(account);
        blocking(&self.0, move |conn| {
            in_transaction(conn, |conn| {
                // The platform row is locked so that it cannot go while
                // its user is made.
                let found = backpack_platforms::table
                    .find(visitor.platform.as_uuid())
                    .select(backpack_platforms::id)
                    .for_key_share()
                    .first::<Uuid>(conn)
                    .optional()?;
                if found.is_none() {
                    return Err(missing("platform", visitor.platform));
                }
                let stored = platform_users::table
                    .filter(platform_users::platform_id.eq(visitor.platform.as_uuid()))
                    .filter(platform_users::external_user_id.eq(&visitor.external_id))
                    .select(PlatformUserRow::as_select())
                    .for_update()
                    .first(conn)
                    .optional()?;
                let Some(stored) = stored else {
                    diesel::insert_into(users::table)
                        .values(&account)
                        .execute(conn)?;
                    let mut row = PlatformUserRow::from(&visitor);
                    row.user_id = account_id;
                    diesel::insert_into(platform_users::table)
                        .values(&row)
                        .execute(conn)?;
                    return Ok(PlatformUser::from(row));
                };
                let mut user = PlatformUser::from(stored);
                let name = visitor.display_name.clone().or(user.display_name.clone());
                let email = visitor.email.clone().or(user.email.clone());
                if name != user.display_name || email != user.email {
                    user.display_name = name;
                    user.email = email;
                    user.updated_at = visitor.updated_at;
                    diesel::update(platform_users::table.find(user.id.as_uuid()))
                        .set((
                            platform_users::display_name.eq(&user.display_name),
                            platform_users::email.eq(&user.email),
                            platform_users::updated_at.eq(stamp(user.updated_at)),
                        ))
                        .execute(conn)?;
                }
                Ok(user)
            })
        })
        .await
    }

    async fn add_entry(
        &self,
        user: &PlatformUser,
        held: &HeldCredential,
        entry: &PlatformEntry,
    ) -> RepoResult<Added> {
        let user = user.clone();
        let held = held.clone();
        let entry = entry.clone();
        blocking(&self.0, move |conn| {
            in_transaction(conn, |conn| {
                let found: bool = select(exists(assertions::table.find(entry.assertion.as_uuid())))
                    .get_result(conn)?;
                if !found {
                    return Err(missing("assertion", entry.assertion));
                }
                let found: bool = select(exists(platform_users::table.find(user.id.as_uuid())))
                    .get_result(conn)?;
                if !found {
                    return Err(missing("platform user", user.id));
                }
                if let Some(mut stored) = entry_of(conn, user.id, entry.assertion)? {
                    let metadata = entry.metadata.clone().map(JsonbText::new);
                    diesel::update(platform_assertions::table.find(stored.held_id))
                        .set(platform_assertions::metadata.eq(&metadata))
                        .execute(conn)?;
                    stored.metadata = metadata;
                    let mut again = PlatformEntry::try_from(stored)?;
                    // Read back as given, not as jsonb normalised it.
                    again.metadata.clone_from(&entry.metadata);
                    return Ok(Added::Again(again));
                }
                let held_id = if hold_unless_held(conn, &held)? {
                    // Linked to the award too, so that it goes with it (as
                    // the entry does).
                    diesel::update(held_credentials::table.find(held.id.as_uuid()))
                        .set(held_credentials::assertion_id.eq(entry.assertion.as_uuid()))
                        .execute(conn)?;
                    held.id
                } else {
                    held_credentials::table
                        .filter(held_credentials::owner_id.eq(held.owner.as_uuid()))
                        .filter(held_credentials::issuer_key.eq(&held.issuer_key))
                        .filter(held_credentials::credential_key.eq(&held.credential_key))
                        .select(held_credentials::id)
                        .first::<Uuid>(conn)?
                        .into()
                };
                let entry = PlatformEntry {
                    held: held_id,
                    user: user.id,
                    ..entry
                };
                diesel::insert_into(platform_assertions::table)
                    .values(EntryRow::from(&entry))
                    .execute(conn)?;
                Ok(Added::New(entry))
            })
        })
        .await
    }

    async fn entries(&self, user: PlatformUserId) -> RepoResult<Vec<PlatformEntry>> {
        blocking(&self.0, move |conn| {
            let rows: Vec<EntryRow> = platform_assertions::table
                .filter(platform_assertions::platform_user_id.eq(user.as_uuid()))
                .order((
                    platform_assertions::added_at.asc(),
                    platform_assertions::held_id.asc(),
                ))
                .select(EntryRow::as_select())
                .load(conn)?;
            decode_all(rows)
        })
        .await
    }

    async fn remove_entry(&self, user: PlatformUserId, assertion: AssertionId) -> RepoResult<()> {
        blocking(&self.0, move |conn| {
            in_transaction(conn, |conn| {
                let entry = entry_of(conn, user, assertion)?
                    .ok_or_else(|| not_found("backpack entry", assertion))?;
                diesel::delete(platform_assertions::table.find(entry.held_id)).execute(conn)?;
                // The credential goes if the platform added it; one the
                // learner held before stays.
                diesel::delete(
                    held_credentials::table
                        .find(entry.held_id)
                        .filter(held_credentials::source.eq("platform")),
                )
                .execute(conn)?;
                Ok(())
            })
        })
        .await
    }

    async fn set_entry_status(
        &self,
        user: PlatformUserId,
        assertion: AssertionId,
        status: EntryStatus,
    ) -> RepoResult<PlatformEntry> {
        blocking(&self.0, move |conn| {
            in_transaction(conn, |conn| {
                let mut entry = entry_of(conn, user, assertion)?
                    .ok_or_else(|| not_found("backpack entry", assertion))?;
                diesel::update(platform_assertions::table.find(entry.held_id))
                    .set(platform_assertions::status.eq(status.as_str()))
                    .execute(conn)?;
                status.as_str().clone_into(&mut entry.status);
                Ok(PlatformEntry::try_from(entry)?)
            })
        })
        .await
    }
}
