//! Data Integrity proofs already found valid, by what they were checked
//! over.
//!
//! Whether an `eddsa-rdfc-2022` proof verifies depends on nothing but the
//! signed document and the public key: no clock, no store. Verifying a
//! stored credential again (its page, `/verify`, a wallet polling) checked
//! the same bytes with the same key each time, and canonicalizing them and
//! checking the signature was most of the work. So a valid outcome is kept
//! under a SHA-256 of the key and the document's exact text; anything
//! else about a credential (its key's status, its issuer, its dates, its
//! revocation) is still checked on every verification. A different text or
//! a different key is a different digest: a re-issued credential, a
//! rotated key or a forged document is verified afresh. Invalid outcomes
//! are not kept, so nobody can fill the memo with documents that do not
//! verify.

use std::collections::HashSet;
use std::sync::Mutex;

use sha2::{Digest, Sha256};

/// What a verified proof is remembered by.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub(crate) struct ProofDigest([u8; 32]);

impl ProofDigest {
    /// The digest of `document` (its text exactly as checked) signed with
    /// the Ed25519 `key`. The key's length is fixed, so the two cannot run
    /// into each other.
    pub(crate) fn of(key: &[u8; 32], document: &str) -> Self {
        let mut hasher = Sha256::new();
        hasher.update(key);
        hasher.update(document.as_bytes());
        Self(hasher.finalize().into())
    }
}

/// The proofs found valid, up to a number of them.
pub struct ProofMemo {
    valid: Mutex<HashSet<ProofDigest>>,
    capacity: usize,
}

impl ProofMemo {
    /// A memo of at most `capacity` proofs (32 bytes each, plus the set's
    /// overhead); 0 keeps none.
    pub fn new(capacity: usize) -> Self {
        Self {
            valid: Mutex::new(HashSet::new()),
            capacity,
        }
    }

    /// Whether the proof behind `digest` was found valid.
    pub(crate) fn is_valid(&self, digest: &ProofDigest) -> bool {
        self.valid
            .lock()
            .map(|valid| valid.contains(digest))
            .unwrap_or(false)
    }

    /// Remembers that the proof behind `digest` is valid. Full, the memo
    /// starts again rather than track recency: the credentials verified
    /// most come back first.
    pub(crate) fn remember(&self, digest: ProofDigest) {
        if self.capacity == 0 {
            return;
        }
        if let Ok(mut valid) = self.valid.lock() {
            if valid.len() >= self.capacity {
                valid.clear();
            }
            valid.insert(digest);
        }
    }

    /// How many proofs are remembered.
    pub fn len(&self) -> usize {
        self.valid.lock().map(|valid| valid.len()).unwrap_or(0)
    }

    /// Whether none is.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_digest_names_the_key_and_the_exact_text() {
        let text = r#"{"a":1}"#;
        let one = ProofDigest::of(&[1; 32], text);
        assert_eq!(one, ProofDigest::of(&[1; 32], text));
        assert_ne!(one, ProofDigest::of(&[2; 32], text));
        assert_ne!(one, ProofDigest::of(&[1; 32], r#"{"a": 1}"#));
    }

    #[test]
    fn the_memo_keeps_what_it_is_told_and_stays_bounded() {
        let memo = ProofMemo::new(2);
        let digests: Vec<_> = (0u8..3).map(|n| ProofDigest::of(&[n; 32], "{}")).collect();
        assert!(!memo.is_valid(&digests[0]));
        memo.remember(digests[0]);
        memo.remember(digests[1]);
        assert!(memo.is_valid(&digests[0]) && memo.is_valid(&digests[1]));
        memo.remember(digests[2]);
        assert_eq!(memo.len(), 1);
        assert!(memo.is_valid(&digests[2]));
        assert!(!memo.is_valid(&digests[0]));

        let none = ProofMemo::new(0);
        none.remember(digests[0]);
        assert!(!none.is_valid(&digests[0]) && none.is_empty());
    }
}
