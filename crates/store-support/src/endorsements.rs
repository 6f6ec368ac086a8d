//! An endorsement as columns, and back, written once for both stores: the
//! adapters convert only the column types (text or `uuid`, text or
//! `timestamptz`), so both accept and refuse the same rows.

use openbadges_domain::{
    EndorsedSubject, Endorsement, EndorsementStatus, Endorser, Iri, IssuedCredential, StatusSlot,
    Text, Timestamp,
};
use uuid::Uuid;

/// The columns of an `endorsements` row, in domain-neutral types.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EndorsementColumns {
    /// `id`.
    pub id: Uuid,
    /// `subject_kind`: `achievement`, `issuer` or `credential`.
    pub subject_kind: &'static str,
    /// `subject_achievement_id`.
    pub subject_achievement_id: Option<Uuid>,
    /// `subject_issuer_id`.
    pub subject_issuer_id: Option<Uuid>,
    /// `subject_credential_id`.
    pub subject_credential_id: Option<Uuid>,
    /// `endorser_issuer_id`: one of our issuers.
    pub endorser_issuer_id: Option<Uuid>,
    /// `endorser_iri`: an issuer elsewhere.
    pub endorser_iri: Option<String>,
    /// `endorsement_comment`.
    pub endorsement_comment: Option<String>,
    /// `credential`: the JSON text as signed.
    pub credential: String,
    /// `status`: `active` or `revoked`.
    pub status: &'static str,
    /// `status_reason`.
    pub status_reason: Option<String>,
    /// `revoked_at`.
    pub revoked_at: Option<Timestamp>,
    /// `status_list_id`.
    pub status_list_id: Option<Uuid>,
    /// `status_index`.
    pub status_index: Option<u32>,
    /// `created_at`.
    pub created_at: Timestamp,
}

/// A stored value that does not decode: the column, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BadColumn {
    /// The column (`endorsements.<name>`).
    pub column: &'static str,
    /// What is wrong with it.
    pub problem: String,
}

fn bad(column: &'static str, problem: impl ToString) -> BadColumn {
    BadColumn {
        column,
        problem: problem.to_string(),
    }
}

impl EndorsementColumns {
    /// The columns of `endorsement`.
    pub fn of(endorsement: &Endorsement) -> Self {
        let subject = endorsement.subject;
        let only = |kind: &str| (subject.kind() == kind).then(|| subject.uuid());
        let (endorser_issuer_id, endorser_iri) = match &endorsement.endorser {
            Endorser::Ours(id) => (Some(id.as_uuid()), None),
            Endorser::External { issuer } => (None, Some(issuer.as_str().to_owned())),
        };
        let (status_reason, revoked_at) = match &endorsement.status {
            EndorsementStatus::Active => (None, None),
            EndorsementStatus::Revoked { reason, at } => {
                (reason.as_ref().map(|r| r.as_str().to_owned()), Some(*at))
            }
        };
        Self {
            id: endorsement.id.as_uuid(),
            subject_kind: subject.kind(),
            subject_achievement_id: only("achievement"),
            subject_issuer_id: only("issuer"),
            subject_credential_id: only("credential"),
            endorser_issuer_id,
            endorser_iri,
            endorsement_comment: endorsement.comment.as_ref().map(|c| c.as_str().to_owned()),
            credential: endorsement.credential.json().to_owned(),
            status: endorsement.status.as_str(),
            status_reason,
            revoked_at,
            status_list_id: endorsement.status_slot.map(|s| s.list_id.as_uuid()),
            status_index: endorsement.status_slot.map(|s| s.index),
            created_at: endorsement.created_at,
        }
    }
}

/// The stored text of `subject_kind` or `status`, as the static name the
/// columns hold; `None` when it is none of the known ones.
pub fn known_code(code: &str) -> Option<&'static str> {
    ["achievement", "issuer", "credential", "active", "revoked"]
        .into_iter()
        .find(|known| *known == code)
}

impl TryFrom<EndorsementColumns> for Endorsement {
    type Error = BadColumn;

    fn try_from(row: EndorsementColumns) -> Result<Self, Self::Error> {
        let subject_id = match row.subject_kind {
            "achievement" => row.subject_achievement_id,
            "issuer" => row.subject_issuer_id,
            "credential" => row.subject_credential_id,
            _ => None,
        }
        .ok_or_else(|| bad("endorsements.subject_kind", "names no subject column set"))?;
        let subject = EndorsedSubject::restore(row.subject_kind, subject_id)
            .map_err(|e| bad("endorsements.subject_kind", e))?;
        let endorser = match (row.endorser_issuer_id, row.endorser_iri) {
            (Some(id), None) => Endorser::Ours(id.into()),
            (None, Some(iri)) => Endorser::External {
                issuer: Iri::parse(iri).map_err(|e| bad("endorsements.endorser_iri", e))?,
            },
            _ => {
                return Err(bad(
                    "endorsements.endorser_iri",
                    "needs exactly one endorser",
                ))
            }
        };
        let status = match (row.status, row.revoked_at) {
            ("active", None) => EndorsementStatus::Active,
            ("revoked", Some(at)) => EndorsementStatus::Revoked {
                reason: row
                    .status_reason
                    .map(Text::parse)
                    .transpose()
                    .map_err(|e| bad("endorsements.status_reason", e))?,
                at,
            },
            _ => return Err(bad("endorsements.status", "and revoked_at disagree")),
        };
        let status_slot = match (row.status_list_id, row.status_index) {
            (Some(list), Some(index)) => Some(StatusSlot {
                list_id: list.into(),
                index,
            }),
            (None, None) => None,
            _ => return Err(bad("endorsements.status_index", "is set without its list")),
        };
        Ok(Self {
            id: row.id.into(),
            subject,
            endorser,
            comment: row
                .endorsement_comment
                .map(Text::parse)
                .transpose()
                .map_err(|e| bad("endorsements.endorsement_comment", e))?,
            credential: IssuedCredential::restore(row.credential)
                .map_err(|e| bad("endorsements.credential", e))?,
            status,
            status_slot,
            created_at: row.created_at,
        })
    }
}
