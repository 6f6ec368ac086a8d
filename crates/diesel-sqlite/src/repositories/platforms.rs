//! Platforms of the previous server's backpack API, their users (mapped to
//! learner accounts) and their entries (held credentials seen by the
//! platform).

use async_trait::async_trait;
use diesel::dsl::{exists, select};
use diesel::prelude::*;
use openbadges_domain::platforms::{
    Added, EntryStatus, Platform, PlatformEntry, PlatformRepository, PlatformStatus, PlatformUser,
};
use openbadges_domain::ports::RepoResult;
use openbadges_domain::{
    AssertionId, DomainError, HeldCredential, HeldCredentialId, PlatformId, PlatformUserId, User,
};

use super::backpack::hold_unless_held;
use super::{decode_all, missing_reference, not_found};
use crate::errors::{stored_value, Failure};
use crate::pool::Database;
use crate::rows::{decode_id, decode_timestamp, encode_timestamp, UserRow};
use crate::schema::{
    assertions, backpack_platforms, held_credentials, platform_assertions, platform_users, users,
};

#[derive(Debug, Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = backpack_platforms, check_for_backend(diesel::sqlite::Sqlite))]
#[diesel(treat_none_as_null = true)]
struct PlatformRow {
    id: String,
    name: String,
    description: Option<String>,
    client_id: String,
    public_key: String,
    webhook_url: Option<String>,
    status: String,
    created_at: String,
    updated_at: String,
}

impl From<&Platform> for PlatformRow {
    fn from(platform: &Platform) -> Self {
        Self {
            id: platform.id.to_string(),
            name: platform.name.clone(),
            description: platform.description.clone(),
            client_id: platform.client_id.clone(),
            public_key: platform.public_key.clone(),
            webhook_url: platform.webhook_url.clone(),
            status: platform.status.as_str().to_owned(),
            created_at: encode_timestamp(platform.created_at),
            updated_at: encode_timestamp(platform.updated_at),
        }
    }
}

impl TryFrom<PlatformRow> for Platform {
    type Error = DomainError;

    fn try_from(row: PlatformRow) -> Result<Self, Self::Error> {
        Ok(Self {
            id: decode_id("backpack_platforms.id", &row.id)?,
            name: row.name,
            description: row.description,
            client_id: row.client_id,
            public_key: row.public_key,
            webhook_url: row.webhook_url,
            status: PlatformStatus::parse(&row.status)
                .map_err(|e| stored_value("backpack_platforms.status", e))?,
            created_at: decode_timestamp("backpack_platforms.created_at", &row.created_at)?,
            updated_at: decode_timestamp("backpack_platforms.updated_at", &row.updated_at)?,
        })
    }
}

#[derive(Debug, Queryable, Selectable, Insertable)]
#[diesel(table_name = platform_users, check_for_backend(diesel::sqlite::Sqlite))]
struct PlatformUserRow {
    id: String,
    platform_id: String,
    external_user_id: String,
    user_id: String,
    display_name: Option<String>,
    email: Option<String>,
    created_at: String,
    updated_at: String,
}

impl From<&PlatformUser> for PlatformUserRow {
    fn from(user: &PlatformUser) -> Self {
        Self {
            id: user.id.to_string(),
            platform_id: user.platform.to_string(),
            external_user_id: user.external_id.clone(),
            user_id: user.user.to_string(),
            display_name: user.display_name.clone(),
            email: user.email.clone(),
            created_at: encode_timestamp(user.created_at),
            updated_at: encode_timestamp(user.updated_at),
        }
    }
}

impl TryFrom<PlatformUserRow> for PlatformUser {
    type Error = DomainError;

    fn try_from(row: PlatformUserRow) -> Result<Self, Self::Error> {
        Ok(Self {
            id: decode_id("platform_users.id", &row.id)?,
            platform: decode_id("platform_users.platform_id", &row.platform_id)?,
            external_id: row.external_user_id,
            user: decode_id("platform_users.user_id", &row.user_id)?,
            display_name: row.display_name,
            email: row.email,
            created_at: decode_timestamp("platform_users.created_at", &row.created_at)?,
            updated_at: decode_timestamp("platform_users.updated_at", &row.updated_at)?,
        })
    }
}

