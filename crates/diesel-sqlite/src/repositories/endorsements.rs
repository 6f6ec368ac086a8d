//! Endorsements. Their subject and endorser are foreign keys with
//! `ON DELETE CASCADE`: they go with what they endorse, and with who made
//! them, in the transaction that deletes it.

use async_trait::async_trait;
use diesel::dsl::{exists, select};
use diesel::prelude::*;
use openbadges_domain::ports::{EndorsementRepository, RepoResult};
use openbadges_domain::{
    EndorsedSubject, Endorsement, EndorsementId, EndorsementStatus, Endorser, Text, Timestamp,
};
use openbadges_store_support::endorsements::{known_code, EndorsementColumns};

use super::{decode_all, missing_reference, not_found, require_issuer};
use crate::errors::{stored_value, Failure};
use crate::pool::Database;
use crate::rows::{
    decode_id, decode_optional_id, decode_optional_timestamp, decode_timestamp, encode_index,
    encode_optional_timestamp, encode_timestamp,
};
use crate::schema::{assertions, badge_classes, endorsements};

/// An `endorsements` row.
#[derive(Debug, Queryable, Selectable, Insertable)]
#[diesel(table_name = endorsements, check_for_backend(diesel::sqlite::Sqlite))]
pub(crate) struct EndorsementRow {
    id: String,
    subject_kind: String,
    subject_achievement_id: Option<String>,
    subject_issuer_id: Option<String>,
    subject_credential_id: Option<String>,
    endorser_issuer_id: Option<String>,
    endorser_iri: Option<String>,
    endorsement_comment: Option<String>,
    credential: String,
    status: String,
    status_reason: Option<String>,
    revoked_at: Option<String>,
    status_list_id: Option<String>,
    status_index: Option<i32>,
    created_at: String,
}

impl TryFrom<&Endorsement> for EndorsementRow {
    type Error = openbadges_domain::DomainError;

    fn try_from(endorsement: &Endorsement) -> Result<Self, Self::Error> {
        let c = EndorsementColumns::of(endorsement);
        let text = |id: Option<uuid::Uuid>| id.map(|id| id.to_string());
        Ok(Self {
            id: c.id.to_string(),
            subject_kind: c.subject_kind.to_owned(),
            subject_achievement_id: text(c.subject_achievement_id),
            subject_issuer_id: text(c.subject_issuer_id),
            subject_credential_id: text(c.subject_credential_id),
            endorser_issuer_id: text(c.endorser_issuer_id),
            endorser_iri: c.endorser_iri,
            endorsement_comment: c.endorsement_comment,
            credential: c.credential,
            status: c.status.to_owned(),
            status_reason: c.status_reason,
            revoked_at: encode_optional_timestamp(c.revoked_at),
            status_list_id: text(c.status_list_id),
            status_index: c
                .status_index
                .map(|i| encode_index("endorsements.status_index", i))
                .transpose()?,
            created_at: encode_timestamp(c.created_at),
        })
    }
}

impl TryFrom<EndorsementRow> for Endorsement {
    type Error = openbadges_domain::DomainError;

    fn try_from(row: EndorsementRow) -> Result<Self, Self::Error> {
        let code = |column: &'static str, text: &str| {
            known_code(text).ok_or_else(|| stored_value(column, "is not a known code"))
        };
        let columns = EndorsementColumns {
            id: decode_id("endorsements.id", &row.id)?,
            subject_kind: code("endorsements.subject_kind", &row.subject_kind)?,
            subject_achievement_id: decode_optional_id(
                "endorsements.subject_achievement_id",
                row.subject_achievement_id.as_deref(),
            )?,
            subject_issuer_id: decode_optional_id(
                "endorsements.subject_issuer_id",
                row.subject_issuer_id.as_deref(),
            )?,
            subject_credential_id: decode_optional_id(
                "endorsements.subject_credential_id",
                row.subject_credential_id.as_deref(),
            )?,
            endorser_issuer_id: decode_optional_id(
                "endorsements.endorser_issuer_id",
                row.endorser_issuer_id.as_deref(),
            )?,
            endorser_iri: row.endorser_iri,
            endorsement_comment: row.endorsement_comment,
            credential: row.credential,
            status: code("endorsements.status", &row.status)?,
            status_reason: row.status_reason,
            revoked_at: decode_optional_timestamp(
                "endorsements.revoked_at",
                row.revoked_at.as_deref(),
            )?,
            status_list_id: decode_optional_id(
                "endorsements.status_list_id",
                row.status_list_id.as_deref(),
            )?,
            status_index: row
                .status_index
                .map(|i| {
                    u32::try_from(i)
                        .map_err(|_| stored_value("endorsements.status_index", "is negative"))
                })
                .transpose()?,
            created_at: decode_timestamp("endorsements.created_at", &row.created_at)?,
        };
        Endorsement::try_from(columns).map_err(|bad| stored_value(bad.column, bad.problem))
    }
}

