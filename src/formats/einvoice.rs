//! E-invoices reduced to the facts the ledger needs.
//!
//! Two syntaxes carry the European e-invoice (EN 16931): OASIS UBL 2.1
//! (`Invoice` and `CreditNote`, as used by PEPPOL BIS Billing 3.0 and
//! XRechnung) and UN/CEFACT CII D16B (`CrossIndustryInvoice`). [`parse`] reads
//! either from bytes into a [`ParsedDocument`], or refuses it with an
//! [`EInvoiceError`] that names the element at fault. [`check_financeable`]
//! then says whether the ledger may register the document as an invoice.
//!
//! The parser reads through `formats::xml`: one streaming pass that builds no
//! tree, accepts UTF-8 only, refuses any DOCTYPE (so no entity can be
//! declared, let alone expanded), bounds the input size, the nesting depth,
//! the attributes per element and the namespace declarations in scope (so that
//! no input makes it slow), and still reads the whole document so that a
//! truncated or otherwise broken file is refused rather than half-read. This
//! module holds the e-invoice rules. Elements are matched by namespace and
//! local name, never by prefix, and only at their document-level path, so a
//! line's `cbc:ID` never stands in for the invoice number.
//!
//! Amounts stay the exact decimal text of the document. Turning text into
//! money, with the currency's scale, is the job of `domain::money`.

use super::xml::XmlError;
use chrono::NaiveDate;
use sha2::{Digest, Sha256};

use super::xml::{self, is_xml_whitespace, Element, Handler};
use crate::limits::EINVOICE_BYTES_MAX as DOCUMENT_BYTES_MAX;
// The other bounds are checked in `formats::xml`; the tests state them by
// these names.
#[cfg(test)]
use crate::limits::{
    XML_ATTRIBUTES_PER_ELEMENT_MAX as ATTRIBUTES_PER_ELEMENT_MAX,
    XML_ELEMENT_DEPTH_MAX as ELEMENT_DEPTH_MAX,
    XML_NAMESPACE_DECLARATIONS_IN_SCOPE_MAX as NAMESPACE_DECLARATIONS_IN_SCOPE_MAX,
};

const UBL_INVOICE_NAMESPACE: &[u8] = b"urn:oasis:names:specification:ubl:schema:xsd:Invoice-2";
const UBL_CREDIT_NOTE_NAMESPACE: &[u8] =
    b"urn:oasis:names:specification:ubl:schema:xsd:CreditNote-2";
const UBL_AGGREGATE_NAMESPACE: &[u8] =
    b"urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2";
const UBL_BASIC_NAMESPACE: &[u8] =
    b"urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2";
const CII_MESSAGE_NAMESPACE: &[u8] =
    b"urn:un:unece:uncefact:data:standard:CrossIndustryInvoice:100";
const CII_AGGREGATE_NAMESPACE: &[u8] =
    b"urn:un:unece:uncefact:data:standard:ReusableAggregateBusinessInformationEntity:100";
const CII_UNQUALIFIED_DATA_TYPE_NAMESPACE: &[u8] =
    b"urn:un:unece:uncefact:data:standard:UnqualifiedDataType:100";

/// UNTDID 1001 document type codes that EN 16931 lists as credit notes. CII
/// has no separate credit-note root element, so the type code is what tells a
/// credit note from an invoice there; in UBL it also catches a credit note
/// dressed as an `<Invoice>`.
const CREDIT_NOTE_TYPE_CODES: &[&str] = &[
    "81", "83", "261", "262", "296", "308", "381", "396", "420", "458", "532",
];

/// The only date format EN 16931 allows in CII: `YYYYMMDD`.
const CII_DATE_FORMAT: &str = "102";

/// What kind of document it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DocumentKind {
    /// A claim for payment (type codes such as 380, 383, 384, 389).
    Invoice,
    /// A document that reduces what the buyer owes: a UBL `<CreditNote>`, or
    /// any document whose type code is a credit-note code (381, 396, ...).
    CreditNote,
}

/// The syntax a document is written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Syntax {
    /// OASIS UBL 2.1 (EN 16931, PEPPOL BIS Billing 3.0, XRechnung UBL).
    Ubl,
    /// UN/CEFACT Cross Industry Invoice D16B (EN 16931, XRechnung CII).
    Cii,
}

/// An e-invoice reduced to the facts the ledger needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParsedDocument {
    /// The syntax the document is written in.
    pub syntax: Syntax,
    /// Invoice or credit note.
    pub kind: DocumentKind,
    /// The UNTDID 1001 document type code as written, e.g. "380", "381", "384".
    pub type_code: String,
    /// The document number: `cbc:ID` directly under the root (UBL) or
    /// `rsm:ExchangedDocument/ram:ID` (CII).
    pub number: String,
    /// The issue date.
    pub issue_date: NaiveDate,
    /// When payment is due: `cbc:DueDate`, or a `cbc:PaymentDueDate` in
    /// `cac:PaymentMeans` / `cac:PaymentTerms` (UBL), or
    /// `ram:SpecifiedTradePaymentTerms/ram:DueDateDateTime` (CII). `None` when
    /// the document states none.
    pub due_date: Option<NaiveDate>,
    /// The document currency (`cbc:DocumentCurrencyCode` /
    /// `ram:InvoiceCurrencyCode`), an ISO 4217 code.
    pub currency: String,
    /// The amount due for payment exactly as written in the document, e.g.
    /// "801.78" or "-782179.43" (`cac:LegalMonetaryTotal/cbc:PayableAmount` /
    /// `ram:DuePayableAmount`). Kept as text so that no digit is lost.
    pub payable_amount: String,
    /// The seller's legal name, else its trading name.
    pub seller_name: Option<String>,
    /// The seller's VAT identifier (`cac:PartyTaxScheme/cbc:CompanyID` with
    /// tax scheme VAT; `ram:SpecifiedTaxRegistration/ram:ID` with scheme
    /// "VA"), else its legal registration identifier.
    pub seller_tax_id: Option<String>,
    /// The buyer's legal name, else its trading name.
    pub buyer_name: Option<String>,
    /// The reference the buyer asked to be quoted (`BuyerReference`).
    pub buyer_reference: Option<String>,
    /// The remittance reference the payer should quote
    /// (`cac:PaymentMeans/cbc:PaymentID` / `ram:PaymentReference`).
    pub payment_reference: Option<String>,
    /// The earlier invoice this document refers to, as a credit note or a
    /// corrected invoice does (`cac:BillingReference` /
    /// `ram:InvoiceReferencedDocument`).
    pub billing_reference: Option<String>,
    /// How many invoice or credit-note lines the document has.
    pub line_count: usize,
    /// SHA-256 of the input bytes, lower-case hex.
    pub sha256_hex: String,
}

/// Why a document was refused, by [`parse`] or by [`check_financeable`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EInvoiceError {
    /// The document is not XML this ledger reads (size, encoding, DOCTYPE, form, bounds).
    #[error("{}", .0.describe("e-invoices"))]
    Xml(#[from] XmlError),
    /// The root element is not one of the e-invoice roots.
    #[error(
        "unknown root element <{local_name}> {}: expected a UBL Invoice or CreditNote, or a CII CrossIndustryInvoice",
        xml::describe_namespace(.namespace)
    )]
    UnknownRootElement {
        /// The root element's local name.
        local_name: String,
        /// The root element's namespace, if it has one.
        namespace: Option<String>,
    },
    /// A required element is absent.
    #[error("missing {element}")]
    MissingElement {
        /// The element, with the customary prefixes.
        element: &'static str,
    },
    /// A required element holds no text.
    #[error("empty {element}")]
    EmptyElement {
        /// The element, with the customary prefixes.
        element: &'static str,
    },
    /// An element the document must state once appears again.
    #[error("more than one {element}")]
    DuplicateElement {
        /// The element, with the customary prefixes.
        element: &'static str,
    },
    /// An element lacks a required attribute.
    #[error("missing attribute {attribute} on {element}")]
    MissingAttribute {
        /// The element, with the customary prefixes.
        element: &'static str,
        /// The attribute's name.
        attribute: &'static str,
    },
    /// A date is not written as the syntax requires, or does not exist.
    #[error("invalid date {value:?} in {element}: expected {expected}")]
    InvalidDate {
        /// The element, with the customary prefixes.
        element: &'static str,
        /// The text found.
        value: String,
        /// The form required.
        expected: &'static str,
    },
    /// A CII date uses a format other than 102.
    #[error(
        "unsupported date format {format:?} in {element}: only format 102 (YYYYMMDD) is accepted"
    )]
    UnsupportedDateFormat {
        /// The element, with the customary prefixes.
        element: &'static str,
        /// The format code found.
        format: String,
    },
    /// The document states two different due dates.
    #[error(
        "conflicting due dates: {first_element} says {first} but {second_element} says {second}"
    )]
    ConflictingDueDates {
        /// The first due date found.
        first: NaiveDate,
        /// Where the first was found.
        first_element: &'static str,
        /// A later, different due date.
        second: NaiveDate,
        /// Where that one was found.
        second_element: &'static str,
    },
    /// A currency code is not three capital letters.
    #[error(
        "invalid currency code {value:?} in {element}: expected three capital letters such as EUR"
    )]
    InvalidCurrency {
        /// The element, with the customary prefixes.
        element: &'static str,
        /// The text found.
        value: String,
    },
    /// An amount is not an xsd:decimal.
    #[error("invalid amount {value:?} in {element}: expected a decimal number such as 1234.56")]
    InvalidAmount {
        /// The element, with the customary prefixes.
        element: &'static str,
        /// The text found.
        value: String,
    },
    /// The payable amount is in another currency than the document.
    #[error("{element} is in {amount_currency} but the document currency is {document_currency}")]
    CurrencyMismatch {
        /// The amount's element, with the customary prefixes.
        element: &'static str,
        /// The amount's currencyID.
        amount_currency: String,
        /// The document currency.
        document_currency: String,
    },
    /// Not financeable: the document is a credit note.
    #[error("not an invoice: document {number} is a credit note (type code {type_code}); credit notes are valid documents but cannot be registered as invoices")]
    NotAnInvoice {
        /// The document number.
        number: String,
        /// The document type code.
        type_code: String,
    },
    /// Not financeable: the payable amount is negative.
    #[error("negative payable amount {amount}")]
    NegativePayableAmount {
        /// The amount as written.
        amount: String,
    },
    /// Not financeable: nothing is payable.
    #[error("zero payable amount {amount}")]
    ZeroPayableAmount {
        /// The amount as written.
        amount: String,
    },
    /// Not financeable: the invoice states no due date.
    #[error("missing due date: invoice {number} has no {element}, and an invoice cannot be financed without one")]
    MissingDueDate {
        /// The document number.
        number: String,
        /// Where the due date belongs, with the customary prefixes.
        element: &'static str,
    },
}

