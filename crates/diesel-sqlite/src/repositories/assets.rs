//! Hosted images. The table is declared here rather than in `schema.rs`:
//! nothing joins it.

use async_trait::async_trait;
use diesel::prelude::*;
use openbadges_domain::ports::{AssetRepository, RepoResult};
use openbadges_domain::{Asset, AssetId, DomainError, UserId};

use super::{not_found, require_user};
use crate::pool::Database;
use crate::rows::{decode_timestamp, encode_timestamp};

diesel::table! {
    assets (id) {
        id -> Text,
        media_type -> Text,
        bytes -> Binary,
        etag -> Text,
        size -> BigInt,
        width -> Nullable<Integer>,
        height -> Nullable<Integer>,
        uploaded_by -> Nullable<Text>,
        created_at -> Text,
    }
}

#[derive(Queryable, Selectable, Insertable)]
#[diesel(table_name = assets)]
#[diesel(check_for_backend(diesel::sqlite::Sqlite))]
struct AssetRow {
    id: String,
    media_type: String,
    bytes: Vec<u8>,
    etag: String,
    size: i64,
    width: Option<i32>,
    height: Option<i32>,
    uploaded_by: Option<String>,
    created_at: String,
}

fn invalid(column: &str, err: impl std::fmt::Display) -> DomainError {
    DomainError::Internal(format!("assets.{column} cannot be read: {err}"))
}

/// Pixels as stored: dimensions are checked (at most a few thousand)
/// before an asset is made, so they fit.
fn pixels(value: Option<u32>) -> Option<i32> {
    value.map(|v| i32::try_from(v).unwrap_or(i32::MAX))
}

impl From<&Asset> for AssetRow {
    fn from(asset: &Asset) -> Self {
        Self {
            id: asset.id().to_string(),
            media_type: asset.media_type().as_str().to_owned(),
            bytes: asset.bytes().to_vec(),
            etag: asset.etag().to_owned(),
            size: i64::try_from(asset.size()).unwrap_or(i64::MAX),
            width: pixels(asset.width()),
            height: pixels(asset.height()),
            uploaded_by: asset.uploaded_by().map(|u| u.to_string()),
            created_at: encode_timestamp(asset.created_at()),
        }
    }
}

impl TryFrom<AssetRow> for Asset {
    type Error = DomainError;

    fn try_from(row: AssetRow) -> Result<Self, Self::Error> {
        let dimension = |column: &str, value: Option<i32>| {
            value
                .map(|v| u32::try_from(v).map_err(|e| invalid(column, e)))
                .transpose()
        };
        Asset::restore(
            row.id.parse().map_err(|e| invalid("id", e))?,
            row.media_type.parse()?,
            row.bytes,
            row.etag,
            u64::try_from(row.size).map_err(|e| invalid("size", e))?,
            dimension("width", row.width)?,
            dimension("height", row.height)?,
            row.uploaded_by
                .map(|u| u.parse::<UserId>().map_err(|e| invalid("uploaded_by", e)))
                .transpose()?,
            decode_timestamp("assets.created_at", &row.created_at)?,
        )
    }
}

/// [`AssetRepository`] on SQLite.
pub(crate) struct Assets {
    db: Database,
}

impl Assets {
    pub(crate) fn new(db: Database) -> Self {
        Self { db }
    }
}

#[async_trait]
impl AssetRepository for Assets {
    async fn create(&self, asset: &Asset) -> RepoResult<()> {
        let row = AssetRow::from(asset);
        let uploader = asset.uploaded_by();
        self.db
            .write(move |conn| {
                if let Some(user) = uploader {
                    require_user(conn, user)?;
                }
                diesel::insert_into(assets::table)
                    .values(&row)
                    .execute(conn)?;
                Ok(())
            })
            .await
    }

    async fn get(&self, id: AssetId) -> RepoResult<Asset> {
        self.db
            .run(move |conn| {
                let row = assets::table
                    .find(id.to_string())
                    .select(AssetRow::as_select())
                    .first(conn)
                    .optional()?
                    .ok_or_else(|| not_found("asset", id))?;
                Ok(Asset::try_from(row)?)
            })
            .await
    }

    async fn count(&self) -> RepoResult<u64> {
        self.db
            .run(move |conn| {
                let count: i64 = assets::table.count().get_result(conn)?;
                Ok(u64::try_from(count).unwrap_or_default())
            })
            .await
    }
}
