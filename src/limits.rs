//! Every bound of the system in one place. A limit that is not here does not
//! exist; bounds that depend on each other are tied by const assertions.

/// Longest account name, in bytes.
pub const ACCOUNT_NAME_LENGTH_MAX: usize = 128;
/// Most postings one entry may carry.
pub const POSTINGS_PER_ENTRY_MAX: usize = 64;
/// Largest canonical entry, in bytes.
pub const ENTRY_BYTES_MAX: usize = 64 * 1024;
/// Longest entry kind such as `invoice.confirmed`.
pub const KIND_LENGTH_MAX: usize = 64;
/// Longest actor (party id or `system`).
pub const ACTOR_LENGTH_MAX: usize = 64;
/// Deepest JSON nesting accepted in an entry body.
pub const JSON_DEPTH_MAX: usize = 16;
/// Longest journal memo.
pub const MEMO_LENGTH_MAX: usize = 500;

/// Largest amount accepted anywhere, in minor units (10,000,000,000,000.00 in
/// a two-decimal currency): no single amount can come near `i64`.
pub const AMOUNT_MINOR_MAX: i64 = 1_000_000_000_000_000;
/// Largest balance of one account either way, in minor units. An entry that
/// would go past it is refused with `balance_limit_exceeded`; the headroom to
/// `i64::MAX` keeps every sum of a batch's deltas exact.
pub const BALANCE_MINOR_MAX: i64 = 1_000_000_000_000_000_000;

/// Most (account, currency) balances the ledger holds. The writer keeps every
/// one in memory (`ledger::state`), about 100 bytes each: 100 MB at the bound.
pub const ACCOUNTS_MAX: usize = 1_000_000;
/// Most invoices the ledger holds. The writer keeps every one in memory
/// (`ledger::records`; docs/performance.md measures the bytes per invoice).
pub const INVOICES_MAX: usize = 2_000_000;
/// Most bank lines the ledger holds, kept in memory as invoices are.
pub const BANK_LINES_MAX: usize = 2_000_000;
/// Most payouts the ledger holds (at most one per advance and one per
/// settlement); the writer keeps every one in memory, with the payout batches.
pub const PAYOUTS_MAX: usize = 4_000_000;

const _: () = assert!(AMOUNT_MINOR_MAX * (POSTINGS_PER_ENTRY_MAX as i64) <= BALANCE_MINOR_MAX);
const _: () = assert!(BALANCE_MINOR_MAX <= i64::MAX / 4);

/// Commands the sequencer's queue holds before callers wait (back-pressure).
pub const SEQUENCER_QUEUE_DEPTH_MAX: usize = 65_536;
/// Most commands the sequencer puts into one transaction.
pub const SEQUENCER_BATCH_SIZE_MAX: usize = 8_192;
/// Default commands per batch.
pub const SEQUENCER_BATCH_SIZE_DEFAULT: usize = 2_048;
/// Commands a batch decides before it hands what they changed in the records
/// to a second thread to write, while it decides the next ones
/// (`ledger::part_writer`); a batch of no more is written as one part.
pub const BATCH_PART_COMMANDS: usize = 256;
/// Longest the sequencer waits for more commands before committing a batch.
pub const SEQUENCER_BATCH_WINDOW_US_MAX: u64 = 50_000;
/// Default batch window: zero, the batch takes what has queued meanwhile.
pub const SEQUENCER_BATCH_WINDOW_US_DEFAULT: u64 = 0;

/// Largest HTTP JSON body.
pub const HTTP_JSON_BODY_BYTES_MAX: usize = 256 * 1024;
/// Most log entries one page returns.
pub const LOG_PAGE_ENTRIES_MAX: u64 = 1_000;
/// Default page size for log entries.
pub const LOG_PAGE_ENTRIES_DEFAULT: u64 = 100;
/// Entries read from the database per chunk while verifying or replaying.
pub const SCAN_CHUNK_ENTRIES: i64 = 10_000;
/// Read connections in the pool.
pub const READ_POOL_CONNECTIONS_MAX: u32 = 8;

