//! Learners' backpacks: held credentials (one row per owner and equality
//! keys) and profiles. A credential linked to an award is read with the
//! award's current issued credential.

use std::collections::HashMap;

use async_trait::async_trait;
use diesel::prelude::*;
use openbadges_domain::backpack::{
    BackpackRepository, HeldCredential, HeldCredentialId, HeldSource, Upserted,
};
use openbadges_domain::ports::RepoResult;
use openbadges_domain::{DomainError, Page, PageRequest, Timestamp, UserId};
use openbadges_store_support::backpack::{held_format, known_source, SourceColumns};
use openbadges_store_support::pages::{limit_offset, total};

use super::{missing_reference, not_found, require_user};
use crate::errors::{stored_value, Failure};
use crate::pool::Database;
use crate::rows::{
    decode_credential, decode_id, decode_optional_id, decode_optional_timestamp, decode_timestamp,
    encode_optional_timestamp, encode_timestamp,
};
use crate::schema::{assertions, held_credentials, learner_profiles};

/// A `held_credentials` row.
#[derive(Debug, Queryable, Selectable, Insertable)]
#[diesel(table_name = held_credentials, check_for_backend(diesel::sqlite::Sqlite))]
struct HeldRow {
    id: String,
    owner_id: String,
    issuer_key: String,
    credential_key: String,
    valid_from: Option<String>,
    format: String,
    text: String,
    source: String,
    assertion_id: Option<String>,
    client: Option<String>,
    platform_id: Option<String>,
    received_at: String,
    updated_at: String,
}

impl HeldRow {
    fn of(held: &HeldCredential) -> Result<Self, DomainError> {
        let source = SourceColumns::of(&held.source)?;
        Ok(Self {
            id: held.id.to_string(),
            owner_id: held.owner.to_string(),
            issuer_key: held.issuer_key.clone(),
            credential_key: held.credential_key.clone(),
            valid_from: encode_optional_timestamp(held.valid_from),
            format: held.format.as_str().to_owned(),
            text: held.text.clone(),
            source: source.source.to_owned(),
            assertion_id: source.assertion_id.map(|id| id.to_string()),
            client: source.client,
            platform_id: source.platform_id.map(|id| id.to_string()),
            received_at: encode_timestamp(held.received_at),
            updated_at: encode_timestamp(held.updated_at),
        })
    }
}

impl TryFrom<HeldRow> for HeldCredential {
    type Error = DomainError;

    fn try_from(row: HeldRow) -> Result<Self, Self::Error> {
        let source = SourceColumns {
            source: known_source(&row.source)
                .ok_or_else(|| stored_value("held_credentials.source", "is not a known source"))?,
            assertion_id: decode_optional_id(
                "held_credentials.assertion_id",
                row.assertion_id.as_deref(),
            )?,
            client: row.client,
            platform_id: decode_optional_id(
                "held_credentials.platform_id",
                row.platform_id.as_deref(),
            )?,
        }
        .restore()
        .map_err(|problem| stored_value("held_credentials.source", problem))?;
        Ok(Self {
            id: decode_id("held_credentials.id", &row.id)?,
            owner: decode_id("held_credentials.owner_id", &row.owner_id)?,
            issuer_key: row.issuer_key,
            credential_key: row.credential_key,
            valid_from: decode_optional_timestamp(
                "held_credentials.valid_from",
                row.valid_from.as_deref(),
            )?,
            format: held_format(&row.format)
                .map_err(|problem| stored_value("held_credentials.format", problem))?,
            text: row.text,
            source,
            received_at: decode_timestamp("held_credentials.received_at", &row.received_at)?,
            updated_at: decode_timestamp("held_credentials.updated_at", &row.updated_at)?,
        })
    }
}

/// Whether a row's `assertion_id` names the award it is read with: one
/// awarded here, or one a platform added (its copy is kept in step too).
/// An upload's `assertion_id` is always empty.
fn linked_to_award(source: &str) -> bool {
    source == "awarded" || source == "platform"
}

