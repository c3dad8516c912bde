//! Every bound of the system in one place. A limit that is not here does not exist.

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

const _: () = assert!(AMOUNT_MINOR_MAX * (POSTINGS_PER_ENTRY_MAX as i64) <= BALANCE_MINOR_MAX);
const _: () = assert!(BALANCE_MINOR_MAX <= i64::MAX / 4);

/// Commands the sequencer's queue holds before callers wait (back-pressure).
pub const SEQUENCER_QUEUE_DEPTH_MAX: usize = 65_536;
/// Most commands the sequencer puts into one transaction.
pub const SEQUENCER_BATCH_SIZE_MAX: usize = 8_192;
/// Default commands per batch.
pub const SEQUENCER_BATCH_SIZE_DEFAULT: usize = 2_048;
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
const _: () = assert!(LOG_PAGE_ENTRIES_DEFAULT <= LOG_PAGE_ENTRIES_MAX);
#[allow(clippy::absurd_extreme_comparisons)]
const _: () = assert!(SEQUENCER_BATCH_WINDOW_US_DEFAULT <= SEQUENCER_BATCH_WINDOW_US_MAX);
// A page of maximal entries must fit comfortably in memory.
const _: () = assert!(LOG_PAGE_ENTRIES_MAX as usize * ENTRY_BYTES_MAX <= 64 * 1024 * 1024);

/// Hours an Idempotency-Key's answer is kept.
pub const IDEMPOTENCY_KEY_RETENTION_HOURS: i64 = 24;
/// Longest Idempotency-Key.
pub const IDEMPOTENCY_KEY_LENGTH_MAX: usize = 255;
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
