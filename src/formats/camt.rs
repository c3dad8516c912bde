//! Bank statements and notifications reduced to the facts the ledger needs.
//!
//! Banks report the movements on an account in ISO 20022 cash-management
//! messages: camt.053 (`BkToCstmrStmt`, the statement of a period, usually a
//! day) and camt.054 (`BkToCstmrDbtCdtNtfctn`, a debit or credit
//! notification). [`parse`] reads either, versions 001.02 to 001.10, from bytes
//! into a [`CamtDocument`], or refuses it with a [`CamtError`] that names the
//! element at fault and where it sits ("Stmt 1, Ntry 3"). [`report_totals`]
//! then sums the booked credits and debits of one report.
//!
//! As `formats::einvoice` does, the parser reads through `formats::xml`: one
//! streaming pass that builds no tree, accepts UTF-8 only, refuses any DOCTYPE
//! (so no entity can be declared, let alone expanded), bounds the input size,
//! the nesting depth, the attributes per element and the namespace
//! declarations in scope with the same limits, and reads the whole document so
//! that a truncated or otherwise broken file is refused rather than half-read.
//! This module holds the camt rules.
//! Elements are matched by namespace and local name, never by prefix, and only
//! at their path below the message, so the `Amt` of a charge record or of a
//! credit line never stands in for the amount of an entry or a transaction.
//!
//! Amounts stay the exact decimal text of the document. camt amounts carry no
//! sign (the direction is `CdtDbtInd`), so a sign is refused, and no float is
//! ever involved. Text values are taken with the surrounding XML whitespace
//! removed.

use super::xml::XmlError;
use crate::limits::{CAMT_AMOUNT_DIGITS_MAX, CAMT_AMOUNT_FRACTION_DIGITS_MAX};
use std::collections::BTreeMap;

use chrono::{NaiveDate, NaiveTime};
use rust_decimal::Decimal;
use sha2::{Digest, Sha256};

use super::xml::{self, is_xml_whitespace, Element, Handler};
use crate::limits::BANK_STATEMENT_BYTES_MAX as DOCUMENT_BYTES_MAX;
// The other bounds are checked in `formats::xml`; the tests state them by
// these names.
#[cfg(test)]
use crate::limits::{
    XML_ATTRIBUTES_PER_ELEMENT_MAX as ATTRIBUTES_PER_ELEMENT_MAX,
    XML_ELEMENT_DEPTH_MAX as ELEMENT_DEPTH_MAX,
    XML_NAMESPACE_DECLARATIONS_IN_SCOPE_MAX as NAMESPACE_DECLARATIONS_IN_SCOPE_MAX,
};

/// Every camt namespace begins so; the message and version follow, as in
/// `camt.053.001.02`.
const CAMT_NAMESPACE_PREFIX: &str = "urn:iso:std:iso:20022:tech:xsd:camt.";
/// The oldest message version accepted (001.02).
const VERSION_MIN: u32 = 2;
/// The newest message version accepted (001.10).
const VERSION_MAX: u32 = 10;

/// The local name a path step gets when its element is in another namespace:
/// not an XML name, so it matches no pattern.
const FOREIGN: &str = "#foreign";

/// Which message a document is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MessageKind {
    /// camt.053, Bank to Customer Statement (`BkToCstmrStmt`).
    Statement,
    /// camt.054, Bank to Customer Debit Credit Notification
    /// (`BkToCstmrDbtCdtNtfctn`).
    Notification,
}

impl MessageKind {
    /// The message element directly below `Document`.
    fn message_element(self) -> &'static str {
        match self {
            Self::Statement => "BkToCstmrStmt",
            Self::Notification => "BkToCstmrDbtCdtNtfctn",
        }
    }

    /// The element of one report within the message.
    fn report_element(self) -> &'static str {
        match self {
            Self::Statement => "Stmt",
            Self::Notification => "Ntfctn",
        }
    }
}

/// A camt.053 or camt.054 message reduced to the facts the ledger needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CamtDocument {
    /// Statement (camt.053) or notification (camt.054).
    pub kind: MessageKind,
    /// The message and version from the namespace, e.g. "053.001.02".
    pub version: String,
    /// The bank's identifier of the message (`GrpHdr/MsgId`).
    pub message_id: String,
    /// The reports in document order, at least one.
    pub reports: Vec<Report>,
    /// SHA-256 of the input bytes, lower-case hex.
    pub sha256_hex: String,
}

/// One Stmt (camt.053) or Ntfctn (camt.054): the movements of one account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Report {
    /// The bank's identifier of the report (`Id`).
    pub id: String,
    /// The account's IBAN (`Acct/Id/IBAN`), when it is identified by one.
    pub account_iban: Option<String>,
    /// The account's other identifier (`Acct/Id/Othr/Id`), such as a BBAN or
    /// a provider's account number, when it is not identified by an IBAN.
    pub account_other_id: Option<String>,
    /// The account currency (`Acct/Ccy`), when the bank states it.
    pub account_currency: Option<String>,
    /// The opening booked balance (`OPBD`), else the closing booked balance
    /// of the previous report (`PRCD`), which banks send in its place.
    pub opening_balance: Option<Balance>,
    /// The closing booked balance (`CLBD`).
    pub closing_balance: Option<Balance>,
    /// The entries in document order.
    pub entries: Vec<Entry>,
}

/// One balance (`Bal`) of a report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Balance {
    /// The balance type (`Tp/CdOrPrtry/Cd`, else `Prtry`): OPBD, PRCD, CLBD,
    /// CLAV, ...
    pub code: String,
    /// The amount exactly as written, never negative (`Amt`).
    pub amount: String,
    /// The amount's currency (`Amt/@Ccy`).
    pub currency: String,
    /// True when the balance is in the account holder's favour
    /// (`CdtDbtInd` CRDT); false for an overdraft (DBIT).
    pub credit: bool,
    /// The balance date (`Dt/Dt`, or the date as written of `Dt/DtTm`).
    pub date: NaiveDate,
}

/// One entry (`Ntry`): one booking, or expected booking, on the account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// The amount exactly as written, never negative (`Amt`).
    pub amount: String,
    /// The amount's currency (`Amt/@Ccy`).
    pub currency: String,
    /// True for money in (`CdtDbtInd` CRDT), false for money out (DBIT).
    pub credit: bool,
    /// True when the entry reverses an earlier one (`RvslInd`, false when
    /// absent). The direction is still `credit`: a reversed credit is booked
    /// as a debit with `reversal` set.
    pub reversal: bool,
    /// The entry status as written (`Sts`, or `Sts/Cd` or `Sts/Prtry` from
    /// version 08): BOOK (booked), PDNG (pending), INFO (information only),
    /// FUTR, ...
    pub status: String,
    /// The booking date (`BookgDt/Dt`, or the date as written of
    /// `BookgDt/DtTm`).
    pub booking_date: Option<NaiveDate>,
    /// The value date (`ValDt/Dt`, or the date as written of `ValDt/DtTm`).
    pub value_date: Option<NaiveDate>,
    /// The bank's reference of the entry (`AcctSvcrRef`).
    pub account_servicer_reference: Option<String>,
    /// The transaction details (`NtryDtls/TxDtls`) in document order; empty
    /// when the bank reports the entry only (a batch may come as one entry).
    pub transactions: Vec<Transaction>,
    /// Free text about the entry (`AddtlNtryInf`).
    pub additional_info: Option<String>,
    /// The payment information id of a batch booked as one entry
    /// (`NtryDtls/Btch/PmtInfId`): a pain.001 batch comes back with it.
    pub batch_payment_information_id: Option<String>,
}