#[derive(Debug, Queryable, Selectable, Insertable)]
#[diesel(table_name = platform_assertions, check_for_backend(diesel::sqlite::Sqlite))]
struct EntryRow {
    held_id: String,
    platform_user_id: String,
    assertion_id: String,
    status: String,
    metadata: Option<String>,
    added_at: String,
}

impl From<&PlatformEntry> for EntryRow {
    fn from(entry: &PlatformEntry) -> Self {
        Self {
            held_id: entry.held.to_string(),
            platform_user_id: entry.user.to_string(),
            assertion_id: entry.assertion.to_string(),
            status: entry.status.as_str().to_owned(),
            metadata: entry.metadata.clone(),
            added_at: encode_timestamp(entry.added_at),
        }
    }
}

impl TryFrom<EntryRow> for PlatformEntry {
    type Error = DomainError;

    fn try_from(row: EntryRow) -> Result<Self, Self::Error> {
        Ok(Self {
            held: decode_id("platform_assertions.held_id", &row.held_id)?,
            user: decode_id(
                "platform_assertions.platform_user_id",
                &row.platform_user_id,
            )?,
            assertion: decode_id("platform_assertions.assertion_id", &row.assertion_id)?,
            status: EntryStatus::parse(&row.status)
                .map_err(|e| stored_value("platform_assertions.status", e))?,
            metadata: row.metadata,
            added_at: decode_timestamp("platform_assertions.added_at", &row.added_at)?,
        })
    }
}

fn entry_of(
    conn: &mut SqliteConnection,
    user: PlatformUserId,
    assertion: AssertionId,
) -> Result<Option<EntryRow>, Failure> {
    Ok(platform_assertions::table
        .filter(platform_assertions::platform_user_id.eq(user.to_string()))
        .filter(platform_assertions::assertion_id.eq(assertion.to_string()))
        .select(EntryRow::as_select())
        .first(conn)
        .optional()?)
}

/// [`PlatformRepository`] on SQLite.
pub(crate) struct Platforms {
    db: Database,
}

impl Platforms {
    pub(crate) fn new(db: Database) -> Self {
        Self { db }
    }
}

#[async_trait]
impl PlatformRepository for Platforms {
    async fn create(&self, platform: &Platform) -> RepoResult<()> {
        let row = PlatformRow::from(platform);
        self.db
            .write(move |conn| {
                diesel::insert_into(backpack_platforms::table)
                    .values(&row)
                    .execute(conn)?;
                Ok(())
            })
            .await
    }

