//! A batch of awards on its way to the store and back to the client.
//!
//! A batch of 10,000 signed credentials carries about 20 MB of signed text,
//! and it is stored in one transaction, after the last one is signed. So
//! that a server does not hold all of it in memory, a batch keeps each
//! signed text in a [`Spill`] the caller chooses (an in-memory buffer, or a
//! temporary file that rolls over from memory) and puts it back into its
//! award only when a few awards at a time are read out: by the adapter that
//! stores them, then by the code that answers the client.

use std::io::{Cursor, Read, Seek, SeekFrom, Write};
use std::ops::Range;

use crate::entities::Assertion;
use crate::values::IssuedCredential;
use crate::DomainError;

/// Where a batch's signed texts wait: any seekable store of bytes. The
/// domain does no I/O of its own; the caller decides whether this is memory
/// (`Cursor<Vec<u8>>`) or a file.
pub trait Spill: Read + Write + Seek + Send {}

impl<T: Read + Write + Seek + Send> Spill for T {}

/// Where one award's signed text lies in the spill.
#[derive(Debug, Clone, Copy)]
struct Span {
    start: u64,
    len: usize,
}

/// Awards stored together, all or none, and answered in the order given.
/// Each award's signed credential is either in the award, as usual, or in
/// the batch's spill until the award is read out.
pub struct AwardBatch {
    awards: Vec<Assertion>,
    spans: Vec<Option<Span>>,
    spill: Box<dyn Spill>,
    end: u64,
    /// E-mails announcing some of the awards, stored with them.
    notifications: Vec<crate::mail::Notification>,
}

impl std::fmt::Debug for AwardBatch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AwardBatch")
            .field("len", &self.awards.len())
            .field("spilled", &self.spans.iter().flatten().count())
            .finish()
    }
}

impl AwardBatch {
    /// A batch of `awards` whose signed texts, once set with
    /// [`set_credential`](Self::set_credential), wait in `spill`.
    pub fn new(awards: Vec<Assertion>, spill: Box<dyn Spill>) -> Self {
        let spans = vec![None; awards.len()];
        Self {
            awards,
            spans,
            spill,
            end: 0,
            notifications: Vec::new(),
        }
    }

    /// A batch that keeps everything in memory: for small batches, tests
    /// and adapters' contract checks.
    pub fn in_memory(awards: Vec<Assertion>) -> Self {
        Self::new(awards, Box::new(Cursor::new(Vec::new())))
    }

    /// How many awards.
    pub fn len(&self) -> usize {
        self.awards.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.awards.is_empty()
    }

    /// The award at `index` as held: its signed credential, if any, may be
    /// in the spill.
    pub(crate) fn award(&self, index: usize) -> &Assertion {
        &self.awards[index]
    }

    /// The award at `index` is signed: its credential goes to the spill.
    pub fn set_credential(
        &mut self,
        index: usize,
        credential: IssuedCredential,
    ) -> Result<(), DomainError> {
        let text = credential.json().as_bytes();
        self.spill
            .seek(SeekFrom::Start(self.end))
            .and_then(|_| self.spill.write_all(text))
            .map_err(spill_failed)?;
        let span = Span {
            start: self.end,
            len: text.len(),
        };
        self.end += text.len() as u64;
        self.awards[index].issued_credential = None;
        self.spans[index] = Some(span);
        Ok(())
    }

    /// The awards that carry no signed credential: those a client is
    /// answered with a credential built on the fly.
    pub fn unsigned(&self) -> impl Iterator<Item = &Assertion> {
        self.awards
            .iter()
            .zip(&self.spans)
            .filter(|(award, span)| award.issued_credential.is_none() && span.is_none())
            .map(|(award, _)| award)
    }

    /// The awards in `range`, complete with their signed credentials.
    /// Panics if `range` goes past the end, as slicing does.
    pub fn read(&mut self, range: Range<usize>) -> Result<Vec<Assertion>, DomainError> {
        let mut awards = Vec::with_capacity(range.len());
        for index in range {
            let mut award = self.awards[index].clone();
            if let Some(span) = self.spans[index] {
                let mut text = vec![0; span.len];
                self.spill
                    .seek(SeekFrom::Start(span.start))
                    .and_then(|_| self.spill.read_exact(&mut text))
                    .map_err(spill_failed)?;
                let text = String::from_utf8(text)
                    .map_err(|_| spilled_text_changed(award.id.to_string()))?;
                let credential = IssuedCredential::restore(text)
                    .map_err(|_| spilled_text_changed(award.id.to_string()))?;
                award.issued_credential = Some(credential);
            }
            awards.push(award);
        }
        Ok(awards)
    }

    /// Queues an e-mail announcing one of the batch's awards; the adapter
    /// stores it in the batch's transaction.
    pub fn notify(&mut self, notification: crate::mail::Notification) {
        self.notifications.push(notification);
    }