/// One transaction detail (`NtryDtls/TxDtls`) of an entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Transaction {
    /// The transaction's amount exactly as written: `Amt` directly under
    /// `TxDtls` (from version 03), else `AmtDtls/TxAmt/Amt`. The instructed
    /// amount (`AmtDtls/InstdAmt`) and charges are not taken.
    pub amount: Option<String>,
    /// The currency of `amount`.
    pub currency: Option<String>,
    /// The payer's end-to-end reference (`Refs/EndToEndId`); "NOTPROVIDED"
    /// is kept as written.
    pub end_to_end_id: Option<String>,
    /// The bank's reference of the transaction (`Refs/AcctSvcrRef`).
    pub account_servicer_reference: Option<String>,
    /// The payment information id of the payer's order (`Refs/PmtInfId`).
    pub payment_information_id: Option<String>,
    /// Every structured creditor reference
    /// (`RmtInf/Strd/CdtrRefInf/Ref`), such as an ISO 11649 "RF..." or a
    /// Swiss QR or ISR reference, in document order.
    pub structured_references: Vec<String>,
    /// Every unstructured remittance line (`RmtInf/Ustrd`), in document order.
    pub unstructured: Vec<String>,
    /// The debtor's name (`RltdPties/Dbtr/Nm`, or `RltdPties/Dbtr/Pty/Nm`
    /// from version 08).
    pub debtor_name: Option<String>,
    /// The creditor's name (`RltdPties/Cdtr/Nm` or `RltdPties/Cdtr/Pty/Nm`).
    pub creditor_name: Option<String>,
    /// Why a payment came back (`RtrInf/Rsn/Cd`), such as AC01 or MD06.
    pub return_reason: Option<String>,
}

/// The booked movements of one report, per currency.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Totals {
    /// Sums per ISO 4217 currency code, for each currency that at least one
    /// booked entry is in.
    pub per_currency: BTreeMap<String, CurrencyTotals>,
}

/// The booked entries of one report in one currency.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CurrencyTotals {
    /// Exact sum of the booked credit entries, e.g. "23075.00"; "0" when
    /// there are none. It has as many decimals as the most precise amount.
    pub credits: String,
    /// Exact sum of the booked debit entries, written the same way.
    pub debits: String,
    /// How many booked credit entries there are.
    pub count_credit: usize,
    /// How many booked debit entries there are.
    pub count_debit: usize,
}

/// Why a document was refused by [`parse`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CamtError {
    /// The document is not XML this ledger reads (size, encoding, DOCTYPE, form, bounds).
    #[error("{}", .0.describe("camt messages"))]
    Xml(#[from] XmlError),
    /// The root element is not a camt `Document`.
    #[error(
        "unknown root element <{local_name}> {}: expected <Document> in a camt.053 or camt.054 namespace such as \"urn:iso:std:iso:20022:tech:xsd:camt.053.001.02\"",
        xml::describe_namespace(.namespace)
    )]
    UnknownRootElement {
        /// The root element's local name.
        local_name: String,
        /// The root element's namespace, if it has one.
        namespace: Option<String>,
    },
    /// The root is a camt `Document` of another message or version.
    #[error(
        "unsupported message {namespace:?}: only camt.053 and camt.054, versions 001.02 to 001.10, are accepted"
    )]
    UnsupportedMessage {
        /// The root element's namespace.
        namespace: String,
    },
    /// A required element is absent.
    #[error("missing {element} at {within}")]
    MissingElement {
        /// The element, as a path from its container, e.g. "Ntry/Amt".
        element: &'static str,
        /// Where, e.g. "Stmt 1, Ntry 3".
        within: String,
    },
    /// A required element holds no text.
    #[error("empty {element} at {within}")]
    EmptyElement {
        /// The element, as a path from its container.
        element: &'static str,
        /// Where, e.g. "Stmt 1, Ntry 3".
        within: String,
    },
    /// An element the schema allows once appears again.
    #[error("more than one {element} at {within}")]
    DuplicateElement {
        /// The element, as a path from its container.
        element: &'static str,
        /// Where, e.g. "Stmt 1, Ntry 3".
        within: String,
    },
    /// A report has two balances of a type it may state once.
    #[error("more than one {code} balance at {within}")]
    DuplicateBalance {
        /// The balance type, e.g. "OPBD".
        code: String,
        /// Where, e.g. "Stmt 1, Bal 3".
        within: String,
    },
    /// An element lacks a required attribute.
    #[error("missing attribute {attribute} on {element} at {within}")]
    MissingAttribute {
        /// The element, as a path from its container.
        element: &'static str,
        /// The attribute's name.
        attribute: &'static str,
        /// Where, e.g. "Stmt 1, Ntry 3".
        within: String,
    },
    /// An amount is not a plain non-negative decimal.
    #[error(
        "invalid amount {value:?} in {element} at {within}: expected a non-negative decimal number such as 1234.56, with at most {CAMT_AMOUNT_DIGITS_MAX} digits, {CAMT_AMOUNT_FRACTION_DIGITS_MAX} of them after the point"
    )]
    InvalidAmount {
        /// The element, as a path from its container.
        element: &'static str,
        /// The text found.
        value: String,
        /// Where, e.g. "Stmt 1, Ntry 3".
        within: String,
    },
    /// A currency code is not three capital letters.
    #[error(
        "invalid currency code {value:?} in {element} at {within}: expected three capital letters such as EUR"
    )]
    InvalidCurrency {
        /// The element or attribute, as a path from its container.
        element: &'static str,
        /// The text found.
        value: String,
        /// Where, e.g. "Stmt 1, Ntry 3".
        within: String,
    },
    /// An IBAN does not have the form the schema requires.
    #[error(
        "invalid IBAN {value:?} in {element} at {within}: expected two capital letters, two digits and up to 30 letters or digits"
    )]
    InvalidIban {
        /// The element, as a path from its container.
        element: &'static str,
        /// The text found.
        value: String,
        /// Where, e.g. "Stmt 1".
        within: String,
    },
    /// A date or date-time is not written as ISO 8601 requires, or does not
    /// exist.
    #[error("invalid date {value:?} in {element} at {within}: expected {expected}")]
    InvalidDate {
        /// The element, as a path from its container.
        element: &'static str,
        /// The text found.
        value: String,
        /// Where, e.g. "Stmt 1, Ntry 3".
        within: String,
        /// The form required.
        expected: &'static str,
    },
    /// A credit/debit indicator is neither CRDT nor DBIT.
    #[error(
        "invalid credit/debit indicator {value:?} in {element} at {within}: expected CRDT or DBIT"
    )]
    InvalidCreditDebit {
        /// The element, as a path from its container.
        element: &'static str,
        /// The text found.
        value: String,
        /// Where, e.g. "Stmt 1, Ntry 3".
        within: String,
    },
    /// An indicator is not an xsd:boolean.
    #[error("invalid indicator {value:?} in {element} at {within}: expected true or false")]
    InvalidBoolean {
        /// The element, as a path from its container.
        element: &'static str,
        /// The text found.
        value: String,
        /// Where, e.g. "Stmt 1, Ntry 3".
        within: String,
    },
}

