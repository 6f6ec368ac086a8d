//! The change feed: `LISTEN` on the channel that the triggers of migration
//! 000013 notify when something published changes.

use diesel::connection::Connection;
use diesel::pg::PgConnection;
use diesel::{sql_query, QueryableByName, RunQueryDsl};
use openbadges_domain::ports::{ChangeFeed, RepoResult};
use openbadges_domain::DomainError;

use crate::errors::from_diesel;
use crate::url::Redactor;

/// The channel the triggers notify.
const CHANNEL: &str = "openbadges_published";

/// A connection of its own, listening.
pub(crate) struct PgChangeFeed {
    conn: PgConnection,
}

#[derive(QueryableByName)]
struct Exists {
    #[diesel(sql_type = diesel::sql_types::Bool)]
    exists: bool,
}

impl PgChangeFeed {
    /// Connects to `url` and listens. Refuses when the triggers are not
    /// there (migration 000013 pending): listening would hear nothing.
    pub(crate) fn open(url: &str, redactor: &Redactor) -> RepoResult<Self> {
        let mut conn = PgConnection::establish(url)
            .map_err(|e| DomainError::Unavailable(redactor.redact(&e.to_string())))?;
        let triggers: Exists = sql_query(
            "SELECT EXISTS (SELECT 1 FROM pg_proc WHERE proname = 'openbadges_notify_published') \
             AS exists",
        )
        .get_result(&mut conn)
        .map_err(unavailable)?;
        if !triggers.exists {
            return Err(DomainError::Unavailable(
                "the database does not report changes yet: run `openbadges-server migrate`"
                    .to_owned(),
            ));
        }
        sql_query(format!("LISTEN {CHANNEL}"))
            .execute(&mut conn)
            .map_err(unavailable)?;
        Ok(Self { conn })
    }
}

impl ChangeFeed for PgChangeFeed {
    fn changed(&mut self) -> RepoResult<bool> {
        // A round trip: it proves the connection alive, and the server
        // sends the notifications it holds for us before the answer.
        sql_query("SELECT 1")
            .execute(&mut self.conn)
            .map_err(unavailable)?;
        let mut changed = false;
        for notification in self.conn.notifications_iter() {
            notification.map_err(unavailable)?;
            changed = true;
        }
        Ok(changed)
    }
}

fn unavailable(error: diesel::result::Error) -> DomainError {
    match from_diesel(error) {
        DomainError::Internal(message) => DomainError::Unavailable(message),
        other => other,
    }
}