/// Parses a UBL 2.1 Invoice or CreditNote, or a CII D16B CrossIndustryInvoice.
///
/// Pure: it looks at nothing but `bytes`.
pub fn parse(bytes: &[u8]) -> Result<ParsedDocument, EInvoiceError> {
    let mut scanner = Scanner::default();
    xml::read(bytes, DOCUMENT_BYTES_MAX, &mut scanner)?;
    let Some(root) = scanner.root else {
        // `xml::read` succeeds only after the root has closed.
        return Err(EInvoiceError::Xml(XmlError::NoRootElement));
    };
    assemble(root, scanner.facts, hex::encode(Sha256::digest(bytes)))
}

/// Says whether a parsed document can be registered as an invoice to finance:
/// it must be an invoice (not a credit note), owe a positive amount and state
/// a due date. The first failing condition is reported.
///
/// Pure: it looks at nothing but `document`.
pub fn check_financeable(document: &ParsedDocument) -> Result<(), EInvoiceError> {
    if document.kind == DocumentKind::CreditNote {
        return Err(EInvoiceError::NotAnInvoice {
            number: document.number.clone(),
            type_code: document.type_code.clone(),
        });
    }
    let profile = RootProfile::for_syntax(document.syntax);
    match decimal_sign(&document.payable_amount) {
        // The fields are public, so the text may not come from `parse`.
        None => {
            return Err(EInvoiceError::InvalidAmount {
                element: profile.element_of(Field::PayableAmount),
                value: document.payable_amount.clone(),
            })
        }
        Some(Sign::Negative) => {
            return Err(EInvoiceError::NegativePayableAmount {
                amount: document.payable_amount.clone(),
            })
        }
        Some(Sign::Zero) => {
            return Err(EInvoiceError::ZeroPayableAmount {
                amount: document.payable_amount.clone(),
            })
        }
        Some(Sign::Positive) => {}
    }
    if document.due_date.is_none() {
        return Err(EInvoiceError::MissingDueDate {
            number: document.number.clone(),
            element: profile.element_of(Field::DueDate),
        });
    }
    Ok(())
}

/// The namespaces of the elements below the root that carry facts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ElementNamespace {
    /// UBL `cac:`.
    UblAggregate,
    /// UBL `cbc:`.
    UblBasic,
    /// CII `rsm:`.
    CiiMessage,
    /// CII `ram:`.
    CiiAggregate,
    /// CII `udt:`.
    CiiUnqualifiedDataType,
    /// Any other namespace, or none: never matched.
    Other,
}

impl ElementNamespace {
    fn of(namespace: Option<&[u8]>) -> Self {
        match namespace {
            Some(UBL_AGGREGATE_NAMESPACE) => Self::UblAggregate,
            Some(UBL_BASIC_NAMESPACE) => Self::UblBasic,
            Some(CII_MESSAGE_NAMESPACE) => Self::CiiMessage,
            Some(CII_AGGREGATE_NAMESPACE) => Self::CiiAggregate,
            Some(CII_UNQUALIFIED_DATA_TYPE_NAMESPACE) => Self::CiiUnqualifiedDataType,
            _ => Self::Other,
        }
    }
}

/// The root elements this parser accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum DocumentRoot {
    UblInvoice,
    UblCreditNote,
    CrossIndustryInvoice,
}

impl DocumentRoot {
    fn recognise(namespace: Option<&[u8]>, local_name: &str) -> Result<Self, EInvoiceError> {
        match (namespace, local_name) {
            (Some(UBL_INVOICE_NAMESPACE), "Invoice") => Ok(Self::UblInvoice),
            (Some(UBL_CREDIT_NOTE_NAMESPACE), "CreditNote") => Ok(Self::UblCreditNote),
            (Some(CII_MESSAGE_NAMESPACE), "CrossIndustryInvoice") => Ok(Self::CrossIndustryInvoice),
            _ => Err(EInvoiceError::UnknownRootElement {
                local_name: local_name.to_owned(),
                namespace: namespace
                    .map(|namespace| String::from_utf8_lossy(namespace).into_owned()),
            }),
        }
    }

    fn profile(self) -> &'static RootProfile {
        match self {
            Self::UblInvoice => &UBL_INVOICE_PROFILE,
            Self::UblCreditNote => &UBL_CREDIT_NOTE_PROFILE,
            Self::CrossIndustryInvoice => &CII_PROFILE,
        }
    }
}

/// The facts the scanner collects.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Field {
    Number,
    TypeCode,
    IssueDate,
    DueDate,
    Currency,
    PayableAmount,
    SellerName,
    SellerTradingName,
    /// UBL: a `cac:PartyTaxScheme/cbc:CompanyID` of the seller, a VAT id only
    /// if its tax scheme is VAT.
    SellerTaxSchemeCompanyId,
    /// UBL: the tax scheme of the `cac:PartyTaxScheme` being read.
    SellerTaxSchemeId,
    /// CII: a seller tax registration, a VAT id only with schemeID "VA".
    SellerTaxRegistration,
    SellerLegalId,
    BuyerName,
    BuyerTradingName,
    BuyerReference,
    PaymentReference,
    BillingReference,
}

/// A path of elements below the root, by namespace and local name.
type Path = &'static [(ElementNamespace, &'static str)];

/// Where a fact sits below the root, the attribute read with it, and how
/// messages name the element.
struct FieldLocation {
    path: Path,
    field: Field,
    attribute: Option<&'static str>,
    element: &'static str,
}

/// How to read the facts out of documents with one kind of root element.
struct RootProfile {
    syntax: Syntax,
    /// Looked up in order; the first location naming a field also names the
    /// element in "missing" messages.
    fields: &'static [&'static [FieldLocation]],
    /// One line of the document.
    line: Path,
    /// UBL: a `cac:PartyTaxScheme` of the seller, whose company id is a VAT id
    /// only when its tax scheme says so.
    seller_tax_scheme: Option<Path>,
}

impl RootProfile {
    fn for_syntax(syntax: Syntax) -> &'static RootProfile {
        match syntax {
            Syntax::Ubl => &UBL_INVOICE_PROFILE,
            Syntax::Cii => &CII_PROFILE,
        }
    }

    fn locate(&self, path: &[PathStep]) -> Option<&'static FieldLocation> {
        // Facts sit at most six levels below the root; deeper elements are
        // the bulk of a large document and need no comparison.
        if path.len() > 6 {
            return None;
        }
        self.fields
            .iter()
            .flat_map(|table| table.iter())
            .find(|location| path_is(path, location.path))
    }

    fn element_of(&self, field: Field) -> &'static str {
        self.fields
            .iter()
            .flat_map(|table| table.iter())
            .find(|location| location.field == field)
            .map_or("(unknown element)", |location| location.element)
    }
}

use ElementNamespace::{CiiAggregate, CiiMessage, CiiUnqualifiedDataType, UblAggregate, UblBasic};

const fn at(path: Path, field: Field, element: &'static str) -> FieldLocation {
    FieldLocation {
        path,
        field,
        attribute: None,
        element,
    }
}

const fn at_with_attribute(
    path: Path,
    field: Field,
    attribute: &'static str,
    element: &'static str,
) -> FieldLocation {
    FieldLocation {
        path,
        field,
        attribute: Some(attribute),
        element,
    }
}

static UBL_INVOICE_TYPE_CODE: &[FieldLocation] = &[at(
    &[(UblBasic, "InvoiceTypeCode")],
    Field::TypeCode,
    "cbc:InvoiceTypeCode",
)];

static UBL_CREDIT_NOTE_TYPE_CODE: &[FieldLocation] = &[at(
    &[(UblBasic, "CreditNoteTypeCode")],
    Field::TypeCode,
    "cbc:CreditNoteTypeCode",
)];

