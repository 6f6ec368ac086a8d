//! `DB_QUERY_LOGGING`: every statement and how long it took, at debug level
//! under the `openbadges::sql` target.
//!
//! Only the SQL text is logged. Diesel renders a query as
//! `<sql> -- binds: [<values>]`, and bind values carry e-mail addresses,
//! password hashes and key hashes, so everything from the bind marker on is
//! cut before the line reaches the log.

use std::time::Instant;

use diesel::connection::{Instrumentation, InstrumentationEvent};

/// The log target of SQL statements, so operators can filter them.
pub(crate) const TARGET: &str = "openbadges::sql";

const BINDS_MARKER: &str = " -- binds:";

/// Logs each statement of one connection with its duration.
#[derive(Debug, Default)]
pub(crate) struct QueryLogger {
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
                if !log::log_enabled!(target: TARGET, log::Level::Debug) {
                    return;
                }
                let rendered = query.to_string();
                let sql = sql_text(&rendered);
                let ms = elapsed.map_or(0.0, |d| d.as_secs_f64() * 1000.0);
                match error {
                    None => log::debug!(target: TARGET, "{sql} ({ms:.3} ms)"),
                    Some(err) => {
                        log::debug!(target: TARGET, "{sql} ({ms:.3} ms) failed: {err}")
                    }
                }
            }
            _ => {}
        }
    }
}

/// The SQL of a rendered query, without its bind values.
pub(crate) fn sql_text(rendered: &str) -> &str {
    match rendered.find(BINDS_MARKER) {
        Some(end) => &rendered[..end],
        None => rendered,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bind_values_are_cut() {
        assert_eq!(
            sql_text("SELECT `users`.`id` FROM `users` WHERE (`users`.`username` = ?) -- binds: [\"ada\"]"),
            "SELECT `users`.`id` FROM `users` WHERE (`users`.`username` = ?)"
        );
        assert_eq!(
            sql_text("PRAGMA foreign_keys = ON"),
            "PRAGMA foreign_keys = ON"
        );
    }
}