/// Parses a camt.053 statement or a camt.054 notification, versions 001.02 to
/// 001.10.
///
/// Pure: it looks at nothing but `bytes`.
pub fn parse(bytes: &[u8]) -> Result<CamtDocument, CamtError> {
    let mut scanner = Scanner::default();
    xml::read(bytes, DOCUMENT_BYTES_MAX, &mut scanner)?;
    scanner.finish(hex::encode(Sha256::digest(bytes)))
}

/// Sums the booked entries (status BOOK) of a report per currency: credits
/// and debits apart, each exactly. A reversal counts in the direction it is
/// booked (`credit`), as it does in the balance. Pending and information-only
/// entries do not count.
///
/// Pure: it looks at nothing but `report`.
///
/// # Panics
///
/// If the amount of a booked entry is not a decimal number, or a sum leaves
/// the range of [`Decimal`]. Neither can happen to a report from [`parse`],
/// which refuses such amounts and bounds them to 18 digits; only a report
/// built by hand can hold one.
pub fn report_totals(report: &Report) -> Totals {
    #[derive(Default)]
    struct Sums {
        credits: Decimal,
        debits: Decimal,
        count_credit: usize,
        count_debit: usize,
    }
    let mut sums: BTreeMap<&str, Sums> = BTreeMap::new();
    for entry in report.entries.iter().filter(|entry| entry.status == "BOOK") {
        let amount = Decimal::from_str_exact(&entry.amount).unwrap_or_else(|error| {
            panic!(
                "entry amount {:?} is not a decimal number: {error}",
                entry.amount
            )
        });
        let slot = sums.entry(entry.currency.as_str()).or_default();
        let (sum, count) = if entry.credit {
            (&mut slot.credits, &mut slot.count_credit)
        } else {
            (&mut slot.debits, &mut slot.count_debit)
        };
        *sum = sum
            .checked_add(amount)
            .unwrap_or_else(|| panic!("the sum of the {} entries overflows", entry.currency));
        *count += 1;
    }
    Totals {
        per_currency: sums
            .into_iter()
            .map(|(currency, sums)| {
                (
                    currency.to_owned(),
                    CurrencyTotals {
                        credits: sums.credits.to_string(),
                        debits: sums.debits.to_string(),
                        count_credit: sums.count_credit,
                        count_debit: sums.count_debit,
                    },
                )
            })
            .collect(),
    }
}

/// Recognises the root element: a `Document` in the namespace of a camt.053
/// or camt.054 version this parser reads. Returns the kind and the version
/// text, e.g. "053.001.02".
fn recognise_root(
    namespace: Option<&[u8]>,
    local_name: &str,
) -> Result<(MessageKind, String), CamtError> {
    let unknown = || CamtError::UnknownRootElement {
        local_name: local_name.to_owned(),
        namespace: namespace.map(|namespace| String::from_utf8_lossy(namespace).into_owned()),
    };
    let Some(namespace) = namespace.and_then(|namespace| std::str::from_utf8(namespace).ok())
    else {
        return Err(unknown());
    };
    let Some(version) = namespace.strip_prefix(CAMT_NAMESPACE_PREFIX) else {
        return Err(unknown());
    };
    if local_name != "Document" {
        return Err(unknown());
    }
    let unsupported = || CamtError::UnsupportedMessage {
        namespace: namespace.to_owned(),
    };
    let kind = match version.get(..8) {
        Some("053.001.") => MessageKind::Statement,
        Some("054.001.") => MessageKind::Notification,
        _ => return Err(unsupported()),
    };
    let number = version.get(8..).unwrap_or_default();
    if number.len() != 2 || !number.bytes().all(|byte| byte.is_ascii_digit()) {
        return Err(unsupported());
    }
    match number.parse::<u32>() {
        Ok(number) if (VERSION_MIN..=VERSION_MAX).contains(&number) => {
            Ok((kind, version.to_owned()))
        }
        _ => Err(unsupported()),
    }
}

/// The elements that hold other facts; each gets a draft while it is open.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Container {
    /// `BkToCstmrStmt` or `BkToCstmrDbtCdtNtfctn`.
    Message,
    /// `GrpHdr`.
    GroupHeader,
    /// `Stmt` or `Ntfctn`.
    Report,
    /// `Bal`.
    Balance,
    /// `Ntry`.
    Entry,
    /// `NtryDtls/TxDtls`.
    Transaction,
}

/// The facts read from element text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Field {
    MessageId,
    ReportId,
    AccountIban,
    AccountOtherId,
    AccountCurrency,
    BalanceCode,
    BalanceProprietaryCode,
    BalanceAmount,
    BalanceCreditDebit,
    BalanceDate,
    BalanceDateTime,
    EntryAmount,
    EntryCreditDebit,
    EntryReversal,
    /// `Sts` itself, with its code as text (versions 02 to 07).
    EntryStatus,
    EntryStatusCode,
    EntryStatusProprietary,
    EntryBookingDate,
    EntryBookingDateTime,
    EntryValueDate,
    EntryValueDateTime,
    EntryAccountServicerReference,
    EntryAdditionalInfo,
    EntryBatchPaymentInformationId,
    TransactionAmount,
    TransactionAmountDetails,
    TransactionEndToEndId,
    TransactionAccountServicerReference,
    TransactionPaymentInformationId,
    TransactionCreditorReference,
    TransactionUnstructured,
    TransactionDebtorName,
    TransactionDebtorPartyName,
    TransactionCreditorName,
    TransactionCreditorPartyName,
    TransactionReturnReason,
}

/// The container a field belongs to, which says where an error sits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Level {
    Message,
    GroupHeader,
    Report,
    Balance,
    Entry,
    Transaction,
}

