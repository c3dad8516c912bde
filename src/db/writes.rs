//! Where a batch's writes to the projections go. SQLite runs in the writer's
//! process, so each statement runs at once. PostgreSQL costs a round trip a
//! statement, so they are gathered and sent by [`Writes::finish`] as few
//! statements: every delete in one, then the inserts (each an [`Unnest`] of
//! one array per column) in as few as their bind parameters allow, each
//! statement a chain of data-modifying CTEs
//! (`WITH w0 AS (DELETE …), w1 AS (DELETE …) DELETE …`). The deletes go
//! first and on their own: the sub-statements of one statement see the same
//! snapshot, so a row's old image deleted and its new one inserted in the
//! same statement would collide on its key.

use std::marker::PhantomData;

use diesel::pg::Pg;
use diesel::prelude::*;
use diesel::query_builder::{AstPass, QueryFragment, QueryId};
use diesel::serialize::ToSql;
use diesel::sql_types::{Array, HasSqlType};

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

    /// An insert of `rows` rows as diesel writes it, one bind parameter a
    /// value.
    pub fn insert(&mut self, rows: usize, statement: Box<dyn QueryFragment<Pg> + 'a>) {
        self.inserts.push((rows * ROW_COLUMNS_MAX, statement));
    }

    /// An insert of one array per column: one bind parameter a column.
    pub fn unnest(&mut self, insert: Unnest<'a>) {
        self.inserts.push((insert.arrays.len(), Box::new(insert)));
    }
}

/// `INSERT INTO table (columns) SELECT * FROM UNNEST(one array per column)`:
/// any number of rows in as many bind parameters as the table has columns,
/// which PostgreSQL parses far faster than a `VALUES` list of one parameter
/// a value (`bench ledger`: docs/performance.md).
pub struct Unnest<'a> {
    pub table: &'static str,
    pub columns: &'static [&'static str],
    pub arrays: Vec<Box<dyn BindArray + 'a>>,
    /// What to do with a row whose key is taken: `""` (an error), or an
    /// `ON CONFLICT …` clause.
    pub conflict: &'static str,
}

/// One column's values, bound as one array.
pub trait BindArray {
    fn bind<'b>(&'b self, out: &mut AstPass<'_, 'b, Pg>) -> QueryResult<()>;
}

struct ArrayOf<ST, T> {
    values: Vec<T>,
    sql_type: PhantomData<ST>,
}

impl<ST: 'static, T> BindArray for ArrayOf<ST, T>
where
    Pg: HasSqlType<Array<ST>>,
    Vec<T>: ToSql<Array<ST>, Pg>,
{
    fn bind<'b>(&'b self, out: &mut AstPass<'_, 'b, Pg>) -> QueryResult<()> {
        out.push_bind_param::<Array<ST>, Vec<T>>(&self.values)
    }
}

/// The values of a column of SQL type `ST`, as one array parameter.
pub fn array_of<'a, ST: 'static, T: 'a>(values: Vec<T>) -> Box<dyn BindArray + 'a>
where
    Pg: HasSqlType<Array<ST>>,
    Vec<T>: ToSql<Array<ST>, Pg>,
{
    Box::new(ArrayOf {
        values,
        sql_type: PhantomData::<ST>,
    })
}

impl QueryId for Unnest<'_> {
    type QueryId = ();
    const HAS_STATIC_QUERY_ID: bool = false;
}

impl QueryFragment<Pg> for Unnest<'_> {
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, Pg>) -> QueryResult<()> {
        out.push_sql("INSERT INTO ");
        out.push_identifier(self.table)?;
        out.push_sql(" (");
        for (n, column) in self.columns.iter().enumerate() {
            if n > 0 {
                out.push_sql(", ");
            }
            out.push_identifier(column)?;
        }
        out.push_sql(") SELECT * FROM UNNEST(");
        for (n, array) in self.arrays.iter().enumerate() {
            if n > 0 {
                out.push_sql(", ");
            }
            array.bind(&mut out)?;
        }
        out.push_sql(")");
        out.push_sql(self.conflict);
        Ok(())
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
/// statement, whose row count the execution returns.
pub struct Together<'a>(pub Vec<Box<dyn QueryFragment<Pg> + 'a>>);

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

    /// The tables and column lists of every `insert_rows!` and
    /// `replace_rows!` in the storage code.
    fn column_lists() -> Vec<(String, Vec<String>)> {
        let sources = [
            include_str!("financing.rs"),
            include_str!("bank.rs"),
            include_str!("payouts.rs"),
            include_str!("webhooks.rs"),
            include_str!("log.rs"),
        ];
        let mut lists = Vec::new();
        for source in sources {
            let calls = source.split("_rows!(").skip(1).map(|call| (call, 1));
            let unnests = source.split("unnest!(").skip(1).map(|call| (call, 0));
            for (call, table_at) in calls.chain(unnests) {
                let call = &call[..call.find(']').unwrap() + 1];
                let words: Vec<&str> = call.split(',').map(str::trim).collect();
                let table = words[table_at].to_string();
                let list = &call[call.find('[').unwrap() + 1..call.find(']').unwrap()];
                let columns = list
                    .split(',')
                    .map(str::trim)
                    .filter(|c| !c.is_empty())
                    .map(String::from)
                    .collect();
                lists.push((table, columns));
            }
        }
        lists
    }

    #[test]
    fn every_gathered_insert_names_every_column_of_its_table_in_order() {
        let schema = include_str!("schema.rs");
        let lists = column_lists();
        assert!(lists.len() >= 20, "{lists:?}");
        for (table, columns) in lists {
            let block = schema
                .split("diesel::table! {")
                .find(|b| b.split_whitespace().next() == Some(table.as_str()))
                .unwrap_or_else(|| panic!("no table {table} in the schema"));
            let body = &block[..block.find("\n    }").unwrap()];
            let declared: Vec<String> = body
                .lines()
                .filter(|l| l.contains(" -> "))
                .map(|l| l.trim().split(" -> ").next().unwrap().to_string())
                .collect();
            assert_eq!(columns, declared, "the columns written to {table}");
        }
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
