//! Endorsements on PostgreSQL. Their subject and endorser are foreign keys
//! with `ON DELETE CASCADE`: they go with what they endorse, and with who
//! made them, in the transaction that deletes it.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use diesel::dsl::{exists, select};
use diesel::prelude::*;
use openbadges_domain::ports::*;
use openbadges_domain::*;
use openbadges_store_support::endorsements::{known_code, EndorsementColumns};
use uuid::Uuid;

use crate::errors::{corrupt, Failure};
use crate::schema::{assertions, badge_classes, endorsements, issuers};

use super::{blocking, decode, decode_all, in_transaction, not_found, reading};

/// An `endorsements` row.
#[derive(Queryable, Selectable, Insertable)]
#[diesel(table_name = endorsements, check_for_backend(diesel::pg::Pg))]
pub(crate) struct EndorsementRow {
    id: Uuid,
    subject_kind: String,
    subject_achievement_id: Option<Uuid>,
    subject_issuer_id: Option<Uuid>,
    subject_credential_id: Option<Uuid>,
    endorser_issuer_id: Option<Uuid>,
    endorser_iri: Option<String>,
    endorsement_comment: Option<String>,
    credential: String,
    status: String,
    status_reason: Option<String>,
    revoked_at: Option<DateTime<Utc>>,
    status_list_id: Option<Uuid>,
    status_index: Option<i32>,
    created_at: DateTime<Utc>,
}

impl TryFrom<&Endorsement> for EndorsementRow {
    type Error = DomainError;

    fn try_from(endorsement: &Endorsement) -> Result<Self, Self::Error> {
        let c = EndorsementColumns::of(endorsement);
        Ok(Self {
            id: c.id,
            subject_kind: c.subject_kind.to_owned(),
            subject_achievement_id: c.subject_achievement_id,
            subject_issuer_id: c.subject_issuer_id,
            subject_credential_id: c.subject_credential_id,
            endorser_issuer_id: c.endorser_issuer_id,
            endorser_iri: c.endorser_iri,
            endorsement_comment: c.endorsement_comment,
            credential: c.credential,
            status: c.status.to_owned(),
            status_reason: c.status_reason,
            revoked_at: c.revoked_at.map(|t| t.as_datetime()),
            status_list_id: c.status_list_id,
            status_index: c
                .status_index
                .map(|i| {
                    i32::try_from(i).map_err(|_| corrupt("endorsements.status_index", "too large"))
                })
                .transpose()?,
            created_at: c.created_at.as_datetime(),
        })
    }
}

impl TryFrom<EndorsementRow> for Endorsement {
    type Error = DomainError;

    fn try_from(row: EndorsementRow) -> Result<Self, Self::Error> {
        let code = |column: &str, text: &str| {
            known_code(text).ok_or_else(|| corrupt(column, "is not a known code"))
        };
        let columns = EndorsementColumns {
            id: row.id,
            subject_kind: code("endorsements.subject_kind", &row.subject_kind)?,
            subject_achievement_id: row.subject_achievement_id,
            subject_issuer_id: row.subject_issuer_id,
            subject_credential_id: row.subject_credential_id,
            endorser_issuer_id: row.endorser_issuer_id,
            endorser_iri: row.endorser_iri,
            endorsement_comment: row.endorsement_comment,
            credential: row.credential,
            status: code("endorsements.status", &row.status)?,
            status_reason: row.status_reason,
            revoked_at: row.revoked_at.map(Timestamp::from_datetime),
            status_list_id: row.status_list_id,
            status_index: row
                .status_index
                .map(|i| u32::try_from(i).map_err(|_| corrupt("endorsements.status_index", i)))
                .transpose()?,
            created_at: Timestamp::from_datetime(row.created_at),
        };
        Endorsement::try_from(columns).map_err(|bad| corrupt(bad.column, bad.problem))
    }
}

/// Endorsements on PostgreSQL.
pub(crate) struct PgEndorsements(pub(crate) super::Pools);

/// The revoked endorsements' bits of status list `list_id`, for the status
/// list repository (which publishes awards' and endorsements' bits in one
/// list).
pub(crate) fn revoked_indices(conn: &mut PgConnection, list_id: Uuid) -> Result<Vec<u32>, Failure> {
    let indices: Vec<Option<i32>> = endorsements::table
        .filter(endorsements::status_list_id.eq(list_id))
        .filter(diesel::dsl::sql::<diesel::sql_types::Bool>(
            "status <> 'active'",
        ))
        .select(endorsements::status_index)
        .load(conn)?;
    indices
        .into_iter()
        .flatten()
        .map(|i| {
            u32::try_from(i).map_err(|_| Failure::from(corrupt("endorsements.status_index", i)))
        })
        .collect()
}