static UBL_FIELDS: &[FieldLocation] = &[
    at(&[(UblBasic, "ID")], Field::Number, "cbc:ID"),
    at(
        &[(UblBasic, "IssueDate")],
        Field::IssueDate,
        "cbc:IssueDate",
    ),
    at(&[(UblBasic, "DueDate")], Field::DueDate, "cbc:DueDate"),
    // A UBL 2.1 CreditNote has no cbc:DueDate; PEPPOL puts its due date in
    // the payment means, and UBL also allows one per payment terms.
    at(
        &[(UblAggregate, "PaymentMeans"), (UblBasic, "PaymentDueDate")],
        Field::DueDate,
        "cac:PaymentMeans/cbc:PaymentDueDate",
    ),
    at(
        &[(UblAggregate, "PaymentTerms"), (UblBasic, "PaymentDueDate")],
        Field::DueDate,
        "cac:PaymentTerms/cbc:PaymentDueDate",
    ),
    at(
        &[(UblBasic, "DocumentCurrencyCode")],
        Field::Currency,
        "cbc:DocumentCurrencyCode",
    ),
    at_with_attribute(
        &[
            (UblAggregate, "LegalMonetaryTotal"),
            (UblBasic, "PayableAmount"),
        ],
        Field::PayableAmount,
        "currencyID",
        "cac:LegalMonetaryTotal/cbc:PayableAmount",
    ),
    at(
        &[
            (UblAggregate, "AccountingSupplierParty"),
            (UblAggregate, "Party"),
            (UblAggregate, "PartyLegalEntity"),
            (UblBasic, "RegistrationName"),
        ],
        Field::SellerName,
        "cac:AccountingSupplierParty/cac:Party/cac:PartyLegalEntity/cbc:RegistrationName",
    ),
    at(
        &[
            (UblAggregate, "AccountingSupplierParty"),
            (UblAggregate, "Party"),
            (UblAggregate, "PartyName"),
            (UblBasic, "Name"),
        ],
        Field::SellerTradingName,
        "cac:AccountingSupplierParty/cac:Party/cac:PartyName/cbc:Name",
    ),
    at(
        &[
            (UblAggregate, "AccountingSupplierParty"),
            (UblAggregate, "Party"),
            (UblAggregate, "PartyTaxScheme"),
            (UblBasic, "CompanyID"),
        ],
        Field::SellerTaxSchemeCompanyId,
        "cac:AccountingSupplierParty/cac:Party/cac:PartyTaxScheme/cbc:CompanyID",
    ),
    at(
        &[
            (UblAggregate, "AccountingSupplierParty"),
            (UblAggregate, "Party"),
            (UblAggregate, "PartyTaxScheme"),
            (UblAggregate, "TaxScheme"),
            (UblBasic, "ID"),
        ],
        Field::SellerTaxSchemeId,
        "cac:AccountingSupplierParty/cac:Party/cac:PartyTaxScheme/cac:TaxScheme/cbc:ID",
    ),
    at(
        &[
            (UblAggregate, "AccountingSupplierParty"),
            (UblAggregate, "Party"),
            (UblAggregate, "PartyLegalEntity"),
            (UblBasic, "CompanyID"),
        ],
        Field::SellerLegalId,
        "cac:AccountingSupplierParty/cac:Party/cac:PartyLegalEntity/cbc:CompanyID",
    ),
    at(
        &[
            (UblAggregate, "AccountingCustomerParty"),
            (UblAggregate, "Party"),
            (UblAggregate, "PartyLegalEntity"),
            (UblBasic, "RegistrationName"),
        ],
        Field::BuyerName,
        "cac:AccountingCustomerParty/cac:Party/cac:PartyLegalEntity/cbc:RegistrationName",
    ),
    at(
        &[
            (UblAggregate, "AccountingCustomerParty"),
            (UblAggregate, "Party"),
            (UblAggregate, "PartyName"),
            (UblBasic, "Name"),
        ],
        Field::BuyerTradingName,
        "cac:AccountingCustomerParty/cac:Party/cac:PartyName/cbc:Name",
    ),
    at(
        &[(UblBasic, "BuyerReference")],
        Field::BuyerReference,
        "cbc:BuyerReference",
    ),
    at(
        &[(UblAggregate, "PaymentMeans"), (UblBasic, "PaymentID")],
        Field::PaymentReference,
        "cac:PaymentMeans/cbc:PaymentID",
    ),
    at(
        &[
            (UblAggregate, "BillingReference"),
            (UblAggregate, "InvoiceDocumentReference"),
            (UblBasic, "ID"),
        ],
        Field::BillingReference,
        "cac:BillingReference/cac:InvoiceDocumentReference/cbc:ID",
    ),
];

const UBL_SELLER_TAX_SCHEME: Path = &[
    (UblAggregate, "AccountingSupplierParty"),
    (UblAggregate, "Party"),
    (UblAggregate, "PartyTaxScheme"),
];

static UBL_INVOICE_PROFILE: RootProfile = RootProfile {
    syntax: Syntax::Ubl,
    fields: &[UBL_FIELDS, UBL_INVOICE_TYPE_CODE],
    line: &[(UblAggregate, "InvoiceLine")],
    seller_tax_scheme: Some(UBL_SELLER_TAX_SCHEME),
};

static UBL_CREDIT_NOTE_PROFILE: RootProfile = RootProfile {
    syntax: Syntax::Ubl,
    fields: &[UBL_FIELDS, UBL_CREDIT_NOTE_TYPE_CODE],
    line: &[(UblAggregate, "CreditNoteLine")],
    seller_tax_scheme: Some(UBL_SELLER_TAX_SCHEME),
};

static CII_FIELDS: &[FieldLocation] = &[
    at(
        &[(CiiMessage, "ExchangedDocument"), (CiiAggregate, "ID")],
        Field::Number,
        "rsm:ExchangedDocument/ram:ID",
    ),
    at(
        &[
            (CiiMessage, "ExchangedDocument"),
            (CiiAggregate, "TypeCode"),
        ],
        Field::TypeCode,
        "rsm:ExchangedDocument/ram:TypeCode",
    ),
    at_with_attribute(
        &[
            (CiiMessage, "ExchangedDocument"),
            (CiiAggregate, "IssueDateTime"),
            (CiiUnqualifiedDataType, "DateTimeString"),
        ],
        Field::IssueDate,
        "format",
        "rsm:ExchangedDocument/ram:IssueDateTime/udt:DateTimeString",
    ),
    at_with_attribute(
        &[
            (CiiMessage, "SupplyChainTradeTransaction"),
            (CiiAggregate, "ApplicableHeaderTradeSettlement"),
            (CiiAggregate, "SpecifiedTradePaymentTerms"),
            (CiiAggregate, "DueDateDateTime"),
            (CiiUnqualifiedDataType, "DateTimeString"),
        ],
        Field::DueDate,
        "format",
        "ram:SpecifiedTradePaymentTerms/ram:DueDateDateTime/udt:DateTimeString",
    ),
    at(
        &[
            (CiiMessage, "SupplyChainTradeTransaction"),
            (CiiAggregate, "ApplicableHeaderTradeSettlement"),
            (CiiAggregate, "InvoiceCurrencyCode"),
        ],
        Field::Currency,
        "ram:ApplicableHeaderTradeSettlement/ram:InvoiceCurrencyCode",
    ),
    at_with_attribute(
        &[
            (CiiMessage, "SupplyChainTradeTransaction"),
            (CiiAggregate, "ApplicableHeaderTradeSettlement"),
            (
                CiiAggregate,
                "SpecifiedTradeSettlementHeaderMonetarySummation",
            ),
            (CiiAggregate, "DuePayableAmount"),
        ],
        Field::PayableAmount,
        "currencyID",
        "ram:SpecifiedTradeSettlementHeaderMonetarySummation/ram:DuePayableAmount",
    ),
    at(
        &[
            (CiiMessage, "SupplyChainTradeTransaction"),
            (CiiAggregate, "ApplicableHeaderTradeAgreement"),
            (CiiAggregate, "SellerTradeParty"),
            (CiiAggregate, "Name"),
        ],
        Field::SellerName,
        "ram:SellerTradeParty/ram:Name",
    ),
    at(
        &[
            (CiiMessage, "SupplyChainTradeTransaction"),
            (CiiAggregate, "ApplicableHeaderTradeAgreement"),
            (CiiAggregate, "SellerTradeParty"),
            (CiiAggregate, "SpecifiedLegalOrganization"),
            (CiiAggregate, "TradingBusinessName"),
        ],
        Field::SellerTradingName,
        "ram:SellerTradeParty/ram:SpecifiedLegalOrganization/ram:TradingBusinessName",
    ),
    at_with_attribute(
        &[
            (CiiMessage, "SupplyChainTradeTransaction"),
            (CiiAggregate, "ApplicableHeaderTradeAgreement"),
            (CiiAggregate, "SellerTradeParty"),
            (CiiAggregate, "SpecifiedTaxRegistration"),
            (CiiAggregate, "ID"),
        ],
        Field::SellerTaxRegistration,
        "schemeID",
        "ram:SellerTradeParty/ram:SpecifiedTaxRegistration/ram:ID",
    ),
    at(
        &[
            (CiiMessage, "SupplyChainTradeTransaction"),
            (CiiAggregate, "ApplicableHeaderTradeAgreement"),
            (CiiAggregate, "SellerTradeParty"),
            (CiiAggregate, "SpecifiedLegalOrganization"),
            (CiiAggregate, "ID"),
        ],
        Field::SellerLegalId,
        "ram:SellerTradeParty/ram:SpecifiedLegalOrganization/ram:ID",
    ),
    at(
        &[
            (CiiMessage, "SupplyChainTradeTransaction"),
            (CiiAggregate, "ApplicableHeaderTradeAgreement"),
            (CiiAggregate, "BuyerTradeParty"),
            (CiiAggregate, "Name"),
        ],
        Field::BuyerName,
        "ram:BuyerTradeParty/ram:Name",
    ),
    at(
        &[
            (CiiMessage, "SupplyChainTradeTransaction"),
            (CiiAggregate, "ApplicableHeaderTradeAgreement"),
            (CiiAggregate, "BuyerTradeParty"),
            (CiiAggregate, "SpecifiedLegalOrganization"),
            (CiiAggregate, "TradingBusinessName"),
        ],
        Field::BuyerTradingName,
        "ram:BuyerTradeParty/ram:SpecifiedLegalOrganization/ram:TradingBusinessName",
    ),
    at(
        &[
            (CiiMessage, "SupplyChainTradeTransaction"),
            (CiiAggregate, "ApplicableHeaderTradeAgreement"),
            (CiiAggregate, "BuyerReference"),
        ],
        Field::BuyerReference,
        "ram:ApplicableHeaderTradeAgreement/ram:BuyerReference",
    ),
    at(
        &[
            (CiiMessage, "SupplyChainTradeTransaction"),
            (CiiAggregate, "ApplicableHeaderTradeSettlement"),
            (CiiAggregate, "PaymentReference"),
        ],
        Field::PaymentReference,
        "ram:ApplicableHeaderTradeSettlement/ram:PaymentReference",
    ),
    at(
        &[
            (CiiMessage, "SupplyChainTradeTransaction"),
            (CiiAggregate, "ApplicableHeaderTradeSettlement"),
            (CiiAggregate, "InvoiceReferencedDocument"),
            (CiiAggregate, "IssuerAssignedID"),
        ],
        Field::BillingReference,
        "ram:InvoiceReferencedDocument/ram:IssuerAssignedID",
    ),
];

