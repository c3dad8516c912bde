//! Queries on the log tables (append-only) and the postings projections.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::schema::{balances, checkpoints, log_entries, merkle_nodes, postings};
use super::{DbConnection, DbError};
use crate::ledger::merkle::{Hash, NodeSource, ProofError};

#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = log_entries, treat_none_as_default_value = false)]
pub struct NewLogEntry {
    pub seq: i64,
    pub recorded_at: NaiveDateTime,
    pub kind: String,
    pub actor: String,
    pub canonical: String,
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = log_entries)]
pub struct LogEntryRow {
    pub seq: i64,
    pub canonical: String,
}

#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = merkle_nodes, treat_none_as_default_value = false)]
pub struct NewMerkleNode {
    pub level: i32,
    pub node_index: i64,
    pub hash_hex: String,
}

#[derive(Debug, Clone, Insertable, Queryable, Selectable)]
#[diesel(table_name = checkpoints, treat_none_as_default_value = false)]
pub struct CheckpointRow {
    pub tree_size: i64,
    pub root_hex: String,
    pub note: String,
    pub signed_at: NaiveDateTime,
}

#[derive(Debug, Clone, PartialEq, Eq, Insertable, Queryable, Selectable)]
#[diesel(table_name = postings, treat_none_as_default_value = false)]
pub struct PostingRow {
    pub seq: i64,
    pub posting_index: i32,
    pub account: String,
    pub currency: String,
    pub amount_minor: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Insertable, Queryable, Selectable)]
#[diesel(table_name = balances, treat_none_as_default_value = false)]
pub struct BalanceRow {
    pub account: String,
    pub currency: String,
    pub balance_minor: i64,
    pub last_seq: i64,
}

/// Everything one batch appends to the log, written in one transaction.
#[derive(Debug, Default)]
pub struct BatchRows {
    pub entries: Vec<NewLogEntry>,
    pub nodes: Vec<NewMerkleNode>,
    pub postings: Vec<PostingRow>,
    pub checkpoint: Option<CheckpointRow>,
}

/// Inserts a batch's rows (call inside the batch transaction).
fn insert_batch(connection: &mut DbConnection, rows: &BatchRows) -> Result<(), DbError> {
    for chunk in rows.entries.chunks(crate::limits::DB_INSERT_CHUNK_ROWS) {
        on_backend!(&mut *connection, |inner| diesel::insert_into(
            log_entries::table
        )
        .values(chunk)
        .execute(inner))?;
    }
    for chunk in rows.nodes.chunks(crate::limits::DB_INSERT_CHUNK_ROWS) {
        on_backend!(&mut *connection, |inner| diesel::insert_into(
            merkle_nodes::table
        )
        .values(chunk)
        .execute(inner))?;
    }
    for chunk in rows.postings.chunks(crate::limits::DB_INSERT_CHUNK_ROWS) {
        on_backend!(&mut *connection, |inner| diesel::insert_into(
            postings::table
        )
        .values(chunk)
        .execute(inner))?;
    }
    if let Some(checkpoint) = &rows.checkpoint {
        diesel::insert_into(checkpoints::table)
            .values(checkpoint)
            .execute(connection)?;
    }
    Ok(())
}

/// Writes a batch's new balances, computed by the writer from its committed
/// balances (only the sequencer, the one writer, calls this): one multi-row
/// upsert per 1,000 accounts, however many commands moved them.
fn upsert_balances(connection: &mut DbConnection, rows: &[BalanceRow]) -> Result<(), DbError> {
    use diesel::upsert::excluded;
    for chunk in rows.chunks(crate::limits::DB_INSERT_CHUNK_ROWS) {
        on_backend!(&mut *connection, |inner| diesel::insert_into(
            balances::table
        )
        .values(chunk)
        .on_conflict((balances::account, balances::currency))
        .do_update()
        .set((
            balances::balance_minor.eq(excluded(balances::balance_minor)),
            balances::last_seq.eq(excluded(balances::last_seq)),
        ))
        .execute(inner))?;
    }
    Ok(())
}

