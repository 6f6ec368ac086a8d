//! The Open Badges server application: configuration, start-up (store and
//! migrations), logging and the HTTP API, wired together by the
//! `openbadges-server` binary.

pub mod admin;
pub mod api;
pub mod auth;
pub mod cache;
pub mod commands;
pub mod config;
pub mod consumer;
pub mod error;
pub mod health;
pub mod images;
pub mod logging;
pub mod mail;
pub mod metrics;
pub mod oauth;
pub mod observability;
pub mod outbound;
pub mod pages;
pub mod protection;
pub mod requests;
pub mod server;
pub mod service_api;
pub mod startup;
pub mod state;

/// Exit code for a refused configuration (also what clap uses for bad flags).
pub const EXIT_CONFIG: u8 = 2;
/// Exit code when the database cannot be opened or migrated.
pub const EXIT_DATABASE: u8 = 3;
/// Exit code when the HTTP server cannot listen or stops with an error.
pub const EXIT_SERVER: u8 = 1;
