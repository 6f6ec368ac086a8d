//! Logging to stderr with `env_logger`, at the level of `LOG_LEVEL`.

use log::LevelFilter;

/// The log target under which the database adapters write SQL statements
/// (at debug level) when `DB_QUERY_LOGGING` is on.
pub const SQL_TARGET: &str = "openbadges::sql";

/// Installs the global logger. With `query_logging`, SQL statements are shown
/// even when `level` is above debug: asking for them is asking to see them.
/// A second call keeps the first logger.
pub fn init(level: LevelFilter, query_logging: bool) {
    let mut builder = env_logger::Builder::new();
    builder.filter_level(level);
    if query_logging {
        builder.filter_module(SQL_TARGET, level.max(LevelFilter::Debug));
    }
    // Only fails when a logger is already installed (tests), which is fine.
    let _ = builder.try_init();
}