/// One balance, zero when the account never moved.
pub fn balance(
    connection: &mut DbConnection,
    account: &str,
    currency: &str,
) -> Result<i64, DbError> {
    Ok(balances::table
        .filter(
            balances::account
                .eq(account)
                .and(balances::currency.eq(currency)),
        )
        .select(balances::balance_minor)
        .first(connection)
        .optional()?
        .unwrap_or(0))
}

/// The balances of several (account, currency) pairs in one query; a pair
/// that never moved is zero.
pub fn balances_of(
    connection: &mut DbConnection,
    pairs: &[(&str, &str)],
) -> Result<Vec<i64>, DbError> {
    let accounts: Vec<&str> = pairs.iter().map(|(account, _)| *account).collect();
    let rows: Vec<(String, String, i64)> = balances::table
        .filter(balances::account.eq_any(&accounts))
        .select((
            balances::account,
            balances::currency,
            balances::balance_minor,
        ))
        .load(connection)?;
    Ok(pairs
        .iter()
        .map(|(account, currency)| {
            rows.iter()
                .find(|(a, c, _)| a == account && c == currency)
                .map_or(0, |(_, _, balance)| *balance)
        })
        .collect())
}

/// Every balance, ordered by account and currency.
pub fn all_balances(connection: &mut DbConnection) -> Result<Vec<BalanceRow>, DbError> {
    Ok(balances::table
        .order((balances::account, balances::currency))
        .select(BalanceRow::as_select())
        .load(connection)?)
}

/// A page of balances by (account, currency) after `after`: those of the
/// accounts under `prefix` when given, of one currency when given.
pub fn balances_page(
    connection: &mut DbConnection,
    prefix: Option<&str>,
    currency: Option<&str>,
    after: Option<(String, String)>,
    limit: i64,
) -> Result<Vec<BalanceRow>, DbError> {
    let mut query = balances::table.into_boxed();
    if let Some(prefix) = prefix {
        query = query.filter(
            balances::account
                .ge(prefix.to_string())
                .and(balances::account.lt(prefix_upper_bound(prefix))),
        );
    }
    if let Some(currency) = currency {
        query = query.filter(balances::currency.eq(currency.to_string()));
    }
    if let Some((account, currency)) = after {
        query = query.filter(
            balances::account.gt(account.clone()).or(balances::account
                .eq(account)
                .and(balances::currency.gt(currency))),
        );
    }
    Ok(query
        .order((balances::account, balances::currency))
        .limit(limit)
        .select(BalanceRow::as_select())
        .load(connection)?)
}

/// A page of the entries of one kind after `after_seq`, oldest first:
/// (seq, canonical). Narrowed to the entries that concern a party, or an
/// invoice, when given.
pub fn entries_of_kind(
    connection: &mut DbConnection,
    kind: &str,
    party: Option<&str>,
    invoice: Option<&str>,
    after_seq: i64,
    limit: i64,
) -> Result<Vec<(i64, String)>, DbError> {
    use super::schema::{entry_parties, invoice_entries};
    let mut query = log_entries::table
        .filter(
            log_entries::kind
                .eq(kind.to_string())
                .and(log_entries::seq.gt(after_seq)),
        )
        .into_boxed();
    if let Some(party) = party {
        query = query.filter(
            log_entries::seq.eq_any(
                entry_parties::table
                    .filter(entry_parties::party_id.eq(party.to_string()))
                    .select(entry_parties::seq),
            ),
        );
    }
    if let Some(invoice) = invoice {
        query = query.filter(
            log_entries::seq.eq_any(
                invoice_entries::table
                    .filter(invoice_entries::invoice_id.eq(invoice.to_string()))
                    .select(invoice_entries::seq),
            ),
        );
    }
    Ok(query
        .order(log_entries::seq)
        .limit(limit)
        .select((log_entries::seq, log_entries::canonical))
        .load(connection)?)
}

/// Postings with `seq` in `[from, to)`, in log order.
pub fn postings_between(
    connection: &mut DbConnection,
    from: i64,
    to: i64,
) -> Result<Vec<PostingRow>, DbError> {
    Ok(postings::table
        .filter(postings::seq.ge(from).and(postings::seq.lt(to)))
        .order((postings::seq, postings::posting_index))
        .select(PostingRow::as_select())
        .load(connection)?)
}

