//! Learners' backpacks on PostgreSQL: held credentials (one row per owner
//! and equality keys) and profiles. A credential linked to an award is
//! read with the award's current issued credential.

use std::collections::HashMap;

use async_trait::async_trait;
use diesel::dsl::{exists, select};
use diesel::prelude::*;
use openbadges_domain::backpack::{BackpackRepository, HeldCredential, HeldCredentialId, Upserted};
use openbadges_domain::ports::RepoResult;
use openbadges_domain::{DomainError, Page, PageRequest, Timestamp, UserId};
use openbadges_store_support::backpack::{held_format, known_source, SourceColumns};
use openbadges_store_support::pages::{limit_offset, total};
use uuid::Uuid;

use crate::errors::{corrupt, Failure};
use crate::pool::PgPool;
use crate::rows::{decode_credential, restamp, stamp, Stamp};
use crate::schema::{assertions, backpack_platforms, held_credentials, learner_profiles, users};

use super::{blocking, in_transaction, not_found};

/// A `held_credentials` row.
#[derive(Queryable, Selectable, Insertable)]
#[diesel(table_name = held_credentials, check_for_backend(diesel::pg::Pg))]
struct HeldRow {
    id: Uuid,
    owner_id: Uuid,
    issuer_key: String,
    credential_key: String,
    valid_from: Option<Stamp>,
    format: String,
    text: String,
    source: String,
    assertion_id: Option<Uuid>,
    client: Option<String>,
    platform_id: Option<Uuid>,
    received_at: Stamp,
    updated_at: Stamp,
}

impl HeldRow {
    fn of(held: &HeldCredential) -> Result<Self, DomainError> {
        let source = SourceColumns::of(&held.source)?;
        Ok(Self {
            id: held.id.as_uuid(),
            owner_id: held.owner.as_uuid(),
            issuer_key: held.issuer_key.clone(),
            credential_key: held.credential_key.clone(),
            valid_from: held.valid_from.map(stamp),
            format: held.format.as_str().to_owned(),
            text: held.text.clone(),
            source: source.source.to_owned(),
            assertion_id: source.assertion_id,
            client: source.client,
            platform_id: source.platform_id,
            received_at: stamp(held.received_at),
            updated_at: stamp(held.updated_at),
        })
    }
}

impl TryFrom<HeldRow> for HeldCredential {
    type Error = DomainError;