/// Decodes rows, giving those linked to an award the award's current
/// issued credential (one query for the page).
fn read_all(
    conn: &mut SqliteConnection,
    rows: Vec<HeldRow>,
) -> Result<Vec<HeldCredential>, Failure> {
    let linked: Vec<String> = rows
        .iter()
        .filter(|row| linked_to_award(&row.source))
        .filter_map(|row| row.assertion_id.clone())
        .collect();
    let issued: HashMap<String, Vec<u8>> = if linked.is_empty() {
        HashMap::new()
    } else {
        assertions::table
            .filter(assertions::id.eq_any(&linked))
            .filter(assertions::issued_credential.is_not_null())
            .select((
                assertions::id,
                assertions::issued_credential.assume_not_null(),
            ))
            .load::<(String, Vec<u8>)>(conn)?
            .into_iter()
            .collect()
    };
    rows.into_iter()
        .map(|mut row| {
            if linked_to_award(&row.source) {
                if let Some(packed) = row.assertion_id.as_ref().and_then(|id| issued.get(id)) {
                    row.text = decode_credential(packed)?.json().to_owned();
                }
            }
            HeldCredential::try_from(row).map_err(Failure::from)
        })
        .collect()
}

/// Stores `held` unless its owner holds an equal credential already;
/// answers whether it was stored. The caller holds the transaction and
/// has checked the references.
pub(crate) fn hold_unless_held(
    conn: &mut SqliteConnection,
    held: &HeldCredential,
) -> Result<bool, Failure> {
    let inserted = diesel::insert_into(held_credentials::table)
        .values(HeldRow::of(held)?)
        .on_conflict((
            held_credentials::owner_id,
            held_credentials::issuer_key,
            held_credentials::credential_key,
        ))
        .do_nothing()
        .execute(conn)?;
    Ok(inserted == 1)
}

/// `MissingReference` unless what `held`'s source names exists.
fn require_source(conn: &mut SqliteConnection, held: &HeldCredential) -> Result<(), Failure> {
    use diesel::dsl::{exists, select};
    match &held.source {
        HeldSource::Awarded(award) => {
            let found: bool =
                select(exists(assertions::table.find(award.to_string()))).get_result(conn)?;
            if !found {
                return Err(missing_reference("assertion", award));
            }
        }
        HeldSource::Platform(platform) => {
            let found: bool = select(exists(
                crate::schema::backpack_platforms::table.find(platform.to_lowercase()),
            ))
            .get_result(conn)?;
            if !found {
                return Err(missing_reference("platform", platform));
            }
        }
        HeldSource::Uploaded { .. } => {}
    }
    Ok(())
}

/// [`BackpackRepository`] on SQLite.
pub(crate) struct Backpack {
    db: Database,
}

impl Backpack {
    pub(crate) fn new(db: Database) -> Self {
        Self { db }
    }
}

#[async_trait]
impl BackpackRepository for Backpack {
    async fn list(
        &self,
        owner: UserId,
        since: Option<Timestamp>,
        page: PageRequest,
    ) -> RepoResult<Page<HeldCredential>> {
        let (limit, offset) = limit_offset(page);
        let owner = owner.to_string();
        let since = encode_optional_timestamp(since);
        self.db
            .read(move |conn| {
                let mine = || {
                    let mut query = held_credentials::table
                        .filter(held_credentials::owner_id.eq(owner.clone()))
                        .into_boxed();
                    if let Some(since) = &since {
                        query = query.filter(held_credentials::valid_from.gt(since.clone()));
                    }
                    query
                };
                let count: i64 = mine().count().get_result(conn)?;
                let rows: Vec<HeldRow> = mine()
                    .select(HeldRow::as_select())
                    .order((
                        held_credentials::received_at.asc(),
                        held_credentials::id.asc(),
                    ))
                    .limit(limit)
                    .offset(offset)
                    .load(conn)?;
                Ok(Page {
                    items: read_all(conn, rows)?,
                    total: total(count)?,
                })
            })
            .await
    }