impl Field {
    /// The element, as a path from its container, for messages.
    fn element(self, kind: MessageKind) -> &'static str {
        match self {
            Self::MessageId => "GrpHdr/MsgId",
            Self::ReportId => match kind {
                MessageKind::Statement => "Stmt/Id",
                MessageKind::Notification => "Ntfctn/Id",
            },
            Self::AccountIban => "Acct/Id/IBAN",
            Self::AccountOtherId => "Acct/Id/Othr/Id",
            Self::AccountCurrency => "Acct/Ccy",
            Self::BalanceCode => "Bal/Tp/CdOrPrtry/Cd",
            Self::BalanceProprietaryCode => "Bal/Tp/CdOrPrtry/Prtry",
            Self::BalanceAmount => "Bal/Amt",
            Self::BalanceCreditDebit => "Bal/CdtDbtInd",
            Self::BalanceDate => "Bal/Dt/Dt",
            Self::BalanceDateTime => "Bal/Dt/DtTm",
            Self::EntryAmount => "Ntry/Amt",
            Self::EntryCreditDebit => "Ntry/CdtDbtInd",
            Self::EntryReversal => "Ntry/RvslInd",
            Self::EntryStatus => "Ntry/Sts",
            Self::EntryStatusCode => "Ntry/Sts/Cd",
            Self::EntryStatusProprietary => "Ntry/Sts/Prtry",
            Self::EntryBookingDate => "Ntry/BookgDt/Dt",
            Self::EntryBookingDateTime => "Ntry/BookgDt/DtTm",
            Self::EntryValueDate => "Ntry/ValDt/Dt",
            Self::EntryValueDateTime => "Ntry/ValDt/DtTm",
            Self::EntryAccountServicerReference => "Ntry/AcctSvcrRef",
            Self::EntryAdditionalInfo => "Ntry/AddtlNtryInf",
            Self::EntryBatchPaymentInformationId => "Ntry/NtryDtls/Btch/PmtInfId",
            Self::TransactionAmount => "TxDtls/Amt",
            Self::TransactionAmountDetails => "TxDtls/AmtDtls/TxAmt/Amt",
            Self::TransactionEndToEndId => "TxDtls/Refs/EndToEndId",
            Self::TransactionAccountServicerReference => "TxDtls/Refs/AcctSvcrRef",
            Self::TransactionPaymentInformationId => "TxDtls/Refs/PmtInfId",
            Self::TransactionCreditorReference => "TxDtls/RmtInf/Strd/CdtrRefInf/Ref",
            Self::TransactionUnstructured => "TxDtls/RmtInf/Ustrd",
            Self::TransactionDebtorName => "TxDtls/RltdPties/Dbtr/Nm",
            Self::TransactionDebtorPartyName => "TxDtls/RltdPties/Dbtr/Pty/Nm",
            Self::TransactionCreditorName => "TxDtls/RltdPties/Cdtr/Nm",
            Self::TransactionCreditorPartyName => "TxDtls/RltdPties/Cdtr/Pty/Nm",
            Self::TransactionReturnReason => "TxDtls/RtrInf/Rsn/Cd",
        }
    }

    /// The fact the field fills, for "more than one" messages: the two forms
    /// of a date, a status or a party name fill one fact.
    fn slot(self, kind: MessageKind) -> &'static str {
        match self {
            Self::BalanceCode | Self::BalanceProprietaryCode => "Bal/Tp/CdOrPrtry",
            Self::BalanceDate | Self::BalanceDateTime => "Bal/Dt",
            Self::EntryStatus | Self::EntryStatusCode | Self::EntryStatusProprietary => "Ntry/Sts",
            Self::EntryBookingDate | Self::EntryBookingDateTime => "Ntry/BookgDt",
            Self::EntryValueDate | Self::EntryValueDateTime => "Ntry/ValDt",
            Self::TransactionDebtorName | Self::TransactionDebtorPartyName => {
                "TxDtls/RltdPties/Dbtr"
            }
            Self::TransactionCreditorName | Self::TransactionCreditorPartyName => {
                "TxDtls/RltdPties/Cdtr"
            }
            _ => self.element(kind),
        }
    }

    /// The currency attribute of an amount, for messages.
    fn currency_attribute(self) -> &'static str {
        match self {
            Self::BalanceAmount => "Bal/Amt/@Ccy",
            Self::EntryAmount => "Ntry/Amt/@Ccy",
            Self::TransactionAmount => "TxDtls/Amt/@Ccy",
            Self::TransactionAmountDetails => "TxDtls/AmtDtls/TxAmt/Amt/@Ccy",
            _ => "@Ccy",
        }
    }

    /// The attribute read with the element's text.
    fn attribute(self) -> Option<&'static str> {
        match self {
            Self::BalanceAmount
            | Self::EntryAmount
            | Self::TransactionAmount
            | Self::TransactionAmountDetails => Some("Ccy"),
            _ => None,
        }
    }

    fn level(self) -> Level {
        match self {
            Self::MessageId => Level::GroupHeader,
            Self::ReportId | Self::AccountIban | Self::AccountOtherId | Self::AccountCurrency => {
                Level::Report
            }
            Self::BalanceCode
            | Self::BalanceProprietaryCode
            | Self::BalanceAmount
            | Self::BalanceCreditDebit
            | Self::BalanceDate
            | Self::BalanceDateTime => Level::Balance,
            Self::EntryAmount
            | Self::EntryCreditDebit
            | Self::EntryReversal
            | Self::EntryStatus
            | Self::EntryStatusCode
            | Self::EntryStatusProprietary
            | Self::EntryBookingDate
            | Self::EntryBookingDateTime
            | Self::EntryValueDate
            | Self::EntryValueDateTime
            | Self::EntryAccountServicerReference
            | Self::EntryAdditionalInfo
            | Self::EntryBatchPaymentInformationId => Level::Entry,
            Self::TransactionAmount
            | Self::TransactionAmountDetails
            | Self::TransactionEndToEndId
            | Self::TransactionAccountServicerReference
            | Self::TransactionPaymentInformationId
            | Self::TransactionCreditorReference
            | Self::TransactionUnstructured
            | Self::TransactionDebtorName
            | Self::TransactionDebtorPartyName
            | Self::TransactionCreditorName
            | Self::TransactionCreditorPartyName
            | Self::TransactionReturnReason => Level::Transaction,
        }
    }
}

/// What an element is, by its path.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Node {
    Container(Container),
    Field(Field),
}

/// Says what the element at `path` (below `Document`) is, if anything the
/// parser reads. Steps in other namespaces are [`FOREIGN`] and match nothing.
fn classify(kind: MessageKind, path: &[&str]) -> Option<Node> {
    let message = kind.message_element();
    let report = kind.report_element();
    match path {
        [first, rest @ ..] if *first == message => match rest {
            [] => Some(Node::Container(Container::Message)),
            ["GrpHdr"] => Some(Node::Container(Container::GroupHeader)),
            ["GrpHdr", "MsgId"] => Some(Node::Field(Field::MessageId)),
            [second, rest @ ..] if *second == report => classify_in_report(rest),
            _ => None,
        },
        _ => None,
    }
}

fn classify_in_report(path: &[&str]) -> Option<Node> {
    let field = match path {
        [] => return Some(Node::Container(Container::Report)),
        ["Id"] => Field::ReportId,
        ["Acct", "Id", "IBAN"] => Field::AccountIban,
        ["Acct", "Id", "Othr", "Id"] => Field::AccountOtherId,
        ["Acct", "Ccy"] => Field::AccountCurrency,
        ["Bal"] => return Some(Node::Container(Container::Balance)),
        ["Bal", "Tp", "CdOrPrtry", "Cd"] => Field::BalanceCode,
        ["Bal", "Tp", "CdOrPrtry", "Prtry"] => Field::BalanceProprietaryCode,
        ["Bal", "Amt"] => Field::BalanceAmount,
        ["Bal", "CdtDbtInd"] => Field::BalanceCreditDebit,
        ["Bal", "Dt", "Dt"] => Field::BalanceDate,
        ["Bal", "Dt", "DtTm"] => Field::BalanceDateTime,
        ["Ntry", rest @ ..] => return classify_in_entry(rest),
        _ => return None,
    };
    Some(Node::Field(field))
}