const _: () = assert!(SEQUENCER_BATCH_SIZE_DEFAULT <= SEQUENCER_BATCH_SIZE_MAX);
const _: () = assert!(SEQUENCER_BATCH_SIZE_MAX <= SEQUENCER_QUEUE_DEPTH_MAX);
// A batch's statements stay bounded: at most this many parts.
const _: () = assert!(SEQUENCER_BATCH_SIZE_MAX / BATCH_PART_COMMANDS <= 32);
const _: () = assert!(LOG_PAGE_ENTRIES_DEFAULT <= LOG_PAGE_ENTRIES_MAX);
#[allow(clippy::absurd_extreme_comparisons)]
const _: () = assert!(SEQUENCER_BATCH_WINDOW_US_DEFAULT <= SEQUENCER_BATCH_WINDOW_US_MAX);
// A page of maximal entries must fit comfortably in memory.
const _: () = assert!(LOG_PAGE_ENTRIES_MAX as usize * ENTRY_BYTES_MAX <= 64 * 1024 * 1024);

/// Seconds between reloads of the in-memory API keys, for keys another
/// process (the CLI) created or revoked; one revoked through the server is
/// refused at once.
pub const API_KEY_RELOAD_SECONDS: u64 = 1;
/// Hours an Idempotency-Key's answer is kept.
pub const IDEMPOTENCY_KEY_RETENTION_HOURS: i64 = 24;
/// Longest Idempotency-Key.
pub const IDEMPOTENCY_KEY_LENGTH_MAX: usize = 255;
/// Stored Idempotency-Keys the API indexes in memory (16 bytes of digest
/// each, about 40 MB at the bound with the set's overhead); past it every
/// claim reads the database (`api::idempotency::IdempotencyKeys`).
pub const IDEMPOTENCY_KEYS_INDEXED_MAX: usize = 2_000_000;
/// Most items in one batch request (invoices, confirmations).
pub const BATCH_ITEMS_MAX: usize = 100;
/// Most rows one API page returns.
pub const API_PAGE_ROWS_MAX: i64 = 200;
/// Default rows of an API page.
pub const API_PAGE_ROWS_DEFAULT: i64 = 50;
/// Largest e-invoice upload (4 MiB). Real invoices are a few kilobytes; the
/// bound leaves room for embedded attachments while keeping one parse cheap.
pub const EINVOICE_BYTES_MAX: usize = 4 * 1024 * 1024;
/// Largest bank statement (32 MiB): a day of a busy account is tens of
/// thousands of entries of a few hundred bytes each.
pub const BANK_STATEMENT_BYTES_MAX: usize = 32 * 1024 * 1024;
/// Deepest XML element nesting accepted (the root is level 1); EN 16931
/// documents reach about ten.
pub const XML_ELEMENT_DEPTH_MAX: usize = 64;
/// Most attributes on one XML element: quick-xml's duplicate check compares
/// each attribute with all earlier ones, so the count must stay small.
pub const XML_ATTRIBUTES_PER_ELEMENT_MAX: usize = 64;
/// Most XML namespace declarations in scope: every prefix lookup scans them.
pub const XML_NAMESPACE_DECLARATIONS_IN_SCOPE_MAX: usize = 64;

const _: () = assert!(API_PAGE_ROWS_DEFAULT <= API_PAGE_ROWS_MAX);
const _: () = assert!(EINVOICE_BYTES_MAX >= HTTP_JSON_BODY_BYTES_MAX);

/// Delivery attempts of one webhook before it is marked failed.
pub const WEBHOOK_ATTEMPTS_MAX: i32 = 10;
/// Longest wait between two attempts (the backoff doubles from 1 s up to this).
pub const WEBHOOK_BACKOFF_SECONDS_MAX: i64 = 3_600;
/// Seconds one delivery may take.
pub const WEBHOOK_TIMEOUT_SECONDS: u64 = 10;
/// Deliveries one worker pass sends.
pub const WEBHOOK_DELIVERIES_PER_PASS_MAX: i64 = 100;
/// Active subscriptions per party.
pub const WEBHOOK_SUBSCRIPTIONS_PER_PARTY_MAX: i64 = 10;
/// Longest webhook URL.
pub const WEBHOOK_URL_LENGTH_MAX: usize = 2_048;

