//! Throw-away databases for tests and benchmarks, and the baseline table the
//! ledger benchmark compares against.

use diesel::connection::SimpleConnection;
use diesel::prelude::*;

use super::{DbConnection, DbError};

/// Creates database `name` next to the one `admin_url` points at and returns its URL.
pub fn create_postgres_database(admin_url: &str, name: &str) -> Result<String, DbError> {
    if !name
        .bytes()
        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
    {
        return Err(DbError::BadUrl(format!("scratch database name {name:?}")));
    }
    let mut admin = diesel::PgConnection::establish(admin_url)?;
    // One statement per call: several would form one implicit transaction.
    admin.batch_execute(&format!("DROP DATABASE IF EXISTS {name}"))?;
    admin.batch_execute(&format!("CREATE DATABASE {name}"))?;
    Ok(replace_database(admin_url, name))
}

/// Drops a scratch database (best effort: connections may linger).
pub fn drop_postgres_database(admin_url: &str, name: &str) -> Result<(), DbError> {
    let mut admin = diesel::PgConnection::establish(admin_url)?;
    admin.batch_execute(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))?;
    Ok(())
}

fn replace_database(url: &str, name: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((base, query)) => (base, Some(query)),
        None => (url, None),
    };
    let scheme_end = base.find("://").map_or(0, |i| i + 3);
    let path_start = base[scheme_end..]
        .find('/')
        .map_or(base.len(), |i| scheme_end + i);
    let mut out = format!("{}/{name}", &base[..path_start]);
    if let Some(query) = query {
        out.push('?');
        out.push_str(query);
    }
    out
}

diesel::table! {
    bench_baseline_rows (seq) {
        seq -> BigInt,
        payload -> Text,
    }
}

/// Creates the baseline table: rows shaped like log entries, nothing else.
pub fn create_baseline_table(connection: &mut DbConnection) -> Result<(), DbError> {
    connection.batch_execute(
        "CREATE TABLE bench_baseline_rows (seq BIGINT PRIMARY KEY NOT NULL, payload TEXT NOT NULL)",
    )?;
    Ok(())
}

/// Inserts one baseline row in its own transaction (autocommit).
pub fn insert_baseline_row(
    connection: &mut DbConnection,
    seq: i64,
    payload: &str,
) -> Result<(), DbError> {
    diesel::insert_into(bench_baseline_rows::table)
        .values((
            bench_baseline_rows::seq.eq(seq),
            bench_baseline_rows::payload.eq(payload),
        ))
        .execute(connection)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    #[test]
    fn replaces_the_database_name() {
        assert_eq!(
            super::replace_database("postgres://postgres@127.0.0.1:5432/postgres", "t1"),
            "postgres://postgres@127.0.0.1:5432/t1"
        );
        assert_eq!(
            super::replace_database("postgres://u@h/db?sslmode=disable", "t1"),
            "postgres://u@h/t1?sslmode=disable"
        );
        assert_eq!(
            super::replace_database("postgres://u@h", "t1"),
            "postgres://u@h/t1"
        );
    }
}