fn classify_in_entry(path: &[&str]) -> Option<Node> {
    let field = match path {
        [] => return Some(Node::Container(Container::Entry)),
        ["Amt"] => Field::EntryAmount,
        ["CdtDbtInd"] => Field::EntryCreditDebit,
        ["RvslInd"] => Field::EntryReversal,
        ["Sts"] => Field::EntryStatus,
        ["Sts", "Cd"] => Field::EntryStatusCode,
        ["Sts", "Prtry"] => Field::EntryStatusProprietary,
        ["BookgDt", "Dt"] => Field::EntryBookingDate,
        ["BookgDt", "DtTm"] => Field::EntryBookingDateTime,
        ["ValDt", "Dt"] => Field::EntryValueDate,
        ["ValDt", "DtTm"] => Field::EntryValueDateTime,
        ["AcctSvcrRef"] => Field::EntryAccountServicerReference,
        ["AddtlNtryInf"] => Field::EntryAdditionalInfo,
        ["NtryDtls", "Btch", "PmtInfId"] => Field::EntryBatchPaymentInformationId,
        ["NtryDtls", "TxDtls", rest @ ..] => return classify_in_transaction(rest),
        _ => return None,
    };
    Some(Node::Field(field))
}

fn classify_in_transaction(path: &[&str]) -> Option<Node> {
    let field = match path {
        [] => return Some(Node::Container(Container::Transaction)),
        ["Amt"] => Field::TransactionAmount,
        ["AmtDtls", "TxAmt", "Amt"] => Field::TransactionAmountDetails,
        ["Refs", "EndToEndId"] => Field::TransactionEndToEndId,
        ["Refs", "AcctSvcrRef"] => Field::TransactionAccountServicerReference,
        ["Refs", "PmtInfId"] => Field::TransactionPaymentInformationId,
        ["RmtInf", "Strd", "CdtrRefInf", "Ref"] => Field::TransactionCreditorReference,
        ["RmtInf", "Ustrd"] => Field::TransactionUnstructured,
        ["RltdPties", "Dbtr", "Nm"] => Field::TransactionDebtorName,
        ["RltdPties", "Dbtr", "Pty", "Nm"] => Field::TransactionDebtorPartyName,
        ["RltdPties", "Cdtr", "Nm"] => Field::TransactionCreditorName,
        ["RltdPties", "Cdtr", "Pty", "Nm"] => Field::TransactionCreditorPartyName,
        ["RtrInf", "Rsn", "Cd"] => Field::TransactionReturnReason,
        _ => return None,
    };
    Some(Node::Field(field))
}

/// Counts the open containers, to say where an error sits.
#[derive(Debug, Clone, Copy)]
struct Location {
    kind: MessageKind,
    report: usize,
    balance: usize,
    entry: usize,
    transaction: usize,
}

impl Location {
    fn describe(&self, level: Level) -> String {
        let report = format!("{} {}", self.kind.report_element(), self.report);
        match level {
            Level::Message => self.kind.message_element().to_owned(),
            Level::GroupHeader => "GrpHdr".to_owned(),
            Level::Report => report,
            Level::Balance => format!("{report}, Bal {}", self.balance),
            Level::Entry => format!("{report}, Ntry {}", self.entry),
            Level::Transaction => {
                format!("{report}, Ntry {}, TxDtls {}", self.entry, self.transaction)
            }
        }
    }
}

/// An amount and its currency as written.
type Amount = (String, String);

/// A report being read.
#[derive(Default)]
struct ReportDraft {
    id: Option<String>,
    account_iban: Option<String>,
    account_other_id: Option<String>,
    account_currency: Option<String>,
    opening: Option<Balance>,
    previous_closing: Option<Balance>,
    closing: Option<Balance>,
    entries: Vec<Entry>,
}

/// A balance being read.
#[derive(Default)]
struct BalanceDraft {
    code: Option<String>,
    amount: Option<Amount>,
    credit: Option<bool>,
    date: Option<NaiveDate>,
}

/// An entry being read.
#[derive(Default)]
struct EntryDraft {
    amount: Option<Amount>,
    credit: Option<bool>,
    reversal: Option<bool>,
    status: Option<String>,
    booking_date: Option<NaiveDate>,
    value_date: Option<NaiveDate>,
    account_servicer_reference: Option<String>,
    additional_info: Option<String>,
    batch_payment_information_id: Option<String>,
    transactions: Vec<Transaction>,
}

/// A transaction detail being read.
#[derive(Default)]
struct TransactionDraft {
    amount: Option<Amount>,
    amount_details: Option<Amount>,
    end_to_end_id: Option<String>,
    account_servicer_reference: Option<String>,
    payment_information_id: Option<String>,
    structured_references: Vec<String>,
    unstructured: Vec<String>,
    debtor_name: Option<String>,
    creditor_name: Option<String>,
    return_reason: Option<String>,
}

/// One open element below the root.
struct Step {
    /// The local name, or [`FOREIGN`] for an element in another namespace.
    name: String,
    /// Set when the element holds other facts.
    container: Option<Container>,
}

/// The text of a field being read.
struct Capture {
    field: Field,
    /// Length of the path when the element opened; text counts only at this
    /// level, not inside child elements.
    depth: usize,
    text: String,
    attribute: Option<String>,
}

/// The root element, once recognised.
struct Root {
    kind: MessageKind,
    version: String,
    /// The camt namespace; only elements in it are matched.
    namespace: Vec<u8>,
}

/// Where the scan stands: the camt rules for what `xml::read` finds.
#[derive(Default)]
struct Scanner {
    root: Option<Root>,
    /// Open elements below the root.
    path: Vec<Step>,
    /// Fields being read, innermost last. Fields are leaves in the schema, but
    /// `Sts` holds either text or a `Cd`, so a field may open inside another.
    captures: Vec<Capture>,
    location: Option<Location>,
    message_seen: bool,
    group_header_seen: bool,
    message_id: Option<String>,
    reports: Vec<Report>,
    report: Option<ReportDraft>,
    balance: Option<BalanceDraft>,
    entry: Option<EntryDraft>,
    transaction: Option<TransactionDraft>,
}

impl Handler for Scanner {
    type Error = CamtError;

    fn open_root(&mut self, namespace: Option<&[u8]>, local_name: &str) -> Result<(), CamtError> {
        let (kind, version) = recognise_root(namespace, local_name)?;
        self.root = Some(Root {
            kind,
            version,
            namespace: namespace.unwrap_or_default().to_vec(),
        });
        self.location = Some(Location {
            kind,
            report: 0,
            balance: 0,
            entry: 0,
            transaction: 0,
        });
        Ok(())
    }

