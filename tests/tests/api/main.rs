//! The Open Badges REST API end to end (issue 3): the real server over
//! HTTP, every scenario written once and run on both backends.
//!
//! Each scenario is a function `fn(&Api)`; `on_both_backends!` turns it
//! into a module with two tests, `<scenario>::sqlite` and
//! `<scenario>::postgres`, each starting its own server on its own fresh
//! database with `BASE_URL` at the server's own address, so that every id
//! URL it issues can be fetched back. Run one backend with
//! `cargo test -p openbadges-e2e --test api -- ::sqlite`.

// `on_both_backends!` comes from the harness; `support::Api` is the fixture.
#[macro_use]
extern crate openbadges_e2e;

mod schemas;
mod support;

mod batch;
mod conformance;
mod dates;
mod deletion;
mod documents;
mod dropin;
mod errors;
mod hosting;
mod lists;
mod model;
mod pages;
mod recipients;
mod references;
mod revocation;
mod updates;
mod validation;
