//! Read replicas: PostgreSQL streaming standbys that take the public reads
//! off the primary.
//!
//! Each replica has a pool of its own (the primary's settings) and a
//! checker thread that measures how far behind the primary it is. A read
//! of the read view ([`crate::PgStore::public_reads`]) goes to the next
//! replica, round robin (public reads are short indexed reads of about the
//! same cost, so weighing by work in flight would buy little), that is up
//! and within the lag bound; when none
//! is, or when the read fails there because the replica went away, the
//! primary answers it. A replica whose read failed is skipped until its
//! checker sees it answer again.
//!
//! # What "lag" means here
//!
//! `pg_last_xact_replay_timestamp()` is the commit time of the last
//! replayed transaction: on an idle primary it stops advancing, and a fully
//! caught-up replica would look ever further behind. So lag is measured in
//! WAL positions, on this process's clock: every check reads the primary's
//! `pg_current_wal_lsn()` (remembering when it was read), then the
//! replica's `pg_last_wal_replay_lsn()`. Once the replica has replayed up to
//! a position the primary had reached at time *t*, it holds every
//! transaction committed before *t*: it is *fresh as of t*. Lag is the time
//! since then: an upper bound on how old the data read from the replica can
//! be, with no clock comparison between machines. An idle, caught-up replica
//! shows a lag of about one check interval. Routing looks at the lag as of
//! the moment of the read (not of the last check), so a replica whose
//! checker stops hearing from it drops out by itself once the bound is
//! passed.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use diesel::connection::Connection;
use diesel::pg::PgConnection;
use diesel::{sql_query, QueryableByName, RunQueryDsl};
use openbadges_domain::operations::{ReadRouting, ReplicaHealth, ReplicaState};
use openbadges_domain::ports::RepoResult;
use openbadges_domain::DomainError;

use crate::errors::{from_diesel, Failure};
use crate::pool::{Manager, PgPool};
use crate::repositories::{checkout, run};
use crate::url::Redactor;
use crate::PgOptions;

/// Checks made per lag bound: a replica's measured lag is at most one
/// interval older than the truth.
const CHECKS_PER_BOUND: u32 = 4;
/// The checks' pace whatever the bound: often enough to see a replica come
/// back soon, seldom enough to cost nothing.
const CHECK_INTERVAL_RANGE: (Duration, Duration) =
    (Duration::from_millis(50), Duration::from_secs(1));
/// Primary positions remembered for a replica that does not catch up:
/// beyond them, the oldest are dropped, which can only overstate its lag.
const SAMPLES_KEPT: usize = 1024;

/// The replicas of one store, shared by its clones and its read view.
pub(crate) struct ReplicaSet {
    replicas: Vec<Arc<Replica>>,
    next: AtomicUsize,
    max_lag: Duration,
    primary_reads: AtomicU64,
    stop: Arc<AtomicBool>,
    checkers: Mutex<Vec<JoinHandle<()>>>,
}

/// One replica: its pool and what its checker last found.
struct Replica {
    index: usize,
    pool: PgPool,
    /// When the set was made: `fresh_as_of` counts from it.
    epoch: Instant,
    /// The checker last reached it, and it is a standby.
    up: AtomicBool,
    /// Nanoseconds after `epoch` as of which it holds every commit of the
    /// primary, plus one; 0 until measured.
    fresh_as_of: AtomicU64,
    queries: AtomicU64,
    fallbacks: AtomicU64,
}

impl Replica {
    /// How far behind the primary it may be now; `None` before the first
    /// measurement.
    fn lag(&self) -> Option<Duration> {
        let fresh = self.fresh_as_of.load(Ordering::Acquire).checked_sub(1)?;
        Some(
            self.epoch
                .elapsed()
                .saturating_sub(Duration::from_nanos(fresh)),
        )
    }

    fn health(&self, max_lag: Duration) -> ReplicaHealth {
        if !self.up.load(Ordering::Acquire) {
            return ReplicaHealth::Down;
        }
        match self.lag() {
            Some(lag) if lag <= max_lag => ReplicaHealth::Serving,
            _ => ReplicaHealth::Lagging,
        }
    }