/// Hours a web session lasts.
pub const SESSION_HOURS: i64 = 12;
/// Failed sign-ins allowed per address or e-mail within the window.
pub const SIGN_IN_FAILURES_MAX: usize = 5;
/// The sign-in rate-limit window.
pub const SIGN_IN_WINDOW_SECONDS: u64 = 900;
/// Addresses and e-mails the sign-in limiter remembers at most.
pub const SIGN_IN_TRACKED_KEYS_MAX: usize = 100_000;
/// Shortest password.
pub const PASSWORD_LENGTH_MIN: usize = 12;
/// Longest password (argon2 hashes any length; this bounds the work).
pub const PASSWORD_LENGTH_MAX: usize = 256;

// Bounds of lists, pages and work units outside the API page size.

/// Most payouts in one pain.001 file.
pub const PAYOUTS_PER_BATCH_MAX: usize = 2_000;
/// Invoices the sweep looks at per run.
pub const SWEEP_INVOICES_MAX: i64 = 10_000;
/// Postings one paid invoice adds to a payment entry at most, before debt recoveries.
pub const POSTINGS_PER_PAID_INVOICE_MAX: usize = 5;
/// Most entries in one funder's book (`GET /api/v1/funders/{id}/book`):
/// about 2 KB each with its proof. A larger book is refused by name; the
/// whole log is then verified from an export.
pub const FUNDER_BOOK_ENTRIES_MAX: usize = 20_000;
/// Requests one API key may make per second, on average, and in a burst
/// (GCRA, `api::rate`); more are answered 429 `rate_limited` with
/// `Retry-After`. `serve --api-key-rate` sets the rate (0: no limit; the
/// burst is twice the rate). One instance counts its own requests: behind
/// several instances a key's limit is per instance.
pub const API_KEY_REQUESTS_PER_SECOND: u32 = 1_000;

/// Most funders of one programme. Each funder's share of a paid invoice
/// adds two postings (its principal and its cash), so a payment over many
/// invoices of syndicated programmes may need to be applied in parts to fit
/// `POSTINGS_PER_ENTRY_MAX`; the entry is refused whole, with that count, if not.
pub const PROGRAM_FUNDERS_MAX: usize = 5;
/// Most invoices one payment may be applied to. A paid invoice takes up to
/// `POSTINGS_PER_PAID_INVOICE_MAX` postings (receivable, principal, cash,
/// reserve, payout), and they all must fit one entry beside the bank's line
/// and room for supplier debts recovered on the way. A larger remittance is
/// applied as several payments.
pub const INVOICES_PER_PAYMENT_MAX: usize = 10;
/// Invoices a supplier's pages list at most.
pub const SUPPLIER_PAGE_INVOICES_MAX: i64 = 500;
/// Bars one treasury chart draws at most.
pub const CHART_BARS_MAX: usize = 30;
/// Bank lines the treasury page shows at most.
pub const TREASURY_PAGE_LINES_SHOWN: i64 = 50;
/// How far back four eyes follows who created a credential (a web user or an
/// API key) and who created that one.
pub const CREDENTIAL_LINEAGE_MAX: usize = 16;
/// Rows of one page of an invoice list on the web (the supplier's invoices,
/// the retailer's payables); older ones are on the next page.
pub const WEB_LIST_ROWS: i64 = 50;
/// Characters of a list's search text that are used.
pub const SEARCH_TEXT_MAX: usize = 100;
/// Payouts the treasury page shows at most.
pub const TREASURY_PAGE_PAYOUTS_SHOWN: i64 = 200;
/// Recent entries the public ledger page shows.
pub const LEDGER_PAGE_ENTRIES_SHOWN: u64 = 25;
/// Entries an invoice's page shows in its timeline at most.
pub const INVOICE_TIMELINE_ENTRIES_MAX: i64 = 200;
/// Statement lines one page or CSV holds at most.
pub const SUPPLIER_STATEMENT_LINES_MAX: i64 = API_PAGE_ROWS_MAX;
/// Actor signatures `verify` collects before it checks them as one batch.
pub const VERIFY_SIGNATURES_PER_BATCH: usize = 1024;
/// Entries `verify` hands to a worker thread at a time.
pub const VERIFY_ENTRIES_PER_CHUNK: usize = 2048;
/// Differences `replay` lists before the rest are only counted.
pub const REPLAY_DIFFERENCES_LISTED_MAX: usize = 100;
/// ISO 20022 amounts (`ActiveOrHistoricCurrencyAndAmount`) have at most 18
/// digits in all (schema `totalDigits`)...
pub const CAMT_AMOUNT_DIGITS_MAX: usize = 18;
/// ... of which at most 5 after the decimal point (schema `fractionDigits`).
pub const CAMT_AMOUNT_FRACTION_DIGITS_MAX: usize = 5;
/// Rows per multi-row INSERT: well under SQLite's 32,766 bound parameters.
pub const DB_INSERT_CHUNK_ROWS: usize = 1_000;
/// Bind parameters in one PostgreSQL statement (its protocol counts them in
/// 16 bits): a batch's gathered writes are cut into statements under it
/// (`db::Writes`).
pub const PG_BIND_PARAMETERS_MAX: usize = 65_535;
/// Columns of the widest projection table (programmes: 21), rounded up; a
/// test reads the schema to hold it.
pub const ROW_COLUMNS_MAX: usize = 24;

