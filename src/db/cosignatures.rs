//! Witnesses' cosignatures of checkpoints (`cosignatures`).

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::schema::cosignatures;
use super::{DbConnection, DbError};

/// One witness's cosignature of one checkpoint.
#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable, Insertable)]
#[diesel(table_name = cosignatures)]
pub struct CosignatureRow {
    pub tree_size: i64,
    pub witness: String,
    pub line: String,
    pub cosigned_at: i64,
    pub received_at: NaiveDateTime,
}

/// Keeps a cosignature; `false` when the witness's first one of that tree
/// size is kept instead.
pub fn insert(connection: &mut DbConnection, row: &CosignatureRow) -> Result<bool, DbError> {
    let inserted = match connection {
        DbConnection::Postgres(inner) => diesel::insert_into(cosignatures::table)
            .values(row)
            .on_conflict_do_nothing()
            .execute(inner)?,
        DbConnection::Sqlite(inner) => diesel::insert_or_ignore_into(cosignatures::table)
            .values(row)
            .execute(inner)?,
    };
    Ok(inserted == 1)
}

/// The cosignatures of the checkpoint of `tree_size`, by witness name.
pub fn of_size(
    connection: &mut DbConnection,
    tree_size: i64,
) -> Result<Vec<CosignatureRow>, DbError> {
    Ok(cosignatures::table
        .filter(cosignatures::tree_size.eq(tree_size))
        .order(cosignatures::witness)
        .select(CosignatureRow::as_select())
        .load(connection)?)
}

/// The tree sizes with at least `count` cosignatures, largest first, at most `limit`.
pub fn sizes_with_at_least(
    connection: &mut DbConnection,
    count: i64,
    limit: i64,
) -> Result<Vec<i64>, DbError> {
    Ok(cosignatures::table
        .group_by(cosignatures::tree_size)
        .having(diesel::dsl::count_star().ge(count))
        .select(cosignatures::tree_size)
        .order(cosignatures::tree_size.desc())
        .limit(limit)
        .load(connection)?)
}
