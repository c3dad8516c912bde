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
mod tests;