    /// The e-mails to queue with the awards.
    pub fn notifications(&self) -> &[crate::mail::Notification] {
        &self.notifications
    }

    /// The awards, complete, `size` at a time and in order.
    pub fn chunks(
        &mut self,
        size: usize,
    ) -> impl Iterator<Item = Result<Vec<Assertion>, DomainError>> + '_ {
        let len = self.len();
        (0..len)
            .step_by(size.max(1))
            .map(move |start| self.read(start..len.min(start + size.max(1))))
    }
}

fn spill_failed(err: std::io::Error) -> DomainError {
    DomainError::Internal(format!(
        "a batch's signed credentials could not be kept aside: {err}"
    ))
}

fn spilled_text_changed(id: String) -> DomainError {
    DomainError::Internal(format!(
        "the signed credential {id} kept aside for its batch came back changed"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::entities::CredentialStatus;
    use crate::ids::{AssertionId, BadgeClassId, IssuerId};
    use crate::values::{Recipient, RecipientKind, Timestamp};

    fn assertion() -> Assertion {
        let now = Timestamp::now();
        Assertion {
            id: AssertionId::generate(),
            badge_class_id: BadgeClassId::generate(),
            issuer_id: IssuerId::generate(),
            recipient: Recipient::hashed(RecipientKind::Email, "a@example.org", "s4lt").unwrap(),
            issued_on: now,
            expires: None,
            evidence: Vec::new(),
            narrative: None,
            image: None,
            details: Default::default(),
            status: CredentialStatus::Active,
            status_slot: None,
            issued_credential: None,
            created_at: now,
            updated_at: now,
        }
    }

    fn signed(n: usize) -> IssuedCredential {
        IssuedCredential::new(&serde_json::json!({ "n": n, "proof": "x".repeat(n) }))
    }

    #[test]
    fn awards_come_back_complete_and_in_order() {
        let awards: Vec<Assertion> = (0..7).map(|_| assertion()).collect();
        let mut batch = AwardBatch::in_memory(awards.clone());
        // Signed out of order, as a batch spanning issuers is; one unsigned.
        for index in [5, 0, 3, 1, 6, 2] {
            batch.set_credential(index, signed(index)).unwrap();
        }
        assert_eq!(
            batch.unsigned().map(|a| a.id).collect::<Vec<_>>(),
            [awards[4].id]
        );
        let back: Vec<Assertion> = batch
            .chunks(3)
            .collect::<Result<Vec<_>, _>>()
            .unwrap()
            .concat();
        assert_eq!(back.len(), 7);
        for (index, (got, sent)) in back.iter().zip(&awards).enumerate() {
            assert_eq!(got.id, sent.id);
            match index {
                4 => assert!(got.issued_credential.is_none()),
                _ => assert_eq!(
                    got.issued_credential.as_ref().map(|c| c.json()),
                    Some(signed(index).json())
                ),
            }
        }
        // Read twice: once to store, once to answer.
        assert_eq!(batch.read(0..7).unwrap(), back);
    }

    /// What a server uses: memory that rolls over to an unnamed file, here
    /// after the first few texts, while the batch is half written.
    #[test]
    fn a_spill_that_moves_to_a_file_loses_nothing() {
        let awards: Vec<Assertion> = (0..40).map(|_| assertion()).collect();
        let mut batch = AwardBatch::new(awards, Box::new(tempfile::spooled_tempfile(100)));
        for index in (0..40).rev() {
            batch.set_credential(index, signed(index)).unwrap();
            // A read between writes must not move where the next text goes.
            batch.read(index..index + 1).unwrap();
        }
        for (index, award) in batch.read(0..40).unwrap().iter().enumerate() {
            assert_eq!(
                award.issued_credential.as_ref().map(|c| c.json()),
                Some(signed(index).json())
            );
        }
    }

    #[test]
    fn a_spill_that_fails_is_an_error_not_a_panic() {
        struct Broken;
        impl Read for Broken {
            fn read(&mut self, _: &mut [u8]) -> std::io::Result<usize> {
                Err(std::io::Error::other("disk gone"))
            }
        }
        impl Write for Broken {
            fn write(&mut self, _: &[u8]) -> std::io::Result<usize> {
                Err(std::io::Error::other("disk gone"))
            }
            fn flush(&mut self) -> std::io::Result<()> {
                Ok(())
            }
        }
        impl Seek for Broken {
            fn seek(&mut self, _: SeekFrom) -> std::io::Result<u64> {
                Ok(0)
            }
        }
        let mut batch = AwardBatch::new(vec![assertion()], Box::new(Broken));
        let err = batch.set_credential(0, signed(1)).unwrap_err();
        assert!(matches!(err, DomainError::Internal(m) if m.contains("disk gone")));
    }
}
