//! The change feed: `PRAGMA data_version` moves whenever another
//! connection (of this process or another) commits; the generation that
//! the triggers of migration 000013 count up says whether what moved was
//! something published.

use std::time::Duration;

use diesel::connection::SimpleConnection;
use diesel::sql_types::BigInt;
use diesel::{sql_query, Connection, QueryableByName, RunQueryDsl, SqliteConnection};
use openbadges_domain::ports::{ChangeFeed, RepoResult};
use openbadges_domain::DomainError;

/// A read-only watcher on a connection of its own.
pub(crate) struct SqliteChangeFeed {
    conn: SqliteConnection,
    data_version: i64,
    generation: i64,
}

#[derive(QueryableByName)]
struct Value {
    #[diesel(sql_type = BigInt)]
    value: i64,
}

impl SqliteChangeFeed {
    /// Opens `url`. Refuses when the generation is not there (migration
    /// 000013 pending).
    pub(crate) fn open(url: &str, busy_timeout: Duration) -> RepoResult<Self> {
        let mut conn = SqliteConnection::establish(url).map_err(|e| unavailable(&e.to_string()))?;
        conn.batch_execute(&format!(
            "PRAGMA busy_timeout = {};",
            busy_timeout.as_millis()
        ))
        .map_err(|e| unavailable(&e.to_string()))?;
        let data_version = data_version(&mut conn)?;
        let generation = generation(&mut conn).map_err(|_| {
            unavailable("the database does not report changes yet: run `openbadges-server migrate`")
        })?;
        Ok(Self {
            conn,
            data_version,
            generation,
        })
    }
}

impl ChangeFeed for SqliteChangeFeed {
    fn changed(&mut self) -> RepoResult<bool> {
        let data_version = data_version(&mut self.conn)?;
        if data_version == self.data_version {
            return Ok(false);
        }
        self.data_version = data_version;
        let generation = generation(&mut self.conn)?;
        let changed = generation != self.generation;
        self.generation = generation;
        Ok(changed)
    }
}

fn data_version(conn: &mut SqliteConnection) -> RepoResult<i64> {
    sql_query("SELECT data_version AS value FROM pragma_data_version")
        .get_result::<Value>(conn)
        .map(|v| v.value)
        .map_err(|e| unavailable(&e.to_string()))
}

fn generation(conn: &mut SqliteConnection) -> RepoResult<i64> {
    sql_query("SELECT generation AS value FROM published_changes WHERE id = 1")
        .get_result::<Value>(conn)
        .map(|v| v.value)
        .map_err(|e| unavailable(&e.to_string()))
}

fn unavailable(message: &str) -> DomainError {
    DomainError::Unavailable(format!("watching the database for changes: {message}"))
}