    /// Records that it holds every commit made before `at`; never moves
    /// back.
    fn fresh_as_of(&self, at: Instant) {
        let nanos = u64::try_from(at.saturating_duration_since(self.epoch).as_nanos())
            .unwrap_or(u64::MAX - 1)
            + 1;
        self.fresh_as_of.fetch_max(nanos, Ordering::AcqRel);
    }

    /// Runs a read here. The outer `Err` is the replica failing (no
    /// connection, a broken one, a query error): the read is to be retried
    /// on the primary. The inner result is the answer, an error decided by
    /// the repository included.
    fn try_run<T>(
        &self,
        work: &impl Fn(&mut PgConnection) -> Result<T, Failure>,
    ) -> Result<RepoResult<T>, DomainError> {
        let mut conn = checkout(&self.pool)?;
        match work(&mut conn) {
            Ok(answer) => Ok(Ok(answer)),
            Err(Failure::Domain(error)) => Ok(Err(error)),
            Err(Failure::Query(error)) => {
                conn.suspect();
                Err(from_diesel(error))
            }
        }
    }
}

impl ReplicaSet {
    /// Builds a pool per replica URL (without connecting: a replica down at
    /// start is no reason not to serve) and starts their checkers.
    pub(crate) fn start(
        options: &PgOptions,
        primary_url: &str,
    ) -> Result<Option<Arc<Self>>, String> {
        if options.replica_urls.is_empty() {
            return Ok(None);
        }
        let epoch = Instant::now();
        let stop = Arc::new(AtomicBool::new(false));
        let interval = (options.replica_max_lag / CHECKS_PER_BOUND)
            .clamp(CHECK_INTERVAL_RANGE.0, CHECK_INTERVAL_RANGE.1);
        let mut replicas = Vec::new();
        let mut checkers = Vec::new();
        for (index, url) in options.replica_urls.iter().enumerate() {
            let url = options.with_connect_timeout(url);
            let redactor = Redactor::of(&url);
            // Not connected now: a replica down at start is no reason not
            // to serve.
            let pool = options
                .pool_builder()
                .build_unchecked(Manager::new(url.clone(), redactor.clone()));
            let replica = Arc::new(Replica {
                index,
                pool,
                epoch,
                up: AtomicBool::new(false),
                fresh_as_of: AtomicU64::new(0),
                queries: AtomicU64::new(0),
                fallbacks: AtomicU64::new(0),
            });
            let checker = Checker {
                replica: Arc::clone(&replica),
                primary_url: primary_url.to_owned(),
                replica_url: url,
                redactor,
                interval,
                stop: Arc::clone(&stop),
                primary: None,
                standby: None,
                samples: VecDeque::new(),
                reported: None,
            };
            let handle = std::thread::Builder::new()
                .name(format!("pg-replica-{index}"))
                .spawn(move || checker.run())
                .map_err(|e| format!("cannot start the checker of replica {index}: {e}"))?;
            replicas.push(replica);
            checkers.push(handle);
        }
        Ok(Some(Arc::new(Self {
            replicas,
            next: AtomicUsize::new(0),
            max_lag: options.replica_max_lag,
            primary_reads: AtomicU64::new(0),
            stop,
            checkers: Mutex::new(checkers),
        })))
    }

    /// The next replica fit to serve a read, round robin.
    fn pick(&self) -> Option<&Replica> {
        let count = self.replicas.len();
        let start = self.next.fetch_add(1, Ordering::Relaxed);
        (0..count)
            .map(|offset| &self.replicas[(start + offset) % count])
            .find(|replica| replica.health(self.max_lag) == ReplicaHealth::Serving)
            .map(Arc::as_ref)
    }

    /// Runs a read on a replica, or on the primary when none is fit or the
    /// replica fails it. Blocking: call on the blocking pool.
    pub(crate) fn read<T>(
        &self,
        primary: &PgPool,
        work: impl Fn(&mut PgConnection) -> Result<T, Failure>,
    ) -> RepoResult<T> {
        if let Some(replica) = self.pick() {
            replica.queries.fetch_add(1, Ordering::Relaxed);
            match replica.try_run(&work) {
                Ok(answer) => return answer,
                Err(error) => {
                    replica.up.store(false, Ordering::Release);
                    replica.fallbacks.fetch_add(1, Ordering::Relaxed);
                    log::warn!(
                        "read replica {} failed a read, which the primary answers instead; \
                         it is skipped until it answers again: {error}",
                        replica.index
                    );
                }
            }
        }
        self.primary_reads.fetch_add(1, Ordering::Relaxed);
        run(primary, work)
    }

