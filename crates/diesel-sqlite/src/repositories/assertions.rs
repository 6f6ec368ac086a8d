//! Awards (assertions / credentials).

use std::collections::HashMap;

use async_trait::async_trait;
use diesel::dsl::{exists, select, sql};
use diesel::prelude::*;
use diesel::sql_types::{Bool, Text};
use diesel::sqlite::Sqlite;
use openbadges_domain::mail::Notification;
use openbadges_domain::ports::{AssertionFilter, AssertionRepository, RepoResult};
use openbadges_domain::{
    Assertion, AssertionId, AwardBatch, CredentialStatus, Cursor, DomainError, Page, PageRequest,
    Timestamp,
};
use openbadges_store_support::ahead::prepare_ahead;

use super::learners::link_award;
use super::outbox::insert_notifications;
use super::{decode_all, limit_offset, missing_reference, not_found, total as total_of};
use crate::errors::Failure;
use crate::pool::Database;
use crate::rows::{encode_timestamp, status_columns, AssertionRow};
use crate::schema::{assertions, badge_classes, issuers};

/// How many awards of a batch are read out of it at a time while it is
/// stored.
const READ_CHUNK: usize = 64;

/// [`AssertionRepository`] on SQLite.
pub(crate) struct Assertions {
    db: Database,
}

impl Assertions {
    pub(crate) fn new(db: Database) -> Self {
        Self { db }
    }
}

/// Each badge class looked up so far in a transaction, with its issuer
/// (`None`: there is no such badge class).
type IssuerOf = HashMap<String, Option<String>>;

