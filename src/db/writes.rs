//! Where a batch's writes to the projections go. SQLite runs in the writer's
//! process, so each statement runs at once. PostgreSQL costs a round trip a
//! statement, so they are gathered and sent by [`Writes::finish`] as few
//! statements: every delete in one, then the inserts in as few as their bind
//! parameters allow, each statement a chain of data-modifying CTEs
//! (`WITH w0 AS (DELETE …), w1 AS (DELETE …) DELETE …`). The deletes go
//! first and on their own: the sub-statements of one statement see the same
//! snapshot, so a row's old image deleted and its new one inserted in the
//! same statement would collide on its key.

use diesel::pg::Pg;
use diesel::prelude::*;
use diesel::query_builder::{AstPass, QueryFragment, QueryId};

use super::{DbConnection, DbError};
use crate::limits::{PG_BIND_PARAMETERS_MAX, ROW_COLUMNS_MAX};

/// One statement waiting to be sent, with how many bind parameters it may
/// take at most.
type Waiting<'a> = (usize, Box<dyn QueryFragment<Pg> + 'a>);

/// The statements gathered for PostgreSQL.
#[derive(Default)]
pub struct Gathered<'a> {
    deletes: Vec<Waiting<'a>>,
    inserts: Vec<Waiting<'a>>,
}

impl<'a> Gathered<'a> {
    /// A `DELETE … WHERE key = ANY($1)`: one bind parameter.
    pub fn delete(&mut self, statement: Box<dyn QueryFragment<Pg> + 'a>) {
        self.deletes.push((1, statement));
    }

    /// An insert of `rows` rows.
    pub fn insert(&mut self, rows: usize, statement: Box<dyn QueryFragment<Pg> + 'a>) {
        self.inserts.push((rows * ROW_COLUMNS_MAX, statement));
    }
}

pub enum Writes<'c, 'a> {
    /// SQLite: every statement runs when it is written.
    Now(&'c mut diesel::SqliteConnection),
    /// PostgreSQL: the statements wait for [`Writes::finish`].
    Gathered(Gathered<'a>, &'c mut diesel::PgConnection),
}

impl<'c, 'a> Writes<'c, 'a> {
    pub fn new(connection: &'c mut DbConnection) -> Self {
        match connection {
            DbConnection::Sqlite(inner) => Writes::Now(inner),
            DbConnection::Postgres(inner) => Writes::Gathered(Gathered::default(), inner),
        }
    }

    /// Sends what was gathered (nothing is left to send on SQLite).
    pub fn finish(self) -> Result<(), DbError> {
        let Writes::Gathered(gathered, connection) = self else {
            return Ok(());
        };
        for statements in [gathered.deletes, gathered.inserts] {
            let mut together: Vec<Box<dyn QueryFragment<Pg> + 'a>> = Vec::new();
            let mut parameters = 0;
            for (most, statement) in statements {
                if !together.is_empty() && parameters + most > PG_BIND_PARAMETERS_MAX {
                    Together(std::mem::take(&mut together)).execute(connection)?;
                    parameters = 0;
                }
                parameters += most;
                together.push(statement);
            }
            if !together.is_empty() {
                Together(together).execute(connection)?;
            }
        }
        Ok(())
    }
}

/// Statements sent as one: all but the last as CTEs, the last as the main
/// statement.
struct Together<'a>(Vec<Box<dyn QueryFragment<Pg> + 'a>>);

impl QueryId for Together<'_> {
    type QueryId = ();
    const HAS_STATIC_QUERY_ID: bool = false;
}

impl RunQueryDsl<diesel::PgConnection> for Together<'_> {}

impl QueryFragment<Pg> for Together<'_> {
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, Pg>) -> QueryResult<()> {
        let Some((last, before)) = self.0.split_last() else {
            return Ok(());
        };
        for (n, statement) in before.iter().enumerate() {
            out.push_sql(if n == 0 { "WITH " } else { ", " });
            out.push_sql(&format!("w{n} AS ("));
            statement.walk_ast(out.reborrow())?;
            out.push_sql(")");
        }
        if !before.is_empty() {
            out.push_sql(" ");
        }
        last.walk_ast(out.reborrow())
    }
}

#[cfg(test)]
mod tests {
    use crate::limits::ROW_COLUMNS_MAX;

    /// Every table's columns, as `schema.rs` declares them.
    fn columns_per_table() -> Vec<(String, usize)> {
        let schema = include_str!("schema.rs");
        let mut tables = Vec::new();
        for block in schema.split("diesel::table! {").skip(1) {
            let name = block
                .split_whitespace()
                .next()
                .unwrap_or_default()
                .to_string();
            let body = &block[..block.find("\n    }").unwrap_or(block.len())];
            tables.push((name, body.matches(" -> ").count()));
        }
        tables
    }

    #[test]
    fn no_table_is_wider_than_the_gathered_writes_assume() {
        let tables = columns_per_table();
        assert!(tables.len() > 20, "{tables:?}");
        let (widest, columns) = tables.iter().max_by_key(|(_, n)| *n).unwrap();
        assert!(
            *columns <= ROW_COLUMNS_MAX,
            "{widest} has {columns} columns; ROW_COLUMNS_MAX is {ROW_COLUMNS_MAX}"
        );
        assert_eq!((widest.as_str(), *columns), ("programs", 21));
    }
}