    fn open(&mut self, element: &Element<'_>) -> Result<(), CamtError> {
        // Always set: `xml::read` hands over the root first.
        let Some(root) = &self.root else {
            return Ok(());
        };
        let kind = root.kind;
        let name = if element.namespace == Some(root.namespace.as_slice()) {
            element.local_name.to_owned()
        } else {
            FOREIGN.to_owned()
        };
        self.path.push(Step {
            name,
            container: None,
        });
        let names: Vec<&str> = self.path.iter().map(|step| step.name.as_str()).collect();
        let node = classify(kind, &names);
        let wanted = match node {
            Some(Node::Field(field)) => field.attribute(),
            _ => None,
        };
        let attribute = match wanted {
            Some(name) => element.attribute(name)?,
            None => None,
        };
        match node {
            Some(Node::Container(container)) => {
                if let Some(step) = self.path.last_mut() {
                    step.container = Some(container);
                }
                self.begin(container)?;
            }
            Some(Node::Field(field)) => self.captures.push(Capture {
                field,
                depth: self.path.len(),
                text: String::new(),
                attribute,
            }),
            None => {}
        }
        Ok(())
    }

    fn text(&mut self, content: &str) {
        let depth = self.path.len();
        if let Some(capture) = self.captures.last_mut() {
            if capture.depth == depth {
                capture.text.push_str(content);
            }
        }
    }

    fn close(&mut self) -> Result<(), CamtError> {
        let Some(step) = self.path.pop() else {
            return Ok(());
        };
        let depth = self.path.len() + 1;
        if self
            .captures
            .last()
            .is_some_and(|capture| capture.depth == depth)
        {
            if let Some(capture) = self.captures.pop() {
                self.record(capture)?;
            }
        }
        if let Some(container) = step.container {
            self.end(container)?;
        }
        Ok(())
    }

    fn innermost_open_element(&self) -> Option<&str> {
        let open = self.path.iter().rev().find(|step| step.name != FOREIGN);
        open.map(|step| step.name.as_str())
    }
}

impl Scanner {
    fn location(&self) -> Location {
        // Set with the root, before any container or field can open.
        self.location.unwrap_or(Location {
            kind: MessageKind::Statement,
            report: 0,
            balance: 0,
            entry: 0,
            transaction: 0,
        })
    }

    fn kind(&self) -> MessageKind {
        self.location().kind
    }

    /// A container opens: count it and start its draft.
    fn begin(&mut self, container: Container) -> Result<(), CamtError> {
        let location = self.location();
        let kind = location.kind;
        let mut next = location;
        match container {
            Container::Message => {
                if self.message_seen {
                    return Err(CamtError::DuplicateElement {
                        element: kind.message_element(),
                        within: "Document".to_owned(),
                    });
                }
                self.message_seen = true;
            }
            Container::GroupHeader => {
                if self.group_header_seen {
                    return Err(CamtError::DuplicateElement {
                        element: "GrpHdr",
                        within: location.describe(Level::Message),
                    });
                }
                self.group_header_seen = true;
            }
            Container::Report => {
                next.report += 1;
                next.balance = 0;
                next.entry = 0;
                next.transaction = 0;
                self.report = Some(ReportDraft::default());
            }
            Container::Balance => {
                next.balance += 1;
                self.balance = Some(BalanceDraft::default());
            }
            Container::Entry => {
                next.entry += 1;
                next.transaction = 0;
                self.entry = Some(EntryDraft::default());
            }
            Container::Transaction => {
                next.transaction += 1;
                self.transaction = Some(TransactionDraft::default());
            }
        }
        self.location = Some(next);
        Ok(())
    }

    /// A container closes: check its draft and hand the result to its parent.
    fn end(&mut self, container: Container) -> Result<(), CamtError> {
        let location = self.location();
        match container {
            Container::Message | Container::GroupHeader => {}
            Container::Transaction => {
                if let (Some(draft), Some(entry)) = (self.transaction.take(), self.entry.as_mut()) {
                    entry.transactions.push(finish_transaction(draft));
                }
            }
            Container::Entry => {
                if let (Some(draft), Some(report)) = (self.entry.take(), self.report.as_mut()) {
                    report
                        .entries
                        .push(finish_entry(draft, &location.describe(Level::Entry))?);
                }
            }
            Container::Balance => {
                if let (Some(draft), Some(report)) = (self.balance.take(), self.report.as_mut()) {
                    let within = location.describe(Level::Balance);
                    let balance = finish_balance(draft, &within)?;
                    let slot = match balance.code.as_str() {
                        "OPBD" => &mut report.opening,
                        "PRCD" => &mut report.previous_closing,
                        "CLBD" => &mut report.closing,
                        // Other balances (available, interim, ...) are
                        // checked but not kept.
                        _ => return Ok(()),
                    };
                    if slot.is_some() {
                        return Err(CamtError::DuplicateBalance {
                            code: balance.code,
                            within,
                        });
                    }
                    *slot = Some(balance);
                }
            }
            Container::Report => {
                if let Some(draft) = self.report.take() {
                    let within = location.describe(Level::Report);
                    let id = draft.id.ok_or_else(|| CamtError::MissingElement {
                        element: Field::ReportId.element(location.kind),
                        within,
                    })?;
                    self.reports.push(Report {
                        id,
                        account_iban: draft.account_iban,
                        account_other_id: draft.account_other_id,
                        account_currency: draft.account_currency,
                        opening_balance: draft.opening.or(draft.previous_closing),
                        closing_balance: draft.closing,
                        entries: draft.entries,
                    });
                }
            }
        }
        Ok(())
    }

    /// A field closes: check its text and put it in its container's draft.
    fn record(&mut self, capture: Capture) -> Result<(), CamtError> {
        let kind = self.kind();
        let location = self.location();
        let field = capture.field;
        // XML Schema collapses whitespace around these values.
        let value = capture.text.trim_matches(is_xml_whitespace);
        let value = Value {
            text: value,
            attribute: capture
                .attribute
                .as_deref()
                .map(|attribute| attribute.trim_matches(is_xml_whitespace)),
            field,
            element: field.element(kind),
            slot: field.slot(kind),
            within: &|| location.describe(field.level()),
        };
        match field.level() {
            Level::Message => Ok(()),
            Level::GroupHeader => value.put(&mut self.message_id, value.required()?),
            Level::Report => match self.report.as_mut() {
                Some(draft) => record_report_field(draft, &value),
                None => Ok(()),
            },
            Level::Balance => match self.balance.as_mut() {
                Some(draft) => record_balance_field(draft, &value),
                None => Ok(()),
            },
            Level::Entry => match self.entry.as_mut() {
                Some(draft) => record_entry_field(draft, &value),
                None => Ok(()),
            },
            Level::Transaction => match self.transaction.as_mut() {
                Some(draft) => record_transaction_field(draft, &value),
                None => Ok(()),
            },
        }
    }

    /// Checks the facts the message must state and builds the document.
    fn finish(self, sha256_hex: String) -> Result<CamtDocument, CamtError> {
        let Some(root) = self.root else {
            return Err(CamtError::Xml(XmlError::NoRootElement));
        };
        let kind = root.kind;
        let message = kind.message_element();
        let missing = |element, within: &str| CamtError::MissingElement {
            element,
            within: within.to_owned(),
        };
        if !self.message_seen {
            return Err(missing(message, "Document"));
        }
        if !self.group_header_seen {
            return Err(missing("GrpHdr", message));
        }
        let message_id = self
            .message_id
            .ok_or_else(|| missing(Field::MessageId.element(kind), message))?;
        if self.reports.is_empty() {
            return Err(missing(kind.report_element(), message));
        }
        Ok(CamtDocument {
            kind,
            version: root.version,
            message_id,
            reports: self.reports,
            sha256_hex,
        })
    }
}

