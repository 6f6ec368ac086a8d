use async_trait::async_trait;
use diesel::prelude::*;
use openbadges_domain::ports::*;
use openbadges_domain::*;
use uuid::Uuid;

use openbadges_store_support::codes::flagged_status;
use openbadges_store_support::pages::total;

use crate::errors::Failure;
use crate::rows::*;
use crate::schema::*;

use super::endorsements::revoked_indices;
use super::{blocking, decode, in_transaction, not_found, reading};

/// Status lists on PostgreSQL.
pub(crate) struct PgStatusLists(pub(crate) super::Pools);

/// `status <> 'active'` as a literal, the condition of the partial indexes
/// on flagged awards (a planner matches it only when written out).
fn flagged_rows() -> diesel::expression::SqlLiteral<diesel::sql_types::Bool> {
    diesel::dsl::sql::<diesel::sql_types::Bool>("status <> 'active'")
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
        blocking(&self.0.primary, move |conn| {
            in_transaction(conn, |conn| {
                let issuer_exists: i64 = issuers::table
                    .find(issuer_id.as_uuid())
                    .count()
                    .get_result(conn)?;
                if issuer_exists == 0 {
                    return Err(DomainError::MissingReference {
                        entity: "issuer",
                        id: issuer_id.to_string(),
                    }
                    .into());
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
                    .optional()?;
                if let Some(row) = open {
                    let wanted = i32::try_from(count).unwrap_or(i32::MAX);
                    let taken = wanted.min(row.capacity - row.allocated);
                    diesel::update(status_lists::table.find(row.id))
                        .set(status_lists::allocated.eq(row.allocated + taken))
                        .execute(conn)?;
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
                        .execute(conn)?;
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

    async fn create(&self, list: &StatusList) -> RepoResult<()> {
        let row = StatusListRow {
            id: list.id.as_uuid(),
            issuer_id: list.issuer_id.as_uuid(),
            capacity: i32::try_from(list.capacity)
                .map_err(|_| DomainError::invalid("capacity", "must fit in 31 bits"))?,
            allocated: i32::try_from(list.allocated)
                .map_err(|_| DomainError::invalid("allocated", "must fit in 31 bits"))?,
            created_at: list.created_at.as_datetime(),
        };
        let issuer_id = list.issuer_id;
        blocking(&self.0.primary, move |conn| {
            in_transaction(conn, |conn| {
                let issuer_exists: i64 = issuers::table
                    .find(issuer_id.as_uuid())
                    .count()
                    .get_result(conn)?;
                if issuer_exists == 0 {
                    return Err(DomainError::MissingReference {
                        entity: "issuer",
                        id: issuer_id.to_string(),
                    }
                    .into());
                }
                diesel::insert_into(status_lists::table)
                    .values(&row)
                    .execute(conn)?;
                Ok(())
            })
        })
        .await
    }

    async fn get(&self, id: StatusListId) -> RepoResult<StatusList> {
        reading(&self.0, move |conn| {
            status_lists::table
                .find(id.as_uuid())
                .select(StatusListRow::as_select())
                .first(conn)
                .optional()?
                .ok_or_else(|| not_found("status list", id))
                .and_then(decode)
        })
        .await
    }

    async fn list_for_issuer(&self, issuer_id: IssuerId) -> RepoResult<Vec<StatusList>> {
        reading(&self.0, move |conn| {
            status_lists::table
                .filter(status_lists::issuer_id.eq(issuer_id.as_uuid()))
                .order((status_lists::created_at.asc(), status_lists::id.asc()))
                .select(StatusListRow::as_select())
                .load(conn)?
                .into_iter()
                .map(decode)
                .collect()
        })
        .await
    }

    async fn flagged(&self, id: StatusListId, purpose: StatusPurpose) -> RepoResult<Vec<u32>> {
        reading(&self.0, move |conn| {
            let indices: Vec<Option<i32>> = assertions::table
                .filter(assertions::status_list_id.eq(id.as_uuid()))
                .filter(flagged_rows())
                .filter(assertions::status.eq(flagged_status(purpose)))
                .order(assertions::status_index.asc())
                .select(assertions::status_index)
                .load(conn)?;
            let mut indices = indices
                .into_iter()
                .flatten()
                .map(to_index)
                .collect::<RepoResult<Vec<u32>>>()?;
            // Endorsements take bits of the same lists; they are only ever
            // revoked, never suspended.
            if purpose == StatusPurpose::Revocation {
                indices.extend(revoked_indices(conn, id.as_uuid())?);
                indices.sort_unstable();
            }
            Ok(indices)
        })
        .await
    }

    async fn flagged_awards(
        &self,
        issuer_id: IssuerId,
        purpose: StatusPurpose,
    ) -> RepoResult<Vec<Assertion>> {
        reading(&self.0, move |conn| {
            assertions::table
                .filter(assertions::issuer_id.eq(issuer_id.as_uuid()))
                .filter(flagged_rows())
                .filter(assertions::status.eq(flagged_status(purpose)))
                .order((assertions::created_at.asc(), assertions::id.asc()))
                .select(AssertionRow::as_select())
                .load(conn)?
                .into_iter()
                .map(decode)
                .collect()
        })
        .await
    }

    async fn counts(&self, id: StatusListId) -> RepoResult<StatusCounts> {
        reading(&self.0, move |conn| {
            let mut count = |status: &str| -> Result<u64, Failure> {
                let n: i64 = assertions::table
                    .filter(assertions::status_list_id.eq(id.as_uuid()))
                    .filter(flagged_rows())
                    .filter(assertions::status.eq(status))
                    .count()
                    .get_result(conn)?;
                Ok(total(n)?)
            };
            let revoked = count("revoked")?;
            let suspended = count("suspended")?;
            let endorsements = revoked_indices(conn, id.as_uuid())?.len() as u64;
            Ok(StatusCounts {
                revoked: revoked + endorsements,
                suspended,
            })
        })
        .await
    }
}
