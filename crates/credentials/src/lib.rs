#![doc = include_str!("../README.md")]

pub mod bitstring;
mod canon;
pub mod contexts;
mod data_integrity;
mod direct;
mod error;
pub mod jws;
mod keys;
mod rsa_keys;
mod vault;

pub use canon::Limits;
pub use data_integrity::{
    DataIntegrity, DataIntegrityBuilder, ProofCheck, ASSERTION_METHOD, CRYPTOSUITE, PROOF_TYPE,
};
pub use error::Error;
pub use keys::{
    did_key_for, did_key_verification_method, resolve_did_key, Ed25519KeyPair, VerifyingKey,
};
pub use rsa_keys::{RsaKeyPair, RsaPublicKey};
pub use vault::KeyVault;
