//! Request and response bodies of the JSON API. Amounts are decimal strings
//! with the currency's exact scale; dates are `YYYY-MM-DD`; hashes are standard
//! base64, like the checkpoint's root hash.

use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine as _;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::db::financing::{AdvanceRow, InvoiceRow, PartyRow, ProgramRow};
use crate::domain::Currency;
use crate::ledger::merkle::Hash;
use crate::ledger::Receipt;

pub fn hash_text(hash: &Hash) -> String {
    BASE64.encode(hash)
}

fn money(currency: &str, minor: i64) -> String {
    Currency::parse(currency)
        .map(|c| c.format_amount(minor))
        .unwrap_or_else(|_| minor.to_string())
}

/// RFC 9457 problem details.
#[derive(Debug, Serialize, ToSchema)]
pub struct ProblemDoc {
    #[serde(rename = "type")]
    pub type_uri: String,
    pub title: String,
    pub status: u16,
    /// Stable machine-readable code, e.g. `duplicate_invoice`.
    pub code: String,
    pub detail: String,
    /// The request field at fault, when there is one.
    pub field: Option<String>,
}

/// Proof that an entry is in the log: check it offline with the verifier key.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ReceiptResponse {
    pub seq: u64,
    pub leaf_hash: String,
    pub tree_size: u64,
    /// The signed checkpoint note of `tree_size`.
    pub checkpoint: String,
    pub inclusion_proof: Vec<String>,
}

