//! Hosted images on PostgreSQL. The table is declared here rather than in
//! `schema.rs`: nothing joins it.

use async_trait::async_trait;
use diesel::prelude::*;
use openbadges_domain::ports::*;
use openbadges_domain::*;
use uuid::Uuid;

use crate::errors::corrupt;
use crate::rows::{restamp, stamp, Stamp};
use crate::schema::users;

use super::{blocking, in_transaction, not_found, reading};

diesel::table! {
    assets (id) {
        id -> Uuid,
        media_type -> Text,
        bytes -> Bytea,
        etag -> Text,
        size -> Int8,
        width -> Nullable<Int4>,
        height -> Nullable<Int4>,
        uploaded_by -> Nullable<Uuid>,
        created_at -> Timestamptz,
    }
}

#[derive(Queryable, Selectable, Insertable)]
#[diesel(table_name = assets)]
#[diesel(check_for_backend(diesel::pg::Pg))]
struct AssetRow {
    id: Uuid,
    media_type: String,
    bytes: Vec<u8>,
    etag: String,
    size: i64,
    width: Option<i32>,
    height: Option<i32>,
    uploaded_by: Option<Uuid>,
    created_at: Stamp,
}

/// Pixels as stored: dimensions are checked (at most a few thousand)
/// before an asset is made, so they fit.
fn pixels(value: Option<u32>) -> Option<i32> {
    value.map(|v| i32::try_from(v).unwrap_or(i32::MAX))
}

impl From<&Asset> for AssetRow {
    fn from(asset: &Asset) -> Self {
        Self {
            id: asset.id().as_uuid(),
            media_type: asset.media_type().as_str().to_owned(),
            bytes: asset.bytes().to_vec(),
            etag: asset.etag().to_owned(),
            size: i64::try_from(asset.size()).unwrap_or(i64::MAX),
            width: pixels(asset.width()),
            height: pixels(asset.height()),
            uploaded_by: asset.uploaded_by().map(|u| u.as_uuid()),
            created_at: stamp(asset.created_at()),
        }
    }
}

impl TryFrom<AssetRow> for Asset {
    type Error = DomainError;

    fn try_from(row: AssetRow) -> Result<Self, Self::Error> {
        let dimension = |column: &str, value: Option<i32>| {
            value
                .map(|v| u32::try_from(v).map_err(|e| corrupt(column, e)))
                .transpose()
        };
        Asset::restore(
            row.id.into(),
            row.media_type.parse()?,
            row.bytes,
            row.etag,
            u64::try_from(row.size).map_err(|e| corrupt("assets.size", e))?,
            dimension("assets.width", row.width)?,
            dimension("assets.height", row.height)?,
            row.uploaded_by.map(UserId::from),
            restamp(row.created_at),
        )
    }
}

/// Hosted images on PostgreSQL.
pub(crate) struct PgAssets(pub(crate) super::Pools);

#[async_trait]
impl AssetRepository for PgAssets {
    async fn create(&self, asset: &Asset) -> RepoResult<()> {
        let row = AssetRow::from(asset);
        blocking(&self.0.primary, move |conn| {
            in_transaction(conn, |conn| {
                if let Some(user) = row.uploaded_by {
                    let found: i64 = users::table.find(user).count().get_result(conn)?;
                    if found == 0 {
                        return Err(DomainError::MissingReference {
                            entity: "user",
                            id: user.to_string(),
                        }
                        .into());
                    }
                }
                diesel::insert_into(assets::table)
                    .values(&row)
                    .execute(conn)?;
                Ok(())
            })
        })
        .await
    }

    async fn get(&self, id: AssetId) -> RepoResult<Asset> {
        reading(&self.0, move |conn| {
            let row = assets::table
                .find(id.as_uuid())
                .select(AssetRow::as_select())
                .first(conn)
                .optional()?
                .ok_or_else(|| not_found("asset", id))?;
            Ok(Asset::try_from(row)?)
        })
        .await
    }

    async fn count(&self) -> RepoResult<u64> {
        reading(&self.0, move |conn| {
            let count: i64 = assets::table.count().get_result(conn)?;
            Ok(u64::try_from(count).unwrap_or_default())
        })
        .await
    }
}