    async fn get(&self, id: PlatformId) -> RepoResult<Platform> {
        self.db
            .run(move |conn| {
                let row = backpack_platforms::table
                    .find(id.to_string())
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
        self.db
            .run(move |conn| {
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
        self.db
            .run(move |conn| {
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
        self.db
            .write(move |conn| {
                let changed = diesel::update(backpack_platforms::table.find(&row.id))
                    .set((
                        backpack_platforms::name.eq(&row.name),
                        backpack_platforms::description.eq(&row.description),
                        backpack_platforms::client_id.eq(&row.client_id),
                        backpack_platforms::public_key.eq(&row.public_key),
                        backpack_platforms::webhook_url.eq(&row.webhook_url),
                        backpack_platforms::status.eq(&row.status),
                        backpack_platforms::updated_at.eq(&row.updated_at),
                    ))
                    .execute(conn)?;
                if changed == 0 {
                    return Err(not_found("platform", &row.id));
                }
                Ok(())
            })
            .await
    }

    async fn delete(&self, id: PlatformId) -> RepoResult<()> {
        self.db
            .write(move |conn| {
                // Enforcement is on outside migrations: the platform's users,
                // held credentials and entries go with it.
                let removed =
                    diesel::delete(backpack_platforms::table.find(id.to_string())).execute(conn)?;
                if removed == 0 {
                    return Err(not_found("platform", id));
                }
                Ok(())
            })
            .await
    }

    async fn enter(&self, visitor: &PlatformUser, account: &User) -> RepoResult<PlatformUser> {
        let visitor = visitor.clone();
        let account_id = account.id.to_string();
        let account = UserRow::from(account);
        self.db
            .write(move |conn| {
                let found: bool = select(exists(
                    backpack_platforms::table.find(visitor.platform.to_string()),
                ))
                .get_result(conn)?;
                if !found {
                    return Err(missing_reference("platform", visitor.platform));
                }
                let stored = platform_users::table
                    .filter(platform_users::platform_id.eq(visitor.platform.to_string()))
                    .filter(platform_users::external_user_id.eq(&visitor.external_id))
                    .select(PlatformUserRow::as_select())
                    .first(conn)
                    .optional()?;
                let Some(stored) = stored else {
                    diesel::insert_into(users::table)
                        .values(&account)
                        .execute(conn)?;
                    let mut row = PlatformUserRow::from(&visitor);
                    row.user_id.clone_from(&account_id);
                    diesel::insert_into(platform_users::table)
                        .values(&row)
                        .execute(conn)?;
                    return Ok(PlatformUser::try_from(row)?);
                };
                let mut user = PlatformUser::try_from(stored)?;
                let name = visitor.display_name.clone().or(user.display_name.clone());
                let email = visitor.email.clone().or(user.email.clone());
                if name != user.display_name || email != user.email {
                    user.display_name = name;
                    user.email = email;
                    user.updated_at = visitor.updated_at;
                    diesel::update(platform_users::table.find(user.id.to_string()))
                        .set((
                            platform_users::display_name.eq(&user.display_name),
                            platform_users::email.eq(&user.email),
                            platform_users::updated_at.eq(encode_timestamp(user.updated_at)),
                        ))
                        .execute(conn)?;
                }
                Ok(user)
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
        self.db
            .write(move |conn| {
                let found: bool =
                    select(exists(assertions::table.find(entry.assertion.to_string())))
                        .get_result(conn)?;
                if !found {
                    return Err(missing_reference("assertion", entry.assertion));
                }
                let found: bool = select(exists(platform_users::table.find(user.id.to_string())))
                    .get_result(conn)?;
                if !found {
                    return Err(missing_reference("platform user", user.id));
                }
                if let Some(mut stored) = entry_of(conn, user.id, entry.assertion)? {
                    diesel::update(platform_assertions::table.find(&stored.held_id))
                        .set(platform_assertions::metadata.eq(&entry.metadata))
                        .execute(conn)?;
                    stored.metadata.clone_from(&entry.metadata);
                    return Ok(Added::Again(PlatformEntry::try_from(stored)?));
                }
                let held_id = if hold_unless_held(conn, &held)? {
                    // Linked to the award too, so that it goes with it (as
                    // the entry does).
                    diesel::update(held_credentials::table.find(held.id.to_string()))
                        .set(held_credentials::assertion_id.eq(entry.assertion.to_string()))
                        .execute(conn)?;
                    held.id
                } else {
                    let id: String = held_credentials::table
                        .filter(held_credentials::owner_id.eq(held.owner.to_string()))
                        .filter(held_credentials::issuer_key.eq(&held.issuer_key))
                        .filter(held_credentials::credential_key.eq(&held.credential_key))
                        .select(held_credentials::id)
                        .first(conn)?;
                    decode_id::<HeldCredentialId>("held_credentials.id", &id)?
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
            .await
    }

    async fn entries(&self, user: PlatformUserId) -> RepoResult<Vec<PlatformEntry>> {
        self.db
            .run(move |conn| {
                let rows: Vec<EntryRow> = platform_assertions::table
                    .filter(platform_assertions::platform_user_id.eq(user.to_string()))
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
        self.db
            .write(move |conn| {
                let entry = entry_of(conn, user, assertion)?
                    .ok_or_else(|| not_found("backpack entry", assertion))?;
                diesel::delete(platform_assertions::table.find(&entry.held_id)).execute(conn)?;
                // The credential goes if the platform added it; one the
                // learner held before stays.
                diesel::delete(
                    held_credentials::table
                        .find(&entry.held_id)
                        .filter(held_credentials::source.eq("platform")),
                )
                .execute(conn)?;
                Ok(())
            })
            .await
    }

    async fn set_entry_status(
        &self,
        user: PlatformUserId,
        assertion: AssertionId,
        status: EntryStatus,
    ) -> RepoResult<PlatformEntry> {
        self.db
            .write(move |conn| {
                let mut entry = entry_of(conn, user, assertion)?
                    .ok_or_else(|| not_found("backpack entry", assertion))?;
                diesel::update(platform_assertions::table.find(&entry.held_id))
                    .set(platform_assertions::status.eq(status.as_str()))
                    .execute(conn)?;
                status.as_str().clone_into(&mut entry.status);
                Ok(PlatformEntry::try_from(entry)?)
            })
            .await
    }
}
