//! Status lists.

use async_trait::async_trait;
use diesel::prelude::*;
use openbadges_domain::ports::{RepoResult, StatusListRepository};
use openbadges_domain::{
    Assertion, IssuerId, StatusCounts, StatusList, StatusListId, StatusPurpose, StatusSlot,
    Timestamp,
};

use super::endorsements::revoked_indices;
use super::{decode_all, not_found, require_issuer, total};
use openbadges_store_support::codes::flagged_status;

use crate::errors::Failure;
use crate::pool::Database;
use crate::rows::{encode_index, AssertionRow, StatusListRow};
use crate::schema::{assertions, status_lists};

/// [`StatusListRepository`] on SQLite.
pub(crate) struct StatusLists {
    db: Database,
}

impl StatusLists {
    pub(crate) fn new(db: Database) -> Self {
        Self { db }
    }
}

/// `status <> 'active'` as a literal: SQLite uses a partial index only when
/// the query repeats its condition verbatim, which a bound parameter is not.
fn flagged_rows() -> diesel::expression::SqlLiteral<diesel::sql_types::Bool> {
    diesel::dsl::sql::<diesel::sql_types::Bool>("status <> 'active'")
}

/// The query of [`flagged_bits`].
pub(crate) type FlaggedBits = diesel::dsl::Select<
    diesel::dsl::Filter<
        diesel::dsl::Filter<
            diesel::dsl::Filter<
                assertions::table,
                diesel::dsl::Eq<assertions::status_list_id, String>,
            >,
            diesel::expression::SqlLiteral<diesel::sql_types::Bool>,
        >,
        diesel::dsl::Eq<assertions::status, &'static str>,
    >,
    assertions::status_index,
>;

/// The set bits of list `list_id` for awards in `status`, in no order.
///
/// No ORDER BY: with one, SQLite walks the list's slot index (already in
/// bit order) and reads every award of the list to test its status,
/// thousands of rows for a few set bits. Without, it reads only the
/// flagged rows, through their partial index; the caller sorts.
pub(crate) fn flagged_bits(list_id: String, status: &'static str) -> FlaggedBits {
    assertions::table
        .filter(assertions::status_list_id.eq(list_id))
        .filter(flagged_rows())
        .filter(assertions::status.eq(status))
        .select(assertions::status_index)
}

#[async_trait]
impl StatusListRepository for StatusLists {
    async fn allocate(
        &self,
        issuer_id: IssuerId,
        count: u32,
        capacity: u32,
        now: Timestamp,
    ) -> RepoResult<Vec<StatusSlot>> {
        // `write` is one BEGIN IMMEDIATE transaction: no other writer, in
        // this process or another, runs between the read and the update.
        self.db
            .write(move |conn| {
                require_issuer(conn, issuer_id)?;
                let mut slots = Vec::with_capacity(count as usize);
                let open: Option<StatusListRow> = status_lists::table
                    .filter(status_lists::issuer_id.eq(issuer_id.to_string()))
                    .filter(status_lists::allocated.lt(status_lists::capacity))
                    .order((status_lists::created_at.asc(), status_lists::id.asc()))
                    .select(StatusListRow::as_select())
                    .first(conn)
                    .optional()?;
                if let Some(row) = open {
                    let list = StatusList::try_from(row)?;
                    let taken = count.min(list.capacity - list.allocated);
                    diesel::update(status_lists::table.find(list.id.to_string()))
                        .set(status_lists::allocated.eq(encode_index(
                            "status_lists.allocated",
                            list.allocated + taken,
                        )?))
                        .execute(conn)?;
                    slots.extend((list.allocated..list.allocated + taken).map(|index| {
                        StatusSlot {
                            list_id: list.id,
                            index,
                        }
                    }));
                }
                while slots.len() < count as usize {
                    let remaining = count - slots.len() as u32;
                    let list = StatusList {
                        id: StatusListId::generate(),
                        issuer_id,
                        capacity,
                        allocated: remaining.min(capacity),
                        created_at: now,
                    };
                    diesel::insert_into(status_lists::table)
                        .values(StatusListRow::try_from(&list)?)
                        .execute(conn)?;
                    slots.extend((0..list.allocated).map(|index| StatusSlot {
                        list_id: list.id,
                        index,
                    }));
                }
                Ok(slots)
            })
            .await
    }