fn missing(entity: &'static str, id: impl ToString) -> Failure {
    DomainError::MissingReference {
        entity,
        id: id.to_string(),
    }
    .into()
}

fn get_row(conn: &mut PgConnection, id: EndorsementId) -> Result<Endorsement, Failure> {
    endorsements::table
        .find(id.as_uuid())
        .select(EndorsementRow::as_select())
        .first(conn)
        .optional()?
        .ok_or_else(|| not_found("endorsement", id))
        .and_then(decode)
}

#[async_trait]
impl EndorsementRepository for PgEndorsements {
    async fn create(&self, endorsement: &Endorsement) -> RepoResult<()> {
        let row = EndorsementRow::try_from(endorsement)?;
        let subject = endorsement.subject;
        let endorser = endorsement.endorser.clone();
        blocking(&self.0.primary, move |conn| {
            in_transaction(conn, |conn| {
                // Checked first, in the transaction, so that a missing one
                // is named; the foreign keys still guard a concurrent delete.
                let found: bool = match subject {
                    EndorsedSubject::Issuer(id) => {
                        select(exists(issuers::table.find(id.as_uuid()))).get_result(conn)?
                    }
                    EndorsedSubject::Achievement(id) => {
                        select(exists(badge_classes::table.find(id.as_uuid()))).get_result(conn)?
                    }
                    EndorsedSubject::Credential(id) => {
                        select(exists(assertions::table.find(id.as_uuid()))).get_result(conn)?
                    }
                };
                if !found {
                    let entity = match subject {
                        EndorsedSubject::Issuer(_) => "issuer",
                        EndorsedSubject::Achievement(_) => "badge class",
                        EndorsedSubject::Credential(_) => "assertion",
                    };
                    return Err(missing(entity, subject.uuid()));
                }
                if let Endorser::Ours(id) = endorser {
                    let found: bool =
                        select(exists(issuers::table.find(id.as_uuid()))).get_result(conn)?;
                    if !found {
                        return Err(missing("issuer", id));
                    }
                }
                diesel::insert_into(endorsements::table)
                    .values(&row)
                    .execute(conn)?;
                Ok(())
            })
        })
        .await
    }

    async fn get(&self, id: EndorsementId) -> RepoResult<Endorsement> {
        reading(&self.0, move |conn| get_row(conn, id)).await
    }

    async fn list_for(&self, subject: EndorsedSubject) -> RepoResult<Vec<Endorsement>> {
        let key = subject.uuid();
        reading(&self.0, move |conn| {
            let query = endorsements::table.into_boxed();
            let query = match subject {
                EndorsedSubject::Achievement(_) => {
                    query.filter(endorsements::subject_achievement_id.eq(key))
                }
                EndorsedSubject::Issuer(_) => query.filter(endorsements::subject_issuer_id.eq(key)),
                EndorsedSubject::Credential(_) => {
                    query.filter(endorsements::subject_credential_id.eq(key))
                }
            };
            let rows: Vec<EndorsementRow> = query
                .order((endorsements::created_at.asc(), endorsements::id.asc()))
                .select(EndorsementRow::as_select())
                .load(conn)?;
            decode_all(rows)
        })
        .await
    }

    async fn revoke(
        &self,
        id: EndorsementId,
        reason: Option<Text>,
        at: Timestamp,
    ) -> RepoResult<Endorsement> {
        let status = EndorsementStatus::Revoked { reason: None, at }.as_str();
        let reason = reason.map(|r| r.as_str().to_owned());
        blocking(&self.0.primary, move |conn| {
            in_transaction(conn, |conn| {
                // Only an active one changes: the first revocation stays.
                diesel::update(
                    endorsements::table
                        .find(id.as_uuid())
                        .filter(endorsements::status.eq("active")),
                )
                .set((
                    endorsements::status.eq(status),
                    endorsements::status_reason.eq(reason),
                    endorsements::revoked_at.eq(at.as_datetime()),
                ))
                .execute(conn)?;
                get_row(conn, id)
            })
        })
        .await
    }
}