/// The text of a field that has closed, with what messages need to name it.
struct Value<'a> {
    text: &'a str,
    attribute: Option<&'a str>,
    field: Field,
    element: &'static str,
    slot: &'static str,
    within: &'a dyn Fn() -> String,
}

impl Value<'_> {
    /// The text of a field that must not be empty.
    fn required(&self) -> Result<Option<String>, CamtError> {
        if self.text.is_empty() {
            return Err(CamtError::EmptyElement {
                element: self.element,
                within: (self.within)(),
            });
        }
        Ok(Some(self.text.to_owned()))
    }

    /// The text of an optional field; empty text states nothing.
    fn optional(&self) -> Option<String> {
        (!self.text.is_empty()).then(|| self.text.to_owned())
    }

    /// Puts a value into a fact the schema allows once.
    fn put<T>(&self, slot: &mut Option<T>, value: Option<T>) -> Result<(), CamtError> {
        let Some(value) = value else {
            return Ok(());
        };
        if slot.is_some() {
            return Err(CamtError::DuplicateElement {
                element: self.slot,
                within: (self.within)(),
            });
        }
        *slot = Some(value);
        Ok(())
    }

    /// An amount and its `Ccy`, both required.
    fn amount(&self) -> Result<Option<Amount>, CamtError> {
        let Some(amount) = self.required()? else {
            return Ok(None);
        };
        if !is_plain_amount(&amount) {
            return Err(CamtError::InvalidAmount {
                element: self.element,
                value: amount,
                within: (self.within)(),
            });
        }
        let Some(currency) = self.attribute else {
            return Err(CamtError::MissingAttribute {
                element: self.element,
                attribute: "Ccy",
                within: (self.within)(),
            });
        };
        if !is_currency(currency) {
            return Err(CamtError::InvalidCurrency {
                element: self.field.currency_attribute(),
                value: currency.to_owned(),
                within: (self.within)(),
            });
        }
        Ok(Some((amount, currency.to_owned())))
    }

    fn currency(&self) -> Result<Option<String>, CamtError> {
        let currency = self.required()?;
        match currency {
            Some(currency) if !is_currency(&currency) => Err(CamtError::InvalidCurrency {
                element: self.element,
                value: currency,
                within: (self.within)(),
            }),
            currency => Ok(currency),
        }
    }

    fn iban(&self) -> Result<Option<String>, CamtError> {
        let iban = self.required()?;
        match iban {
            Some(iban) if !is_iban(&iban) => Err(CamtError::InvalidIban {
                element: self.element,
                value: iban,
                within: (self.within)(),
            }),
            iban => Ok(iban),
        }
    }

    fn credit_debit(&self) -> Result<Option<bool>, CamtError> {
        match self.text {
            "CRDT" => Ok(Some(true)),
            "DBIT" => Ok(Some(false)),
            _ => Err(CamtError::InvalidCreditDebit {
                element: self.element,
                value: self.text.to_owned(),
                within: (self.within)(),
            }),
        }
    }

    fn boolean(&self) -> Result<Option<bool>, CamtError> {
        match self.text {
            "true" | "1" => Ok(Some(true)),
            "false" | "0" => Ok(Some(false)),
            _ => Err(CamtError::InvalidBoolean {
                element: self.element,
                value: self.text.to_owned(),
                within: (self.within)(),
            }),
        }
    }

    /// An ISODate, `YYYY-MM-DD` (xsd:date also allows a time zone).
    fn date(&self) -> Result<Option<NaiveDate>, CamtError> {
        match parse_date(self.text) {
            Some(date) => Ok(Some(date)),
            None => Err(CamtError::InvalidDate {
                element: self.element,
                value: self.text.to_owned(),
                within: (self.within)(),
                expected: "YYYY-MM-DD",
            }),
        }
    }

    /// An ISODateTime; the date is taken as written, whatever the offset.
    fn date_of_date_time(&self) -> Result<Option<NaiveDate>, CamtError> {
        match parse_date_of_date_time(self.text) {
            Some(date) => Ok(Some(date)),
            None => Err(CamtError::InvalidDate {
                element: self.element,
                value: self.text.to_owned(),
                within: (self.within)(),
                expected: "an ISO 8601 date-time such as 2023-09-11T10:19:27.123+02:00",
            }),
        }
    }
}

fn record_report_field(draft: &mut ReportDraft, value: &Value<'_>) -> Result<(), CamtError> {
    match value.field {
        Field::ReportId => value.put(&mut draft.id, value.required()?),
        Field::AccountIban => value.put(&mut draft.account_iban, value.iban()?),
        Field::AccountOtherId => value.put(&mut draft.account_other_id, value.required()?),
        Field::AccountCurrency => value.put(&mut draft.account_currency, value.currency()?),
        _ => Ok(()),
    }
}

fn record_balance_field(draft: &mut BalanceDraft, value: &Value<'_>) -> Result<(), CamtError> {
    match value.field {
        Field::BalanceCode | Field::BalanceProprietaryCode => {
            value.put(&mut draft.code, value.required()?)
        }
        Field::BalanceAmount => value.put(&mut draft.amount, value.amount()?),
        Field::BalanceCreditDebit => value.put(&mut draft.credit, value.credit_debit()?),
        Field::BalanceDate => value.put(&mut draft.date, value.date()?),
        Field::BalanceDateTime => value.put(&mut draft.date, value.date_of_date_time()?),
        _ => Ok(()),
    }
}

fn record_entry_field(draft: &mut EntryDraft, value: &Value<'_>) -> Result<(), CamtError> {
    match value.field {
        Field::EntryAmount => value.put(&mut draft.amount, value.amount()?),
        Field::EntryCreditDebit => value.put(&mut draft.credit, value.credit_debit()?),
        Field::EntryReversal => value.put(&mut draft.reversal, value.boolean()?),
        // From version 08 `Sts` wraps a `Cd` or `Prtry`; its own text is then
        // only whitespace.
        Field::EntryStatus => value.put(&mut draft.status, value.optional()),
        Field::EntryStatusCode | Field::EntryStatusProprietary => {
            value.put(&mut draft.status, value.required()?)
        }
        Field::EntryBookingDate => value.put(&mut draft.booking_date, value.date()?),
        Field::EntryBookingDateTime => {
            value.put(&mut draft.booking_date, value.date_of_date_time()?)
        }
        Field::EntryValueDate => value.put(&mut draft.value_date, value.date()?),
        Field::EntryValueDateTime => value.put(&mut draft.value_date, value.date_of_date_time()?),
        Field::EntryAccountServicerReference => {
            value.put(&mut draft.account_servicer_reference, value.optional())
        }
        Field::EntryAdditionalInfo => value.put(&mut draft.additional_info, value.optional()),
        Field::EntryBatchPaymentInformationId => {
            value.put(&mut draft.batch_payment_information_id, value.optional())
        }
        _ => Ok(()),
    }
}

