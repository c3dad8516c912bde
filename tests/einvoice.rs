//! Every UBL and CII sample is imported through the API with exactly the
//! document's figures, or refused with a clear reason; on every backend.

mod common;

use chrono::NaiveDate;
use common::*;
use scfledger::formats::einvoice;
use serde_json::json;
use sha2::{Digest, Sha256};

fn samples() -> Vec<std::path::PathBuf> {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/samples");
    let mut files: Vec<_> = ["ubl", "cii"]
        .iter()
        .flat_map(|folder| {
            std::fs::read_dir(root.join(folder))
                .expect("tests/samples must exist")
                .map(|e| e.unwrap().path())
        })
        .collect();
    files.sort();
    assert_eq!(files.len(), 15, "13 UBL and 2 CII samples");
    files
}

#[test]
fn every_sample_is_imported_exactly_or_refused_with_a_reason() {
    for backend in backends() {
        let db = TestDb::new(backend);
        let (base, token) = spawn_app(
            &db,
            scfledger::services::clock::Clock::fixed_at(
                NaiveDate::from_ymd_opt(2026, 1, 1).unwrap(),
            ),
        );
        let operator = Client::new(&base, &token);
        for (id, role) in [("ret-bulk", "retailer"), ("fund-bulk", "funder")] {
            assert_eq!(
                operator
                    .post(
                        "/api/v1/parties",
                        &json!({"party_id": id, "role": role, "name": id})
                    )
                    .0,
                201
            );
        }
        let http = reqwest::blocking::Client::new();
        let mut imported = Vec::new();
        let mut refused = Vec::new();
        let mut duplicates = Vec::new();
        for (n, path) in samples().into_iter().enumerate() {
            let bytes = std::fs::read(&path).unwrap();
            let name = path.file_name().unwrap().to_string_lossy().to_string();
            // What the document says, read independently of the server.
            let document = einvoice::parse(&bytes).unwrap_or_else(|e| panic!("{name}: {e}"));
            let currency = document.currency.to_lowercase();
            let program_id = format!("prog-{currency}");
            let program = json!({"program_id": program_id, "retailer_id": "ret-bulk", "funder_id": "fund-bulk", "currency": document.currency,
                "advance_rate": "0.8", "discount_rate": "0.1", "day_count": "ACT/365", "tenor_min_days": 0, "tenor_max_days": 365,
                "grace_days": 0, "late_rate": "0.1", "default_days": 30, "recourse": true, "program_limit": "10000000.00",
                "retailer_limit": "10000000.00", "supplier_limit_fixed": "1000000.00"});
            let _ = operator.post("/api/v1/programs", &program);
            let supplier_id = format!("sup-{n}");
            let tax_id = document
                .seller_tax_id
                .clone()
                .unwrap_or_else(|| format!("TAX{n}"));
            assert_eq!(operator.post("/api/v1/parties", &json!({"party_id": supplier_id, "role": "supplier", "name": name, "tax_id": tax_id})).0, 201);
            enrol(&operator, &program_id, &supplier_id);
            let response = http
                .post(format!("{base}/api/v1/invoices/einvoice?program_id={program_id}&supplier_id={supplier_id}"))
                .bearer_auth(&token)
                .header("Idempotency-Key", format!("doc-{n}"))
                .header("Content-Type", "application/xml")
                .body(bytes.clone())
                .send()
                .unwrap();
            let status = response.status().as_u16();
            let body: serde_json::Value = response.json().unwrap();
            if status == 201 {
                let invoice_id = body["id"].as_str().unwrap();
                let (_, invoice) = operator.get(&format!("/api/v1/invoices/{invoice_id}"));
                let padded = scfledger::domain::Currency::parse(&document.currency)
                    .unwrap()
                    .parse_amount_padded(&document.payable_amount)
                    .unwrap();
                assert_eq!(invoice["invoice_number"], json!(document.number), "{name}");
                assert_eq!(
                    invoice["issue_date"],
                    json!(document.issue_date.to_string()),
                    "{name}"
                );
                assert_eq!(
                    invoice["due_date"],
                    json!(document.due_date.unwrap().to_string()),
                    "{name}"
                );
                assert_eq!(invoice["currency"], json!(document.currency), "{name}");
                assert_eq!(
                    invoice["amount"],
                    json!(scfledger::domain::Currency::parse(&document.currency)
                        .unwrap()
                        .format_amount(padded)),
                    "{name}"
                );
                let (_, receipt) =
                    operator.get(&format!("/api/v1/receipts/{}", body["receipt"]["seq"]));
                assert_eq!(
                    receipt["entry"]["body"]["document_sha256"],
                    json!(hex::encode(Sha256::digest(&bytes))),
                    "{name}"
                );
                imported.push((name, invoice["amount"].as_str().unwrap().to_string()));
            } else if status == 409 {
                // The UBL and CII forms of one invoice: the double-financing guard holds across channels.
                assert_eq!(body["code"], "duplicate_invoice", "{name}: {body}");
                duplicates.push(name);
            } else {
                assert_eq!(
                    (status, body["code"].as_str()),
                    (422, Some("einvoice_refused")),
                    "{name}: {body}"
                );
                refused.push((name, body["detail"].as_str().unwrap().to_string()));
            }
        }
        let imported_names: Vec<(&str, &str)> = imported
            .iter()
            .map(|(n, a)| (n.as_str(), a.as_str()))
            .collect();
        assert_eq!(
            imported_names,
            vec![
                ("cen-CII_example2.xml", "801.78"),
                ("cen-CII_example5.xml", "2337.50"),
                ("cen-BIS3_Invoice_positive.xml", "782179.43"),
                ("cen-issue116.xml", "830.00"),
                ("cen-ubl-tc434-example1.xml", "250.33"),
                ("gobl-invoice-peppol.xml", "6740.00"),
                ("xrechnung-03.06a-INVOICE_ubl.xml", "1804.00"),
            ],
            "{backend}"
        );
        assert_eq!(
            duplicates,
            vec!["cen-ubl-tc434-example2.xml", "cen-ubl-tc434-example5.xml"],
            "{backend}: TOSL108 and TOSL110 came first as CII"
        );
        let reasons: Vec<(&str, bool)> = refused
            .iter()
            .map(|(n, d)| {
                (
                    n.as_str(),
                    d.contains("negative payable amount")
                        || d.contains("missing due date")
                        || d.contains("credit note"),
                )
            })
            .collect();
        assert_eq!(reasons.len(), 6, "{backend}: {refused:?}");
        assert!(
            reasons.iter().all(|(_, clear)| *clear),
            "{backend}: {refused:?}"
        );
        assert!(refused
            .iter()
            .any(|(n, d)| n == "cen-BIS3_Invoice_negativ.xml"
                && d.contains("negative payable amount -782179.43")));
        // The same document for another supplier, or again: the seller check and the double-financing guard.
        let bytes = std::fs::read(
            std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("tests/samples/ubl/cen-ubl-tc434-example1.xml"),
        )
        .unwrap();
        let again = http
            .post(format!(
                "{base}/api/v1/invoices/einvoice?program_id=prog-eur&supplier_id=sup-0"
            ))
            .bearer_auth(&token)
            .header("Idempotency-Key", "doc-again")
            .body(bytes)
            .send()
            .unwrap();
        let body: serde_json::Value = again.json().unwrap();
        assert_eq!(body["code"], "seller_mismatch", "{backend}: {body}");
    }
}
