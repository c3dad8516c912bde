//! The e-invoice parser against every sample document and each refusal it names.

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
        parse(b"<Invoice xmlns=\"urn:oasis:names:specification:ubl:schema:xsd:CreditNote-2\"/>"),
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
    assert!(message(parse(trailing_text.as_bytes())).ends_with("content outside the root element"));
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