    /// Each replica's state and the reads the primary took.
    pub(crate) fn routing(&self) -> ReadRouting {
        ReadRouting {
            replicas: self
                .replicas
                .iter()
                .map(|replica| ReplicaState {
                    index: replica.index,
                    health: replica.health(self.max_lag),
                    lag: replica.lag(),
                    queries: replica.queries.load(Ordering::Relaxed),
                    fallbacks: replica.fallbacks.load(Ordering::Relaxed),
                })
                .collect(),
            primary_reads: self.primary_reads.load(Ordering::Relaxed),
        }
    }
}

impl Drop for ReplicaSet {
    /// Stops the checkers and waits for them, so that none is opening a
    /// connection while the process exits (see the pool's `min_idle`).
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Release);
        let checkers = match self.checkers.get_mut() {
            Ok(checkers) => std::mem::take(checkers),
            Err(poisoned) => std::mem::take(poisoned.into_inner()),
        };
        for checker in checkers {
            let _ = checker.join();
        }
    }
}

#[derive(QueryableByName)]
struct Position {
    #[diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::BigInt>)]
    lsn: Option<i64>,
}

/// What a check found wrong, for the log (free of secrets).
#[derive(Debug, Clone, PartialEq, Eq)]
enum Trouble {
    PrimaryUnreachable(String),
    ReplicaUnreachable(String),
    NotAStandby,
}

impl std::fmt::Display for Trouble {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::PrimaryUnreachable(e) => write!(f, "cannot read the primary's position: {e}"),
            Self::ReplicaUnreachable(e) => write!(f, "it does not answer: {e}"),
            Self::NotAStandby => write!(f, "it is not in recovery (not a standby)"),
        }
    }
}

/// One replica's checker: a thread with a connection of its own to the
/// primary and to the replica, so that checks never wait for a pool.
struct Checker {
    replica: Arc<Replica>,
    primary_url: String,
    replica_url: String,
    redactor: Redactor,
    interval: Duration,
    stop: Arc<AtomicBool>,
    primary: Option<PgConnection>,
    standby: Option<PgConnection>,
    /// Positions of the primary not yet replayed, and when they were read.
    samples: VecDeque<(Instant, i64)>,
    /// The trouble last logged, so that a replica down for an hour logs
    /// it once, not once a check.
    reported: Option<Trouble>,
}

impl Checker {
    fn run(mut self) {
        while !self.stop.load(Ordering::Acquire) {
            let started = Instant::now();
            let outcome = self.check();
            self.report(outcome);
            // Pacing a background poll, not standing in for a signal.
            std::thread::sleep(self.interval.saturating_sub(started.elapsed()));
        }
    }

    fn report(&mut self, outcome: Result<(), Trouble>) {
        match outcome {
            Ok(()) => {
                self.replica.up.store(true, Ordering::Release);
                if self.reported.take().is_some() {
                    log::info!("read replica {} answers again", self.replica.index);
                }
            }
            Err(trouble) => {
                if !matches!(trouble, Trouble::PrimaryUnreachable(_)) {
                    self.replica.up.store(false, Ordering::Release);
                }
                if self.reported.as_ref() != Some(&trouble) {
                    log::warn!("read replica {} is skipped: {trouble}", self.replica.index);
                    self.reported = Some(trouble);
                }
            }
        }
    }

    /// One measurement. A primary that does not answer leaves the replica's
    /// freshness where it was, so that it ages out of the bound.
    fn check(&mut self) -> Result<(), Trouble> {
        let read_at = Instant::now();
        let primary = position(
            &mut self.primary,
            &self.primary_url,
            &self.redactor,
            "SELECT (pg_current_wal_lsn() - '0/0'::pg_lsn)::bigint AS lsn",
        )
        .map_err(Trouble::PrimaryUnreachable)?
        .ok_or_else(|| Trouble::PrimaryUnreachable("no WAL position".to_owned()))?;
        self.samples.push_back((read_at, primary));
        if self.samples.len() > SAMPLES_KEPT {
            self.samples.pop_front();
        }
        let replayed = position(
            &mut self.standby,
            &self.replica_url,
            &self.redactor,
            "SELECT (pg_last_wal_replay_lsn() - '0/0'::pg_lsn)::bigint AS lsn",
        )
        .map_err(Trouble::ReplicaUnreachable)?
        .ok_or(Trouble::NotAStandby)?;
        if let Some(at) = replayed_through(&mut self.samples, replayed) {
            self.replica.fresh_as_of(at);
        }
        Ok(())
    }
}