    async fn upsert(&self, held: &HeldCredential) -> RepoResult<Upserted> {
        let row = HeldRow::of(held)?;
        let held = held.clone();
        self.db
            .write(move |conn| {
                require_user(conn, held.owner)?;
                require_source(conn, &held)?;
                let inserted = diesel::insert_into(held_credentials::table)
                    .values(&row)
                    .on_conflict((
                        held_credentials::owner_id,
                        held_credentials::issuer_key,
                        held_credentials::credential_key,
                    ))
                    .do_nothing()
                    .execute(conn)?;
                if inserted == 1 {
                    return Ok(Upserted::Created);
                }
                diesel::update(
                    held_credentials::table
                        .filter(held_credentials::owner_id.eq(&row.owner_id))
                        .filter(held_credentials::issuer_key.eq(&row.issuer_key))
                        .filter(held_credentials::credential_key.eq(&row.credential_key)),
                )
                .set((
                    held_credentials::valid_from.eq(&row.valid_from),
                    held_credentials::format.eq(&row.format),
                    held_credentials::text.eq(&row.text),
                    held_credentials::source.eq(&row.source),
                    held_credentials::assertion_id.eq(&row.assertion_id),
                    held_credentials::client.eq(&row.client),
                    held_credentials::platform_id.eq(&row.platform_id),
                    held_credentials::updated_at.eq(&row.updated_at),
                ))
                .execute(conn)?;
                Ok(Upserted::Replaced)
            })
            .await
    }

    async fn get(&self, owner: UserId, id: HeldCredentialId) -> RepoResult<HeldCredential> {
        self.db
            .read(move |conn| {
                let row = held_credentials::table
                    .find(id.to_string())
                    .filter(held_credentials::owner_id.eq(owner.to_string()))
                    .select(HeldRow::as_select())
                    .first(conn)
                    .optional()?
                    .ok_or_else(|| not_found("held credential", id))?;
                read_all(conn, vec![row])?
                    .pop()
                    .ok_or_else(|| not_found("held credential", id))
            })
            .await
    }

    async fn remove(&self, owner: UserId, id: HeldCredentialId) -> RepoResult<()> {
        self.db
            .write(move |conn| {
                let removed = diesel::delete(
                    held_credentials::table
                        .find(id.to_string())
                        .filter(held_credentials::owner_id.eq(owner.to_string())),
                )
                .execute(conn)?;
                if removed == 0 {
                    return Err(not_found("held credential", id));
                }
                Ok(())
            })
            .await
    }

    async fn profile(&self, owner: UserId) -> RepoResult<Option<String>> {
        self.db
            .run(move |conn| {
                Ok(learner_profiles::table
                    .find(owner.to_string())
                    .select(learner_profiles::profile)
                    .first(conn)
                    .optional()?)
            })
            .await
    }

    async fn put_profile(&self, owner: UserId, profile: &str, at: Timestamp) -> RepoResult<()> {
        let profile = profile.to_owned();
        self.db
            .write(move |conn| {
                require_user(conn, owner)?;
                let values = (
                    learner_profiles::user_id.eq(owner.to_string()),
                    learner_profiles::profile.eq(&profile),
                    learner_profiles::updated_at.eq(encode_timestamp(at)),
                );
                diesel::insert_into(learner_profiles::table)
                    .values(values)
                    .on_conflict(learner_profiles::user_id)
                    .do_update()
                    .set((
                        learner_profiles::profile.eq(&profile),
                        learner_profiles::updated_at.eq(encode_timestamp(at)),
                    ))
                    .execute(conn)?;
                Ok(())
            })
            .await
    }
}
