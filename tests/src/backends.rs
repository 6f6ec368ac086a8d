//! The two storage backends, and running a scenario once on each.

use std::path::PathBuf;

use tempfile::TempDir;

use crate::{Launch, TestDatabase};

/// A storage backend of the server.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// `DB_TYPE=sqlite`.
    Sqlite,
    /// `DB_TYPE=postgresql`, on a fresh database of `TEST_DATABASE_URL`.
    Postgres,
}

impl Backend {
    /// The name `/health` reports.
    pub fn name(self) -> &'static str {
        match self {
            Self::Sqlite => "sqlite",
            Self::Postgres => "postgresql",
        }
    }
}

/// A fresh, empty database on one backend that outlives the servers
/// launched on it: a restart, or a command-line run, sees the same data.
/// The SQLite file lives in a temporary directory of its own (not in a
/// launch's working directory, which goes with the launch).
pub struct Storage {
    backend: Backend,
    dir: TempDir,
    database: Option<TestDatabase>,
}

impl Storage {
    /// A fresh database on `backend`.
    pub fn create(backend: Backend) -> Self {
        Self {
            backend,
            dir: tempfile::tempdir().expect("create a directory for the database"),
            database: match backend {
                Backend::Sqlite => None,
                Backend::Postgres => Some(TestDatabase::create()),
            },
        }
    }

    /// The backend.
    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// The PostgreSQL database, on that backend.
    pub fn database(&self) -> Option<&TestDatabase> {
        self.database.as_ref()
    }

    /// The SQLite file, on that backend.
    pub fn sqlite_file(&self) -> Option<PathBuf> {
        (self.backend == Backend::Sqlite).then(|| self.dir.path().join("openbadges.sqlite"))
    }

    /// A launch whose `DB_TYPE` and database settings point at this storage.
    pub fn launch(&self) -> Launch {
        match (&self.database, self.sqlite_file()) {
            (Some(database), _) => Launch::new()
                .env("DB_TYPE", "postgresql")
                .env("DATABASE_URL", database.url()),
            (None, Some(file)) => Launch::new()
                .env("DB_TYPE", "sqlite")
                .env("SQLITE_FILE", file.to_string_lossy()),
            (None, None) => unreachable!("a PostgreSQL storage has a database"),
        }
    }
}

/// What a scenario of [`on_both_backends!`] runs against: made once per
/// backend.
pub trait OnBothBackends: Sized {
    /// A fresh fixture on `backend`.
    fn on(backend: Backend) -> Self;
}

impl OnBothBackends for Storage {
    fn on(backend: Backend) -> Self {
        Self::create(backend)
    }
}

/// For each scenario function `name(&Fixture)` of the current module, where
/// `Fixture` implements [`OnBothBackends`], a module `name` with the tests
/// `sqlite` and `postgres`, each on a fixture of its own. Run one backend
/// with `cargo test -p openbadges-e2e -- ::sqlite`.
#[macro_export]
macro_rules! on_both_backends {
    ($($scenario:ident),* $(,)?) => {$(
        mod $scenario {
            #[test]
            fn sqlite() {
                super::$scenario(&$crate::OnBothBackends::on($crate::Backend::Sqlite));
            }

            #[test]
            fn postgres() {
                super::$scenario(&$crate::OnBothBackends::on($crate::Backend::Postgres));
            }
        }
    )*};
}
