//! What migration 12 (`compact_credentials`) leaves to the migration
//! runner, SQL having no deflate: packing each award's signed credential,
//! which the SQL kept as its text, before the migrations commit.

use diesel::prelude::*;
use openbadges_store_support::packing;

use crate::schema::assertions;

/// Migration 12's version, as diesel records it.
pub(crate) const COMPACT_CREDENTIALS: &str = "20261207000012";

/// How many awards are read at a time.
const CHUNK: i64 = 256;

/// Packs every stored credential; answers how many. Runs in the
/// migrations' transaction, right after migration 12.
pub(crate) fn pack_credentials(conn: &mut SqliteConnection) -> QueryResult<usize> {
    let mut after = String::new();
    let mut packed = 0;
    loop {
        let texts: Vec<(String, Vec<u8>)> = assertions::table
            .filter(assertions::id.gt(&after))
            .filter(assertions::issued_credential.is_not_null())
            .select((
                assertions::id,
                assertions::issued_credential.assume_not_null(),
            ))
            .order(assertions::id)
            .limit(CHUNK)
            .load(conn)?;
        let Some((last, _)) = texts.last() else {
            return Ok(packed);
        };
        after.clone_from(last);
        for (id, text) in &texts {
            diesel::update(assertions::table.find(id))
                .set(assertions::issued_credential.eq(packing::pack(text)))
                .execute(conn)?;
        }
        packed += texts.len();
    }
}