    fn try_from(row: HeldRow) -> Result<Self, Self::Error> {
        let source = SourceColumns {
            source: known_source(&row.source)
                .ok_or_else(|| corrupt("held_credentials.source", "is not a known source"))?,
            assertion_id: row.assertion_id,
            client: row.client,
            platform_id: row.platform_id,
        }
        .restore()
        .map_err(|problem| corrupt("held_credentials.source", problem))?;
        Ok(Self {
            id: row.id.into(),
            owner: row.owner_id.into(),
            issuer_key: row.issuer_key,
            credential_key: row.credential_key,
            valid_from: row.valid_from.map(restamp),
            format: held_format(&row.format)
                .map_err(|problem| corrupt("held_credentials.format", problem))?,
            text: row.text,
            source,
            received_at: restamp(row.received_at),
            updated_at: restamp(row.updated_at),
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
fn read_all(conn: &mut PgConnection, rows: Vec<HeldRow>) -> Result<Vec<HeldCredential>, Failure> {
    let linked: Vec<Uuid> = rows
        .iter()
        .filter(|row| linked_to_award(&row.source))
        .filter_map(|row| row.assertion_id)
        .collect();
    let issued: HashMap<Uuid, Vec<u8>> = if linked.is_empty() {
        HashMap::new()
    } else {
        assertions::table
            .filter(assertions::id.eq_any(&linked))
            .filter(assertions::issued_credential.is_not_null())
            .select((
                assertions::id,
                assertions::issued_credential.assume_not_null(),
            ))
            .load::<(Uuid, Vec<u8>)>(conn)?
            .into_iter()
            .collect()
    };
    rows.into_iter()
        .map(|mut row| {
            if linked_to_award(&row.source) {
                if let Some(packed) = row.assertion_id.and_then(|id| issued.get(&id)) {
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
    conn: &mut PgConnection,
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

fn missing(entity: &'static str, id: impl ToString) -> Failure {
    DomainError::MissingReference {
        entity,
        id: id.to_string(),
    }
    .into()
}

/// `MissingReference` unless the owner, and what `row`'s source names,
/// exist.
fn require_references(conn: &mut PgConnection, row: &HeldRow) -> Result<(), Failure> {
    if !select(exists(users::table.find(row.owner_id))).get_result::<bool>(conn)? {
        return Err(missing("user", row.owner_id));
    }
    if let Some(award) = row.assertion_id {
        if !select(exists(assertions::table.find(award))).get_result::<bool>(conn)? {
            return Err(missing("assertion", award));
        }
    }
    if let Some(platform) = row.platform_id {
        if !select(exists(backpack_platforms::table.find(platform))).get_result::<bool>(conn)? {
            return Err(missing("platform", platform));
        }
    }
    Ok(())
}

/// [`BackpackRepository`] on PostgreSQL.
pub(crate) struct PgBackpack(pub(crate) PgPool);

#[async_trait]
impl BackpackRepository for PgBackpack {
    async fn list(
        &self,
        owner: UserId,
        since: Option<Timestamp>,
        page: PageRequest,
    ) -> RepoResult<Page<HeldCredential>> {
        let (limit, offset) = limit_offset(page);
        let since = since.map(stamp);
        blocking(&self.0, move |conn| {
            in_transaction(conn, |conn| {
                let mine = || {
                    let mut query = held_credentials::table
                        .filter(held_credentials::owner_id.eq(owner.as_uuid()))
                        .into_boxed();
                    if let Some(since) = since {
                        query = query.filter(held_credentials::valid_from.gt(since));
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
        })
        .await
    }

    async fn upsert(&self, held: &HeldCredential) -> RepoResult<Upserted> {
        let row = HeldRow::of(held)?;
        blocking(&self.0, move |conn| {
            in_transaction(conn, |conn| {
                require_references(conn, &row)?;
                // Insert unless an equal one is held (decided by the unique
                // key, so two racing upserts cannot both insert), else
                // replace it.
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
                        .filter(held_credentials::owner_id.eq(row.owner_id))
                        .filter(held_credentials::issuer_key.eq(&row.issuer_key))
                        .filter(held_credentials::credential_key.eq(&row.credential_key)),
                )
                .set((
                    held_credentials::valid_from.eq(row.valid_from),
                    held_credentials::format.eq(&row.format),
                    held_credentials::text.eq(&row.text),
                    held_credentials::source.eq(&row.source),
                    held_credentials::assertion_id.eq(row.assertion_id),
                    held_credentials::client.eq(&row.client),
                    held_credentials::platform_id.eq(row.platform_id),
                    held_credentials::updated_at.eq(row.updated_at),
                ))
                .execute(conn)?;
                Ok(Upserted::Replaced)
            })
        })
        .await
    }

    async fn get(&self, owner: UserId, id: HeldCredentialId) -> RepoResult<HeldCredential> {
        blocking(&self.0, move |conn| {
            in_transaction(conn, |conn| {
                let row = held_credentials::table
                    .find(id.as_uuid())
                    .filter(held_credentials::owner_id.eq(owner.as_uuid()))
                    .select(HeldRow::as_select())
                    .first(conn)
                    .optional()?
                    .ok_or_else(|| not_found("held credential", id))?;
                read_all(conn, vec![row])?
                    .pop()
                    .ok_or_else(|| not_found("held credential", id))
            })
        })
        .await
    }

    async fn remove(&self, owner: UserId, id: HeldCredentialId) -> RepoResult<()> {
        blocking(&self.0, move |conn| {
            let removed = diesel::delete(
                held_credentials::table
                    .find(id.as_uuid())
                    .filter(held_credentials::owner_id.eq(owner.as_uuid())),
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
        blocking(&self.0, move |conn| {
            Ok(learner_profiles::table
                .find(owner.as_uuid())
                .select(learner_profiles::profile)
                .first(conn)
                .optional()?)
        })
        .await
    }

    async fn put_profile(&self, owner: UserId, profile: &str, at: Timestamp) -> RepoResult<()> {
        let profile = profile.to_owned();
        blocking(&self.0, move |conn| {
            in_transaction(conn, |conn| {
                if !select(exists(users::table.find(owner.as_uuid()))).get_result::<bool>(conn)? {
                    return Err(missing("user", owner));
                }
                diesel::insert_into(learner_profiles::table)
                    .values((
                        learner_profiles::user_id.eq(owner.as_uuid()),
                        learner_profiles::profile.eq(&profile),
                        learner_profiles::updated_at.eq(stamp(at)),
                    ))
                    .on_conflict(learner_profiles::user_id)
                    .do_update()
                    .set((
                        learner_profiles::profile.eq(&profile),
                        learner_profiles::updated_at.eq(stamp(at)),
                    ))
                    .execute(conn)?;
                Ok(())
            })
        })
        .await
    }
}