/// Checks the award's badge class and issuer, looking up only badge classes
/// `issuer_of` does not know yet, then inserts it. The composite foreign
/// key would refuse a mismatch too, but without saying which of the two is
/// wrong.
fn insert(
    conn: &mut SqliteConnection,
    row: &AssertionRow,
    issuer_of: &mut IssuerOf,
) -> Result<(), Failure> {
    let issuer = match issuer_of.get(row.badge_class_id()) {
        Some(issuer) => issuer.clone(),
        None => {
            let issuer: Option<String> = badge_classes::table
                .find(row.badge_class_id())
                .select(badge_classes::issuer_id)
                .first(conn)
                .optional()?;
            issuer_of.insert(row.badge_class_id().to_owned(), issuer.clone());
            issuer
        }
    };
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
        let award = assertion.clone();
        self.db
            .write(move |conn| {
                insert(conn, &row, &mut IssuerOf::new())?;
                link_award(conn, &award, Timestamp::now())
            })
            .await
    }

    async fn create_notifying(
        &self,
        assertion: &Assertion,
        notification: &Notification,
    ) -> RepoResult<()> {
        let row = AssertionRow::try_from(assertion)?;
        let award = assertion.clone();
        let notification = notification.clone();
        self.db
            .write(move |conn| {
                insert(conn, &row, &mut IssuerOf::new())?;
                link_award(conn, &award, Timestamp::now())?;
                insert_notifications(conn, std::slice::from_ref(&notification))
            })
            .await
    }

    async fn create_many(&self, mut batch: AwardBatch) -> RepoResult<AwardBatch> {
        if batch.is_empty() {
            return Ok(batch);
        }
        self.db
            .write(move |conn| {
                // A few awards read out of the batch at a time, made into
                // rows (their credentials packed) on a second thread.
                let mut issuer_of = IssuerOf::new();
                let now = Timestamp::now();
                prepare_ahead(
                    batch.chunks(READ_CHUNK),
                    |awards| {
                        awards?
                            .into_iter()
                            .map(|award| Ok((AssertionRow::try_from(&award)?, award)))
                            .collect::<Result<Vec<_>, Failure>>()
                    },
                    |rows| {
                        rows.iter().try_for_each(|(row, award)| {
                            insert(conn, row, &mut issuer_of)?;
                            link_award(conn, award, now)
                        })
                    },
                )?;
                insert_notifications(conn, batch.notifications())?;
                Ok(batch)
            })
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

    async fn set_status(
        &self,
        id: AssertionId,
        from: &CredentialStatus,
        to: &CredentialStatus,
        at: Timestamp,
    ) -> RepoResult<()> {
        let expected = from.as_str();
        let (status, reason, changed_at) = status_columns(to);
        let at = encode_timestamp(at);
        self.db
            .write(move |conn| {
                let key = id.to_string();
                // The status read is part of the condition: a change made
                // since (a revocation) is never overwritten.
                let changed = diesel::update(
                    assertions::table
                        .find(&key)
                        .filter(assertions::status.eq(expected)),
                )
                .set((
                    assertions::status.eq(status),
                    assertions::status_reason.eq(&reason),
                    assertions::status_changed_at.eq(&changed_at),
                    assertions::updated_at.eq(&at),
                ))
                .execute(conn)?;
                if changed == 1 {
                    return Ok(());
                }
                let now: Option<String> = assertions::table
                    .find(&key)
                    .select(assertions::status)
                    .first(conn)
                    .optional()?;
                match now {
                    None => Err(not_found("assertion", id)),
                    Some(now) => Err(DomainError::Stale {
                        entity: "assertion",
                        id: id.to_string(),
                        expected: expected.to_string(),
                        actual: now,
                    }
                    .into()),
                }
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
        let filter = Filter::from(filter);
        let (limit, offset) = limit_offset(page);
        self.db
            .read(move |conn| {
                let rows: Vec<AssertionRow> = filter
                    .query()
                    .select(AssertionRow::as_select())
                    .order((assertions::created_at.asc(), assertions::id.asc()))
                    .limit(limit)
                    .offset(offset)
                    .load(conn)?;
                // A page that is not full tells the total: no `COUNT(*)` then.
                let total = match page.total_from(rows.len()) {
                    Some(total) => total,
                    None => total_of(filter.query().count().get_result(conn)?)?,
                };
                Ok(Page {
                    items: decode_all(rows)?,
                    total,
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
        let filter = Filter::from(filter);
        let after = after.map(|cursor| {
            (
                encode_timestamp(cursor.created_at()),
                cursor.id().to_string(),
            )
        });
        let limit = i64::from(limit);
        self.db
            .read(move |conn| {
                let rows = match seek(conn, filter)? {
                    Seek::Nothing => Vec::new(),
                    Seek::Range(filter) => after_cursor(filter.query(), after.as_ref())
                        .select(AssertionRow::as_select())
                        .limit(limit)
                        .load(conn)?,
                    Seek::Issuers(owned) => {
                        let mut keys: Vec<(String, String)> = Vec::new();
                        for issuer in owned {
                            let range = Filter {
                                issuer: Some(issuer),
                                ..Filter::default()
                            };
                            keys.extend(
                                after_cursor(range.query(), after.as_ref())
                                    .select((assertions::created_at, assertions::id))
                                    .limit(limit)
                                    .load::<(String, String)>(conn)?,
                            );
                        }
                        keys.sort_unstable();
                        keys.truncate(usize::try_from(limit).unwrap_or(usize::MAX));
                        let ids: Vec<String> = keys.into_iter().map(|(_, id)| id).collect();
                        let rows: Vec<AssertionRow> = assertions::table
                            .filter(assertions::id.eq_any(&ids))
                            .select(AssertionRow::as_select())
                            .load(conn)?;
                        let mut awards: Vec<Assertion> = decode_all(rows)?;
                        awards.sort_unstable_by_key(|a| (a.created_at, a.id.as_uuid()));
                        return Ok(awards);
                    }
                };
                decode_all(rows)
            })
            .await
    }
}

/// An award filter as stored text.
#[derive(Debug, Clone, Default)]
struct Filter {
    badge_class: Option<String>,
    issuer: Option<String>,
    recipient: Option<String>,
    owner: Option<String>,
}

impl From<&AssertionFilter> for Filter {
    fn from(filter: &AssertionFilter) -> Self {
        Self {
            badge_class: filter.badge_class_id.map(|id| id.to_string()),
            issuer: filter.issuer_id.map(|id| id.to_string()),
            recipient: filter.recipient_key.clone(),
            owner: filter.owner_id.map(|id| id.to_string()),
        }
    }
}

impl Filter {
    /// The awards matching every given filter, in no particular order.
    fn query(&self) -> assertions::BoxedQuery<'_, Sqlite> {
        let mut query = assertions::table.into_boxed();
        if let Some(badge_class) = &self.badge_class {
            query = query.filter(assertions::badge_class_id.eq(badge_class));
        }
        if let Some(issuer) = &self.issuer {
            query = query.filter(assertions::issuer_id.eq(issuer));
        }
        if let Some(recipient) = &self.recipient {
            query = query.filter(assertions::recipient_key.eq(recipient));
        }
        if let Some(owner) = &self.owner {
            let owned = issuers::table
                .filter(issuers::owner_id.eq(owner))
                .select(issuers::id);
            query = query.filter(assertions::issuer_id.eq_any(owned));
        }
        query
    }
}

/// How a cursor page is read: always by seeking one index range that ends
/// in `(created_at, id)` and stopping after `limit` rows, so that a page
/// costs the same however deep it is and however large the table.
#[derive(Debug)]
enum Seek {
    /// The filters contradict each other (a badge class of another
    /// issuer, an issuer of another owner): nothing matches.
    Nothing,
    /// One range of the index of the filter's column: badge class, issuer,
    /// recipient, or none (creation order).
    Range(Filter),
    /// An owner's awards: each of their issuers' ranges, merged.
    Issuers(Vec<String>),
}

/// Settles, with one lookup, what a badge class or an issuer implies about
/// the other filters, so that one index serves the page. A badge class has
/// one issuer, which has one owner: left to the planner, `badge_class_id =
/// ? AND issuer_id = ?` may seek the issuer's index and filter out its other
/// badges' awards; and awards of an owner's issuers lie in several ranges.
fn seek(conn: &mut SqliteConnection, mut filter: Filter) -> Result<Seek, Failure> {
    if let Some(badge_class) = &filter.badge_class {
        let issuer: Option<String> = badge_classes::table
            .find(badge_class)
            .select(badge_classes::issuer_id)
            .first(conn)
            .optional()?;
        match issuer {
            None => return Ok(Seek::Nothing),
            Some(issuer)
                if filter
                    .issuer
                    .as_ref()
                    .is_some_and(|wanted| *wanted != issuer) =>
            {
                return Ok(Seek::Nothing)
            }
            Some(issuer) => filter.issuer = Some(issuer),
        }
    }
    if let (Some(issuer), Some(owner)) = (&filter.issuer, &filter.owner) {
        let owned: bool = select(exists(
            issuers::table
                .find(issuer)
                .filter(issuers::owner_id.eq(owner)),
        ))
        .get_result(conn)?;
        if !owned {
            return Ok(Seek::Nothing);
        }
        filter.owner = None;
    }
    if filter.badge_class.is_some() {
        // Implied by the badge class, and checked above.
        filter.issuer = None;
    }
    match &filter.owner {
        Some(owner) if filter.recipient.is_none() => {
            let owned = issuers::table
                .filter(issuers::owner_id.eq(owner))
                .select(issuers::id)
                .load(conn)?;
            Ok(Seek::Issuers(owned))
        }
        // A recipient's awards are few: their index, the owner a filter.
        _ => Ok(Seek::Range(filter)),
    }
}

/// The awards of `query` after the cursor, in list order. The row value
/// comparison is what lets SQLite seek `(…, created_at, id)` straight to
/// the cursor (`EXPLAIN QUERY PLAN`: `(created_at,id)>(?,?)`).
fn after_cursor<'a>(
    query: assertions::BoxedQuery<'a, Sqlite>,
    after: Option<&'a (String, String)>,
) -> assertions::BoxedQuery<'a, Sqlite> {
    let query = match after {
        Some((created_at, id)) => query.filter(
            sql::<Bool>("(assertions.created_at, assertions.id) > (")
                .bind::<Text, _>(created_at)
                .sql(", ")
                .bind::<Text, _>(id)
                .sql(")"),
        ),
        None => query,
    };
    query.order((assertions::created_at.asc(), assertions::id.asc()))
}

/// What SQLite plans for each cursor page: one index seeked (or, for the
/// first unfiltered page, read) in list order, never the table scanned nor
/// the rows sorted. The database has no statistics (the server never runs
/// `ANALYZE`), as in production.
#[cfg(test)]
mod plans {
    use diesel::connection::SimpleConnection;
    use diesel::query_builder::{AstPass, Query, QueryFragment, QueryId};
    use diesel::sql_types::Integer;
    use diesel_migrations::MigrationHarness;

    use super::*;

    /// `EXPLAIN QUERY PLAN` of a query, binds and all.
    struct Explain<Q>(Q);

    impl<Q> QueryId for Explain<Q> {
        type QueryId = ();
        const HAS_STATIC_QUERY_ID: bool = false;
    }

    impl<Q: QueryFragment<Sqlite>> QueryFragment<Sqlite> for Explain<Q> {
        fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, Sqlite>) -> QueryResult<()> {
            out.push_sql("EXPLAIN QUERY PLAN ");
            self.0.walk_ast(out.reborrow())
        }
    }

    impl<Q> Query for Explain<Q> {
        type SqlType = (Integer, Integer, Integer, Text);
    }

    impl<Q> RunQueryDsl<SqliteConnection> for Explain<Q> {}

    fn plan<Q: QueryFragment<Sqlite>>(conn: &mut SqliteConnection, query: Q) -> String {
        Explain(query)
            .load::<(i32, i32, i32, String)>(conn)
            .expect("explain")
            .into_iter()
            .map(|(_, _, _, detail)| detail)
            .collect::<Vec<_>>()
            .join("\n")
    }

    fn database() -> SqliteConnection {
        let mut conn = SqliteConnection::establish(":memory:").expect("in-memory database");
        conn.batch_execute("PRAGMA foreign_keys = ON")
            .expect("pragma");
        conn.run_pending_migrations(crate::MIGRATIONS)
            .expect("migrations");
        conn
    }

    fn filter(f: impl FnOnce(&mut Filter)) -> Filter {
        let mut filter = Filter::default();
        f(&mut filter);
        filter
    }

    fn page_plan(
        conn: &mut SqliteConnection,
        filter: &Filter,
        after: Option<&(String, String)>,
    ) -> String {
        plan(
            conn,
            after_cursor(filter.query(), after)
                .select(AssertionRow::as_select())
                .limit(51),
        )
    }

    #[test]
    fn every_cursor_page_seeks_one_index_in_list_order() {
        let mut conn = database();
        let after = (
            "2024-05-01T12:00:00.000000Z".to_owned(),
            "0f0e0d0c-0b0a-4908-8706-050403020100".to_owned(),
        );
        let id = || Some("0f0e0d0c-0b0a-4908-8706-050403020100".to_owned());
        let seek = "(created_at,id)>(?,?)";
        for (name, filter, index) in [
            ("none", Filter::default(), "assertions_created_idx ("),
            (
                "issuer",
                filter(|f| f.issuer = id()),
                "assertions_issuer_idx (issuer_id=? AND ",
            ),
            (
                "badge class",
                filter(|f| f.badge_class = id()),
                "assertions_badge_class_idx (badge_class_id=? AND ",
            ),
            (
                "recipient",
                filter(|f| f.recipient = Some("sha256$00".to_owned())),
                "assertions_recipient_idx (recipient_key=? AND ",
            ),
            (
                "recipient of an owner's issuers",
                filter(|f| {
                    f.recipient = Some("sha256$00".to_owned());
                    f.owner = id();
                }),
                "assertions_recipient_idx (recipient_key=? AND ",
            ),
        ] {
            let plan = page_plan(&mut conn, &filter, Some(&after));
            println!("{name}:\n{plan}\n");
            assert!(
                plan.contains(&format!("SEARCH assertions USING INDEX {index}{seek})")),
                "{name}: {plan}"
            );
            assert!(!plan.contains("TEMP B-TREE"), "{name}: {plan}");
            let first = page_plan(&mut conn, &filter, None);
            println!("{name}, first page:\n{first}\n");
            assert!(!first.contains("TEMP B-TREE"), "{name}: {first}");
            assert!(
                first.contains("USING INDEX assertions_") || first.contains("USING COVERING INDEX"),
                "{name}: {first}"
            );
        }

        // An owner's awards: each issuer's keys from its covering index,
        // then the page's rows by primary key.
        let issuer = filter(|f| f.issuer = id());
        let keys = plan(
            &mut conn,
            after_cursor(issuer.query(), Some(&after))
                .select((assertions::created_at, assertions::id))
                .limit(51),
        );
        println!("an owner's issuer, keys:\n{keys}\n");
        assert!(
            keys.contains(&format!(
                "SEARCH assertions USING COVERING INDEX assertions_issuer_idx (issuer_id=? AND {seek})"
            )),
            "{keys}"
        );
        let ids = vec!["a".to_owned(), "b".to_owned()];
        let rows = plan(
            &mut conn,
            assertions::table
                .filter(assertions::id.eq_any(&ids))
                .select(AssertionRow::as_select()),
        );
        println!("an owner's page, rows:\n{rows}\n");
        assert!(
            rows.contains("USING INDEX sqlite_autoindex_assertions_1 (id=?)"),
            "{rows}"
        );
    }
}