/// Longest payment reference (the SEPA remittance field).
pub const PAYMENT_REFERENCE_LENGTH_MAX: usize = 140;
/// Longest party name, in characters.
pub const PARTY_NAME_LENGTH_MAX: usize = 200;
/// Longest tax id, in bytes.
pub const TAX_ID_LENGTH_MAX: usize = 64;
/// Longest invoice or credit-note number, in characters.
pub const INVOICE_NUMBER_LENGTH_MAX: usize = 64;
/// Longest reason for a dispute or a rejection, in characters.
pub const REASON_LENGTH_MAX: usize = 500;
/// Largest HTML form body (file uploads add the file's own bound).
pub const HTML_FORM_BYTES_MAX: usize = 64 * 1024;
/// Programmes listed on one page at most.
pub const PROGRAMS_LISTED_MAX: i64 = 1_000;
/// Parties listed on one page at most.
pub const PARTIES_LISTED_MAX: i64 = 10_000;
/// Web users the operator's set-up page lists at most (by e-mail).
pub const WEB_USERS_LISTED_MAX: i64 = 1_000;
/// API keys the operator's set-up page lists at most, newest first
/// (revoked keys included, so the oldest drop off the page first).
pub const API_KEYS_LISTED_MAX: i64 = 1_000;
/// Rows a treasury chart reads at most.
pub const CHART_ROWS_READ_MAX: i64 = 100_000;
/// Earlier credits considered when matching a reversal or a suggestion.
pub const MATCH_CANDIDATES_MAX: i64 = 50;
/// Longest tenor and default period a programme may set, in days (ten years).
pub const PROGRAM_TERM_DAYS_MAX: i64 = 3_650;
/// Longest grace period after the due date a programme may set, in days.
pub const GRACE_DAYS_MAX: i64 = 365;
/// Highest annual discount or late rate a programme may set (5 = 500%).
pub const ANNUAL_RATE_MAX: i64 = 5;
/// Highest multiple of its trading history a supplier's limit may be.
pub const SUPPLIER_LIMIT_MULTIPLE_MAX: i64 = 100;
/// Longest e-mail address (RFC 5321's path limit less the angle brackets).
pub const EMAIL_LENGTH_MAX: usize = 254;
/// Invoices suggested beside an unmatched bank line, and of those the ones
/// found by their open amount alone.
pub const MATCH_SUGGESTIONS_MAX: usize = 10;
pub const MATCH_SUGGESTIONS_BY_AMOUNT_MAX: i64 = 5;
/// Disclosures `verify` reads per query.
pub const DISCLOSURES_PER_READ: i64 = 1_000;
/// Imported statement files listed on the treasury page.
pub const STATEMENT_FILES_SHOWN: i64 = 100;
/// ISO 20022's `Max140Text`, the longest name or remittance text in a pain.001 file.
pub const PAIN001_TEXT_LENGTH_MAX: usize = 140;
/// How long a starting writer waits for an earlier writer's lock (PostgreSQL).
pub const WRITER_LOCK_WAIT_SECONDS: u64 = 30;
/// How often a standby instance (PostgreSQL) tries to take the writer's lock.
pub const STANDBY_POLL_MILLIS: u64 = 250;
/// Checkpoints with enough cosignatures that the latest-cosigned read
/// looks at, newest first, for one a quorum of configured witnesses signed.
pub const COSIGNED_CANDIDATES_MAX: i64 = 50;
/// Entries at the log's end whose leaf hash a writer recomputes before it
/// loads the tree (`scfledger verify` checks every one).
pub const TAIL_CHECK_ENTRIES: u64 = 1_000;
/// How often an idle writer checks that it still holds its lock and the
/// head's epoch, and stands by if it does not.
pub const WRITER_CHECK_MILLIS: u64 = 1_000;
/// How long PostgreSQL lets the writer's batch session sit idle inside a
/// transaction before ending it: a writer paused mid-batch then holds up a
/// takeover this long at most. A batch never waits on its client this long.
pub const WRITER_IDLE_IN_TRANSACTION_SECONDS: u64 = 3;
/// How long a standby holds a request it forwards while no instance writes
/// (a takeover) before it answers 503 with Retry-After.
pub const FORWARD_WAIT_SECONDS: u64 = 5;
/// How long a standby waits between attempts to reach the writer.
pub const FORWARD_RETRY_MILLIS: u64 = 50;
/// How long a standby tries to connect to the writer's address.
pub const FORWARD_CONNECT_TIMEOUT_MILLIS: u64 = 1_000;
/// How long a standby waits for the writer's answer to a forwarded request
/// (a bank statement's import is the longest).
pub const FORWARD_ANSWER_SECONDS: u64 = 120;
/// The largest body a standby forwards: the largest any route accepts, a
/// bank statement in a form, with room to spare.
pub const FORWARDED_BODY_BYTES_MAX: usize = BANK_STATEMENT_BYTES_MAX + 2 * HTML_FORM_BYTES_MAX;
const _: () = assert!(FORWARDED_BODY_BYTES_MAX >= EINVOICE_BYTES_MAX);
/// How long a writer on SQLite waits for another writer of the same file to
/// stop (a restart in the same process), before it is refused.
pub const SQLITE_WRITER_LOCK_WAIT_SECONDS: u64 = 5;

