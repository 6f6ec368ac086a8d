//! The connection pool's manager: diesel's r2d2 manager, except that a
//! checkout pings the server (`SELECT 1`) only when there is a reason to
//! doubt the connection, instead of before every request.
//!
//! A ping per checkout doubled the round trips of a short request: public
//! GET went from about 8,800 to 12,000 requests per second without it
//! (`make bench`, PostgreSQL).

use std::ops::{Deref, DerefMut};
use std::time::{Duration, Instant};

use diesel::pg::PgConnection;
use diesel::r2d2::{ConnectionManager, ManageConnection, Pool};
use diesel::ConnectionError;

use crate::url::Redactor;

/// A connection idle in the pool longer than this is pinged before use:
/// idle is when a server restart, a failover or a firewall's idle timeout
/// kills a connection unnoticed. One back from a request moments ago is as
/// good as that request found it.
const PING_AFTER_IDLE: Duration = Duration::from_secs(1);

pub(crate) type PgPool = Pool<Manager>;

/// A pooled PostgreSQL connection and what the pool knows of its health.
pub(crate) struct PooledPg {
    conn: PgConnection,
    /// When it last came back to the pool.
    returned: Instant,
    /// Its last request failed in a way a dead connection would (the
    /// database unavailable, or an unexpected error): ping before reuse.
    suspect: bool,
}

impl PooledPg {
    /// Marks the connection to be pinged before its next use.
    pub(crate) fn suspect(&mut self) {
        self.suspect = true;
    }
}

impl Deref for PooledPg {
    type Target = PgConnection;
    fn deref(&self) -> &PgConnection {
        &self.conn
    }
}

impl DerefMut for PooledPg {
    fn deref_mut(&mut self) -> &mut PgConnection {
        &mut self.conn
    }
}

/// Opens connections as diesel's manager does, with libpq's complaints
/// redacted (they reach logs and pool errors); checks them as above.
pub(crate) struct Manager(ConnectionManager<PgConnection>, Redactor);

impl Manager {
    pub(crate) fn new(url: String, redactor: Redactor) -> Self {
        Self(ConnectionManager::new(url), redactor)
    }
}

impl ManageConnection for Manager {
    type Connection = PooledPg;
    type Error = diesel::r2d2::Error;

    fn connect(&self) -> Result<PooledPg, Self::Error> {
        let conn = self.0.connect().map_err(|error| match error {
            diesel::r2d2::Error::ConnectionError(ConnectionError::BadConnection(message)) => {
                diesel::r2d2::Error::ConnectionError(ConnectionError::BadConnection(
                    self.1.redact(&message),
                ))
            }
            other => other,
        })?;
        Ok(PooledPg {
            conn,
            returned: Instant::now(),
            suspect: false,
        })
    }

    fn is_valid(&self, pooled: &mut PooledPg) -> Result<(), Self::Error> {
        if pooled.suspect || pooled.returned.elapsed() >= PING_AFTER_IDLE {
            self.0.is_valid(&mut pooled.conn)?;
            pooled.suspect = false;
        }
        Ok(())
    }

    /// Called each time a connection comes back to the pool.
    fn has_broken(&self, pooled: &mut PooledPg) -> bool {
        pooled.returned = Instant::now();
        self.0.has_broken(&mut pooled.conn)
    }
}