/// Replaces the postings projections with rebuilt ones (replay --repair).
pub fn replace_projections(
    connection: &mut DbConnection,
    postings_rows: &[PostingRow],
    balance_rows: &[BalanceRow],
) -> Result<(), DbError> {
    diesel::delete(postings::table).execute(connection)?;
    diesel::delete(balances::table).execute(connection)?;
    for chunk in postings_rows.chunks(crate::limits::DB_INSERT_CHUNK_ROWS) {
        on_backend!(&mut *connection, |inner| diesel::insert_into(
            postings::table
        )
        .values(chunk)
        .execute(inner))?;
    }
    for chunk in balance_rows.chunks(crate::limits::DB_INSERT_CHUNK_ROWS) {
        on_backend!(&mut *connection, |inner| diesel::insert_into(
            balances::table
        )
        .values(chunk)
        .execute(inner))?;
    }
    Ok(())
}

/// Entries with `seq` from `from`, at most `limit`, in order.
pub fn entries_from(
    connection: &mut DbConnection,
    from: i64,
    limit: i64,
) -> Result<Vec<LogEntryRow>, DbError> {
    Ok(log_entries::table
        .filter(log_entries::seq.ge(from))
        .order(log_entries::seq)
        .limit(limit)
        .select(LogEntryRow::as_select())
        .load(connection)?)
}

/// The newest checkpoint.
pub fn latest_checkpoint(connection: &mut DbConnection) -> Result<Option<CheckpointRow>, DbError> {
    Ok(checkpoints::table
        .order(checkpoints::tree_size.desc())
        .select(CheckpointRow::as_select())
        .first(connection)
        .optional()?)
}

/// Checkpoints with tree size in `(after, ..]`, oldest first, at most `limit`.
pub fn checkpoints_after(
    connection: &mut DbConnection,
    after: i64,
    limit: i64,
) -> Result<Vec<CheckpointRow>, DbError> {
    Ok(checkpoints::table
        .filter(checkpoints::tree_size.gt(after))
        .order(checkpoints::tree_size)
        .limit(limit)
        .select(CheckpointRow::as_select())
        .load(connection)?)
}

/// The checkpoint of exactly this tree size.
pub fn checkpoint_of_size(
    connection: &mut DbConnection,
    tree_size: i64,
) -> Result<Option<CheckpointRow>, DbError> {
    Ok(checkpoints::table
        .filter(checkpoints::tree_size.eq(tree_size))
        .select(CheckpointRow::as_select())
        .first(connection)
        .optional()?)
}

/// Number of entries in the log table.
pub fn entry_count(connection: &mut DbConnection) -> Result<i64, DbError> {
    Ok(log_entries::table.count().get_result(connection)?)
}

/// Stored perfect nodes with level ≥ `level_min` (for verify's cross-check).
pub fn nodes_between(
    connection: &mut DbConnection,
    level: i32,
    from_index: i64,
    limit: i64,
) -> Result<Vec<(i64, String)>, DbError> {
    Ok(merkle_nodes::table
        .filter(
            merkle_nodes::level
                .eq(level)
                .and(merkle_nodes::node_index.ge(from_index)),
        )
        .order(merkle_nodes::node_index)
        .limit(limit)
        .select((merkle_nodes::node_index, merkle_nodes::hash_hex))
        .load(connection)?)
}

/// Reads perfect Merkle nodes from the database.
pub struct DbNodes<'a> {
    pub connection: &'a mut DbConnection,
}

impl NodeSource for DbNodes<'_> {
    fn perfect(&mut self, level: u32, index: u64) -> Result<Hash, ProofError> {
        let level_sql =
            i32::try_from(level).map_err(|_| ProofError::MissingNode { level, index })?;
        let index_sql =
            i64::try_from(index).map_err(|_| ProofError::MissingNode { level, index })?;
        let hash_hex: Option<String> = merkle_nodes::table
            .filter(
                merkle_nodes::level
                    .eq(level_sql)
                    .and(merkle_nodes::node_index.eq(index_sql)),
            )
            .select(merkle_nodes::hash_hex)
            .first(self.connection)
            .optional()
            .map_err(|e| ProofError::Store(e.to_string()))?;
        let hash_hex = hash_hex.ok_or(ProofError::MissingNode { level, index })?;
        decode_hash(&hash_hex)
            .ok_or_else(|| ProofError::Store(format!("node ({level}, {index}) is not a hex hash")))
    }
}