fn record_transaction_field(
    draft: &mut TransactionDraft,
    value: &Value<'_>,
) -> Result<(), CamtError> {
    match value.field {
        Field::TransactionAmount => value.put(&mut draft.amount, value.amount()?),
        Field::TransactionAmountDetails => value.put(&mut draft.amount_details, value.amount()?),
        Field::TransactionEndToEndId => value.put(&mut draft.end_to_end_id, value.optional()),
        Field::TransactionAccountServicerReference => {
            value.put(&mut draft.account_servicer_reference, value.optional())
        }
        Field::TransactionPaymentInformationId => {
            value.put(&mut draft.payment_information_id, value.optional())
        }
        Field::TransactionCreditorReference => {
            draft.structured_references.extend(value.optional());
            Ok(())
        }
        Field::TransactionUnstructured => {
            draft.unstructured.extend(value.optional());
            Ok(())
        }
        Field::TransactionDebtorName | Field::TransactionDebtorPartyName => {
            value.put(&mut draft.debtor_name, value.optional())
        }
        Field::TransactionCreditorName | Field::TransactionCreditorPartyName => {
            value.put(&mut draft.creditor_name, value.optional())
        }
        Field::TransactionReturnReason => value.put(&mut draft.return_reason, value.optional()),
        _ => Ok(()),
    }
}

fn finish_balance(draft: BalanceDraft, within: &str) -> Result<Balance, CamtError> {
    let missing = |element| CamtError::MissingElement {
        element,
        within: within.to_owned(),
    };
    let code = draft.code.ok_or_else(|| missing("Bal/Tp/CdOrPrtry/Cd"))?;
    let (amount, currency) = draft.amount.ok_or_else(|| missing("Bal/Amt"))?;
    let credit = draft.credit.ok_or_else(|| missing("Bal/CdtDbtInd"))?;
    let date = draft.date.ok_or_else(|| missing("Bal/Dt"))?;
    Ok(Balance {
        code,
        amount,
        currency,
        credit,
        date,
    })
}

fn finish_entry(draft: EntryDraft, within: &str) -> Result<Entry, CamtError> {
    let missing = |element| CamtError::MissingElement {
        element,
        within: within.to_owned(),
    };
    let (amount, currency) = draft.amount.ok_or_else(|| missing("Ntry/Amt"))?;
    let credit = draft.credit.ok_or_else(|| missing("Ntry/CdtDbtInd"))?;
    let status = draft.status.ok_or_else(|| missing("Ntry/Sts"))?;
    Ok(Entry {
        amount,
        currency,
        credit,
        reversal: draft.reversal.unwrap_or(false),
        status,
        booking_date: draft.booking_date,
        value_date: draft.value_date,
        account_servicer_reference: draft.account_servicer_reference,
        transactions: draft.transactions,
        additional_info: draft.additional_info,
        batch_payment_information_id: draft.batch_payment_information_id,
    })
}

fn finish_transaction(draft: TransactionDraft) -> Transaction {
    // The amount booked for the transaction (version 03 on), else the one in
    // the amount details, which version 02 has alone.
    let (amount, currency) = draft.amount.or(draft.amount_details).unzip();
    Transaction {
        amount,
        currency,
        end_to_end_id: draft.end_to_end_id,
        account_servicer_reference: draft.account_servicer_reference,
        payment_information_id: draft.payment_information_id,
        structured_references: draft.structured_references,
        unstructured: draft.unstructured,
        debtor_name: draft.debtor_name,
        creditor_name: draft.creditor_name,
        return_reason: draft.return_reason,
    }
}

/// A camt amount: digits, optionally a point and more digits; no sign, no
/// exponent, at most 18 digits with at most 5 after the point.
fn is_plain_amount(text: &str) -> bool {
    let (whole, fraction) = text.split_once('.').unwrap_or((text, ""));
    let digits_only = |part: &str| part.bytes().all(|byte| byte.is_ascii_digit());
    let has_point = text.contains('.');
    !whole.is_empty()
        && digits_only(whole)
        && digits_only(fraction)
        && (!has_point || !fraction.is_empty())
        && fraction.len() <= crate::limits::CAMT_AMOUNT_FRACTION_DIGITS_MAX
        && whole.len() + fraction.len() <= crate::limits::CAMT_AMOUNT_DIGITS_MAX
}

/// An ISO 4217 code: three capital letters.
fn is_currency(text: &str) -> bool {
    text.len() == 3 && text.bytes().all(|byte| byte.is_ascii_uppercase())
}

/// The schema's IBAN form, `[A-Z]{2}[0-9]{2}[a-zA-Z0-9]{1,30}`. The check
/// digits are not verified: test files use made-up IBANs.
fn is_iban(text: &str) -> bool {
    let bytes = text.as_bytes();
    (5..=34).contains(&bytes.len())
        && bytes[..2].iter().all(u8::is_ascii_uppercase)
        && bytes[2..4].iter().all(u8::is_ascii_digit)
        && bytes[4..].iter().all(u8::is_ascii_alphanumeric)
}

/// `YYYY-MM-DD`, optionally with a time zone (`Z`, `+hh:mm`, `-hh:mm`) as
/// xsd:date allows.
fn parse_date(text: &str) -> Option<NaiveDate> {
    let date = xml::parse_plain_date(text.get(..10)?)?;
    is_time_zone(text.get(10..)?).then_some(date)
}

/// `YYYY-MM-DDThh:mm:ss`, optionally with a fraction of a second of any
/// length and a time zone. Returns the date as written.
fn parse_date_of_date_time(text: &str) -> Option<NaiveDate> {
    let date = xml::parse_plain_date(text.get(..10)?)?;
    let rest = text.get(10..)?.strip_prefix('T')?;
    let time = rest.get(..8)?.as_bytes();
    if time[2] != b':' || time[5] != b':' {
        return None;
    }
    let number = |digits: &[u8]| -> Option<u32> {
        digits.iter().all(u8::is_ascii_digit).then(|| {
            digits
                .iter()
                .fold(0, |sum, digit| sum * 10 + u32::from(digit - b'0'))
        })
    };
    NaiveTime::from_hms_opt(
        number(&time[0..2])?,
        number(&time[3..5])?,
        number(&time[6..8])?,
    )?;
    let mut rest = rest.get(8..)?;
    if let Some(fraction) = rest.strip_prefix('.') {
        let digits = fraction.bytes().take_while(u8::is_ascii_digit).count();
        if digits == 0 {
            return None;
        }
        rest = fraction.get(digits..)?;
    }
    is_time_zone(rest).then_some(date)
}

/// Nothing, `Z`, or an offset `+hh:mm` / `-hh:mm` of at most 14 hours.
fn is_time_zone(text: &str) -> bool {
    match text.as_bytes() {
        [] | [b'Z'] => true,
        [b'+' | b'-', h1 @ b'0'..=b'9', h2 @ b'0'..=b'9', b':', m1 @ b'0'..=b'9', m2 @ b'0'..=b'9'] =>
        {
            let hours = (h1 - b'0') * 10 + (h2 - b'0');
            let minutes = (m1 - b'0') * 10 + (m2 - b'0');
            minutes < 60 && (hours < 14 || (hours == 14 && minutes == 0))
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests;
