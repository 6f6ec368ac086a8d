//! `openbadges-server`: serve the Open Badges API, or apply database
//! migrations. Configuration comes from the environment (see `--help`).

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{CommandFactory, FromArgMatches, Parser, Subcommand};
use openbadges_server::commands::{log_start, migrate, serve};
use openbadges_server::config::{environment_help, Settings};
use openbadges_server::{admin, logging, EXIT_CONFIG};

/// Signing spends most of its time allocating (JSON-LD processing copies a
/// lot); mimalloc roughly doubles its throughput over the system allocator.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Open Badges 2.0 / 3.0 server.
#[derive(Debug, Parser)]
#[command(
    name = "openbadges-server",
    version,
    long_about = "Open Badges 2.0 / 3.0 server.\n\nWithout a command, `serve` runs: open the \
                  database chosen by DB_TYPE, apply pending migrations, serve HTTP on HOST:PORT.",
    after_help = "Configuration comes from environment variables; `--help` lists them."
)]
struct Cli {
    /// TOML file with settings (lower-case variable names); overrides
    /// CONFIG_FILE. The environment wins over the file.
    #[arg(long, value_name = "FILE", global = true)]
    config: Option<PathBuf>,

    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Apply pending migrations, then serve HTTP (the default).
    Serve,
    /// Apply pending migrations and exit; run it as the schema owner when the
    /// server's own role only has the minimal grants.
    Migrate,
    /// Manage administrators.
    #[command(subcommand)]
    Admin(AdminCommand),
    /// Manage API keys for automation.
    #[command(subcommand, name = "api-key")]
    ApiKey(ApiKeyCommand),
}

#[derive(Debug, Subcommand)]
enum AdminCommand {
    /// Create an administrator. The password is read from the first line of
    /// standard input, or from AUTH_ADMIN_PASSWORD when stdin is a terminal
    /// or empty; it is never taken as an argument (arguments are visible to
    /// every user of the machine).
    Create {
        /// Sign-in name.
        #[arg(long)]
        username: String,
        /// E-mail address.
        #[arg(long)]
        email: Option<String>,
    },
}

#[derive(Debug, Subcommand)]
enum ApiKeyCommand {
    /// Create an API key for a user and print it once on standard output.
    Create {
        /// The user the key acts for (username).
        #[arg(long)]
        user: String,
        /// A label for the key.
        #[arg(long)]
        name: String,
        /// Comma-separated permissions: read, write, admin [default: all the user's role allows].
        #[arg(long, value_delimiter = ',')]
        permissions: Vec<String>,
        /// Limit the key to one issuer (its id).
        #[arg(long)]
        issuer: Option<String>,
        /// When the key stops working (RFC 3339).
        #[arg(long)]
        expires: Option<String>,
    },
}

/// The C libraries (SQLite, libpq) allocate with glibc's malloc, which
/// gives threads arenas of their own, up to eight per core. SQLite's page
/// caches, filled by whichever thread holds a connection, spread over as
/// many arenas, each keeping freed memory to itself: in `make bench` on
/// SQLite the peak was 117 MiB with the default, 96 with two arenas and 81
/// with one, at the same throughput. Rust's own allocations go to mimalloc.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
#[allow(unsafe_code)]
fn use_one_malloc_arena() {
    // SAFETY: mallopt takes two integers and changes a setting of the
    // process's allocator; glibc makes it thread-safe. It runs first thing
    // in main, before the server starts a thread. Its result only says
    // whether the setting was taken; without it malloc still works.
    unsafe {
        libc::mallopt(libc::M_ARENA_MAX, 1);
    }
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
fn use_one_malloc_arena() {}

fn main() -> ExitCode {
    use_one_malloc_arena();
    let matches = Cli::command()
        .after_long_help(environment_help())
        .get_matches();
    let cli = Cli::from_arg_matches(&matches).unwrap_or_else(|error| error.exit());

    let settings = match Settings::from_env(cli.config.as_deref()) {
        Ok(settings) => settings,
        Err(error) => {
            eprintln!("openbadges-server: configuration error: {error}");
            return ExitCode::from(EXIT_CONFIG);
        }
    };
    logging::init(
        settings.log_level,
        settings.query_logging,
        settings.log_format,
    );
    match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => {
            log_start("serve", &settings);
            serve(settings)
        }
        Command::Migrate => {
            log_start("migrate", &settings);
            migrate(&settings)
        }
        Command::Admin(AdminCommand::Create { username, email }) => {
            let password = match admin::read_password() {
                Some(password) => password,
                None => {
                    eprintln!(
                        "openbadges-server: give the password on standard input or in AUTH_ADMIN_PASSWORD"
                    );
                    return ExitCode::from(EXIT_CONFIG);
                }
            };
            admin::create_admin(&settings, &username, email.as_deref(), &password)
        }
        Command::ApiKey(ApiKeyCommand::Create {
            user,
            name,
            permissions,
            issuer,
            expires,
        }) => admin::create_api_key(
            &settings,
            admin::KeyRequest {
                username: user,
                name,
                permissions,
                issuer,
                expires,
            },
        ),
    }
}