/// Decodes a stored hex hash.
pub fn decode_hash(text: &str) -> Option<Hash> {
    hex::decode(text).ok()?.try_into().ok()
}

/// Accounts whose names start with `prefix` (exclusive upper bound trick: no LIKE escaping).
fn prefix_upper_bound(prefix: &str) -> String {
    let mut upper = prefix.to_string();
    let last = upper.pop().expect("a non-empty prefix");
    upper.push(char::from_u32(last as u32 + 1).expect("prefixes end in ASCII"));
    upper
}

/// Postings on accounts starting with `prefix` in `currency`, after `after_seq`, in log order.
pub fn postings_with_prefix(
    connection: &mut DbConnection,
    prefix: &str,
    currency: &str,
    after_seq: i64,
    limit: i64,
) -> Result<Vec<PostingRow>, DbError> {
    Ok(postings::table
        .filter(
            postings::account
                .ge(prefix)
                .and(postings::account.lt(prefix_upper_bound(prefix))),
        )
        .filter(
            postings::currency
                .eq(currency)
                .and(postings::seq.gt(after_seq)),
        )
        .order((postings::seq, postings::posting_index))
        .limit(limit)
        .select(PostingRow::as_select())
        .load(connection)?)
}

/// The balance of each account starting with `prefix` up to and including
/// `seq` (accounts with no posting by then are absent).
pub fn balances_with_prefix_through(
    connection: &mut DbConnection,
    prefix: &str,
    currency: &str,
    seq: i64,
) -> Result<std::collections::BTreeMap<String, i64>, DbError> {
    let amounts: Vec<(String, i64)> = postings::table
        .filter(
            postings::account
                .ge(prefix)
                .and(postings::account.lt(prefix_upper_bound(prefix))),
        )
        .filter(postings::currency.eq(currency).and(postings::seq.le(seq)))
        .select((postings::account, postings::amount_minor))
        .load(connection)?;
    let mut balances = std::collections::BTreeMap::new();
    for (account, amount) in amounts {
        *balances.entry(account).or_insert(0) += amount;
    }
    Ok(balances)
}

/// One posting on an account with the entry it belongs to, for a statement.
#[derive(Debug, Clone, Queryable)]
pub struct AccountLine {
    pub seq: i64,
    pub recorded_at: NaiveDateTime,
    pub amount_minor: i64,
    pub canonical: String,
}

/// Postings on one account in one currency recorded in `[from, until)`,
/// oldest first, with their entries; at most `limit`.
pub fn account_lines(
    connection: &mut DbConnection,
    account: &str,
    currency: &str,
    from: NaiveDateTime,
    until: NaiveDateTime,
    limit: i64,
) -> Result<Vec<AccountLine>, DbError> {
    Ok(postings::table
        .inner_join(log_entries::table)
        .filter(
            postings::account
                .eq(account)
                .and(postings::currency.eq(currency)),
        )
        .filter(
            log_entries::recorded_at
                .ge(from)
                .and(log_entries::recorded_at.lt(until)),
        )
        .order((postings::seq, postings::posting_index))
        .limit(limit)
        .select((
            postings::seq,
            log_entries::recorded_at,
            postings::amount_minor,
            log_entries::canonical,
        ))
        .load(connection)?)
}

/// The balance of one account in one currency from the postings recorded
/// before `until`.
pub fn account_balance_before(
    connection: &mut DbConnection,
    account: &str,
    currency: &str,
    until: NaiveDateTime,
) -> Result<i64, DbError> {
    let amounts: Vec<i64> = postings::table
        .inner_join(log_entries::table)
        .filter(
            postings::account
                .eq(account)
                .and(postings::currency.eq(currency)),
        )
        .filter(log_entries::recorded_at.lt(until))
        .select(postings::amount_minor)
        .load(connection)?;
    Ok(amounts.iter().sum())
}

/// One canonical entry by seq.
pub fn entry(connection: &mut DbConnection, seq: i64) -> Result<Option<String>, DbError> {
    Ok(log_entries::table
        .find(seq)
        .select(log_entries::canonical)
        .first(connection)
        .optional()?)
}

