//! Logging to stderr with `env_logger`, at the level of `LOG_LEVEL`, as
//! text or as one JSON object a line (`LOG_FORMAT`).

use std::io::Write as _;

use chrono::{SecondsFormat, Utc};
use log::kv::{Key, Value as KvValue, VisitSource};
use log::{LevelFilter, Record};
use serde_json::{Map, Value};

/// The log target under which the database adapters write SQL statements
/// (at debug level) when `DB_QUERY_LOGGING` is on.
pub const SQL_TARGET: &str = "openbadges::sql";

/// The log target of the access log: one line per request.
pub const ACCESS_TARGET: &str = "openbadges::access";

/// How log lines are written (`LOG_FORMAT`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum LogFormat {
    /// `[<time> <LEVEL> <target>] <message>`, for people.
    #[default]
    Text,
    /// `{"timestamp":..,"level":..,"target":..,"message":..,<fields>}`, for
    /// log collectors; the access log's fields are keys of their own.
    Json,
}

/// Installs the global logger. With `query_logging`, SQL statements are shown
/// even when `level` is above debug: asking for them is asking to see them.
/// A second call keeps the first logger.
pub fn init(level: LevelFilter, query_logging: bool, format: LogFormat) {
    let mut builder = env_logger::Builder::new();
    builder.filter_level(level);
    if query_logging {
        builder.filter_module(SQL_TARGET, level.max(LevelFilter::Debug));
    }
    if format == LogFormat::Json {
        builder.format(|out, record| writeln!(out, "{}", json_line(record)));
    }
    // Only fails when a logger is already installed (tests), which is fine.
    let _ = builder.try_init();
}

/// One record as a JSON object: time (UTC, milliseconds), level, target,
/// message, and the record's key-values as further keys.
fn json_line(record: &Record<'_>) -> Value {
    let mut line = Map::new();
    line.insert(
        "timestamp".to_owned(),
        Utc::now()
            .to_rfc3339_opts(SecondsFormat::Millis, true)
            .into(),
    );
    line.insert("level".to_owned(), record.level().as_str().into());
    line.insert("target".to_owned(), record.target().into());
    line.insert("message".to_owned(), record.args().to_string().into());
    // Collecting into a map cannot fail.
    let _ = record.key_values().visit(&mut Fields(&mut line));
    Value::Object(line)
}

/// Copies key-values into the JSON object; numbers and booleans stay
/// numbers and booleans. A field never replaces one of the four above.
struct Fields<'a>(&'a mut Map<String, Value>);

impl<'kvs> VisitSource<'kvs> for Fields<'_> {
    fn visit_pair(&mut self, key: Key<'kvs>, value: KvValue<'kvs>) -> Result<(), log::kv::Error> {
        let json = if let Some(flag) = value.to_bool() {
            Value::Bool(flag)
        } else if let Some(number) = value.to_u64() {
            number.into()
        } else if let Some(number) = value.to_i64() {
            number.into()
        } else if let Some(number) = value.to_f64() {
            number.into()
        } else {
            value.to_string().into()
        };
        self.0.entry(key.as_str().to_owned()).or_insert(json);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_lines_carry_level_target_message_and_fields() {
        let line = json_line(
            &Record::builder()
                .level(log::Level::Info)
                .target(ACCESS_TARGET)
                .args(format_args!("GET /health 200"))
                .key_values(&[
                    ("status", KvValue::from(200u16)),
                    ("duration_ms", KvValue::from(1.5f64)),
                    ("request_id", KvValue::from("abc")),
                    ("level", KvValue::from("forged")),
                ])
                .build(),
        );
        assert_eq!(line["level"], "INFO");
        assert_eq!(line["target"], ACCESS_TARGET);
        assert_eq!(line["message"], "GET /health 200");
        assert_eq!(line["status"], 200);
        assert_eq!(line["duration_ms"], 1.5);
        assert_eq!(line["request_id"], "abc");
        let timestamp = line["timestamp"].as_str().expect("a timestamp");
        assert!(
            chrono::DateTime::parse_from_rfc3339(timestamp).is_ok(),
            "{timestamp}"
        );
        let text = line.to_string();
        assert!(!text.contains('\n'), "{text}");
    }
}