    async fn create(&self, list: &StatusList) -> RepoResult<()> {
        let row = StatusListRow::try_from(list)?;
        let issuer_id = list.issuer_id;
        self.db
            .write(move |conn| {
                require_issuer(conn, issuer_id)?;
                diesel::insert_into(status_lists::table)
                    .values(&row)
                    .execute(conn)?;
                Ok(())
            })
            .await
    }

    async fn get(&self, id: StatusListId) -> RepoResult<StatusList> {
        self.db
            .run(move |conn| {
                let row = status_lists::table
                    .find(id.to_string())
                    .select(StatusListRow::as_select())
                    .first(conn)
                    .optional()?
                    .ok_or_else(|| not_found("status list", id))?;
                Ok(StatusList::try_from(row)?)
            })
            .await
    }

    async fn list_for_issuer(&self, issuer_id: IssuerId) -> RepoResult<Vec<StatusList>> {
        self.db
            .run(move |conn| {
                let rows: Vec<StatusListRow> = status_lists::table
                    .filter(status_lists::issuer_id.eq(issuer_id.to_string()))
                    .order((status_lists::created_at.asc(), status_lists::id.asc()))
                    .select(StatusListRow::as_select())
                    .load(conn)?;
                decode_all(rows)
            })
            .await
    }

    async fn flagged(&self, id: StatusListId, purpose: StatusPurpose) -> RepoResult<Vec<u32>> {
        self.db
            .run(move |conn| {
                let indices: Vec<Option<i32>> =
                    flagged_bits(id.to_string(), flagged_status(purpose)).load(conn)?;
                let mut indices = indices
                    .into_iter()
                    .flatten()
                    .map(|index| {
                        u32::try_from(index).map_err(|_| {
                            Failure::from(openbadges_domain::DomainError::Internal(
                                "assertions.status_index is negative".to_owned(),
                            ))
                        })
                    })
                    .collect::<Result<Vec<u32>, Failure>>()?;
                // Endorsements take bits of the same lists; they are only
                // ever revoked, never suspended.
                if purpose == StatusPurpose::Revocation {
                    indices.extend(revoked_indices(conn, &id.to_string())?);
                }
                indices.sort_unstable();
                Ok(indices)
            })
            .await
    }

    async fn flagged_awards(
        &self,
        issuer_id: IssuerId,
        purpose: StatusPurpose,
    ) -> RepoResult<Vec<Assertion>> {
        self.db
            .run(move |conn| {
                let rows: Vec<AssertionRow> = assertions::table
                    .filter(assertions::issuer_id.eq(issuer_id.to_string()))
                    .filter(flagged_rows())
                    .filter(assertions::status.eq(flagged_status(purpose)))
                    .order((assertions::created_at.asc(), assertions::id.asc()))
                    .select(AssertionRow::as_select())
                    .load(conn)?;
                decode_all(rows)
            })
            .await
    }

    async fn counts(&self, id: StatusListId) -> RepoResult<StatusCounts> {
        self.db
            .run(move |conn| {
                let count = |status: &str, conn: &mut SqliteConnection| -> Result<u64, Failure> {
                    let n: i64 = assertions::table
                        .filter(assertions::status_list_id.eq(id.to_string()))
                        .filter(flagged_rows())
                        .filter(assertions::status.eq(status))
                        .count()
                        .get_result(conn)?;
                    Ok(total(n)?)
                };
                let endorsements = revoked_indices(conn, &id.to_string())?.len() as u64;
                Ok(StatusCounts {
                    revoked: count("revoked", conn)? + endorsements,
                    suspended: count("suspended", conn)?,
                })
            })
            .await
    }
}