impl From<Receipt> for ReceiptResponse {
    fn from(receipt: Receipt) -> Self {
        ReceiptResponse {
            seq: receipt.seq,
            leaf_hash: hash_text(&receipt.leaf_hash),
            tree_size: receipt.tree_size,
            checkpoint: receipt.checkpoint,
            inclusion_proof: receipt.inclusion_proof.iter().map(hash_text).collect(),
        }
    }
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct EntriesQuery {
    /// First seq to return (default 0).
    pub from: Option<u64>,
    /// At most 1,000 (default 100).
    pub limit: Option<u64>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct EntriesResponse {
    pub tree_size: u64,
    #[schema(value_type = Vec<Object>)]
    pub entries: Vec<serde_json::Value>,
    pub next_from: Option<u64>,
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct InclusionQuery {
    pub seq: u64,
    /// A checkpointed tree size (default: the latest).
    pub tree_size: Option<u64>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct InclusionResponse {
    pub seq: u64,
    pub tree_size: u64,
    pub leaf_hash: String,
    pub inclusion_proof: Vec<String>,
    pub checkpoint: String,
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct CosignedQuery {
    /// How many of the ledger's witnesses must have cosigned (default 1).
    pub witnesses: Option<usize>,
}

/// A witness's cosignature of the checkpoint of `tree_size`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CosignatureRequest {
    pub tree_size: u64,
    /// The signature line, `— <witness name> base64(key id ‖ timestamp ‖ signature)`.
    pub cosignature: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CosignatureResponse {
    pub tree_size: u64,
    /// The witness whose cosignature was kept.
    pub witness: String,
    /// How many of the ledger's witnesses have cosigned that checkpoint now.
    pub cosignatures: usize,
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct ConsistencyQuery {
    pub first: u64,
    /// A checkpointed tree size (default: the latest).
    pub second: Option<u64>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ConsistencyResponse {
    pub first: u64,
    pub second: u64,
    pub consistency_proof: Vec<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PostingRequest {
    pub account: String,
    #[schema(value_type = crate::api::closed::CurrencyCode)]
    pub currency: String,
    #[schema(value_type = crate::api::closed::Amount)]
    pub amount: String,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct JournalRequest {
    pub memo: String,
    pub postings: Vec<PostingRequest>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct BalanceResponse {
    pub account: String,
    #[schema(value_type = crate::api::closed::CurrencyCode)]
    pub currency: String,
    #[schema(value_type = crate::api::closed::Amount)]
    pub balance: String,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PartyRequest {
    pub party_id: String,
    /// operator, supplier, retailer, funder or auditor.
    #[schema(value_type = crate::api::closed::RoleName)]
    pub role: String,
    pub name: String,
    /// Required for suppliers.
    pub tax_id: Option<String>,
    /// Base64 Ed25519 public key; confirmations by this party must then be signed.
    pub public_key: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PartyResponse {
    pub party_id: String,
    #[schema(value_type = crate::api::closed::RoleName)]
    pub role: String,
    pub name: String,
    pub tax_id: Option<String>,
    pub public_key: Option<String>,
    pub key_id: Option<String>,
    #[schema(value_type = crate::api::closed::PartyStatusName)]
    pub status: String,
    /// Where payouts go (suppliers) or are paid from (the operator).
    pub iban: Option<String>,
    pub bic: Option<String>,
}

impl From<PartyRow> for PartyResponse {
    fn from(row: PartyRow) -> Self {
        PartyResponse {
            party_id: String::from(row.party_id),
            role: row.role,
            name: row.name,
            tax_id: row.tax_id,
            public_key: row.public_key,
            key_id: row.key_id,
            status: row.status.to_string(),
            iban: row.iban,
            bic: row.bic,
        }
    }
}

#[derive(Debug, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ProgramRequest {
    pub program_id: String,
    pub retailer_id: String,
    pub funder_id: String,
    #[schema(value_type = crate::api::closed::CurrencyCode)]
    pub currency: String,
    /// Fraction of the invoice advanced, e.g. "0.90".
    #[schema(value_type = crate::api::closed::Rate)]
    pub advance_rate: String,
    /// Annual discount rate, e.g. "0.12".
    #[schema(value_type = crate::api::closed::Rate)]
    pub discount_rate: String,
    /// ACT/360 or ACT/365.
    #[schema(value_type = crate::api::closed::DayCountName)]
    pub day_count: String,
    pub tenor_min_days: i64,
    pub tenor_max_days: i64,
    pub grace_days: i64,
    #[schema(value_type = crate::api::closed::Rate)]
    pub late_rate: String,
    pub default_days: i64,
    pub recourse: bool,
    #[schema(value_type = crate::api::closed::Amount)]
    pub program_limit: String,
    #[schema(value_type = crate::api::closed::Amount)]
    pub retailer_limit: String,
    /// A fixed supplier limit; or give `supplier_limit_multiple`.
    pub supplier_limit_fixed: Option<String>,
    /// k × invoices settled in the trailing 180 days.
    pub supplier_limit_multiple: Option<String>,
    /// How advances are shared between the funders: `single` (the default),
    /// `priority` (the first funder in order that can take the whole
    /// advance), `pro_rata` (by commitment) or `buyer_funded`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<crate::api::closed::AllocationName>)]
    pub allocation: Option<String>,
    /// The funders in order, the lead (`funder_id`) first; omit for
    /// `funder_id` alone, committed to the programme limit. A reader sees
    /// the funders it may: all for the operator, auditors and the retailer,
    /// its own for a funder, none for a supplier.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub funders: Option<Vec<ProgramFunderRequest>>,
    /// `buyer_funded` (dynamic discounting, the retailer is `funder_id` and
    /// pays early from its own cash, `advance_rate` 1): the most it pays
    /// early per calendar month, net of discounts.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub early_payment_budget: Option<String>,
}

/// One funder of a programme.
#[derive(Debug, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ProgramFunderRequest {
    pub funder_id: String,
    /// The most principal it funds outstanding in the programme.
    #[schema(value_type = crate::api::closed::Amount)]
    pub commitment: String,
    /// Its concentration limits: the most principal outstanding on this
    /// retailer, and on any one supplier, across its programmes in this currency.
    #[serde(default)]
    pub retailer_limit: Option<String>,
    #[serde(default)]
    pub supplier_limit: Option<String>,
}

/// A programme as read: its terms, as they were given, and its funders as
/// the reader may see them.
#[derive(Debug, Serialize, ToSchema)]
pub struct ProgramResponse {
    #[serde(flatten)]
    pub terms: ProgramRequest,
}

impl From<ProgramRow> for ProgramResponse {
    fn from(row: ProgramRow) -> Self {
        ProgramResponse {
            terms: ProgramRequest::from(row),
        }
    }
}

impl From<ProgramRow> for ProgramRequest {
    fn from(row: ProgramRow) -> Self {
        let currency = row.currency.clone();
        ProgramRequest {
            supplier_limit_fixed: row
                .supplier_limit_fixed_minor
                .map(|m| money(&row.currency, m)),
            program_limit: money(&row.currency, row.program_limit_minor),
            retailer_limit: money(&row.currency, row.retailer_limit_minor),
            program_id: String::from(row.program_id),
            retailer_id: String::from(row.retailer_id),
            funder_id: String::from(row.funder_id),
            currency: row.currency,
            advance_rate: row.advance_rate,
            discount_rate: row.discount_rate,
            day_count: row.day_count,
            tenor_min_days: i64::from(row.tenor_min_days),
            tenor_max_days: i64::from(row.tenor_max_days),
            grace_days: i64::from(row.grace_days),
            late_rate: row.late_rate,
            default_days: i64::from(row.default_days),
            recourse: row.recourse,
            supplier_limit_multiple: row.supplier_limit_multiple,
            allocation: Some(row.allocation.clone()),
            early_payment_budget: row.early_payment_budget_minor.map(|m| money(&currency, m)),
            funders: serde_json::from_str::<Vec<crate::domain::syndicate::ProgramFunder>>(
                &row.funders,
            )
            .ok()
            .map(|funders| {
                let c = &currency;
                funders
                    .into_iter()
                    .map(|f| ProgramFunderRequest {
                        funder_id: f.funder_id,
                        commitment: money(c, f.commitment_minor),
                        retailer_limit: f.retailer_limit_minor.map(|m| money(c, m)),
                        supplier_limit: f.supplier_limit_minor.map(|m| money(c, m)),
                    })
                    .collect()
            }),
        }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EnrolmentRequest {
    /// The supplier to enrol, e.g. `sup-acme`.
    pub supplier_id: String,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DepositRequest {
    #[schema(value_type = crate::api::closed::CurrencyCode)]
    pub currency: String,
    #[schema(value_type = crate::api::closed::Amount)]
    pub amount: String,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ApiKeyRequest {
    pub party_id: String,
    #[schema(value_type = crate::api::closed::RoleName)]
    pub role: String,
    #[serde(default)]
    pub label: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ApiKeyResponse {
    pub key_id: String,
    /// The bearer token: shown once, stored only hashed.
    pub token: String,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct InvoiceRequest {
    pub program_id: String,
    /// Defaults to the calling supplier.
    pub supplier_id: Option<String>,
    pub invoice_number: String,
    #[schema(value_type = crate::api::closed::Day)]
    pub issue_date: String,
    #[schema(value_type = crate::api::closed::Day)]
    pub due_date: String,
    #[schema(value_type = crate::api::closed::CurrencyCode)]
    pub currency: String,
    #[schema(value_type = crate::api::closed::Amount)]
    pub amount: String,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct InvoiceBatchRequest {
    /// At most 100.
    pub invoices: Vec<InvoiceRequest>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AdvanceResponse {
    #[schema(value_type = crate::api::closed::Amount)]
    pub principal: String,
    #[schema(value_type = crate::api::closed::Amount)]
    pub fee: String,
    #[schema(value_type = crate::api::closed::Amount)]
    pub net: String,
    #[schema(value_type = crate::api::closed::Day)]
    pub value_date: String,
    #[schema(value_type = crate::api::closed::Day)]
    pub due_date: String,
    #[schema(value_type = crate::api::closed::Amount)]
    pub principal_outstanding: String,
    #[schema(value_type = crate::api::closed::Amount)]
    pub late_fee_unpaid: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct InvoiceResponse {
    pub invoice_id: String,
    pub program_id: String,
    pub supplier_id: String,
    pub retailer_id: String,
    pub funder_id: String,
    pub invoice_number: String,
    #[schema(value_type = crate::api::closed::Day)]
    pub issue_date: String,
    #[schema(value_type = crate::api::closed::Day)]
    pub due_date: String,
    #[schema(value_type = crate::api::closed::CurrencyCode)]
    pub currency: String,
    #[schema(value_type = crate::api::closed::Amount)]
    pub amount: String,
    #[schema(value_type = crate::api::closed::Amount)]
    pub credited: String,
    #[schema(value_type = crate::api::closed::Amount)]
    pub paid: String,
    #[schema(value_type = crate::api::closed::Amount)]
    pub open: String,
    #[schema(value_type = crate::api::closed::InvoiceStatusName)]
    pub status: String,
    pub registered_seq: i64,
    pub settled_on: Option<String>,
    pub defaulted_on: Option<String>,
    /// ISO 11649 reference to quote when paying (issued at confirmation).
    pub creditor_reference: Option<String>,
    pub advance: Option<AdvanceResponse>,
}

impl InvoiceResponse {
    pub fn new(row: InvoiceRow, advance: Option<AdvanceRow>) -> Self {
        let c = row.currency.clone();
        InvoiceResponse {
            amount: money(&c, row.amount_minor),
            credited: money(&c, row.credited_minor),
            paid: money(&c, row.paid_minor),
            open: money(&c, row.open_minor()),
            advance: advance.map(|a| AdvanceResponse {
                principal: money(&c, a.principal_minor),
                fee: money(&c, a.fee_minor),
                net: money(&c, a.net_minor),
                value_date: a.value_date.to_string(),
                due_date: a.due_date.to_string(),
                principal_outstanding: money(&c, a.principal_outstanding_minor),
                late_fee_unpaid: money(&c, a.late_fee_unpaid_minor),
            }),
            invoice_id: String::from(row.invoice_id),
            program_id: String::from(row.program_id),
            supplier_id: String::from(row.supplier_id),
            retailer_id: String::from(row.retailer_id),
            funder_id: String::from(row.funder_id),
            invoice_number: row.invoice_number,
            issue_date: row.issue_date.to_string(),
            due_date: row.due_date.to_string(),
            currency: row.currency,
            status: row.status.to_string(),
            registered_seq: row.registered_seq,
            settled_on: row.settled_on.map(|d| d.to_string()),
            defaulted_on: row.defaulted_on.map(|d| d.to_string()),
            creditor_reference: row.creditor_reference,
        }
    }
}

/// An accepted command: the id it created and its receipt.
#[derive(Debug, Serialize, ToSchema)]
pub struct Recorded {
    /// The id created or acted on (invoice, payment, party…).
    pub id: String,
    pub receipt: ReceiptResponse,
    /// What the caller should know about what was recorded, such as an
    /// invoice registered after its due date.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
}

/// One item of a batch: recorded, or refused with a problem.
#[derive(Debug, Serialize, ToSchema)]
pub struct BatchItemResult {
    pub index: usize,
    pub recorded: Option<Recorded>,
    pub problem: Option<ProblemDoc>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct BatchResponse {
    pub results: Vec<BatchItemResult>,
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct InvoiceListQuery {
    #[param(value_type = Option<crate::api::closed::InvoiceStatusName>)]
    pub status: Option<String>,
    pub program_id: Option<String>,
    /// Only this supplier's invoices (for the operator, auditors, retailers and funders).
    pub supplier_id: Option<String>,
    /// Only this retailer's payables (for the operator, auditors, suppliers and funders).
    pub retailer_id: Option<String>,
    /// Only invoices due on or after this day.
    #[param(value_type = Option<crate::api::closed::Day>)]
    pub due_from: Option<chrono::NaiveDate>,
    /// Only invoices due on or before this day.
    #[param(value_type = Option<crate::api::closed::Day>)]
    pub due_to: Option<chrono::NaiveDate>,
    /// 1-200 (default 50).
    pub limit: Option<i64>,
    /// The previous page's `next_cursor`.
    pub cursor: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ConfirmRequest {
    /// Base64 Ed25519 signature over `scfledger-request-v1\ninvoice.confirmed\n` ‖ JCS({"invoice_id": …}); required when the retailer has a key.
    pub signature: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ConfirmationItem {
    pub invoice_id: String,
    pub signature: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BulkConfirmRequest {
    /// At most 100.
    pub confirmations: Vec<ConfirmationItem>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReasonRequest {
    pub reason: String,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreditNoteRequest {
    pub credit_note_number: String,
    #[schema(value_type = crate::api::closed::Amount)]
    pub amount: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RuleResponse {
    pub rule: String,
    pub input: String,
    pub threshold: String,
    pub passed: bool,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct QuoteResponse {
    pub invoice_id: String,
    #[schema(value_type = crate::api::closed::CurrencyCode)]
    pub currency: String,
    pub eligible: bool,
    #[schema(value_type = crate::api::closed::Amount)]
    pub principal: String,
    #[schema(value_type = crate::api::closed::Amount)]
    pub fee: String,
    #[schema(value_type = crate::api::closed::Amount)]
    pub net: String,
    #[schema(value_type = crate::api::closed::Day)]
    pub value_date: String,
    #[schema(value_type = crate::api::closed::Day)]
    pub due_date: String,
    pub days: i64,
    #[schema(value_type = crate::api::closed::Rate)]
    pub advance_rate: String,
    #[schema(value_type = crate::api::closed::Rate)]
    pub discount_rate: String,
    #[schema(value_type = crate::api::closed::DayCountName)]
    pub day_count: String,
    /// Fee over net, annualised on the day count.
    pub effective_annual_rate: Option<String>,
    pub rules: Vec<RuleResponse>,
}

/// Accepting an advance takes no fields: send `{}`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AdvanceRequest {}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PaymentRequest {
    pub retailer_id: String,
    #[schema(value_type = crate::api::closed::CurrencyCode)]
    pub currency: String,
    #[schema(value_type = crate::api::closed::Amount)]
    pub amount: String,
    #[schema(value_type = crate::api::closed::Day)]
    pub value_date: String,
    #[serde(default)]
    pub reference: String,
    /// Applied in this order, each up to its open amount.
    pub invoice_ids: Vec<String>,
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct StatementQuery {
    #[param(value_type = crate::api::closed::CurrencyCode)]
    pub currency: String,
    /// Whose accounts, e.g. `supplier:sup-acme:`: required for the operator
    /// and auditors, ignored for a party (its own accounts).
    pub account_prefix: Option<String>,
    /// 1-200 lines (default 50); a page ends on an entry's boundary.
    pub limit: Option<i64>,
    /// The previous page's `next_cursor`.
    pub cursor: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct StatementLine {
    pub seq: i64,
    pub account: String,
    #[schema(value_type = crate::api::closed::Amount)]
    pub amount: String,
    /// All the statement's accounts together after this line (the
    /// statement's running total, from `opening_balance`).
    #[schema(value_type = crate::api::closed::Amount)]
    pub balance_after: String,
    /// This line's account alone after this line.
    #[schema(value_type = crate::api::closed::Amount)]
    pub account_balance_after: String,
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct EventsQuery {
    /// 1-200 (default 50).
    pub limit: Option<i64>,
    /// The previous page's `next_cursor`.
    pub cursor: Option<String>,
    /// Instead of a cursor: the entries after this seq (a receipt's or a
    /// webhook's), from the start when neither is given.
    pub after_seq: Option<i64>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct EventResponse {
    pub seq: i64,
    pub kind: String,
    /// The canonical entry; absent when it holds other parties' figures
    /// (a payout batch with other payees, a payment split across suppliers,
    /// an advance read by the buyer): then `withheld` says so.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub entry: Option<serde_json::Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub withheld: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct EntryReceiptResponse {
    #[schema(value_type = Object)]
    pub entry: serde_json::Value,
    pub receipt: InclusionResponse,
    /// For the operator and auditors: an advance decision's withheld inputs,
    /// whose SHA-256 is the entry's `confidential_inputs_sha256`.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub disclosure: Option<serde_json::Value>,
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct UblQuery {
    pub program_id: String,
    /// Operator only: the supplier the document is registered for.
    pub supplier_id: Option<String>,
}

/// One advance in a funder's portfolio.
#[derive(Debug, Serialize, ToSchema)]
pub struct PortfolioAdvance {
    pub invoice_id: String,
    pub invoice_number: String,
    pub supplier_id: String,
    pub retailer_id: String,
    #[schema(value_type = crate::api::closed::CurrencyCode)]
    pub currency: String,
    /// What the funder is repaid (the discount included).
    #[schema(value_type = crate::api::closed::Amount)]
    pub principal: String,
    /// The discount the funder earns.
    #[schema(value_type = crate::api::closed::Amount)]
    pub fee: String,
    #[schema(value_type = crate::api::closed::Amount)]
    pub outstanding: String,
    #[schema(value_type = crate::api::closed::Amount)]
    pub late_fee_unpaid: String,
    #[schema(value_type = crate::api::closed::Amount)]
    pub late_fee_paid: String,
    /// Whether other funders share the advance (these are the funder's
    /// own share's figures).
    pub shared: bool,
    pub value_date: chrono::NaiveDate,
    pub due_date: chrono::NaiveDate,
    #[schema(value_type = crate::api::closed::InvoiceStatusName)]
    pub status: String,
    pub days_past_due: i64,
    /// `current`, `1-30 days late`, `31-60 days late`, `over 60 days late`, `repaid` or `defaulted`.
    #[schema(value_type = crate::api::closed::AgeingName)]
    pub ageing: String,
}

/// An amount per party or per date.
#[derive(Debug, Serialize, ToSchema)]
pub struct PortfolioAmount {
    pub key: String,
    #[schema(value_type = crate::api::closed::Amount)]
    pub amount: String,
}

/// A funder's figures in one currency.
#[derive(Debug, Serialize, ToSchema)]
pub struct PortfolioTotals {
    #[schema(value_type = crate::api::closed::CurrencyCode)]
    pub currency: String,
    #[schema(value_type = crate::api::closed::Amount)]
    pub advanced: String,
    #[schema(value_type = crate::api::closed::Amount)]
    pub outstanding: String,
    /// Discounts of advances repaid in full, and late fees paid.
    #[schema(value_type = crate::api::closed::Amount)]
    pub yield_earned: String,
    /// Discounts of advances outstanding, and late fees accrued unpaid.
    #[schema(value_type = crate::api::closed::Amount)]
    pub yield_to_come: String,
    pub exposure_by_retailer: Vec<PortfolioAmount>,
    pub exposure_by_supplier: Vec<PortfolioAmount>,
    /// Principal outstanding per due date.
    pub due_by_date: Vec<PortfolioAmount>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PortfolioResponse {
    pub funder_id: String,
    pub advances: Vec<PortfolioAdvance>,
    pub totals: Vec<PortfolioTotals>,
}

impl From<crate::services::funder::Portfolio> for PortfolioResponse {
    fn from(portfolio: crate::services::funder::Portfolio) -> Self {
        let amounts = |c: &str, map: Vec<(String, i64)>| {
            map.into_iter()
                .map(|(key, minor)| PortfolioAmount {
                    key,
                    amount: money(c, minor),
                })
                .collect()
        };
        PortfolioResponse {
            funder_id: portfolio.funder_id,
            advances: portfolio
                .lines
                .iter()
                .map(|l| PortfolioAdvance {
                    invoice_id: l.invoice_id.clone(),
                    invoice_number: l.invoice_number.clone(),
                    supplier_id: l.supplier_id.clone(),
                    retailer_id: l.retailer_id.clone(),
                    currency: l.currency.clone(),
                    principal: money(&l.currency, l.principal_minor),
                    fee: money(&l.currency, l.fee_minor),
                    outstanding: money(&l.currency, l.outstanding_minor),
                    late_fee_unpaid: money(&l.currency, l.late_fee_unpaid_minor),
                    late_fee_paid: money(&l.currency, l.late_fee_paid_minor),
                    shared: l.shared,
                    value_date: l.value_date,
                    due_date: l.due_date,
                    status: l.status.as_str().to_string(),
                    days_past_due: l.days_past_due,
                    ageing: l.ageing().to_string(),
                })
                .collect(),
            totals: portfolio
                .totals
                .into_iter()
                .map(|(c, t)| PortfolioTotals {
                    advanced: money(&c, t.advanced_minor),
                    outstanding: money(&c, t.outstanding_minor),
                    yield_earned: money(&c, t.yield_earned_minor),
                    yield_to_come: money(&c, t.yield_to_come_minor),
                    exposure_by_retailer: amounts(&c, t.exposure_by_retailer.into_iter().collect()),
                    exposure_by_supplier: amounts(&c, t.exposure_by_supplier.into_iter().collect()),
                    due_by_date: amounts(
                        &c,
                        t.due_by_date
                            .into_iter()
                            .map(|(d, m)| (d.to_string(), m))
                            .collect(),
                    ),
                    currency: c,
                })
                .collect(),
        }
    }
}
