//! Awards (assertions / credentials).

use async_trait::async_trait;
use diesel::prelude::*;
use openbadges_domain::ports::{AssertionFilter, AssertionRepository, RepoResult};
use openbadges_domain::{Assertion, AssertionId, DomainError, Page, PageRequest};

use super::{bounds, decode_all, missing_reference, not_found, total};
use crate::errors::Failure;
use crate::pool::Database;
use crate::rows::AssertionRow;
use crate::schema::{assertions, badge_classes, issuers};

/// [`AssertionRepository`] on SQLite.
pub(crate) struct Assertions {
    db: Database,
}

impl Assertions {
    pub(crate) fn new(db: Database) -> Self {
        Self { db }
    }
}

/// Checks the award's badge class and issuer, then inserts it. The
/// composite foreign key would refuse a mismatch too, but without saying
/// which of the two is wrong.
fn insert(conn: &mut SqliteConnection, row: &AssertionRow) -> Result<(), Failure> {
    let issuer: Option<String> = badge_classes::table
        .find(row.badge_class_id())
        .select(badge_classes::issuer_id)
        .first(conn)
        .optional()?;
    match issuer {
        None => return Err(missing_reference("badge class", row.badge_class_id())),
        Some(issuer) if issuer != row.issuer_id() => {
            return Err(DomainError::invalid(
                "issuer",
                format!("must be the issuer of badge class {}", row.badge_class_id()),
            )
            .into())
        }
        Some(_) => {}
    }
    diesel::insert_into(assertions::table)
        .values(row)
        .execute(conn)?;
    Ok(())
}

#[async_trait]
impl AssertionRepository for Assertions {
    async fn create(&self, assertion: &Assertion) -> RepoResult<()> {
        let row = AssertionRow::try_from(assertion)?;
        self.db.write(move |conn| insert(conn, &row)).await
    }

    async fn create_many(&self, assertions: &[Assertion]) -> RepoResult<()> {
        if assertions.is_empty() {
            return Ok(());
        }
        let batch = assertions
            .iter()
            .map(AssertionRow::try_from)
            .collect::<Result<Vec<_>, _>>()?;
        self.db
            .write(move |conn| batch.iter().try_for_each(|row| insert(conn, row)))
            .await
    }

    async fn get(&self, id: AssertionId) -> RepoResult<Assertion> {
        self.db
            .run(move |conn| {
                let row = assertions::table
                    .find(id.to_string())
                    .select(AssertionRow::as_select())
                    .first(conn)
                    .optional()?
                    .ok_or_else(|| not_found("assertion", id))?;
                Ok(Assertion::try_from(row)?)
            })
            .await
    }

    async fn update(&self, assertion: &Assertion) -> RepoResult<()> {
        let row = AssertionRow::try_from(assertion)?;
        let id = assertion.id;
        self.db
            .write(move |conn| {
                let changed = diesel::update(assertions::table.find(id.to_string()))
                    .set(row.changes())
                    .execute(conn)?;
                if changed == 0 {
                    return Err(not_found("assertion", id));
                }
                Ok(())
            })
            .await
    }

    async fn delete(&self, id: AssertionId) -> RepoResult<()> {
        self.db
            .write(move |conn| {
                let deleted =
                    diesel::delete(assertions::table.find(id.to_string())).execute(conn)?;
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
        let badge_class = filter.badge_class_id.map(|id| id.to_string());
        let issuer = filter.issuer_id.map(|id| id.to_string());
        let recipient = filter.recipient_key.clone();
        let owner = filter.owner_id.map(|id| id.to_string());
        let (limit, offset) = bounds(page);
        self.db
            .read(move |conn| {
                let filtered = || {
                    let mut query = assertions::table.into_boxed();
                    if let Some(badge_class) = &badge_class {
                        query = query.filter(assertions::badge_class_id.eq(badge_class));
                    }
                    if let Some(issuer) = &issuer {
                        query = query.filter(assertions::issuer_id.eq(issuer));
                    }
                    if let Some(recipient) = &recipient {
                        query = query.filter(assertions::recipient_key.eq(recipient));
                    }
                    if let Some(owner) = &owner {
                        let owned = issuers::table
                            .filter(issuers::owner_id.eq(owner))
                            .select(issuers::id);
                        query = query.filter(assertions::issuer_id.eq_any(owned));
                    }
                    query
                };
                let count: i64 = filtered().count().get_result(conn)?;
                let rows: Vec<AssertionRow> = filtered()
                    .select(AssertionRow::as_select())
                    .order((assertions::created_at.asc(), assertions::id.asc()))
                    .limit(limit)
                    .offset(offset)
                    .load(conn)?;
                Ok(Page {
                    items: decode_all(rows)?,
                    total: total(count)?,
                })
            })
            .await
    }
}