/// What a batch transaction writes after the records it changed: its log
/// rows, the new balances, the answers stored for its callers, and the fence
/// (the head moves from `from_size` to `to_size` only while `epoch` writes).
pub struct Append<'a> {
    pub rows: &'a BatchRows,
    pub balances: &'a [BalanceRow],
    pub answers: &'a [super::idempotency::IdempotencyRow],
    pub epoch: i64,
    pub from_size: i64,
    pub to_size: i64,
}

/// Writes a batch's [`Append`] inside its transaction; false when the fence
/// refused it (another writer took over), and the batch must roll back.
///
/// On PostgreSQL this is one statement, so one round trip whatever the
/// batch holds: each table's rows as one array per column
/// ([`super::writes::Unnest`]) in a chain of data-modifying CTEs, ending
/// with the fence. Every part is there even when it has no rows, so the
/// statement's text never changes and the server prepares it once per
/// connection. On SQLite, which runs in-process, it is one multi-row
/// statement per table.
pub fn append_batch(connection: &mut DbConnection, append: &Append<'_>) -> Result<bool, DbError> {
    match connection {
        DbConnection::Postgres(inner) => {
            use super::schema::idempotency_keys;
            let rows = append.rows;
            let mut balances = unnest!(
                balances,
                append.balances,
                [account, currency, balance_minor, last_seq]
            );
            balances.conflict = " ON CONFLICT (account, currency) DO UPDATE SET \
                balance_minor = EXCLUDED.balance_minor, last_seq = EXCLUDED.last_seq";
            let mut answers = unnest!(
                idempotency_keys,
                append.answers,
                [
                    scope,
                    idempotency_key,
                    request_sha256,
                    status_code,
                    response_body,
                    created_at,
                ]
            );
            answers.conflict = " ON CONFLICT DO NOTHING";
            let statement = super::writes::Together(vec![
                Box::new(unnest!(
                    log_entries,
                    rows.entries,
                    [seq, recorded_at, kind, actor, canonical]
                )),
                Box::new(unnest!(
                    merkle_nodes,
                    rows.nodes,
                    [level, node_index, hash_hex]
                )),
                Box::new(unnest!(
                    postings,
                    rows.postings,
                    [seq, posting_index, account, currency, amount_minor]
                )),
                Box::new(balances),
                Box::new(unnest!(
                    checkpoints,
                    rows.checkpoint.as_slice(),
                    [tree_size, root_hex, note, signed_at]
                )),
                Box::new(answers),
                Box::new(Fence(append)),
            ]);
            Ok(statement.execute(inner)? == 1)
        }
        DbConnection::Sqlite(_) => {
            upsert_balances(connection, append.balances)?;
            insert_batch(connection, append.rows)?;
            super::idempotency::insert_answer_rows(connection, append.answers)?;
            Ok(super::head::advance(
                connection,
                append.epoch,
                append.from_size,
                append.to_size,
            )?)
        }
    }
}

/// The fence as the last part of [`append_batch`]'s statement: the head
/// moves only from where this writer left it, under its epoch; the statement
/// returns the one row it updated, or none. Written out rather than as
/// diesel's `update` (`head::advance`, used on SQLite) because diesel marks
/// every `UPDATE` unsafe to cache, which would have PostgreSQL plan the whole
/// statement again for every batch.
struct Fence<'s, 'a>(&'s Append<'a>);

impl diesel::query_builder::QueryId for Fence<'_, '_> {
    type QueryId = ();
    const HAS_STATIC_QUERY_ID: bool = false;
}

impl diesel::query_builder::QueryFragment<diesel::pg::Pg> for Fence<'_, '_> {
    fn walk_ast<'b>(
        &'b self,
        mut out: diesel::query_builder::AstPass<'_, 'b, diesel::pg::Pg>,
    ) -> QueryResult<()> {
        use diesel::sql_types::BigInt;
        out.push_sql("UPDATE ledger_head SET tree_size = ");
        out.push_bind_param::<BigInt, _>(&self.0.to_size)?;
        out.push_sql(" WHERE id = 1 AND epoch = ");
        out.push_bind_param::<BigInt, _>(&self.0.epoch)?;
        out.push_sql(" AND tree_size = ");
        out.push_bind_param::<BigInt, _>(&self.0.from_size)?;
        Ok(())
    }
}