static CII_PROFILE: RootProfile = RootProfile {
    syntax: Syntax::Cii,
    fields: &[CII_FIELDS],
    line: &[
        (CiiMessage, "SupplyChainTradeTransaction"),
        (CiiAggregate, "IncludedSupplyChainTradeLineItem"),
    ],
    seller_tax_scheme: None,
};

/// One open element below the root.
struct PathStep {
    namespace: ElementNamespace,
    local_name: String,
}

fn path_is(path: &[PathStep], pattern: Path) -> bool {
    path.len() == pattern.len()
        && path
            .iter()
            .zip(pattern)
            .all(|(step, (namespace, local_name))| {
                step.namespace == *namespace && step.local_name == *local_name
            })
}

/// The text of a fact being read.
struct Capture {
    location: &'static FieldLocation,
    /// Length of the path when the element opened; text counts only at this
    /// level, not inside child elements.
    depth: usize,
    text: String,
    attribute: Option<String>,
}

/// A UBL `cac:PartyTaxScheme` of the seller being read.
#[derive(Default)]
struct TaxScheme {
    company_id: Option<String>,
    scheme_id: Option<String>,
}

/// Facts as found, before the required ones are checked.
#[derive(Default)]
struct Facts {
    number: Option<String>,
    type_code: Option<String>,
    issue_date: Option<NaiveDate>,
    due_dates: Vec<(NaiveDate, &'static str)>,
    currency: Option<String>,
    payable_amount: Option<String>,
    payable_amount_currency: Option<String>,
    seller_name: Option<String>,
    seller_trading_name: Option<String>,
    seller_vat_id: Option<String>,
    seller_legal_id: Option<String>,
    buyer_name: Option<String>,
    buyer_trading_name: Option<String>,
    buyer_reference: Option<String>,
    payment_reference: Option<String>,
    billing_reference: Option<String>,
    line_count: usize,
    seller_tax_scheme: TaxScheme,
}

/// Where the scan stands: the e-invoice rules for what `xml::read` finds.
#[derive(Default)]
struct Scanner {
    root: Option<DocumentRoot>,
    /// Open elements below the root.
    path: Vec<PathStep>,
    capture: Option<Capture>,
    facts: Facts,
}

impl Handler for Scanner {
    type Error = EInvoiceError;

    fn open_root(
        &mut self,
        namespace: Option<&[u8]>,
        local_name: &str,
    ) -> Result<(), EInvoiceError> {
        self.root = Some(DocumentRoot::recognise(namespace, local_name)?);
        Ok(())
    }

    fn open(&mut self, element: &Element<'_>) -> Result<(), EInvoiceError> {
        // Always set: `xml::read` hands over the root first.
        let Some(root) = self.root else {
            return Ok(());
        };
        self.path.push(PathStep {
            namespace: ElementNamespace::of(element.namespace),
            local_name: element.local_name.to_owned(),
        });
        let profile = root.profile();
        let location = profile.locate(&self.path);
        let attribute = match location.and_then(|location| location.attribute) {
            Some(name) => element.attribute(name)?,
            None => None,
        };
        if path_is(&self.path, profile.line) {
            self.facts.line_count += 1;
        }
        if profile
            .seller_tax_scheme
            .is_some_and(|tax_scheme| path_is(&self.path, tax_scheme))
        {
            self.facts.seller_tax_scheme = TaxScheme::default();
        }
        if let (Some(location), None) = (location, &self.capture) {
            self.capture = Some(Capture {
                location,
                depth: self.path.len(),
                text: String::new(),
                attribute,
            });
        }
        Ok(())
    }

    fn text(&mut self, content: &str) {
        if let Some(capture) = &mut self.capture {
            if capture.depth == self.path.len() {
                capture.text.push_str(content);
            }
        }
    }

    fn close(&mut self) -> Result<(), EInvoiceError> {
        // Always set: `xml::read` hands over the root first.
        let Some(root) = self.root else {
            return Ok(());
        };
        if self
            .capture
            .as_ref()
            .is_some_and(|capture| capture.depth == self.path.len())
        {
            if let Some(capture) = self.capture.take() {
                self.record(root.profile().syntax, capture)?;
            }
        }
        let profile = root.profile();
        if profile
            .seller_tax_scheme
            .is_some_and(|tax_scheme| path_is(&self.path, tax_scheme))
        {
            let tax_scheme = std::mem::take(&mut self.facts.seller_tax_scheme);
            // EN 16931 BT-31: the seller VAT identifier is the company id of
            // the tax scheme "VAT"; other schemes are local tax numbers.
            if tax_scheme.scheme_id.as_deref() == Some("VAT") {
                set_first(&mut self.facts.seller_vat_id, tax_scheme.company_id);
            }
        }
        self.path.pop();
        Ok(())
    }

