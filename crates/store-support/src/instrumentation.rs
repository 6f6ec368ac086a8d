//! What the adapters tell the operator about their database work: each
//! statement with its duration (`DB_QUERY_LOGGING`), and how connections
//! are checked out of the pool (for `/metrics`).

use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::Arc;
use std::time::{Duration, Instant};

use diesel::connection::{Instrumentation, InstrumentationEvent};
use diesel::r2d2::event::{CheckoutEvent, TimeoutEvent};
use diesel::r2d2::HandleEvent;
use openbadges_domain::operations::PoolState;

/// The log target of SQL statements, so operators can filter them.
pub const SQL_TARGET: &str = "openbadges::sql";

const BINDS_MARKER: &str = " -- binds:";

/// Logs each statement of one connection with its duration, at debug level
/// under [`SQL_TARGET`].
///
/// Only the SQL text is logged. Diesel renders a query as
/// `<sql> -- binds: [<values>]`, and bind values carry e-mail addresses,
/// password hashes and key hashes, so everything from the bind marker on
/// is cut before the line reaches the log.
#[derive(Debug, Default)]
pub struct QueryLogger {
    /// Start times of the statements under way; a stack because diesel may
    /// start a statement while iterating another's rows.
    started: Vec<Instant>,
}

impl Instrumentation for QueryLogger {
    fn on_connection_event(&mut self, event: InstrumentationEvent<'_>) {
        match event {
            InstrumentationEvent::StartQuery { .. } => self.started.push(Instant::now()),
            InstrumentationEvent::FinishQuery { query, error, .. } => {
                let elapsed = self.started.pop().map(|start| start.elapsed());
                if !log::log_enabled!(target: SQL_TARGET, log::Level::Debug) {
                    return;
                }
                let rendered = query.to_string();
                let sql = sql_text(&rendered);
                let ms = elapsed.map_or(0.0, |d| d.as_secs_f64() * 1000.0);
                match error {
                    None => log::debug!(target: SQL_TARGET, "{sql} ({ms:.3} ms)"),
                    Some(err) => {
                        log::debug!(target: SQL_TARGET, "{sql} ({ms:.3} ms) failed: {err}")
                    }
                }
            }
            _ => {}
        }
    }
}

/// The SQL of a rendered query, without its bind values.
pub fn sql_text(rendered: &str) -> &str {
    match rendered.find(BINDS_MARKER) {
        Some(end) => &rendered[..end],
        None => rendered,
    }
}

/// Counts a pool's checkouts and their waits. Give a clone to the pool
/// builder's `event_handler` and read [`PoolMeter::state`] for metrics;
/// clones share the counts. Lock-free: it is updated on every checkout.
#[derive(Debug, Default, Clone)]
pub struct PoolMeter(Arc<Counts>);

#[derive(Debug, Default)]
struct Counts {
    checkouts: AtomicU64,
    wait_nanos: AtomicU64,
    timeouts: AtomicU64,
}

impl PoolMeter {
    /// The counts so far, with the pool's current sizes.
    pub fn state(&self, connections: u32, idle: u32, max: u32) -> PoolState {
        PoolState {
            connections,
            idle,
            max,
            checkouts: self.0.checkouts.load(Relaxed),
            checkout_wait: Duration::from_nanos(self.0.wait_nanos.load(Relaxed)),
            checkout_timeouts: self.0.timeouts.load(Relaxed),
        }
    }
}

impl HandleEvent for PoolMeter {
    fn handle_checkout(&self, event: CheckoutEvent) {
        let nanos = u64::try_from(event.duration().as_nanos()).unwrap_or(u64::MAX);
        self.0.checkouts.fetch_add(1, Relaxed);
        self.0.wait_nanos.fetch_add(nanos, Relaxed);
    }

    fn handle_timeout(&self, _event: TimeoutEvent) {
        self.0.timeouts.fetch_add(1, Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bind_values_are_cut() {
        assert_eq!(
            sql_text(
                "SELECT `users`.`id` FROM `users` WHERE (`users`.`username` = ?) -- binds: [\"ada\"]"
            ),
            "SELECT `users`.`id` FROM `users` WHERE (`users`.`username` = ?)"
        );
        assert_eq!(
            sql_text(
                r#"SELECT "users"."id" FROM "users" WHERE "users"."email" = $1 -- binds: ["a@b.c"]"#
            ),
            r#"SELECT "users"."id" FROM "users" WHERE "users"."email" = $1"#
        );
        assert_eq!(
            sql_text("PRAGMA foreign_keys = ON"),
            "PRAGMA foreign_keys = ON"
        );
    }
}
