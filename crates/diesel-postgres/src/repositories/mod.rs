//! The repository ports on PostgreSQL. Each call checks a connection out of
//! the pool on the blocking thread pool, runs one transaction, and maps
//! errors at the end.

mod api_keys;
mod assertions;
mod assets;
mod backpack;
mod badge_classes;
mod deliveries;
mod endorsements;
mod issuers;
mod learners;
mod oauth;
mod outbox;
mod platforms;
mod signing_keys;
mod status_lists;
mod users;

use diesel::prelude::*;
use openbadges_domain::ports::*;
use openbadges_domain::*;

use openbadges_store_support::pages::{limit_offset, total};

use crate::errors::{from_pool, Failure};
use crate::pool::PgPool;
use crate::replicas::ReplicaSet;

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

/// Where a repository's statements go. Writes, and the reads of a unit
/// of work that writes, go to `primary` ([`blocking`]); plain reads of
/// public records go through [`reading`], to a replica when the store's
/// read view set `replicas`.
#[derive(Clone)]
pub(crate) struct Pools {
    pub(crate) primary: PgPool,
    /// The replicas serving this view's plain reads; `None`: the primary
    /// serves them.
    pub(crate) replicas: Option<std::sync::Arc<ReplicaSet>>,
}

/// Runs `work` with a pooled connection on the blocking thread pool.
pub(crate) async fn blocking<T, F>(pool: &PgPool, work: F) -> RepoResult<T>
where
    T: Send + 'static,
    F: FnOnce(&mut PgConnection) -> Result<T, Failure> + Send + 'static,
{
    let pool = pool.clone();
    tokio::task::spawn_blocking(move || run(&pool, work))
        .await
        .map_err(|e| DomainError::Internal(format!("database task failed: {e}")))?
}

/// Runs a plain read (no write, and nothing that must see a write made
/// moments ago) on a replica when `pools` has replicas, else, or when the
/// replica fails it, on the primary. `work` may therefore run twice.
pub(crate) async fn reading<T, F>(pools: &Pools, work: F) -> RepoResult<T>
where
    T: Send + 'static,
    F: Fn(&mut PgConnection) -> Result<T, Failure> + Send + 'static,
{
    let Some(replicas) = pools.replicas.clone() else {
        return blocking(&pools.primary, work).await;
    };
    let primary = pools.primary.clone();
    tokio::task::spawn_blocking(move || replicas.read(&primary, work))
        .await
        .map_err(|e| DomainError::Internal(format!("database task failed: {e}")))?
}

/// A connection from `pool`. Blocking.
pub(crate) fn checkout(
    pool: &PgPool,
) -> Result<diesel::r2d2::PooledConnection<crate::pool::Manager>, DomainError> {
    // With no connection at all the database is most likely down (a
    // healthy pool keeps the connections it opened): wait briefly, so
    // that requests fail fast with 503 during an outage instead of each
    // holding a worker for the whole connect timeout.
    if pool.state().connections == 0 {
        pool.get_timeout(OUTAGE_CHECKOUT_TIMEOUT)
    } else {
        pool.get()
    }
    .map_err(from_pool)
}

/// Runs `work` with a connection from `pool`. Blocking.
pub(crate) fn run<T>(
    pool: &PgPool,
    work: impl FnOnce(&mut PgConnection) -> Result<T, Failure>,
) -> RepoResult<T> {
    let mut conn = checkout(pool)?;
    let outcome = work(&mut conn).map_err(DomainError::from);
    if matches!(
        outcome,
        Err(DomainError::Unavailable(_) | DomainError::Internal(_))
    ) {
        conn.suspect();
    }
    outcome
}

/// Runs `work` in a transaction.
fn in_transaction<T>(
    conn: &mut PgConnection,
    work: impl FnOnce(&mut PgConnection) -> Result<T, Failure>,
) -> Result<T, Failure> {
    conn.transaction(work)
}

fn not_found(entity: &'static str, id: impl ToString) -> Failure {
    DomainError::NotFound {
        entity,
        id: id.to_string(),
    }
    .into()
}

/// Decodes a row read back; a row that does not decode fails the unit of
/// work.
fn decode<R, T>(row: R) -> Result<T, Failure>
where
    T: TryFrom<R, Error = DomainError>,
{
    Ok(T::try_from(row)?)
}

/// Decodes rows read back.
fn decode_all<R, T>(rows: Vec<R>) -> Result<Vec<T>, Failure>
where
    T: TryFrom<R, Error = DomainError>,
{
    rows.into_iter().map(decode).collect()
}

fn to_page<R, T>(rows: Vec<R>, count: i64) -> Result<Page<T>, Failure>
where
    T: TryFrom<R, Error = DomainError>,
{
    Ok(Page {
        items: rows
            .into_iter()
            .map(T::try_from)
            .collect::<Result<_, _>>()?,
        total: total(count)?,
    })
}

pub(crate) use api_keys::*;
pub(crate) use assertions::*;
pub(crate) use assets::*;
pub(crate) use backpack::PgBackpack;
pub(crate) use badge_classes::*;
pub(crate) use deliveries::PgDeliveries;
pub(crate) use endorsements::*;
pub(crate) use issuers::*;
pub(crate) use learners::PgLearnerEmails;
pub(crate) use oauth::PgOAuth;
pub(crate) use outbox::PgOutbox;
pub(crate) use platforms::PgPlatforms;
pub(crate) use signing_keys::*;
pub(crate) use status_lists::*;
pub(crate) use users::*;