/// [`EndorsementRepository`] on SQLite.
pub(crate) struct Endorsements {
    db: Database,
}

impl Endorsements {
    pub(crate) fn new(db: Database) -> Self {
        Self { db }
    }
}

/// The revoked endorsements' bits of status list `list_id`, for the
/// status list repository (which publishes awards' and endorsements' bits
/// in one list).
pub(crate) fn revoked_indices(
    conn: &mut SqliteConnection,
    list_id: &str,
) -> Result<Vec<u32>, Failure> {
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
            u32::try_from(i).map_err(|_| {
                Failure::from(stored_value("endorsements.status_index", "is negative"))
            })
        })
        .collect()
}

fn get_row(conn: &mut SqliteConnection, id: EndorsementId) -> Result<Endorsement, Failure> {
    let row = endorsements::table
        .find(id.to_string())
        .select(EndorsementRow::as_select())
        .first(conn)
        .optional()?
        .ok_or_else(|| not_found("endorsement", id))?;
    Ok(Endorsement::try_from(row)?)
}

#[async_trait]
impl EndorsementRepository for Endorsements {
    async fn create(&self, endorsement: &Endorsement) -> RepoResult<()> {
        let row = EndorsementRow::try_from(endorsement)?;
        let subject = endorsement.subject;
        let endorser = endorsement.endorser.clone();
        self.db
            .write(move |conn| {
                // Checked here, in the transaction: SQLite's foreign key
                // error names neither the table nor the id.
                match subject {
                    EndorsedSubject::Issuer(id) => require_issuer(conn, id)?,
                    EndorsedSubject::Achievement(id) => {
                        let found: bool = select(exists(badge_classes::table.find(id.to_string())))
                            .get_result(conn)?;
                        if !found {
                            return Err(missing_reference("badge class", id));
                        }
                    }
                    EndorsedSubject::Credential(id) => {
                        let found: bool = select(exists(assertions::table.find(id.to_string())))
                            .get_result(conn)?;
                        if !found {
                            return Err(missing_reference("assertion", id));
                        }
                    }
                }
                if let Endorser::Ours(id) = endorser {
                    require_issuer(conn, id)?;
                }
                diesel::insert_into(endorsements::table)
                    .values(&row)
                    .execute(conn)?;
                Ok(())
            })
            .await
    }

    async fn get(&self, id: EndorsementId) -> RepoResult<Endorsement> {
        self.db.read(move |conn| get_row(conn, id)).await
    }

    async fn list_for(&self, subject: EndorsedSubject) -> RepoResult<Vec<Endorsement>> {
        let key = subject.uuid().to_string();
        self.db
            .read(move |conn| {
                let query = endorsements::table.into_boxed();
                let query = match subject {
                    EndorsedSubject::Achievement(_) => {
                        query.filter(endorsements::subject_achievement_id.eq(key))
                    }
                    EndorsedSubject::Issuer(_) => {
                        query.filter(endorsements::subject_issuer_id.eq(key))
                    }
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
        let at = encode_timestamp(at);
        self.db
            .write(move |conn| {
                // Only an active one changes: the first revocation stays.
                diesel::update(
                    endorsements::table
                        .find(id.to_string())
                        .filter(endorsements::status.eq("active")),
                )
                .set((
                    endorsements::status.eq(status),
                    endorsements::status_reason.eq(reason),
                    endorsements::revoked_at.eq(at),
                ))
                .execute(conn)?;
                get_row(conn, id)
            })
            .await
    }
}