    fn innermost_open_element(&self) -> Option<&str> {
        self.path.last().map(|step| step.local_name.as_str())
    }
}

impl Scanner {
    fn record(&mut self, syntax: Syntax, capture: Capture) -> Result<(), EInvoiceError> {
        let element = capture.location.element;
        // XML Schema collapses whitespace around these values.
        let value = capture.text.trim_matches(is_xml_whitespace);
        let facts = &mut self.facts;
        match capture.location.field {
            Field::Number => set_required(&mut facts.number, value, element)?,
            Field::TypeCode => set_required(&mut facts.type_code, value, element)?,
            Field::Currency => {
                if !value.is_empty()
                    && (value.len() != 3 || !value.bytes().all(|byte| byte.is_ascii_uppercase()))
                {
                    return Err(EInvoiceError::InvalidCurrency {
                        element,
                        value: value.to_owned(),
                    });
                }
                set_required(&mut facts.currency, value, element)?;
            }
            Field::PayableAmount => {
                if !value.is_empty() && decimal_sign(value).is_none() {
                    return Err(EInvoiceError::InvalidAmount {
                        element,
                        value: value.to_owned(),
                    });
                }
                set_required(&mut facts.payable_amount, value, element)?;
                facts.payable_amount_currency = capture
                    .attribute
                    .map(|currency| currency.trim_matches(is_xml_whitespace).to_owned());
            }
            Field::IssueDate => {
                let date = parse_date(syntax, value, capture.attribute.as_deref(), element)?;
                if facts.issue_date.is_some() {
                    return Err(EInvoiceError::DuplicateElement { element });
                }
                facts.issue_date = Some(date);
            }
            Field::DueDate => {
                let date = parse_date(syntax, value, capture.attribute.as_deref(), element)?;
                facts.due_dates.push((date, element));
            }
            Field::SellerName => set_first(&mut facts.seller_name, non_empty(value)),
            Field::SellerTradingName => {
                set_first(&mut facts.seller_trading_name, non_empty(value));
            }
            Field::SellerTaxSchemeCompanyId => {
                set_first(&mut facts.seller_tax_scheme.company_id, non_empty(value));
            }
            Field::SellerTaxSchemeId => {
                set_first(&mut facts.seller_tax_scheme.scheme_id, non_empty(value));
            }
            Field::SellerTaxRegistration => {
                let scheme = capture
                    .attribute
                    .as_deref()
                    .map(|scheme| scheme.trim_matches(is_xml_whitespace));
                // EN 16931 BT-31 in CII: schemeID "VA" is the VAT id, "FC" a
                // local tax number.
                if scheme == Some("VA") {
                    set_first(&mut facts.seller_vat_id, non_empty(value));
                }
            }
            Field::SellerLegalId => set_first(&mut facts.seller_legal_id, non_empty(value)),
            Field::BuyerName => set_first(&mut facts.buyer_name, non_empty(value)),
            Field::BuyerTradingName => set_first(&mut facts.buyer_trading_name, non_empty(value)),
            Field::BuyerReference => set_first(&mut facts.buyer_reference, non_empty(value)),
            Field::PaymentReference => set_first(&mut facts.payment_reference, non_empty(value)),
            Field::BillingReference => set_first(&mut facts.billing_reference, non_empty(value)),
        }
        Ok(())
    }
}

fn non_empty(value: &str) -> Option<String> {
    (!value.is_empty()).then(|| value.to_owned())
}

/// Keeps the first value found: later ones are other occurrences of an
/// element the document may repeat (payment means, tax schemes).
fn set_first(slot: &mut Option<String>, value: Option<String>) {
    if slot.is_none() {
        *slot = value;
    }
}

/// Sets a fact the document must state exactly once.
fn set_required(
    slot: &mut Option<String>,
    value: &str,
    element: &'static str,
) -> Result<(), EInvoiceError> {
    if value.is_empty() {
        return Err(EInvoiceError::EmptyElement { element });
    }
    if slot.is_some() {
        return Err(EInvoiceError::DuplicateElement { element });
    }
    *slot = Some(value.to_owned());
    Ok(())
}

/// UBL dates are `YYYY-MM-DD` (xsd:date; EN 16931 allows no time zone). CII
/// dates are `YYYYMMDD` with format="102".
fn parse_date(
    syntax: Syntax,
    value: &str,
    format: Option<&str>,
    element: &'static str,
) -> Result<NaiveDate, EInvoiceError> {
    let (date, expected) = match syntax {
        Syntax::Ubl => (xml::parse_plain_date(value), "YYYY-MM-DD"),
        Syntax::Cii => {
            let Some(format) = format else {
                return Err(EInvoiceError::MissingAttribute {
                    element,
                    attribute: "format",
                });
            };
            if format.trim_matches(is_xml_whitespace) != CII_DATE_FORMAT {
                return Err(EInvoiceError::UnsupportedDateFormat {
                    element,
                    format: format.to_owned(),
                });
            }
            (parse_cii_date(value), "YYYYMMDD")
        }
    };
    date.ok_or_else(|| EInvoiceError::InvalidDate {
        element,
        value: value.to_owned(),
        expected,
    })
}

fn parse_cii_date(value: &str) -> Option<NaiveDate> {
    if value.len() != 8 {
        return None;
    }
    xml::date_from_digits(value.get(0..4)?, value.get(4..6)?, value.get(6..8)?)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Sign {
    Negative,
    Zero,
    Positive,
}

/// The sign of an xsd:decimal (`-12.50`, `+3`, `.5`, `7.`), or `None` if the
/// text is not one. No float is involved, so no digit is lost.
fn decimal_sign(text: &str) -> Option<Sign> {
    let (negative, unsigned) = match text.as_bytes().first() {
        Some(b'-') => (true, text.get(1..)?),
        Some(b'+') => (false, text.get(1..)?),
        _ => (false, text),
    };
    let (whole, fraction) = unsigned.split_once('.').unwrap_or((unsigned, ""));
    let digits_only = |part: &str| part.bytes().all(|byte| byte.is_ascii_digit());
    if whole.len() + fraction.len() == 0 || !digits_only(whole) || !digits_only(fraction) {
        return None;
    }
    let is_zero = whole
        .bytes()
        .chain(fraction.bytes())
        .all(|byte| byte == b'0');
    Some(match (is_zero, negative) {
        (true, _) => Sign::Zero,
        (false, true) => Sign::Negative,
        (false, false) => Sign::Positive,
    })
}

/// Checks the required facts and builds the document.
fn assemble(
    root: DocumentRoot,
    facts: Facts,
    sha256_hex: String,
) -> Result<ParsedDocument, EInvoiceError> {
    let profile = root.profile();
    let missing = |field| EInvoiceError::MissingElement {
        element: profile.element_of(field),
    };
    let number = facts.number.ok_or_else(|| missing(Field::Number))?;
    let type_code = facts.type_code.ok_or_else(|| missing(Field::TypeCode))?;
    let issue_date = facts.issue_date.ok_or_else(|| missing(Field::IssueDate))?;
    let currency = facts.currency.ok_or_else(|| missing(Field::Currency))?;
    let payable_amount = facts
        .payable_amount
        .ok_or_else(|| missing(Field::PayableAmount))?;
    if let Some(amount_currency) = facts.payable_amount_currency {
        if amount_currency != currency {
            return Err(EInvoiceError::CurrencyMismatch {
                element: profile.element_of(Field::PayableAmount),
                amount_currency,
                document_currency: currency,
            });
        }
    }
    let due_date = single_due_date(&facts.due_dates)?;
    let kind = if root == DocumentRoot::UblCreditNote
        || CREDIT_NOTE_TYPE_CODES.contains(&type_code.as_str())
    {
        DocumentKind::CreditNote
    } else {
        DocumentKind::Invoice
    };
    Ok(ParsedDocument {
        syntax: profile.syntax,
        kind,
        type_code,
        number,
        issue_date,
        due_date,
        currency,
        payable_amount,
        seller_name: facts.seller_name.or(facts.seller_trading_name),
        seller_tax_id: facts.seller_vat_id.or(facts.seller_legal_id),
        buyer_name: facts.buyer_name.or(facts.buyer_trading_name),
        buyer_reference: facts.buyer_reference,
        payment_reference: facts.payment_reference,
        billing_reference: facts.billing_reference,
        line_count: facts.line_count,
        sha256_hex,
    })
}

/// A document may state its due date in several places; they must agree,
/// because a financed invoice has one maturity.
fn single_due_date(
    due_dates: &[(NaiveDate, &'static str)],
) -> Result<Option<NaiveDate>, EInvoiceError> {
    let Some(&(first, first_element)) = due_dates.first() else {
        return Ok(None);
    };
    if let Some(&(second, second_element)) = due_dates.iter().find(|(date, _)| *date != first) {
        return Err(EInvoiceError::ConflictingDueDates {
            first,
            first_element,
            second,
            second_element,
        });
    }
    Ok(Some(first))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;
    use std::path::PathBuf;

    /// What one sample file says, read by hand from the file itself.
    struct Expected {
        file: &'static str,
        /// From SOURCES.md, so a changed sample is noticed.
        sha256: &'static str,
        syntax: Syntax,
        kind: DocumentKind,
        type_code: &'static str,
        number: &'static str,
        issue_date: (i32, u32, u32),
        due_date: Option<(i32, u32, u32)>,
        currency: &'static str,
        payable_amount: &'static str,
        seller_name: Option<&'static str>,
        seller_tax_id: Option<&'static str>,
        buyer_name: Option<&'static str>,
        buyer_reference: Option<&'static str>,
        payment_reference: Option<&'static str>,
        billing_reference: Option<&'static str>,
        line_count: usize,
        /// `Err` holds the exact refusal message of `check_financeable`.
        financeable: Result<(), &'static str>,
    }

    const EXPECTED: &[Expected] = &[
        Expected {
            file: "ubl/cen-BIS3_Invoice_negativ.xml",
            sha256: "8563b0537944baa16b85980e6bf95cb95c22df71cde946952d22c2a90e7315a7",
            syntax: Syntax::Ubl,
            kind: DocumentKind::Invoice,
            type_code: "380",
            number: "12345",
            issue_date: (2019, 1, 25),
            due_date: Some((2019, 2, 24)),
            currency: "DKK",
            payable_amount: "-782179.43",
            seller_name: Some("Company A"),
            seller_tax_id: Some("DK12345678"),
            buyer_name: Some("Company B"),
            buyer_reference: Some("n/a"),
            payment_reference: Some("12345667890"),
            billing_reference: None,
            line_count: 1,
            financeable: Err("negative payable amount -782179.43"),
        },
        Expected {
            file: "ubl/cen-BIS3_Invoice_positive.xml",
            sha256: "97f41a92907521c354945658707ca1cd4209b31489399051e75797ab59c4851b",
            syntax: Syntax::Ubl,
            kind: DocumentKind::Invoice,
            type_code: "380",
            number: "12345",
            issue_date: (2019, 1, 25),
            due_date: Some((2019, 2, 24)),
            currency: "DKK",
            payable_amount: "782179.43",
            seller_name: Some("Company A"),
            seller_tax_id: Some("DK12345678"),
            buyer_name: Some("Company B"),
            buyer_reference: Some("n/a"),
            payment_reference: Some("12345667890"),
            billing_reference: None,
            line_count: 1,
            financeable: Ok(()),
        },
        Expected {
            file: "ubl/cen-issue116.xml",
            sha256: "5de9cf220c7101735a337c99697a26758d449f59a13cc6ac6c9c3e9fd8749810",
            syntax: Syntax::Ubl,
            kind: DocumentKind::Invoice,
            type_code: "380",
            number: "2018210",
            issue_date: (2018, 2, 8),
            due_date: Some((2018, 3, 7)),
            currency: "SEK",
            payable_amount: "830",
            seller_name: Some("SÄLJARNAMNET"),
            seller_tax_id: Some("SE123456789001"),
            buyer_name: Some("Project services AB"),
            buyer_reference: Some("Buyer reference"),
            payment_reference: None,
            billing_reference: None,
            line_count: 4,
            financeable: Ok(()),
        },
        Expected {
            file: "ubl/cen-ubl-tc434-creditnote1.xml",
            sha256: "911d7ac2cb4fa72d21331c76914468e7d94eda03629e0def75c64ab18e3e9dce",
            syntax: Syntax::Ubl,
            kind: DocumentKind::CreditNote,
            type_code: "381",
            number: "018304 / 28865",
            issue_date: (2019, 9, 23),
            due_date: None,
            currency: "EUR",
            payable_amount: "100.11",
            seller_name: Some("My Supplier Company"),
            seller_tax_id: Some("BE0000000196"),
            buyer_name: Some("My Customer Company"),
            buyer_reference: Some("018304 / 28865"),
            payment_reference: Some("010676609538"),
            billing_reference: None,
            line_count: 1,
            financeable: Err("not an invoice: document 018304 / 28865 is a credit note (type code 381); credit notes are valid documents but cannot be registered as invoices"),
        },
        Expected {
            file: "ubl/cen-ubl-tc434-example1.xml",
            sha256: "507a03e3c45761c435cf81e4a32097bedb3cb9b724572a9989028a4dfc2c7b51",
            syntax: Syntax::Ubl,
            kind: DocumentKind::Invoice,
            type_code: "380",
            number: "12115118",
            issue_date: (2015, 1, 9),
            due_date: Some((2015, 1, 9)),
            currency: "EUR",
            payable_amount: "250.33",
            seller_name: Some("De Koksmaat"),
            seller_tax_id: Some("NL8200.98.395.B.01"),
            buyer_name: Some("ODIN 59"),
            buyer_reference: None,
            payment_reference: Some("Deb. 10202 / Fact. 12115118"),
            billing_reference: None,
            line_count: 20,
            financeable: Ok(()),
        },
        Expected {
            file: "ubl/cen-ubl-tc434-example2.xml",
            sha256: "1137eccac470c19b67706d6d9c568450ebb9e5596487e73f50f5c8164fc13506",
            syntax: Syntax::Ubl,
            kind: DocumentKind::Invoice,
            type_code: "380",
            number: "TOSL108",
            issue_date: (2013, 6, 30),
            due_date: Some((2013, 7, 20)),
            currency: "NOK",
            payable_amount: "801.78",
            seller_name: Some("Salescompany ltd."),
            seller_tax_id: Some("NO123456789MVA"),
            buyer_name: Some("The Buyercompany"),
            buyer_reference: None,
            payment_reference: Some("0003434323213231"),
            billing_reference: None,
            line_count: 5,
            financeable: Ok(()),
        },
        Expected {
            file: "ubl/cen-ubl-tc434-example5.xml",
            sha256: "6e27a93287a9866cebb2560d0028602a0984f1402b5b577332ce43e99bb83098",
            syntax: Syntax::Ubl,
            kind: DocumentKind::Invoice,
            type_code: "380",
            number: "TOSL110",
            issue_date: (2013, 4, 10),
            due_date: Some((2013, 5, 10)),
            currency: "DKK",
            payable_amount: "2337.50",
            // The legal name; the trading name (cac:PartyName) is "SelCo".
            seller_name: Some("SellerCompany"),
            // The VAT scheme's id, not the LOC one (the same text here).
            seller_tax_id: Some("NL16356706"),
            buyer_name: Some("Buyercompany ltd"),
            buyer_reference: Some("qwerty"),
            payment_reference: Some("Payref1"),
            billing_reference: Some("TOSL109"),
            line_count: 3,
            financeable: Ok(()),
        },
        Expected {
            file: "ubl/cen-ubl-tc434-example7.xml",
            sha256: "2cde5675a74214cb995ed99830a1150b00fa14758ebc76ac1f9786bd28b49039",
            syntax: Syntax::Ubl,
            kind: DocumentKind::Invoice,
            type_code: "380",
            number: "INVOICE_test_7",
            issue_date: (2013, 3, 11),
            due_date: None,
            currency: "SEK",
            payable_amount: "3200.00",
            seller_name: Some("The Sellercompany Incorporated"),
            seller_tax_id: None,
            buyer_name: Some("THe Buyercompany"),
            buyer_reference: None,
            payment_reference: None,
            billing_reference: None,
            line_count: 2,
            financeable: Err("missing due date: invoice INVOICE_test_7 has no cbc:DueDate, and an invoice cannot be financed without one"),
        },
        Expected {
            file: "ubl/gobl-invoice-peppol.xml",
            sha256: "7b7dbd4120e875e3f2ac50a9773c5a610e4c80595838c2713c099099fcec3d10",
            syntax: Syntax::Ubl,
            kind: DocumentKind::Invoice,
            type_code: "380",
            number: "POP000274-128-20210525T044541",
            issue_date: (2021, 5, 25),
            due_date: Some((2021, 6, 24)),
            currency: "EUR",
            payable_amount: "6740.00",
            seller_name: Some("Acme Corporation"),
            seller_tax_id: Some("BE0000000000"),
            buyer_name: Some("OpenPEPPOL AISBL Testbed Operations"),
            buyer_reference: Some("9392277012"),
            payment_reference: None,
            billing_reference: None,
            line_count: 5,
            financeable: Ok(()),
        },
        Expected {
            file: "ubl/gobl-peppol-credit-note.xml",
            sha256: "5bac017aeddcf475eec7d9b26ee49a0c206fa811455512c799ea49aec2de004b",
            syntax: Syntax::Ubl,
            kind: DocumentKind::CreditNote,
            type_code: "381",
            number: "CN-002",
            issue_date: (2024, 2, 14),
            due_date: None,
            currency: "EUR",
            payable_amount: "2178.00",
            seller_name: Some("Provide One GmbH"),
            seller_tax_id: Some("DE111111125"),
            buyer_name: Some("Sample Consumer"),
            buyer_reference: Some("XR-2024-4"),
            payment_reference: None,
            billing_reference: Some("F-001"),
            line_count: 1,
            financeable: Err("not an invoice: document CN-002 is a credit note (type code 381); credit notes are valid documents but cannot be registered as invoices"),
        },
        Expected {
            file: "ubl/gobl-peppol-invoice-partially-paid.xml",
            sha256: "3a75f83128060192ed2c66c4be1e29cade2b11f30cc7e172e80f12de7c795e09",
            syntax: Syntax::Ubl,
            kind: DocumentKind::Invoice,
            type_code: "380",
            number: "PARTIAL-001",
            issue_date: (2024, 5, 15),
            due_date: None,
            currency: "EUR",
            payable_amount: "1142.00",
            seller_name: Some("Provide One GmbH"),
            seller_tax_id: Some("DE111111125"),
            buyer_name: Some("Sample Consumer"),
            buyer_reference: Some("PO-2024-001"),
            payment_reference: Some("0003434323213231"),
            billing_reference: None,
            line_count: 1,
            financeable: Err("missing due date: invoice PARTIAL-001 has no cbc:DueDate, and an invoice cannot be financed without one"),
        },
        Expected {
            file: "ubl/xrechnung-01.18a-INVOICE_ubl.xml",
            sha256: "55f90ad3793e46131eabfdbd36a4d2c3f9c989313ff0e44b7da72a2d6fde0be0",
            syntax: Syntax::Ubl,
            kind: DocumentKind::Invoice,
            type_code: "384",
            number: "PRG1502112",
            issue_date: (2015, 4, 24),
            due_date: None,
            currency: "EUR",
            // Written with one decimal in the file (SOURCES.md says 10555.30).
            payable_amount: "10555.3",
            seller_name: Some("[Seller name]"),
            seller_tax_id: Some("DE123456789"),
            buyer_name: Some("[Buyer name]"),
            buyer_reference: Some("99000000-18188-18"),
            payment_reference: None,
            billing_reference: Some("PRG1502168"),
            line_count: 4,
            financeable: Err("missing due date: invoice PRG1502112 has no cbc:DueDate, and an invoice cannot be financed without one"),
        },
        Expected {
            file: "ubl/xrechnung-03.06a-INVOICE_ubl.xml",
            sha256: "e6a5cd7fce70f9b729db01be2e035e87b2cba594fb436b8c554d39defbcc3a4a",
            syntax: Syntax::Ubl,
            kind: DocumentKind::Invoice,
            type_code: "380",
            number: "112233",
            issue_date: (2021, 4, 23),
            due_date: Some((2021, 4, 28)),
            currency: "EUR",
            payable_amount: "1804.00",
            seller_name: Some("Testverkäufer"),
            seller_tax_id: Some("DE12345464867"),
            buyer_name: Some("Testkäufer"),
            buyer_reference: Some("991-33333TEST-33"),
            payment_reference: None,
            billing_reference: None,
            line_count: 4,
            financeable: Ok(()),
        },
        Expected {
            file: "cii/cen-CII_example2.xml",
            sha256: "2ce8286333f4c2019166c505642963e1222f54c18558ae4210fd41fd5d526b2f",
            syntax: Syntax::Cii,
            kind: DocumentKind::Invoice,
            type_code: "380",
            number: "TOSL108",
            issue_date: (2013, 6, 30),
            due_date: Some((2013, 7, 20)),
            currency: "NOK",
            payable_amount: "801.78",
            seller_name: Some("Salescompany ltd."),
            seller_tax_id: Some("NO123456789MVA"),
            buyer_name: Some("The Buyercompany"),
            buyer_reference: None,
            payment_reference: Some("0003434323213231"),
            billing_reference: None,
            line_count: 5,
            financeable: Ok(()),
        },
        Expected {
            file: "cii/cen-CII_example5.xml",
            sha256: "473b2f9bd47b807804db7f8729eecbdd4b404c6232aca31262897bd5371d802b",
            syntax: Syntax::Cii,
            kind: DocumentKind::Invoice,
            type_code: "380",
            number: "TOSL110",
            issue_date: (2013, 4, 10),
            due_date: Some((2013, 5, 10)),
            currency: "DKK",
            // "2337.50" in the UBL form of the same invoice.
            payable_amount: "2337.5",
            seller_name: Some("SellerCompany"),
            seller_tax_id: Some("NL16356706"),
            buyer_name: Some("Buyercompany ltd"),
            buyer_reference: Some("qwerty"),
            payment_reference: Some("Payref1"),
            billing_reference: Some("TOSL109"),
            line_count: 3,
            financeable: Ok(()),
        },
    ];

    fn samples_directory() -> PathBuf {
        let directory = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/samples");
        // Fail, never skip: a missing sample set must not pass silently.
        assert!(
            directory.is_dir(),
            "sample directory {} does not exist",
            directory.display()
        );
        directory
    }

    fn read_sample(file: &str) -> Vec<u8> {
        let path = samples_directory().join(file);
        std::fs::read(&path).unwrap_or_else(|error| panic!("reading {}: {error}", path.display()))
    }

    fn date((year, month, day): (i32, u32, u32)) -> NaiveDate {
        NaiveDate::from_ymd_opt(year, month, day).expect("a valid date in the test table")
    }

    fn owned(value: Option<&str>) -> Option<String> {
        value.map(str::to_owned)
    }

    #[test]
    fn every_sample_file_has_an_expectation_and_every_expectation_a_file() {
        let directory = samples_directory();
        let mut on_disk = BTreeSet::new();
        for subdirectory in ["ubl", "cii"] {
            let entries = std::fs::read_dir(directory.join(subdirectory))
                .unwrap_or_else(|error| panic!("listing {subdirectory}: {error}"));
            for entry in entries {
                let entry = entry.expect("a directory entry");
                on_disk.insert(format!(
                    "{subdirectory}/{}",
                    entry.file_name().to_string_lossy()
                ));
            }
        }
        let expected: BTreeSet<String> = EXPECTED
            .iter()
            .map(|expected| expected.file.to_owned())
            .collect();
        assert_eq!(on_disk, expected);
    }

    #[test]
    fn every_sample_parses_to_the_figures_written_in_it() {
        for expected in EXPECTED {
            let bytes = read_sample(expected.file);
            let document =
                parse(&bytes).unwrap_or_else(|error| panic!("{}: refused: {error}", expected.file));
            let wanted = ParsedDocument {
                syntax: expected.syntax,
                kind: expected.kind,
                type_code: expected.type_code.to_owned(),
                number: expected.number.to_owned(),
                issue_date: date(expected.issue_date),
                due_date: expected.due_date.map(date),
                currency: expected.currency.to_owned(),
                payable_amount: expected.payable_amount.to_owned(),
                seller_name: owned(expected.seller_name),
                seller_tax_id: owned(expected.seller_tax_id),
                buyer_name: owned(expected.buyer_name),
                buyer_reference: owned(expected.buyer_reference),
                payment_reference: owned(expected.payment_reference),
                billing_reference: owned(expected.billing_reference),
                line_count: expected.line_count,
                sha256_hex: expected.sha256.to_owned(),
            };
            assert_eq!(document, wanted, "{}", expected.file);
        }
    }

    #[test]
    fn every_sample_is_accepted_or_refused_for_financing_as_expected() {
        for expected in EXPECTED {
            let bytes = read_sample(expected.file);
            let document =
                parse(&bytes).unwrap_or_else(|error| panic!("{}: refused: {error}", expected.file));
            let verdict = check_financeable(&document).map_err(|error| error.to_string());
            assert_eq!(
                verdict,
                expected.financeable.map_err(str::to_owned),
                "{}",
                expected.file
            );
        }
    }

    #[test]
    fn the_ubl_and_cii_forms_of_one_invoice_agree() {
        for (ubl, cii) in [
            ("ubl/cen-ubl-tc434-example2.xml", "cii/cen-CII_example2.xml"),
            ("ubl/cen-ubl-tc434-example5.xml", "cii/cen-CII_example5.xml"),
        ] {
            let ubl = parse(&read_sample(ubl)).expect("the UBL form parses");
            let cii = parse(&read_sample(cii)).expect("the CII form parses");
            let comparable = |document: &ParsedDocument| ParsedDocument {
                syntax: Syntax::Ubl,
                // Written "2337.50" in one, "2337.5" in the other.
                payable_amount: document.payable_amount.trim_end_matches('0').to_owned(),
                sha256_hex: String::new(),
                ..document.clone()
            };
            assert_eq!(comparable(&ubl), comparable(&cii));
        }
    }

    /// A minimal UBL invoice with the given extra content after the totals.
    fn ubl_invoice(header: &str, lines: &str) -> String {
        format!(
            r#"<?xml version="1.0" encoding="UTF-8"?>
<Invoice xmlns="urn:oasis:names:specification:ubl:schema:xsd:Invoice-2"
         xmlns:cac="urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2"
         xmlns:cbc="urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2">
  {header}
  <cac:LegalMonetaryTotal>
    <cbc:PayableAmount currencyID="EUR">100.00</cbc:PayableAmount>
  </cac:LegalMonetaryTotal>
  {lines}
</Invoice>
"#
        )
    }

    const MINIMAL_HEADER: &str = r#"<cbc:ID>INV-1</cbc:ID>
  <cbc:IssueDate>2024-01-31</cbc:IssueDate>
  <cbc:DueDate>2024-03-01</cbc:DueDate>
  <cbc:InvoiceTypeCode>380</cbc:InvoiceTypeCode>
  <cbc:DocumentCurrencyCode>EUR</cbc:DocumentCurrencyCode>"#;

    fn message(result: Result<ParsedDocument, EInvoiceError>) -> String {
        match result {
            Ok(document) => panic!("accepted: {document:?}"),
            Err(error) => error.to_string(),
        }
    }

    #[test]
    fn a_minimal_invoice_parses_and_is_financeable() {
        let document = parse(ubl_invoice(MINIMAL_HEADER, "").as_bytes()).expect("parses");
        assert_eq!(document.number, "INV-1");
        assert_eq!(document.due_date, Some(date((2024, 3, 1))));
        assert_eq!(document.line_count, 0);
        assert_eq!(check_financeable(&document), Ok(()));
    }

    #[test]
    fn a_doctype_with_an_entity_is_refused() {
        let header = MINIMAL_HEADER.replace("INV-1", "&boom;");
        let document = ubl_invoice(&header, "").replace(
            "<Invoice ",
            "<!DOCTYPE Invoice [<!ENTITY boom \"BOOM\"><!ENTITY lol \"&boom;&boom;&boom;\">]>\n<Invoice ",
        );
        assert_eq!(
            parse(document.as_bytes()),
            Err(EInvoiceError::Xml(XmlError::DoctypeNotAccepted))
        );
        assert_eq!(
            message(parse(document.as_bytes())),
            "a DOCTYPE is not accepted: e-invoices never need one, and entities are not expanded"
        );
        // Even a DOCTYPE that declares nothing.
        let plain =
            ubl_invoice(MINIMAL_HEADER, "").replace("<Invoice ", "<!DOCTYPE Invoice>\n<Invoice ");
        assert_eq!(
            parse(plain.as_bytes()),
            Err(EInvoiceError::Xml(XmlError::DoctypeNotAccepted))
        );
    }

    #[test]
    fn an_undeclared_entity_is_refused() {
        let header = MINIMAL_HEADER.replace("INV-1", "INV&boom;");
        let refused = message(parse(ubl_invoice(&header, "").as_bytes()));
        assert!(
            refused.starts_with("not well-formed XML at byte "),
            "{refused}"
        );
        assert!(refused.ends_with("undeclared entity &boom;"), "{refused}");
    }

    #[test]
    fn an_oversized_input_is_refused_before_reading_it() {
        let bytes = vec![b' '; DOCUMENT_BYTES_MAX + 1];
        assert_eq!(
            message(parse(&bytes)),
            "document is larger than 4194304 bytes (4194305 bytes given)"
        );
    }

    #[test]
    fn an_input_of_exactly_the_limit_is_read() {
        let mut bytes = ubl_invoice(MINIMAL_HEADER, "").into_bytes();
        // Trailing whitespace after the root element is allowed.
        bytes.resize(DOCUMENT_BYTES_MAX, b'\n');
        let document = parse(&bytes).expect("a document of exactly the limit parses");
        assert_eq!(document.number, "INV-1");
    }

    #[test]
    fn truncated_xml_is_refused_with_a_clear_error() {
        let bytes = read_sample("ubl/cen-BIS3_Invoice_positive.xml");
        let half = &bytes[..bytes.len() / 2];
        let refused = message(parse(half));
        assert!(
            refused.starts_with(&format!("not well-formed XML at byte {}: ", half.len())),
            "{refused}"
        );
        assert!(refused.contains("is not closed"), "{refused}");

        // Cut inside a tag: the reader's own syntax error, with a position.
        let inside_tag =
            b"<Invoice xmlns=\"urn:oasis:names:specification:ubl:schema:xsd:Invoice-2\"><cbc:ID";
        let refused = message(parse(inside_tag));
        assert!(
            refused.starts_with("not well-formed XML at byte "),
            "{refused}"
        );

        // Whatever the cut before the closing root tag, the document is refused.
        let end_of_root = bytes.len() - "</Invoice>\n".len();
        for cut in (0..end_of_root).step_by(37) {
            assert!(
                parse(&bytes[..cut]).is_err(),
                "accepted when cut at byte {cut}"
            );
        }
    }

    #[test]
    fn a_document_without_a_root_invoice_element_is_refused() {
        assert_eq!(
            message(parse(
                b"<?xml version=\"1.0\"?><Order xmlns=\"urn:oasis:names:specification:ubl:schema:xsd:Order-2\"><ID>1</ID></Order>"
            )),
            "unknown root element <Order> in namespace \"urn:oasis:names:specification:ubl:schema:xsd:Order-2\": expected a UBL Invoice or CreditNote, or a CII CrossIndustryInvoice"
        );
        // The right local name in no namespace is not a UBL invoice.
        assert_eq!(
            message(parse(b"<Invoice><ID>1</ID></Invoice>")),
            "unknown root element <Invoice> without a namespace: expected a UBL Invoice or CreditNote, or a CII CrossIndustryInvoice"
        );
        // Nor is an Invoice in the credit note's namespace.
        assert!(matches!(
            parse(
                b"<Invoice xmlns=\"urn:oasis:names:specification:ubl:schema:xsd:CreditNote-2\"/>"
            ),
            Err(EInvoiceError::UnknownRootElement { .. })
        ));
        assert_eq!(parse(b""), Err(EInvoiceError::Xml(XmlError::NoRootElement)));
        assert_eq!(
            message(parse(
                b"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<!-- nothing -->\n"
            )),
            "no root element: the input holds no XML element"
        );
    }

    #[test]
    fn text_is_unescaped() {
        let header = MINIMAL_HEADER.replace("INV-1", "A&amp;B &#x41;&#66; &lt;<![CDATA[&x]]>");
        let document = parse(ubl_invoice(&header, "").as_bytes()).expect("parses");
        assert_eq!(document.number, "A&B AB <&x");
    }

    #[test]
    fn prefixes_do_not_matter_but_namespaces_do() {
        let document = ubl_invoice(MINIMAL_HEADER, "")
            .replace("xmlns:cbc=", "xmlns:b=")
            .replace("<cbc:", "<b:")
            .replace("</cbc:", "</b:");
        assert_eq!(parse(document.as_bytes()).expect("parses").number, "INV-1");

        // A cbc:ID in another namespace is not the invoice number.
        let header = MINIMAL_HEADER.replace(
            "<cbc:ID>INV-1</cbc:ID>",
            "<x:ID xmlns:x=\"urn:example\">INV-1</x:ID>",
        );
        assert_eq!(
            parse(ubl_invoice(&header, "").as_bytes()),
            Err(EInvoiceError::MissingElement { element: "cbc:ID" })
        );
    }

    #[test]
    fn line_ids_are_not_the_document_number() {
        let header = MINIMAL_HEADER.replace("<cbc:ID>INV-1</cbc:ID>", "");
        let lines = "<cac:InvoiceLine><cbc:ID>1</cbc:ID></cac:InvoiceLine>";
        assert_eq!(
            message(parse(ubl_invoice(&header, lines).as_bytes())),
            "missing cbc:ID"
        );
    }

    #[test]
    fn a_second_document_number_is_refused() {
        let header = format!("{MINIMAL_HEADER}<cbc:ID>INV-2</cbc:ID>");
        assert_eq!(
            message(parse(ubl_invoice(&header, "").as_bytes())),
            "more than one cbc:ID"
        );
    }

    #[test]
    fn too_deep_nesting_is_refused() {
        let depth_below_root = ELEMENT_DEPTH_MAX - 1;
        let nest = |levels: usize| {
            let header = format!(
                "{MINIMAL_HEADER}{}{}",
                "<cac:X>".repeat(levels),
                "</cac:X>".repeat(levels)
            );
            parse(ubl_invoice(&header, "").as_bytes())
        };
        assert!(nest(depth_below_root).is_ok());
        let refused = message(nest(depth_below_root + 1));
        assert!(
            refused.starts_with("too deeply nested: more than 64 levels of elements at byte "),
            "{refused}"
        );
    }

    #[test]
    fn too_many_attributes_are_refused() {
        let many = (0..=ATTRIBUTES_PER_ELEMENT_MAX)
            .map(|index| format!("a{index}=\"\""))
            .collect::<Vec<_>>()
            .join(" ");
        let header = format!("{MINIMAL_HEADER}<cac:X {many}/>");
        let refused = message(parse(ubl_invoice(&header, "").as_bytes()));
        assert!(
            refused.starts_with("too many attributes: more than 64 on the element at byte "),
            "{refused}"
        );
    }

    #[test]
    fn too_many_namespace_declarations_are_refused() {
        // Split over two levels: what counts is the number in scope.
        let declarations = |from: usize, to: usize| {
            (from..to)
                .map(|index| format!("xmlns:p{index}=\"urn:example:{index}\""))
                .collect::<Vec<_>>()
                .join(" ")
        };
        // The template declares three namespaces on the root.
        let in_scope = NAMESPACE_DECLARATIONS_IN_SCOPE_MAX - 3;
        let nested = |count: usize| {
            let header = format!(
                "{MINIMAL_HEADER}<cac:X {}><cac:Y {}/></cac:X><cac:Z {}/>",
                declarations(0, count / 2),
                declarations(count / 2, count),
                declarations(0, count / 2),
            );
            parse(ubl_invoice(&header, "").as_bytes())
        };
        assert!(nested(in_scope).is_ok());
        let refused = message(nested(in_scope + 1));
        assert!(
            refused.starts_with("too many namespace declarations: more than 64 in scope at byte "),
            "{refused}"
        );
    }

    #[test]
    fn encodings_other_than_utf8_are_refused() {
        let latin = ubl_invoice(MINIMAL_HEADER, "").replace("UTF-8", "ISO-8859-1");
        assert_eq!(
            message(parse(latin.as_bytes())),
            "unsupported encoding \"ISO-8859-1\": e-invoices must be encoded in UTF-8"
        );
        let mut invalid = ubl_invoice(MINIMAL_HEADER, "").into_bytes();
        let position = invalid.len() - 20;
        invalid[position] = 0xFF;
        assert_eq!(
            parse(&invalid),
            Err(EInvoiceError::Xml(XmlError::NotUtf8 { position }))
        );
        assert!(matches!(
            parse(&[0xFF, 0xFE, b'<', 0]),
            Err(EInvoiceError::Xml(XmlError::UnsupportedEncoding { .. }))
        ));
        // A UTF-8 byte order mark is fine.
        let mut marked = vec![0xEF, 0xBB, 0xBF];
        marked.extend_from_slice(ubl_invoice(MINIMAL_HEADER, "").as_bytes());
        assert_eq!(parse(&marked).expect("parses").number, "INV-1");
    }

    #[test]
    fn content_after_the_root_element_is_refused() {
        let two_roots = format!("{}<Invoice/>", ubl_invoice(MINIMAL_HEADER, ""));
        let refused = message(parse(two_roots.as_bytes()));
        assert!(
            refused.ends_with("a second root element <Invoice> follows the document element"),
            "{refused}"
        );
        let trailing_text = format!("{}trailing", ubl_invoice(MINIMAL_HEADER, ""));
        assert!(
            message(parse(trailing_text.as_bytes())).ends_with("content outside the root element")
        );
    }

    #[test]
    fn malformed_values_are_refused_naming_the_element() {
        let cases = [
            (
                MINIMAL_HEADER.replace("2024-01-31", "31.01.2024"),
                "invalid date \"31.01.2024\" in cbc:IssueDate: expected YYYY-MM-DD",
            ),
            (
                MINIMAL_HEADER.replace("2024-03-01", "2024-02-30"),
                "invalid date \"2024-02-30\" in cbc:DueDate: expected YYYY-MM-DD",
            ),
            (
                MINIMAL_HEADER.replace(">EUR<", ">eur<"),
                "invalid currency code \"eur\" in cbc:DocumentCurrencyCode: expected three capital letters such as EUR",
            ),
            (
                MINIMAL_HEADER.replace(">EUR<", ">NOK<"),
                "cac:LegalMonetaryTotal/cbc:PayableAmount is in EUR but the document currency is NOK",
            ),
            (
                MINIMAL_HEADER.replace("<cbc:DueDate>2024-03-01</cbc:DueDate>", ""),
                "",
            ),
            (
                format!("{MINIMAL_HEADER}<cac:PaymentTerms><cbc:PaymentDueDate>2024-04-01</cbc:PaymentDueDate></cac:PaymentTerms>"),
                "conflicting due dates: cbc:DueDate says 2024-03-01 but cac:PaymentTerms/cbc:PaymentDueDate says 2024-04-01",
            ),
            (
                MINIMAL_HEADER.replace("<cbc:InvoiceTypeCode>380</cbc:InvoiceTypeCode>", "<cbc:InvoiceTypeCode> </cbc:InvoiceTypeCode>"),
                "empty cbc:InvoiceTypeCode",
            ),
        ];
        for (header, expected) in cases {
            let result = parse(ubl_invoice(&header, "").as_bytes());
            if expected.is_empty() {
                assert_eq!(result.expect("parses").due_date, None);
            } else {
                assert_eq!(message(result), expected);
            }
        }
        let comma = ubl_invoice(MINIMAL_HEADER, "").replace(">100.00<", ">100,00<");
        assert_eq!(
            message(parse(comma.as_bytes())),
            "invalid amount \"100,00\" in cac:LegalMonetaryTotal/cbc:PayableAmount: expected a decimal number such as 1234.56"
        );
    }

    #[test]
    fn a_credit_note_type_code_makes_a_credit_note_even_in_an_invoice() {
        let header = MINIMAL_HEADER.replace(">380<", ">381<");
        let document = parse(ubl_invoice(&header, "").as_bytes()).expect("parses");
        assert_eq!(document.kind, DocumentKind::CreditNote);
        assert!(matches!(
            check_financeable(&document),
            Err(EInvoiceError::NotAnInvoice { .. })
        ));
    }

    #[test]
    fn a_zero_payable_amount_is_not_financeable() {
        let bytes = read_sample("ubl/cen-BIS3_Invoice_positive.xml");
        let document = parse(&bytes).expect("parses");
        for zero in ["0", "0.00", "-0.00", "+.0"] {
            let zeroed = ParsedDocument {
                payable_amount: zero.to_owned(),
                ..document.clone()
            };
            assert_eq!(
                check_financeable(&zeroed).map_err(|error| error.to_string()),
                Err(format!("zero payable amount {zero}"))
            );
        }
    }

    #[test]
    fn decimal_signs() {
        assert_eq!(decimal_sign("801.78"), Some(Sign::Positive));
        assert_eq!(decimal_sign("+1"), Some(Sign::Positive));
        assert_eq!(decimal_sign(".5"), Some(Sign::Positive));
        assert_eq!(decimal_sign("7."), Some(Sign::Positive));
        assert_eq!(decimal_sign("-782179.43"), Some(Sign::Negative));
        assert_eq!(decimal_sign("-0.00"), Some(Sign::Zero));
        for invalid in ["", "-", ".", "1,00", "1e3", "1.2.3", " 1", "--1", "NaN"] {
            assert_eq!(decimal_sign(invalid), None, "{invalid:?}");
        }
    }

    #[test]
    fn every_profile_names_the_elements_of_its_required_facts() {
        for profile in [&UBL_INVOICE_PROFILE, &UBL_CREDIT_NOTE_PROFILE, &CII_PROFILE] {
            for field in [
                Field::Number,
                Field::TypeCode,
                Field::IssueDate,
                Field::DueDate,
                Field::Currency,
                Field::PayableAmount,
            ] {
                assert_ne!(profile.element_of(field), "(unknown element)", "{field:?}");
            }
        }
    }
}
