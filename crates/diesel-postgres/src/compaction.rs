//! What migration 12 (`compact_credentials`) leaves to the migration
//! runner, SQL having no deflate: packing each award's signed credential,
//! which the SQL kept as its text, before the migrations commit.

use diesel::prelude::*;
use diesel::sql_types::{Array, Bytea};
use openbadges_store_support::packing;
use uuid::Uuid;

use crate::schema::assertions;

/// Migration 12's version, as diesel records it.
pub(crate) const COMPACT_CREDENTIALS: &str = "20261207000012";

/// How many awards are read, and written back in one statement, at a time.
const CHUNK: i64 = 256;

/// Packs every stored credential; answers how many. Runs in the
/// migrations' transaction, right after migration 12.
pub(crate) fn pack_credentials(conn: &mut PgConnection) -> QueryResult<usize> {
    let mut after: Option<Uuid> = None;
    let mut packed = 0;
    loop {
        let mut query = assertions::table
            .filter(assertions::issued_credential.is_not_null())
            .select((
                assertions::id,
                assertions::issued_credential.assume_not_null(),
            ))
            .order(assertions::id)
            .limit(CHUNK)
            .into_boxed();
        if let Some(after) = after {
            query = query.filter(assertions::id.gt(after));
        }
        let texts: Vec<(Uuid, Vec<u8>)> = query.load(conn)?;
        let Some(&(last, _)) = texts.last() else {
            return Ok(packed);
        };
        after = Some(last);
        let (ids, packs): (Vec<Uuid>, Vec<Vec<u8>>) = texts
            .iter()
            .map(|(id, text)| (*id, packing::pack(text)))
            .unzip();
        diesel::sql_query(
            "UPDATE assertions SET issued_credential = packed.bytes \
             FROM unnest($1, $2) AS packed (id, bytes) WHERE assertions.id = packed.id",
        )
        .bind::<Array<diesel::sql_types::Uuid>, _>(&ids)
        .bind::<Array<Bytea>, _>(&packs)
        .execute(conn)?;
        packed += texts.len();
    }
}
