//! `DB_QUERY_LOGGING`: each statement and its duration, at debug level on the
//! `openbadges::sql` target. Bind values are never logged: they carry
//! password and key hashes and recipients' identities.

use std::time::Instant;

use diesel::connection::{Instrumentation, InstrumentationEvent};

/// Logs statements as they finish.
#[derive(Default)]
pub(crate) struct QueryLogger {
    started: Option<Instant>,
}

/// The SQL text of a diesel debug query, without its bind values.
pub(crate) fn sql_only(query: &dyn std::fmt::Display) -> String {
    let text = query.to_string();
    match text.find(" -- binds:") {
        Some(end) => text[..end].to_owned(),
        None => text,
    }
}

impl Instrumentation for QueryLogger {
    fn on_connection_event(&mut self, event: InstrumentationEvent<'_>) {
        match event {
            InstrumentationEvent::StartQuery { .. } => self.started = Some(Instant::now()),
            InstrumentationEvent::FinishQuery { query, error, .. } => {
                let millis = self
                    .started
                    .take()
                    .map_or(0.0, |start| start.elapsed().as_secs_f64() * 1000.0);
                let outcome = if error.is_some() { " (failed)" } else { "" };
                log::debug!(
                    target: "openbadges::sql",
                    "{millis:.3} ms{outcome}: {}",
                    sql_only(&query)
                );
            }
            _ => {}
        }
    }
}