// Bounds that depend on each other.
const _: () =
    assert!(INVOICES_PER_PAYMENT_MAX * POSTINGS_PER_PAID_INVOICE_MAX < POSTINGS_PER_ENTRY_MAX);
const _: () = assert!(BATCH_ITEMS_MAX <= SEQUENCER_BATCH_SIZE_MAX);
const _: () = assert!(SUPPLIER_STATEMENT_LINES_MAX <= API_PAGE_ROWS_MAX);
const _: () = assert!(LEDGER_PAGE_ENTRIES_SHOWN <= LOG_PAGE_ENTRIES_MAX);
const _: () = assert!(VERIFY_ENTRIES_PER_CHUNK as i64 <= SCAN_CHUNK_ENTRIES);
const _: () = assert!(DB_INSERT_CHUNK_ROWS * ROW_COLUMNS_MAX <= PG_BIND_PARAMETERS_MAX);
const _: () = assert!(
    DB_INSERT_CHUNK_ROWS * 20 < 32_766,
    "SQLite's bound parameters per statement, for the widest row written in chunks (a bank line)"
);
const _: () = assert!(INVOICE_NUMBER_LENGTH_MAX <= PAYMENT_REFERENCE_LENGTH_MAX);
const _: () = assert!(HTML_FORM_BYTES_MAX <= HTTP_JSON_BODY_BYTES_MAX);
const _: () = assert!(GRACE_DAYS_MAX <= PROGRAM_TERM_DAYS_MAX);
const _: () = assert!(MATCH_SUGGESTIONS_BY_AMOUNT_MAX as usize <= MATCH_SUGGESTIONS_MAX);
const _: () = assert!(PAYMENT_REFERENCE_LENGTH_MAX <= PAIN001_TEXT_LENGTH_MAX);
