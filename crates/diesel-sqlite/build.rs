//! The migrations are embedded at compile time; rebuild when one is added
//! or changed, not only when Rust sources change.

fn main() {
    println!("cargo:rerun-if-changed=../../migrations-sqlite");
}