/// When the primary was last at a position the replica has replayed up to
/// `replayed`, from `samples` (the primary's positions and when they were
/// read, oldest first): the replica holds every commit made before then.
/// Samples up to that one are of no more use and are dropped.
fn replayed_through(samples: &mut VecDeque<(Instant, i64)>, replayed: i64) -> Option<Instant> {
    let mut fresh = None;
    while let Some(&(at, lsn)) = samples.front() {
        if lsn > replayed {
            break;
        }
        fresh = Some(at);
        samples.pop_front();
    }
    fresh
}

/// Reads one WAL position over `slot`'s connection, opening it first if
/// needed; a connection that failed is dropped, to be opened again next
/// time. Errors are redacted.
fn position(
    slot: &mut Option<PgConnection>,
    url: &str,
    redactor: &Redactor,
    query: &str,
) -> Result<Option<i64>, String> {
    let conn = match slot {
        Some(conn) => conn,
        None => slot.insert(
            PgConnection::establish(url)
                .map_err(|e| redactor.redact(e.to_string().lines().next().unwrap_or_default()))?,
        ),
    };
    match sql_query(query).get_result::<Position>(conn) {
        Ok(position) => Ok(position.lsn),
        Err(error) => {
            *slot = None;
            Err(redactor.redact(&from_diesel(error).to_string()))
        }
    }
}

#[cfg(test)]
mod tests {
    use diesel::r2d2::Pool;

    use super::*;

    #[test]
    fn freshness_is_the_last_primary_position_replayed() {
        let start = Instant::now();
        let at = |ms| start + Duration::from_millis(ms);
        let mut samples: VecDeque<(Instant, i64)> =
            [(at(0), 100), (at(250), 100), (at(500), 180), (at(750), 300)].into();
        // Nothing replayed past the first position: not fresher than before.
        assert_eq!(replayed_through(&mut samples, 99), None);
        assert_eq!(samples.len(), 4);
        // An idle primary (the same position twice): fresh as of the later read.
        assert_eq!(replayed_through(&mut samples, 150), Some(at(250)));
        assert_eq!(samples, VecDeque::from([(at(500), 180), (at(750), 300)]));
        // Caught up with everything.
        assert_eq!(replayed_through(&mut samples, 300), Some(at(750)));
        assert!(samples.is_empty());
    }

    #[test]
    fn a_replica_ages_out_of_the_bound_without_news() {
        let replica = Replica {
            index: 0,
            pool: Pool::builder()
                .max_size(1)
                .min_idle(Some(0))
                .build_unchecked(Manager::new(
                    "postgres://127.0.0.1:1/none".to_owned(),
                    Redactor::of("postgres://127.0.0.1:1/none"),
                )),
            epoch: Instant::now() - Duration::from_secs(10),
            up: AtomicBool::new(true),
            fresh_as_of: AtomicU64::new(0),
            queries: AtomicU64::new(0),
            fallbacks: AtomicU64::new(0),
        };
        let bound = Duration::from_secs(1);
        assert_eq!(replica.lag(), None);
        assert_eq!(
            replica.health(bound),
            ReplicaHealth::Lagging,
            "never measured"
        );
        replica.fresh_as_of(Instant::now());
        assert_eq!(replica.health(bound), ReplicaHealth::Serving);
        // Freshness never moves back.
        replica.fresh_as_of(Instant::now() - Duration::from_secs(5));
        assert!(replica
            .lag()
            .is_some_and(|lag| lag < Duration::from_secs(5)));
        // Measured 5 s ago and not since: beyond the bound now.
        let stale = Replica {
            fresh_as_of: AtomicU64::new(0),
            ..replica
        };
        stale.fresh_as_of(Instant::now() - Duration::from_secs(5));
        assert_eq!(stale.health(bound), ReplicaHealth::Lagging);
        stale.up.store(false, Ordering::Release);
        assert_eq!(stale.health(bound), ReplicaHealth::Down);
    }
}
