//! The ERP API end to end on every backend: from API key to settled invoice,
//! idempotency, the authorization matrix, and a walk over the OpenAPI document.

mod common;

use chrono::NaiveDate;
use common::*;
use serde_json::{json, Value};

/// A programme set up through the API; returns clients per role and the invoice id.
struct World {
    base: String,
    operator: Client,
    supplier: Client,
    other_supplier: Client,
    retailer: Client,
    other_retailer: Client,
    funder: Client,
    auditor: Client,
    invoice_id: String,
    _db: TestDb,
}

fn key_for(operator: &Client, party: &str, role: &str) -> String {
    let (status, body) = operator.post(
        "/api/v1/api-keys",
        &json!({"party_id": party, "role": role, "label": "test"}),
    );
    assert_eq!(status, 201, "{body}");
    body["token"].as_str().unwrap().to_string()
}

fn world(backend: &str) -> World {
    let db = TestDb::new(backend);
    let clock =
        scfledger::services::clock::Clock::fixed_at(NaiveDate::from_ymd_opt(2026, 1, 1).unwrap());
    let (base, operator_token) = spawn_app(&db, clock);
    let operator = Client::new(&base, &operator_token);
    for (id, role, name, tax) in [
        ("ret-hansa", "retailer", "Hansa Retail AG", None),
        ("ret-other", "retailer", "Other Retail", None),
        ("fund-nord", "funder", "Nordbank Capital", None),
        (
            "sup-acme",
            "supplier",
            "Acme Textiles GmbH",
            Some("DE123456789"),
        ),
        ("sup-other", "supplier", "Other Supplier", Some("FR999")),
        ("aud-kpmg", "auditor", "Audit LLP", None),
    ] {
        let (status, body) = operator.post(
            "/api/v1/parties",
            &json!({"party_id": id, "role": role, "name": name, "tax_id": tax}),
        );
        assert_eq!(status, 201, "{backend}: {body}");
    }
    let program = json!({"program_id": "prog-hansa", "retailer_id": "ret-hansa", "funder_id": "fund-nord", "currency": "EUR",
        "advance_rate": "0.90", "discount_rate": "0.12", "day_count": "ACT/360", "tenor_min_days": 10, "tenor_max_days": 120,
        "grace_days": 5, "late_rate": "0.18", "default_days": 30, "recourse": true, "program_limit": "1000000.00",
        "retailer_limit": "1000000.00", "supplier_limit_fixed": "500000.00", "supplier_limit_multiple": null});
    assert_eq!(
        operator.post("/api/v1/programs", &program).0,
        201,
        "{backend}"
    );
    enrol(&operator, "prog-hansa", "sup-acme");
    assert_eq!(
        operator
            .post(
                "/api/v1/funders/fund-nord/deposits",
                &json!({"currency": "EUR", "amount": "100000.00"})
            )
            .0,
        201
    );
    let client = |party, role| Client::new(&base, &key_for(&operator, party, role));
    let supplier = client("sup-acme", "supplier");
    let (status, body) = supplier.post("/api/v1/invoices", &json!({"program_id": "prog-hansa", "invoice_number": "INV-A",
        "issue_date": "2026-01-01", "due_date": "2026-03-02", "currency": "EUR", "amount": "10000.00"}));
    assert_eq!(status, 201, "{backend}: {body}");
    let invoice_id = body["id"].as_str().unwrap().to_string();
    World {
        other_supplier: client("sup-other", "supplier"),
        retailer: client("ret-hansa", "retailer"),
        other_retailer: client("ret-other", "retailer"),
        funder: client("fund-nord", "funder"),
        auditor: client("aud-kpmg", "auditor"),
        base,
        operator,
        supplier,
        invoice_id,
        _db: db,
    }
}

#[test]
fn from_api_key_to_settled_invoice() {
    for backend in backends() {
        let w = world(backend);
        let id = &w.invoice_id;
        // Bulk confirmation: one real payable, one unknown.
        let (status, body) = w.retailer.post(
            "/api/v1/confirmations",
            &json!({"confirmations": [{"invoice_id": id}, {"invoice_id": "inv-999"}]}),
        );
        assert_eq!(status, 200, "{backend}: {body}");
        assert_eq!(body["results"][0]["recorded"]["id"], json!(id));
        assert_eq!(body["results"][1]["problem"]["code"], "not_found");
        let (status, quote) = w.supplier.get(&format!("/api/v1/invoices/{id}/quote"));
        assert_eq!(status, 200, "{backend}: {quote}");
        assert_eq!(
            (
                quote["principal"].as_str(),
                quote["fee"].as_str(),
                quote["net"].as_str()
            ),
            (Some("9000.00"), Some("180.00"), Some("8820.00"))
        );
        assert_eq!(
            (quote["days"].as_i64(), quote["eligible"].as_bool()),
            (Some(60), Some(true))
        );
        // 180 / 8,820 × 360 / 60 = 12.24%.
        assert_eq!(quote["effective_annual_rate"], "0.1224");
        assert_eq!(quote["rules"].as_array().unwrap().len(), 11);
        let (status, advance) = w
            .supplier
            .post(&format!("/api/v1/invoices/{id}/advance"), &json!({}));
        assert_eq!(status, 201, "{backend}: {advance}");
        let (status, again) = w
            .supplier
            .post(&format!("/api/v1/invoices/{id}/advance"), &json!({}));
        assert_eq!(
            (status, again["code"].as_str()),
            (422, Some("advance_declined")),
            "{backend}: {again}"
        );
        let (status, body) = w.operator.post(
            "/api/v1/payments",
            &json!({"retailer_id": "ret-hansa", "currency": "EUR", "amount": "10000.00",
            "value_date": "2026-03-02", "reference": "RF18INVA", "invoice_ids": [id]}),
        );
        assert_eq!(status, 201, "{backend}: {body}");
        let (_, invoice) = w.supplier.get(&format!("/api/v1/invoices/{id}"));
        assert_eq!(
            (
                invoice["status"].as_str(),
                invoice["paid"].as_str(),
                invoice["open"].as_str()
            ),
            (Some("settled"), Some("10000.00"), Some("0.00"))
        );
        assert_eq!(invoice["advance"]["principal_outstanding"], "0.00");
        // The supplier's statement: reserve credited 1,000.00 then released.
        let (status, statement) = w.supplier.get("/api/v1/statements?currency=EUR");
        assert_eq!(status, 200, "{statement}");
        let lines: Vec<(&str, &str)> = statement["data"]
            .as_array()
            .unwrap()
            .iter()
            .map(|l| {
                (
                    l["amount"].as_str().unwrap(),
                    l["balance_after"].as_str().unwrap(),
                )
            })
            .collect();
        assert_eq!(
            lines,
            vec![("-1000.00", "-1000.00"), ("1000.00", "0.00")],
            "{backend}"
        );
        let (_, balances) = w.funder.get("/api/v1/balances");
        let cash = balances["data"]
            .as_array()
            .unwrap()
            .iter()
            .find(|b| b["account"] == "funder:fund-nord:cash")
            .unwrap();
        assert_eq!(cash["balance"], "-100180.00", "{backend}: 180.00 earned");
        // The receipt of the advance verifies against the checkpoint.
        let seq = advance["receipt"]["seq"].as_i64().unwrap();
        let (status, receipt) = w.supplier.get(&format!("/api/v1/receipts/{seq}"));
        assert_eq!(status, 200);
        assert_eq!(receipt["entry"]["kind"], "advance.accepted");
        // The supplier's feed holds its invoice's story; the other supplier's holds none of it.
        let (_, feed) = w.supplier.get("/api/v1/events");
        let kinds: Vec<&str> = feed["data"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["kind"].as_str().unwrap())
            .collect();
        assert_eq!(
            kinds,
            vec![
                "party.registered",
                "program.supplier_enrolled",
                "invoice.registered",
                "invoice.confirmed",
                "advance.accepted",
                "payment.received"
            ],
            "{backend}"
        );
        let (_, other_feed) = w.other_supplier.get("/api/v1/events");
        let other_kinds: Vec<&str> = other_feed["data"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["kind"].as_str().unwrap())
            .collect();
        assert_eq!(other_kinds, vec!["party.registered"], "{backend}");
    }
}

#[test]
fn idempotency_keys_replay_or_conflict() {
    for backend in backends() {
        let w = world(backend);
        let body = json!({"program_id": "prog-hansa", "invoice_number": "INV-IDEM", "issue_date": "2026-01-01", "due_date": "2026-03-02", "currency": "EUR", "amount": "50.00"});
        let (first, replayed) = w
            .supplier
            .post_with_key("/api/v1/invoices", &body, "erp-order-42");
        assert_eq!((first.0, replayed), (201, false), "{backend}: {}", first.1);
        let (second, replayed) =
            w.supplier
                .post_with_key("/api/v1/invoices", &body, "erp-order-42");
        assert_eq!((second.0, replayed), (201, true));
        assert_eq!(
            first.1, second.1,
            "{backend}: the same answer, byte for byte"
        );
        let other = json!({"program_id": "prog-hansa", "invoice_number": "INV-IDEM-2", "issue_date": "2026-01-01", "due_date": "2026-03-02", "currency": "EUR", "amount": "50.00"});
        let ((status, problem), _) =
            w.supplier
                .post_with_key("/api/v1/invoices", &other, "erp-order-42");
        assert_eq!(
            (status, problem["code"].as_str(), problem["field"].as_str()),
            (409, Some("idempotency_key_reused"), Some("Idempotency-Key"))
        );
        assert!(problem["detail"].as_str().unwrap().contains("erp-order-42"));
        // A refusal is remembered too.
        let bad = json!({"program_id": "prog-hansa", "invoice_number": "INV-BAD", "issue_date": "2026-01-01", "due_date": "2025-03-02", "currency": "EUR", "amount": "50.00"});
        let (refused, _) = w
            .supplier
            .post_with_key("/api/v1/invoices", &bad, "erp-order-43");
        let (again, replayed) = w
            .supplier
            .post_with_key("/api/v1/invoices", &bad, "erp-order-43");
        assert_eq!(
            (refused.0, again.0, replayed),
            (422, 422, true),
            "{backend}"
        );
        assert_eq!(refused.1["field"], "due_date");
        // Keys are per credential: another key may reuse the name.
        let (third, replayed) = w.operator.post_with_key("/api/v1/invoices", &json!({"program_id": "prog-hansa", "supplier_id": "sup-acme", "invoice_number": "INV-OP",
            "issue_date": "2026-01-01", "due_date": "2026-03-02", "currency": "EUR", "amount": "60.00"}), "erp-order-42");
        assert_eq!((third.0, replayed), (201, false), "{backend}: {}", third.1);
        let (page, _) = (w.supplier.get("/api/v1/invoices?limit=200").1, ());
        assert_eq!(
            page["data"].as_array().unwrap().len(),
            3,
            "{backend}: INV-A, INV-IDEM, INV-OP"
        );
    }
}

#[test]
fn every_role_is_refused_other_parties_data() {
    for backend in backends() {
        let w = world(backend);
        let id = &w.invoice_id;
        let (status, _) = w
            .retailer
            .post(&format!("/api/v1/invoices/{id}/confirm"), &json!({}));
        assert_eq!(status, 201);
        let (_, advance) = w
            .supplier
            .post(&format!("/api/v1/invoices/{id}/advance"), &json!({}));
        let advance_seq = advance["receipt"]["seq"].as_i64().unwrap();
        let invoice = format!("/api/v1/invoices/{id}");
        let quote = format!("/api/v1/invoices/{id}/quote");
        let receipt = format!("/api/v1/receipts/{advance_seq}");
        // (client, path, expected status) for reads.
        let reads: Vec<(&Client, &str, u16)> = vec![
            (&w.supplier, &invoice, 200),
            (&w.retailer, &invoice, 200),
            (&w.funder, &invoice, 200),
            (&w.auditor, &invoice, 200),
            (&w.operator, &invoice, 200),
            (&w.other_supplier, &invoice, 404),
            (&w.other_retailer, &invoice, 404),
            (&w.other_supplier, &quote, 404),
            (&w.retailer, &quote, 404),
            (&w.funder, &quote, 404),
            (&w.supplier, &receipt, 200),
            (&w.funder, &receipt, 200),
            (&w.other_supplier, &receipt, 404),
            (&w.other_retailer, &receipt, 404),
            (&w.other_supplier, "/api/v1/parties/sup-acme", 404),
            (&w.retailer, "/api/v1/parties/sup-acme", 404),
            (&w.supplier, "/api/v1/parties/sup-acme", 200),
            (&w.other_retailer, "/api/v1/programs/prog-hansa", 404),
            (&w.other_supplier, "/api/v1/programs/prog-hansa", 404),
            (&w.supplier, "/api/v1/programs/prog-hansa", 200),
            (&w.funder, "/api/v1/programs/prog-hansa", 200),
            (&w.supplier, "/api/v1/log/entries", 403),
            (&w.retailer, "/api/v1/log/entries", 403),
            (&w.funder, "/api/v1/log/entries", 403),
            (&w.auditor, "/api/v1/log/entries", 200),
        ];
        for (client, path, expected) in reads {
            let (status, body) = client.get(path);
            assert_eq!(
                status,
                expected,
                "{backend}: GET {path} with {} gave {body}",
                &client.token[..20]
            );
            if expected >= 400 {
                assert!(
                    body.get("invoice_id").is_none() && body.get("entry").is_none(),
                    "{backend}: no data in refusals"
                );
            }
        }
        // Listings and balances only ever show one's own.
        for client in [&w.other_supplier, &w.other_retailer] {
            let (_, page) = client.get("/api/v1/invoices");
            assert_eq!(page["data"], json!([]), "{backend}");
            let (_, balances) = client.get("/api/v1/balances");
            assert_eq!(balances["data"], json!([]), "{backend}");
            let (_, statement) =
                client.get("/api/v1/statements?currency=EUR&account_prefix=supplier:sup-acme:");
            assert_eq!(
                statement["data"],
                json!([]),
                "{backend}: a party cannot name another's accounts"
            );
        }
        // Writes by the wrong role or party.
        let writes: Vec<(&Client, String, Value, u16)> = vec![
            (
                &w.supplier,
                "/api/v1/parties".into(),
                json!({"party_id": "x", "role": "supplier", "name": "x", "tax_id": "1"}),
                403,
            ),
            (&w.funder, "/api/v1/programs".into(), json!({}), 403),
            (
                &w.auditor,
                "/api/v1/api-keys".into(),
                json!({"party_id": "aud-kpmg", "role": "operator"}),
                403,
            ),
            (
                &w.supplier,
                format!("/api/v1/invoices/{id}/confirm"),
                json!({}),
                403,
            ),
            (
                &w.other_retailer,
                format!("/api/v1/invoices/{id}/dispute"),
                json!({"reason": "no"}),
                404,
            ),
            (
                &w.other_supplier,
                format!("/api/v1/invoices/{id}/advance"),
                json!({}),
                404,
            ),
            (
                &w.other_supplier,
                format!("/api/v1/invoices/{id}/credit-notes"),
                json!({"credit_note_number": "X", "amount": "1.00"}),
                404,
            ),
            (
                &w.funder,
                format!("/api/v1/invoices/{id}/advance"),
                json!({}),
                403,
            ),
            (&w.retailer, "/api/v1/payments".into(), json!({}), 403),
            (
                &w.other_supplier,
                "/api/v1/invoices".into(),
                json!({"program_id": "prog-hansa", "supplier_id": "sup-acme", "invoice_number": "Z", "issue_date": "2026-01-01", "due_date": "2026-02-01", "currency": "EUR", "amount": "1.00"}),
                403,
            ),
            (&w.auditor, "/api/v1/journal".into(), json!({}), 403),
        ];
        for (client, path, body, expected) in writes {
            let (status, answer) = client.post(&path, &body);
            assert_eq!(status, expected, "{backend}: POST {path} gave {answer}");
        }
        // A revoked key stops working at once.
        let token = key_for(&w.operator, "sup-other", "supplier");
        let key_id = token.split('_').nth(1).unwrap().to_string();
        assert_eq!(Client::new(&w.base, &token).get("/api/v1/invoices").0, 200);
        assert_eq!(
            w.operator.delete(&format!("/api/v1/api-keys/{key_id}")).0,
            204
        );
        assert_eq!(
            Client::new(&w.base, &token).get("/api/v1/invoices").0,
            401,
            "{backend}"
        );
    }
}

#[test]
fn the_openapi_document_and_the_server_agree() {
    let w = world("sqlite");
    let (status, document) = w.operator.get("/api/v1/openapi.json");
    assert_eq!(status, 200);
    assert!(document["openapi"].as_str().unwrap().starts_with("3.1"));
    let html = reqwest::blocking::get(format!("{}/docs/", w.base)).unwrap();
    assert_eq!(html.status(), 200);
    assert!(
        html.text().unwrap().contains("swagger-ui"),
        "the browsable page is served from the binary"
    );
    let id = w.invoice_id.clone();
    let mut operations = 0;
    for (path, item) in document["paths"].as_object().unwrap() {
        let concrete = path
            .replace("{invoice_id}", &id)
            .replace("{party_id}", "sup-acme")
            .replace("{program_id}", "prog-hansa")
            .replace("{funder_id}", "fund-nord")
            .replace("{key_id}", "0000000000000000")
            .replace("{seq}", "1")
            .replace("{subscription_id}", "wh-0000000000000000")
            .replace("{line_id}", "bl-000000000000000000000000");
        for (method, operation) in item.as_object().unwrap() {
            let query = match path.as_str() {
                "/api/v1/statements" => "?currency=EUR&account_prefix=supplier:sup-acme:",
                "/api/v1/log/proof/inclusion" => "?seq=0",
                "/api/v1/log/proof/consistency" => "?first=1",
                "/api/v1/invoices/einvoice" => "?program_id=prog-hansa",
                _ => "",
            };
            let url = format!("{concrete}{query}");
            let (status, body) = match method.as_str() {
                "get" => w.operator.get(&url),
                "post" => w.operator.post(&url, &json!({})),
                "delete" => w.operator.delete(&url),
                other => panic!("undocumented method {other}"),
            };
            let documented = operation["responses"].as_object().unwrap();
            assert!(
                documented.contains_key(&status.to_string()),
                "{method} {url}: {status} is not documented ({body})"
            );
            assert!(status < 500, "{method} {url}: {status} {body}");
            if status >= 400 {
                assert!(
                    body["code"].is_string(),
                    "{method} {url}: a problem has a code: {body}"
                );
                let codes = &documented[&status.to_string()]["content"]["application/problem+json"]
                    ["schema"]["allOf"][1]["properties"]["code"]["enum"];
                assert!(
                    codes.as_array().unwrap().contains(&body["code"]),
                    "{method} {url}: {} is not among the documented {codes}",
                    body["code"]
                );
            }
            operations += 1;
        }
    }
    assert_eq!(operations, 56, "every operation was called");
}

/// utoipa names a schema by its type's name and keeps the last of two alike,
/// so two response types with one name would document one route wrongly.
#[test]
fn every_documented_type_has_its_own_name() {
    let pattern = regex::Regex::new(
        r"#\[derive\([^)]*ToSchema[^)]*\)\]\s*(?:#\[[^\]]*\]\s*)*pub (?:struct|enum) (\w+)",
    )
    .unwrap();
    let mut seen: std::collections::BTreeMap<String, String> = Default::default();
    let mut folders = vec![std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("src")];
    while let Some(folder) = folders.pop() {
        for item in std::fs::read_dir(&folder).unwrap() {
            let path = item.unwrap().path();
            if path.is_dir() {
                folders.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                let text = std::fs::read_to_string(&path).unwrap();
                for found in pattern.captures_iter(&text) {
                    let name = found[1].to_string();
                    let place = path.display().to_string();
                    if let Some(other) = seen.insert(name.clone(), place.clone()) {
                        panic!("{name} is documented twice: in {other} and in {place}");
                    }
                }
            }
        }
    }
    assert!(
        seen.len() > 30,
        "found only {} documented types",
        seen.len()
    );
}

/// Pages of a statement put together are the unpaged statement, for every
/// page size: a cursor never splits an entry's postings or skips them.
#[test]
fn statement_pages_put_together_are_the_whole_statement() {
    for backend in backends() {
        let w = world(backend);
        let mut ids = vec![w.invoice_id.clone()];
        for (number, amount) in [
            ("INV-B", "2500.00"),
            ("INV-C", "1234.56"),
            ("INV-D", "800.00"),
        ] {
            let (status, body) = w.supplier.post("/api/v1/invoices", &json!({"program_id": "prog-hansa", "invoice_number": number,
                "issue_date": "2026-01-01", "due_date": "2026-03-02", "currency": "EUR", "amount": amount}));
            assert_eq!(status, 201, "{backend}: {body}");
            ids.push(body["id"].as_str().unwrap().to_string());
        }
        for id in &ids {
            let (status, body) = w
                .retailer
                .post(&format!("/api/v1/invoices/{id}/confirm"), &json!({}));
            assert_eq!(status, 201, "{backend}: {body}");
            let (status, body) = w
                .supplier
                .post(&format!("/api/v1/invoices/{id}/advance"), &json!({}));
            assert_eq!(status, 201, "{backend}: {body}");
        }
        // One payment settles three invoices at once: an entry with many postings.
        let (status, body) = w.operator.post(
            "/api/v1/payments",
            &json!({"retailer_id": "ret-hansa", "currency": "EUR", "amount": "13734.56",
            "value_date": "2026-03-02", "reference": "lump", "invoice_ids": [ids[0], ids[1], ids[2]]}),
        );
        assert_eq!(status, 201, "{backend}: {body}");
        for (client, prefix) in [
            (&w.operator, "funder:fund-nord:"),
            (&w.operator, "supplier:sup-acme:"),
            (&w.funder, ""),
            (&w.supplier, ""),
        ] {
            let query = format!("/api/v1/statements?currency=EUR&account_prefix={prefix}");
            let (status, whole) = client.get(&format!("{query}&limit=200"));
            assert_eq!(status, 200, "{backend}: {whole}");
            let whole_lines = whole["data"].as_array().unwrap().clone();
            assert_eq!(
                (&whole["has_more"], &whole["next_cursor"]),
                (&json!(false), &Value::Null)
            );
            assert!(whole_lines.len() >= 7, "{backend} {prefix}: {whole}");
            // Each line also carries its own account's balance after it.
            let cents = |text: &str| text.replace('.', "").parse::<i64>().unwrap();
            let mut accounts = std::collections::BTreeMap::<String, i64>::new();
            for line in &whole_lines {
                let balance = accounts
                    .entry(line["account"].as_str().unwrap().to_string())
                    .or_insert(0);
                *balance += cents(line["amount"].as_str().unwrap());
                assert_eq!(
                    cents(line["account_balance_after"].as_str().unwrap()),
                    *balance,
                    "{backend} {prefix}: {line}"
                );
            }
            for page_size in 1..=whole_lines.len() + 1 {
                let mut paged = Vec::new();
                let mut cursor = String::new();
                for _ in 0..=whole_lines.len() {
                    let (status, page) = client.get(&format!("{query}&limit={page_size}{cursor}"));
                    assert_eq!(status, 200, "{backend}: {page}");
                    paged.extend(page["data"].as_array().unwrap().iter().cloned());
                    assert_eq!(page["has_more"], page["next_cursor"].is_string());
                    match page["next_cursor"].as_str() {
                        Some(next) => cursor = format!("&cursor={next}"),
                        None => break,
                    }
                }
                let amounts = |lines: &[Value]| -> Vec<(i64, String, String, String)> {
                    lines
                        .iter()
                        .map(|l| {
                            (
                                l["seq"].as_i64().unwrap(),
                                l["account"].as_str().unwrap().to_string(),
                                l["amount"].as_str().unwrap().to_string(),
                                l["balance_after"].as_str().unwrap().to_string(),
                            )
                        })
                        .collect()
                };
                assert_eq!(
                    amounts(&paged),
                    amounts(&whole_lines),
                    "{backend} {prefix}: pages of {page_size}"
                );
            }
        }
    }
}

/// A key claimed by a process that died before it finished is free at the
/// next start; the same JSON spaced differently is the same request.
#[test]
fn unfinished_keys_are_freed_at_start_and_json_counts_by_content() {
    use sha2::{Digest, Sha256};
    for backend in backends() {
        let db = TestDb::new(backend);
        let operator = scfledger::domain::PartyId::parse("op-treasury").unwrap();
        let (ledger, writer) = start(&db);
        ledger
            .submit_blocking(
                scfledger::services::party::RegisterParty::parse(
                    &operator,
                    "op-treasury",
                    "operator",
                    "Treasury",
                    None,
                    None,
                )
                .unwrap(),
            )
            .unwrap();
        drop(ledger);
        writer.join().unwrap();
        let mut connection = db.connect();
        let token = scfledger::services::api_keys::create(
            &mut connection,
            &operator,
            scfledger::domain::Role::Operator,
            "tests",
        )
        .unwrap()
        .token;
        let scope = hex::encode(Sha256::digest(format!("Bearer {token}").as_bytes()));
        // What a SIGKILL between claiming the key and committing left behind
        // in a release that stored claims.
        let claimed = scfledger::db::idempotency::insert_answer(
            &mut connection,
            &scfledger::db::idempotency::IdempotencyRow {
                scope,
                idempotency_key: "crashed-1".into(),
                request_sha256: "0".repeat(64),
                status_code: None,
                response_body: None,
                created_at: chrono::Utc::now().naive_utc(),
            },
        )
        .unwrap();
        assert!(claimed);
        let clock = scfledger::services::clock::Clock::fixed_at(
            NaiveDate::from_ymd_opt(2026, 1, 1).unwrap(),
        );
        let (base, _) = spawn_app(&db, clock);
        let client = Client::new(&base, &token);
        let body = json!({"memo": "after the crash", "postings": [
            {"account": "a", "currency": "EUR", "amount": "1.00"},
            {"account": "b", "currency": "EUR", "amount": "-1.00"}]});
        let ((status, first), replayed) =
            client.post_with_key("/api/v1/journal", &body, "crashed-1");
        assert_eq!((status, replayed), (201, false), "{backend}: {first}");
        // The same request with other white space and member order replays.
        let spaced = "{ \"postings\" : [ {\"currency\":\"EUR\", \"account\":\"a\", \"amount\":\"1.00\"},\n {\"account\":\"b\",\"currency\":\"EUR\",\"amount\":\"-1.00\"} ],\n \"memo\" : \"after the crash\" }";
        let response = reqwest::blocking::Client::new()
            .post(format!("{base}/api/v1/journal"))
            .bearer_auth(&token)
            .header("Idempotency-Key", "crashed-1")
            .header("Content-Type", "application/json")
            .body(spaced)
            .send()
            .unwrap();
        assert_eq!(response.status().as_u16(), 201, "{backend}");
        assert!(response.headers().contains_key("Idempotent-Replayed"));
        let again: Value = response.json().unwrap();
        assert_eq!(again, first, "{backend}: the committed answer");
        // The answer was stored by the writer with its entry.
        let mut connection = db.connect();
        assert_eq!(
            scfledger::db::log::entry_count(&mut connection).unwrap(),
            2,
            "{backend}: the operator's party and the one journal entry"
        );
    }
}

/// A credential's role is the role its party holds, and its party exists.
#[test]
fn credentials_have_the_role_their_party_holds() {
    for backend in backends() {
        let w = world(backend);
        for (party, role, status, code) in [
            ("sup-acme", "operator", 422, Some("role_not_held")),
            ("sup-acme", "auditor", 422, Some("role_not_held")),
            ("ret-hansa", "supplier", 422, Some("role_not_held")),
            ("sup-nobody", "supplier", 422, Some("unknown_party")),
            ("op-nobody", "operator", 422, Some("unknown_party")),
            ("sup-acme", "supplier", 201, None),
        ] {
            let (answer_status, answer) = w.operator.post(
                "/api/v1/api-keys",
                &json!({"party_id": party, "role": role, "label": "t"}),
            );
            assert_eq!(
                (answer_status, answer["code"].as_str()),
                (status, code),
                "{backend}: {party} as {role}: {answer}"
            );
        }
    }
}

/// Only a programme's members register invoices in it; its operator or its
/// retailer enrols them, once.
#[test]
fn suppliers_register_only_in_programmes_they_are_enrolled_in() {
    for backend in backends() {
        let w = world(backend);
        let invoice = json!({"program_id": "prog-hansa", "invoice_number": "O-1", "issue_date": "2026-01-01",
            "due_date": "2026-03-02", "currency": "EUR", "amount": "100.00"});
        let (status, refused) = w.other_supplier.post("/api/v1/invoices", &invoice);
        assert_eq!(
            (status, refused["code"].as_str(), refused["field"].as_str()),
            (422, Some("not_enrolled"), Some("program_id")),
            "{backend}: {refused}"
        );
        let enrolment = json!({"supplier_id": "sup-other"});
        let path = "/api/v1/programs/prog-hansa/suppliers";
        assert_eq!(w.other_retailer.post(path, &enrolment).0, 404, "{backend}");
        assert_eq!(w.other_supplier.post(path, &enrolment).0, 403, "{backend}");
        assert_eq!(
            w.other_supplier.get("/api/v1/programs/prog-hansa").0,
            404,
            "{backend}"
        );
        let (status, body) = w.retailer.post(path, &enrolment);
        assert_eq!(status, 201, "{backend}: {body}");
        let (status, again) = w.operator.post(path, &enrolment);
        assert_eq!(
            (status, again["code"].as_str()),
            (409, Some("already_enrolled")),
            "{backend}"
        );
        let (status, body) = w.operator.post(path, &json!({"supplier_id": "ret-other"}));
        assert_eq!(status, 422, "{backend}: a retailer is no supplier: {body}");
        assert_eq!(
            w.other_supplier.get("/api/v1/programs/prog-hansa").0,
            200,
            "{backend}"
        );
        let (status, body) = w.other_supplier.post("/api/v1/invoices", &invoice);
        assert_eq!(status, 201, "{backend}: {body}");
    }
}

/// A supplier sees its own limit and whether each rule passed, never another
/// party's figures; the operator sees the decision in full, and its withheld
/// inputs match the entry's commitment.
#[test]
fn a_supplier_never_sees_other_parties_figures() {
    use sha2::{Digest, Sha256};
    for backend in backends() {
        let w = world(backend);
        let id = &w.invoice_id;
        assert_eq!(
            w.retailer
                .post(&format!("/api/v1/invoices/{id}/confirm"), &json!({}))
                .0,
            201
        );
        let rule = |quote: &Value, name: &str| -> (String, String) {
            let found = quote["rules"]
                .as_array()
                .unwrap()
                .iter()
                .find(|r| r["rule"] == name)
                .unwrap_or_else(|| panic!("no rule {name}: {quote}"));
            (
                found["input"].as_str().unwrap().to_string(),
                found["threshold"].as_str().unwrap().to_string(),
            )
        };
        let (_, quote) = w.supplier.get(&format!("/api/v1/invoices/{id}/quote"));
        for name in ["retailer_limit", "program_limit", "funder_liquidity"] {
            assert_eq!(
                rule(&quote, name),
                ("withheld".into(), "withheld".into()),
                "{backend}: {name}"
            );
        }
        assert_eq!(
            rule(&quote, "supplier_limit"),
            ("0.00 used + 9000.00 = 9000.00".into(), "500000.00".into()),
            "{backend}: the supplier's own limit"
        );
        let (_, full) = w.operator.get(&format!("/api/v1/invoices/{id}/quote"));
        assert_eq!(
            rule(&full, "funder_liquidity"),
            ("100000.00 available".into(), "net 8820.00".into()),
            "{backend}"
        );
        let (status, advance) = w
            .supplier
            .post(&format!("/api/v1/invoices/{id}/advance"), &json!({}));
        assert_eq!(status, 201, "{backend}: {advance}");
        let seq = advance["receipt"]["seq"].as_i64().unwrap();
        let (_, receipt) = w.supplier.get(&format!("/api/v1/receipts/{seq}"));
        let text = receipt.to_string();
        assert!(
            !text.contains("100000.00") && !text.contains("1000000.00"),
            "{backend}: {text}"
        );
        assert!(receipt.get("disclosure").is_none(), "{backend}");
        let commitment = receipt["entry"]["body"]["confidential_inputs_sha256"]
            .as_str()
            .unwrap()
            .to_string();
        let (_, audited) = w.auditor.get(&format!("/api/v1/receipts/{seq}"));
        let disclosure = &audited["disclosure"];
        let canonical = scfledger::ledger::jcs::canonical_bytes(disclosure).unwrap();
        assert_eq!(
            hex::encode(Sha256::digest(&canonical)),
            commitment,
            "{backend}"
        );
        assert_eq!(
            disclosure["rules"][2],
            json!({"rule": "funder_liquidity", "input": "100000.00 available", "threshold": "net 8820.00", "passed": true}),
            "{backend}"
        );
        let mut connection = w._db.connect();
        assert_eq!(
            scfledger::services::advance::disclosure::check_disclosures(&mut connection),
            Ok(1),
            "{backend}"
        );
    }
}

/// What browsers, monitors and careless clients send at the edges.
#[test]
fn the_edges_answer_clearly() {
    for backend in backends() {
        the_edges_answer_clearly_on(backend);
    }
}

fn the_edges_answer_clearly_on(backend: &str) {
    let w = world(backend);
    let http = reqwest::blocking::Client::new();
    // HEAD answers like GET, without a body.
    for path in ["/", "/ledger", "/healthz", "/static/style.css"] {
        let response = http.head(format!("{}{path}", w.base)).send().unwrap();
        assert_eq!(response.status().as_u16(), 200, "HEAD {path}");
        assert_eq!(response.bytes().unwrap().len(), 0, "HEAD {path}");
    }
    let icon = http.get(format!("{}/favicon.ico", w.base)).send().unwrap();
    assert_eq!(icon.status().as_u16(), 200);
    assert_eq!(icon.headers()["content-type"], "image/x-icon");
    assert_eq!(&icon.bytes().unwrap()[..4], &[0, 0, 1, 0]);
    // An unknown page: HTML with a way back for a browser, problem+json for a client.
    let page = http
        .get(format!("{}/nowhere", w.base))
        .header("Accept", "text/html,application/xhtml+xml")
        .send()
        .unwrap();
    assert_eq!(page.status().as_u16(), 404);
    assert!(page.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/html"));
    assert!(page.text().unwrap().contains("href=\"/\""));
    let (status, problem) = w.operator.get("/nowhere");
    assert_eq!((status, problem["code"].as_str()), (404, Some("not_found")));
    // A path segment of the wrong type is problem+json too.
    let receipt = http
        .get(format!("{}/api/v1/receipts/abc", w.base))
        .bearer_auth(&w.operator.token)
        .send()
        .unwrap();
    assert_eq!(receipt.status().as_u16(), 404);
    assert_eq!(
        receipt.headers()["content-type"],
        "application/problem+json"
    );
    // JSON must say it is JSON.
    let journal = json!({"memo": "x", "postings": [
        {"account": "a", "currency": "EUR", "amount": "1.00"}, {"account": "b", "currency": "EUR", "amount": "-1.00"}]})
    .to_string();
    for content_type in [Some("text/plain"), Some("application/xml"), None] {
        let mut request = http
            .post(format!("{}/api/v1/journal", w.base))
            .bearer_auth(&w.operator.token)
            .header("Idempotency-Key", format!("ct-{content_type:?}"))
            .body(journal.clone());
        if let Some(content_type) = content_type {
            request = request.header("Content-Type", content_type);
        }
        let response = request.send().unwrap();
        assert_eq!(response.status().as_u16(), 415, "{content_type:?}");
        let problem: Value = response.json().unwrap();
        assert_eq!(problem["code"], "unsupported_media_type");
    }
    // Control and bidi characters are refused with a code; the same lookalike
    // invoice number is a duplicate.
    for (number, name) in [("RD\u{0}77", "NUL"), ("RD\u{202E}77", "bidi override")] {
        let (status, problem) = w.supplier.post("/api/v1/invoices", &json!({"program_id": "prog-hansa", "invoice_number": number,
            "issue_date": "2026-01-01", "due_date": "2026-03-02", "currency": "EUR", "amount": "10.00"}));
        assert_eq!(
            (status, problem["code"].as_str(), problem["field"].as_str()),
            (422, Some("invalid_text"), Some("invoice_number")),
            "{name}: {problem}"
        );
    }
    let (status, problem) = w.operator.post(
        "/api/v1/parties",
        &json!({"party_id": "sup-evil", "role": "supplier",
        "name": "Evil\u{202E}Corp", "tax_id": "X1"}),
    );
    assert_eq!(
        (status, problem["code"].as_str()),
        (422, Some("invalid_text")),
        "{problem}"
    );
    let (status, problem) = w.supplier.get("/api/v1/invoices/%00");
    assert_eq!(
        (status, problem["code"].as_str()),
        (400, Some("invalid_path")),
        "{problem}"
    );
    let register = |number: &str| {
        w.supplier.post("/api/v1/invoices", &json!({"program_id": "prog-hansa", "invoice_number": number,
            "issue_date": "2026-01-01", "due_date": "2026-03-02", "currency": "EUR", "amount": "77.00"}))
    };
    assert_eq!(register("PD-77").0, 201);
    for lookalike in ["РD-77", "ＰＤ-77", "PD-077", "pd 77"] {
        let (status, problem) = register(lookalike);
        assert_eq!(
            (status, problem["code"].as_str()),
            (409, Some("duplicate_invoice")),
            "{lookalike}: {problem}"
        );
    }
    // No accepted amount can overflow a balance.
    let (status, problem) = w.supplier.post("/api/v1/invoices", &json!({"program_id": "prog-hansa", "invoice_number": "BIG",
        "issue_date": "2026-01-01", "due_date": "2026-03-02", "currency": "EUR", "amount": "92233720368547758.07"}));
    assert_eq!(
        (status, problem["field"].as_str()),
        (422, Some("amount")),
        "{problem}"
    );
}

/// An invoice registered after its due date is recorded with a warning.
#[test]
fn a_past_due_invoice_is_registered_with_a_warning() {
    let w = world("sqlite");
    let (status, answer) = w.supplier.post("/api/v1/invoices", &json!({"program_id": "prog-hansa", "invoice_number": "LATE-1",
        "issue_date": "2025-11-01", "due_date": "2025-12-01", "currency": "EUR", "amount": "500.00"}));
    assert_eq!(status, 201, "{answer}");
    assert_eq!(
        answer["warnings"],
        json!(["invoice LATE-1 fell due on 2025-12-01, before today (2026-01-01): it is recorded and shown as overdue, and it cannot be financed"])
    );
    let (_, current) = w.supplier.post("/api/v1/invoices", &json!({"program_id": "prog-hansa", "invoice_number": "ON-TIME",
        "issue_date": "2026-01-01", "due_date": "2026-03-01", "currency": "EUR", "amount": "500.00"}));
    assert!(current.get("warnings").is_none(), "{current}");
}

/// docs/api.md lists every problem code with the status it answers with.
#[test]
fn the_documented_problem_codes_are_the_codes() {
    let docs = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/api.md"),
    )
    .unwrap();
    let row = regex::Regex::new(r"^\| `([a-z0-9_]+)` \| (\d{3}) \| (.*) \|$").unwrap();
    let documented: std::collections::BTreeMap<String, (u16, String)> = docs
        .lines()
        .filter_map(|line| row.captures(line))
        .map(|c| (c[1].to_string(), (c[2].parse().unwrap(), c[3].to_string())))
        .collect();
    let codes: std::collections::BTreeMap<String, (u16, String)> =
        scfledger::domain::ErrorCode::ALL
            .iter()
            .map(|c| {
                (
                    c.as_str().to_string(),
                    (c.http_status(), c.meaning().to_string()),
                )
            })
            .collect();
    assert_eq!(documented, codes);
}

/// Claims live in memory: the same key sent by eight clients at once gives
/// one command, and every other answer is the stored one or "still running".
#[test]
fn one_key_sent_at_once_by_eight_clients_records_one_entry() {
    for backend in backends() {
        let db = TestDb::new(backend);
        let clock = scfledger::services::clock::Clock::fixed_at(
            NaiveDate::from_ymd_opt(2026, 1, 1).unwrap(),
        );
        let (base, token) = spawn_app(&db, clock);
        let entries_before = scfledger::db::log::entry_count(&mut db.connect()).unwrap();
        let body = json!({"memo": "once", "postings": [
            {"account": "a", "currency": "EUR", "amount": "2.50"},
            {"account": "b", "currency": "EUR", "amount": "-2.50"}]});
        let start = std::sync::Arc::new(std::sync::Barrier::new(8));
        let answers: Vec<((u16, Value), bool)> = (0..8)
            .map(|_| {
                let (client, body, start) =
                    (Client::new(&base, &token), body.clone(), start.clone());
                std::thread::spawn(move || {
                    start.wait();
                    client.post_with_key("/api/v1/journal", &body, "same-key")
                })
            })
            .collect::<Vec<_>>()
            .into_iter()
            .map(|t| t.join().unwrap())
            .collect();
        let fresh: Vec<_> = answers
            .iter()
            .filter(|((s, _), r)| *s == 201 && !r)
            .collect();
        assert_eq!(fresh.len(), 1, "{backend}: {answers:?}");
        for ((status, answer), replayed) in &answers {
            match (status, replayed) {
                (201, _) => assert_eq!(answer, &fresh[0].0 .1, "{backend}: the same answer"),
                (409, false) => assert_eq!(
                    answer["code"], "idempotency_request_in_progress",
                    "{backend}: {answer}"
                ),
                _ => panic!("{backend}: {status} {answer}"),
            }
        }
        assert_eq!(
            scfledger::db::log::entry_count(&mut db.connect()).unwrap(),
            entries_before + 1,
            "{backend}: one entry"
        );
        // Afterwards the key replays its answer, and refuses another request.
        let client = Client::new(&base, &token);
        let ((status, answer), replayed) =
            client.post_with_key("/api/v1/journal", &body, "same-key");
        assert_eq!((status, replayed), (201, true), "{backend}: {answer}");
        assert_eq!(answer, fresh[0].0 .1, "{backend}");
        let other = json!({"memo": "another", "postings": body["postings"]});
        let ((status, answer), _) = client.post_with_key("/api/v1/journal", &other, "same-key");
        assert_eq!(
            (status, answer["code"].as_str()),
            (409, Some("idempotency_key_reused")),
            "{backend}"
        );
    }
}

/// Keys are checked in memory. One revoked or created by another process
/// (the CLI, straight in the database) counts within the ring's reload.
#[test]
fn a_key_revoked_or_created_by_the_cli_counts_once_the_ring_reloads() {
    for backend in backends() {
        let db = TestDb::new(backend);
        let clock = scfledger::services::clock::Clock::fixed_at(
            NaiveDate::from_ymd_opt(2026, 1, 1).unwrap(),
        );
        let (base, token) = spawn_app(&db, clock);
        let operator = Client::new(&base, &token);
        assert_eq!(operator.get("/api/v1/balances").0, 200, "{backend}");
        let party = scfledger::domain::PartyId::parse("op-treasury").unwrap();
        let created = scfledger::services::api_keys::create(
            &mut db.connect(),
            &party,
            scfledger::domain::Role::Operator,
            "made by the CLI",
        )
        .unwrap();
        let key_id = token.split('_').nth(1).unwrap();
        assert!(scfledger::services::api_keys::revoke(&mut db.connect(), key_id).unwrap());
        let cli_key = Client::new(&base, &created.token);
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        while (
            operator.get("/api/v1/balances").0,
            cli_key.get("/api/v1/balances").0,
        ) != (401, 200)
        {
            assert!(
                std::time::Instant::now() < deadline,
                "{backend}: the ring never reloaded"
            );
            std::thread::sleep(std::time::Duration::from_millis(100));
        }
    }
}

#[test]
fn signed_bulk_confirmations_are_each_checked_under_the_retailers_key() {
    use base64::engine::general_purpose::STANDARD as BASE64;
    use base64::Engine as _;
    use ed25519_dalek::Signer as _;
    use scfledger::services::invoice::request_signing_bytes;
    for backend in backends() {
        let w = world(backend);
        let key = ed25519_dalek::SigningKey::from_bytes(&[5; 32]);
        let public = BASE64.encode(key.verifying_key().as_bytes());
        let (status, body) = w.operator.post(
            "/api/v1/parties",
            &json!({"party_id": "ret-signed", "role": "retailer", "name": "Signed Retail", "public_key": public}),
        );
        assert_eq!(status, 201, "{backend}: {body}");
        let program = json!({"program_id": "prog-signed", "retailer_id": "ret-signed", "funder_id": "fund-nord", "currency": "EUR",
            "advance_rate": "0.90", "discount_rate": "0.12", "day_count": "ACT/360", "tenor_min_days": 10, "tenor_max_days": 120,
            "grace_days": 5, "late_rate": "0.18", "default_days": 30, "recourse": true, "program_limit": "1000000.00",
            "retailer_limit": "1000000.00", "supplier_limit_fixed": "500000.00", "supplier_limit_multiple": null});
        assert_eq!(w.operator.post("/api/v1/programs", &program).0, 201);
        enrol(&w.operator, "prog-signed", "sup-acme");
        let ids: Vec<String> = ["S-1", "S-2"]
            .into_iter()
            .map(|number| {
                let (status, body) = w.supplier.post("/api/v1/invoices", &json!({"program_id": "prog-signed", "invoice_number": number,
                    "issue_date": "2026-01-01", "due_date": "2026-03-02", "currency": "EUR", "amount": "100.00"}));
                assert_eq!(status, 201, "{backend}: {body}");
                body["id"].as_str().unwrap().to_string()
            })
            .collect();
        let sign = |id: &str| {
            let message = request_signing_bytes("invoice.confirmed", &json!({"invoice_id": id}));
            BASE64.encode(key.sign(&message).to_bytes())
        };
        let retailer = Client::new(&w.base, &key_for(&w.operator, "ret-signed", "retailer"));
        // The second one carries the first one's signature.
        let (status, body) = retailer.post(
            "/api/v1/confirmations",
            &json!({"confirmations": [
                {"invoice_id": ids[0], "signature": sign(&ids[0])},
                {"invoice_id": ids[1], "signature": sign(&ids[0])},
            ]}),
        );
        assert_eq!(status, 200, "{backend}: {body}");
        assert_eq!(
            body["results"][0]["recorded"]["id"],
            json!(ids[0]),
            "{backend}: {body}"
        );
        assert_eq!(
            body["results"][1]["problem"]["code"], "bad_signature",
            "{backend}: {body}"
        );
        let (status, body) = retailer.post(
            &format!("/api/v1/invoices/{}/confirm", ids[1]),
            &json!({"signature": sign(&ids[1])}),
        );
        assert_eq!(status, 201, "{backend}: {body}");
    }
}

/// A funder's own book (issue 17): its advances with status and ageing, the
/// yield earned and to come, its exposure and the repayments due, as JSON,
/// CSV and a page, all to the cent; nobody else sees them.
#[test]
fn a_funder_sees_its_own_portfolio_to_the_cent() {
    for backend in backends() {
        let w = world(backend);
        let (a, retailer) = (w.invoice_id.clone(), &w.retailer);
        let (status, body) = w.supplier.post("/api/v1/invoices", &json!({"program_id": "prog-hansa", "invoice_number": "INV-B",
            "issue_date": "2026-01-01", "due_date": "2026-02-15", "currency": "EUR", "amount": "5000.00"}));
        assert_eq!(status, 201, "{backend}: {body}");
        let b = body["id"].as_str().unwrap().to_string();
        for id in [&a, &b] {
            assert_eq!(
                retailer
                    .post(&format!("/api/v1/invoices/{id}/confirm"), &json!({}))
                    .0,
                201
            );
            assert_eq!(
                w.supplier
                    .post(&format!("/api/v1/invoices/{id}/advance"), &json!({}))
                    .0,
                201
            );
        }
        let portfolio = |client: &Client| client.get("/api/v1/funders/fund-nord/portfolio");
        let (status, book) = portfolio(&w.funder);
        assert_eq!(status, 200, "{backend}: {book}");
        // 9,000.00 for 60 days and 4,500.00 for 45 days at 12% ACT/360.
        let lines: Vec<(&str, &str, &str, &str, &str)> = book["advances"]
            .as_array()
            .unwrap()
            .iter()
            .map(|l| {
                (
                    l["invoice_number"].as_str().unwrap(),
                    l["principal"].as_str().unwrap(),
                    l["fee"].as_str().unwrap(),
                    l["outstanding"].as_str().unwrap(),
                    l["ageing"].as_str().unwrap(),
                )
            })
            .collect();
        assert_eq!(
            lines,
            [
                ("INV-B", "4500.00", "67.50", "4500.00", "current"),
                ("INV-A", "9000.00", "180.00", "9000.00", "current")
            ],
            "{backend}"
        );
        let totals = &book["totals"][0];
        assert_eq!(
            (
                totals["advanced"].as_str(),
                totals["outstanding"].as_str(),
                totals["yield_earned"].as_str(),
                totals["yield_to_come"].as_str()
            ),
            (
                Some("13500.00"),
                Some("13500.00"),
                Some("0.00"),
                Some("247.50")
            ),
            "{backend}"
        );
        assert_eq!(
            totals["exposure_by_retailer"],
            json!([{"key": "ret-hansa", "amount": "13500.00"}])
        );
        assert_eq!(
            totals["exposure_by_supplier"],
            json!([{"key": "sup-acme", "amount": "13500.00"}])
        );
        assert_eq!(
            totals["due_by_date"],
            json!([{"key": "2026-02-15", "amount": "4500.00"}, {"key": "2026-03-02", "amount": "9000.00"}])
        );
        // INV-A is paid in full: its discount is earned, its line repaid.
        let (status, body) = w.operator.post(
            "/api/v1/payments",
            &json!({"retailer_id": "ret-hansa", "currency": "EUR", "amount": "10000.00",
            "value_date": "2026-03-02", "reference": "RF18INVA", "invoice_ids": [a]}),
        );
        assert_eq!(status, 201, "{backend}: {body}");
        let (_, book) = portfolio(&w.funder);
        let totals = &book["totals"][0];
        assert_eq!(
            (
                totals["outstanding"].as_str(),
                totals["yield_earned"].as_str(),
                totals["yield_to_come"].as_str()
            ),
            (Some("4500.00"), Some("180.00"), Some("67.50")),
            "{backend}"
        );
        assert_eq!(book["advances"][1]["ageing"], "repaid");
        assert_eq!(book["advances"][1]["status"], "settled");
        // The same as CSV.
        let csv = reqwest::blocking::Client::new()
            .get(format!("{}/api/v1/funders/fund-nord/portfolio.csv", w.base))
            .bearer_auth(&w.funder.token)
            .send()
            .unwrap()
            .text()
            .unwrap();
        let rows: Vec<&str> = csv.lines().collect();
        assert_eq!(rows.len(), 3, "{csv}");
        assert_eq!(
            rows[1],
            format!("INV-B,{b},sup-acme,ret-hansa,EUR,4500.00,67.50,4500.00,0.00,2026-01-01,2026-02-15,financed,0,current,0.00,false")
        );
        // The operator and auditors see it; no other party does, another
        // funder included.
        assert_eq!(portfolio(&w.operator).0, 200);
        assert_eq!(portfolio(&w.auditor).0, 200);
        for client in [&w.supplier, &w.retailer, &w.other_supplier] {
            assert_eq!(portfolio(client).0, 404, "{backend}");
        }
        let (status, _) = w.operator.post(
            "/api/v1/parties",
            &json!({"party_id": "fund-sud", "role": "funder", "name": "Sudbank", "tax_id": null}),
        );
        assert_eq!(status, 201);
        let other_funder = Client::new(&w.base, &key_for(&w.operator, "fund-sud", "funder"));
        assert_eq!(portfolio(&other_funder).0, 404, "{backend}");
        let (status, own) = other_funder.get("/api/v1/funders/fund-sud/portfolio");
        assert_eq!(
            (status, own["advances"].as_array().map(Vec::len)),
            (200, Some(0))
        );

        // The funder's page: signed in, it lands on its portfolio.
        scfledger::services::users::create(
            &mut w._db.connect(),
            "credit@nordbank.example",
            "a long enough password",
            &scfledger::domain::PartyId::parse("fund-nord").unwrap(),
            scfledger::domain::Role::Funder,
        )
        .unwrap();
        let (session, home) =
            web_sign_in(&w.base, "credit@nordbank.example", "a long enough password");
        assert_eq!(home, "/funder/");
        let page = reqwest::blocking::Client::new()
            .get(format!("{}/funder/", w.base))
            .header("Cookie", &session)
            .send()
            .unwrap();
        assert_eq!(page.status().as_u16(), 200);
        let html = page.text().unwrap();
        for shown in [
            "INV-A",
            "INV-B",
            "Acme Textiles GmbH",
            "Hansa Retail AG",
            "repaid",
            "180.00",
            "67.50",
            "15 Feb 2026",
        ] {
            assert!(
                html.contains(shown),
                "{backend}: the portfolio page should show {shown}: {html}"
            );
        }
        assert!(
            !html.contains("sup-acme") && !html.contains("ret-hansa"),
            "{backend}: no internal ids on the page"
        );
    }
}

/// Several funders of one programme (issue 17): each sees its own share of a
/// shared advance and none of another funder's advances, and downloads its
/// book, which `scfledger verify --book` checks offline to the portfolio's
/// totals.
#[test]
fn funders_see_only_their_own_shares_and_verify_their_books_offline() {
    for backend in backends() {
        let w = world(backend);
        for (id, name) in [("fund-sud", "Sudbank"), ("fund-ost", "Ostbank")] {
            let (status, _) = w.operator.post(
                "/api/v1/parties",
                &json!({"party_id": id, "role": "funder", "name": name, "tax_id": null}),
            );
            assert_eq!(status, 201);
            let deposit = json!({"currency": "EUR", "amount": "100000.00"});
            assert_eq!(
                w.operator
                    .post(&format!("/api/v1/funders/{id}/deposits"), &deposit)
                    .0,
                201
            );
        }
        let terms = |program_id: &str, allocation: &str, funders: Value| {
            json!({"program_id": program_id, "retailer_id": "ret-hansa", "funder_id": "fund-nord", "currency": "EUR",
                "advance_rate": "0.90", "discount_rate": "0.12", "day_count": "ACT/360", "tenor_min_days": 10,
                "tenor_max_days": 120, "grace_days": 5, "late_rate": "0.18", "default_days": 30, "recourse": true,
                "program_limit": "1000000.00", "retailer_limit": "1000000.00", "supplier_limit_fixed": "500000.00",
                "supplier_limit_multiple": null, "allocation": allocation, "funders": funders})
        };
        // Shared 60 : 40 by fund-nord and fund-sud; and by priority, where
        // fund-nord may hold 5,000.00 only, so fund-ost takes 9,000.00.
        let shared = terms(
            "prog-syn",
            "pro_rata",
            json!([
            {"funder_id": "fund-nord", "commitment": "60000.00"},
            {"funder_id": "fund-sud", "commitment": "40000.00"}]),
        );
        let priority = terms(
            "prog-pri",
            "priority",
            json!([
            {"funder_id": "fund-nord", "commitment": "5000.00"},
            {"funder_id": "fund-ost", "commitment": "50000.00", "supplier_limit": "20000.00"}]),
        );
        for (program, body) in [("prog-syn", shared), ("prog-pri", priority)] {
            let (status, answer) = w.operator.post("/api/v1/programs", &body);
            assert_eq!(status, 201, "{backend}: {answer}");
            enrol(&w.operator, program, "sup-acme");
        }
        let financed = |program: &str, number: &str| {
            let (status, body) = w.supplier.post("/api/v1/invoices", &json!({"program_id": program, "invoice_number": number,
                "issue_date": "2026-01-01", "due_date": "2026-03-02", "currency": "EUR", "amount": "10000.00"}));
            assert_eq!(status, 201, "{backend}: {body}");
            let id = body["id"].as_str().unwrap().to_string();
            assert_eq!(
                w.retailer
                    .post(&format!("/api/v1/invoices/{id}/confirm"), &json!({}))
                    .0,
                201
            );
            let (status, body) = w
                .supplier
                .post(&format!("/api/v1/invoices/{id}/advance"), &json!({}));
            assert_eq!(status, 201, "{backend}: {body}");
            id
        };
        let s = financed("prog-syn", "INV-S");
        let p = financed("prog-pri", "INV-P");
        let key = |party: &str| Client::new(&w.base, &key_for(&w.operator, party, "funder"));
        let (nord, sud, ost) = (&w.funder, key("fund-sud"), key("fund-ost"));

        // Each reads its own share of the shared advance: 5,400.00 and
        // 3,600.00 of the 9,000.00, fees 108.00 and 72.00.
        let advance = |client: &Client, id: &str| {
            let (status, body) = client.get(&format!("/api/v1/invoices/{id}"));
            (
                status,
                body["advance"]["principal"].clone(),
                body["advance"]["fee"].clone(),
            )
        };
        assert_eq!(
            advance(nord, &s),
            (200, json!("5400.00"), json!("108.00")),
            "{backend}"
        );
        assert_eq!(
            advance(&sud, &s),
            (200, json!("3600.00"), json!("72.00")),
            "{backend}"
        );
        assert_eq!(
            advance(&w.supplier, &s),
            (200, json!("9000.00"), json!("180.00"))
        );
        // The buyer reads the invoice, not the supplier's price of financing.
        assert_eq!(
            advance(&w.retailer, &s),
            (200, Value::Null, Value::Null),
            "{backend}"
        );
        // The priority advance is fund-ost's: fund-nord, the programme's
        // lead, no longer sees the invoice; fund-sud never did.
        assert_eq!(
            advance(&ost, &p),
            (200, json!("9000.00"), json!("180.00")),
            "{backend}"
        );
        for client in [nord, &sud] {
            assert_eq!(advance(client, &p).0, 404, "{backend}");
        }
        let listed = |client: &Client| {
            let (status, body) = client.get("/api/v1/invoices");
            assert_eq!(status, 200);
            let mut ids: Vec<String> = body["data"]
                .as_array()
                .unwrap()
                .iter()
                .map(|i| i["invoice_number"].as_str().unwrap().to_string())
                .collect();
            ids.sort();
            ids
        };
        assert_eq!(listed(nord), ["INV-A", "INV-S"], "{backend}");
        assert_eq!(listed(&sud), ["INV-S"], "{backend}");
        assert_eq!(listed(&ost), ["INV-P"], "{backend}");
        // Portfolios: each its own, nobody another's.
        let portfolio =
            |client: &Client, id: &str| client.get(&format!("/api/v1/funders/{id}/portfolio"));
        let totals = |client: &Client, id: &str| {
            let (status, body) = portfolio(client, id);
            assert_eq!(status, 200, "{body}");
            let t = &body["totals"][0];
            (
                t["advanced"].clone(),
                t["yield_to_come"].clone(),
                body["advances"][0]["shared"].clone(),
            )
        };
        assert_eq!(
            totals(nord, "fund-nord"),
            (json!("5400.00"), json!("108.00"), json!(true))
        );
        assert_eq!(
            totals(&sud, "fund-sud"),
            (json!("3600.00"), json!("72.00"), json!(true))
        );
        assert_eq!(
            totals(&ost, "fund-ost"),
            (json!("9000.00"), json!("180.00"), json!(false))
        );
        for (client, other) in [(nord, "fund-ost"), (&sud, "fund-nord"), (&ost, "fund-sud")] {
            assert_eq!(portfolio(client, other).0, 404, "{backend}");
            assert_eq!(client.get(&format!("/api/v1/funders/{other}/book")).0, 404);
        }
        // A programme's funders: all for its retailer, its own for a
        // funder, none for a supplier.
        let funders = |client: &Client| {
            let (status, body) = client.get("/api/v1/programs/prog-syn");
            assert_eq!(status, 200, "{body}");
            body["funders"]
                .as_array()
                .unwrap()
                .iter()
                .map(|f| {
                    format!(
                        "{} {}",
                        f["funder_id"].as_str().unwrap(),
                        f["commitment"].as_str().unwrap()
                    )
                })
                .collect::<Vec<_>>()
        };
        assert_eq!(
            funders(&w.retailer),
            ["fund-nord 60000.00", "fund-sud 40000.00"]
        );
        assert_eq!(funders(&sud), ["fund-sud 40000.00"]);
        assert!(funders(&w.supplier).is_empty());
        // fund-nord's events: nothing of fund-ost's advance; the shared one whole.
        let (_, events) = nord.get("/api/v1/events?limit=200");
        let advances: Vec<&Value> = events["data"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|e| e["kind"] == "advance.accepted")
            .collect();
        assert_eq!(advances.len(), 1, "{backend}: {events}");
        assert_eq!(advances[0]["entry"]["body"]["invoice_id"], json!(s));

        // fund-nord downloads its book and verifies it offline.
        let (status, book) = nord.get("/api/v1/funders/fund-nord/book");
        assert_eq!(status, 200, "{backend}: {book}");
        let folder = tempfile::tempdir().unwrap();
        let book_file = folder.path().join("book.json");
        std::fs::write(&book_file, book.to_string()).unwrap();
        // The ledger's verifier key, public, and the key each checkpoint names.
        let key = reqwest::blocking::get(format!("{}/api/v1/log/key", w.base)).unwrap();
        assert_eq!(key.status().as_u16(), 200);
        let key = key.text().unwrap();
        assert_eq!(key.trim(), test_key().verifier().to_text());
        let checkpoint =
            reqwest::blocking::get(format!("{}/api/v1/log/checkpoint", w.base)).unwrap();
        assert_eq!(
            checkpoint.headers()["ledger-key"].to_str().unwrap(),
            key.trim()
        );
        let key_file = folder.path().join("ledger.pub");
        std::fs::write(&key_file, key).unwrap();
        let verify = |file: &std::path::Path| {
            std::process::Command::new(env!("CARGO_BIN_EXE_scfledger"))
                .args(["verify", "--book"])
                .arg(file)
                .arg("--key")
                .arg(&key_file)
                .output()
                .unwrap()
        };
        let output = verify(&book_file);
        let stdout = String::from_utf8_lossy(&output.stdout);
        assert!(
            output.status.success(),
            "{backend}: {stdout} {}",
            String::from_utf8_lossy(&output.stderr)
        );
        assert!(
            stdout.contains("totals: advanced 5,400.00 EUR, outstanding 5,400.00 EUR, yield earned 0.00 EUR, yield to come 108.00 EUR"),
            "{backend}: {stdout}"
        );
        // A book with a changed figure does not verify.
        let tampered = book.to_string().replace(
            r#"\"principal\":\"5400.00\""#,
            r#"\"principal\":\"9400.00\""#,
        );
        assert_ne!(tampered, book.to_string(), "the share is in the book");
        std::fs::write(&book_file, tampered).unwrap();
        let output = verify(&book_file);
        assert!(!output.status.success(), "{backend}");
        assert!(
            String::from_utf8_lossy(&output.stderr)
                .contains("its leaf hash is not the hash of its entry"),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
}

/// docs/api.md and the served OpenAPI document name the same operations:
/// every `METHOD /path` the page mentions is served, and every served
/// operation is in the page's index of operations.
#[test]
fn docs_api_md_names_every_served_operation_and_no_other() {
    let w = world("sqlite");
    let (status, document) = w.operator.get("/api/v1/openapi.json");
    assert_eq!(status, 200);
    let served: std::collections::BTreeSet<String> = document["paths"]
        .as_object()
        .unwrap()
        .iter()
        .flat_map(|(path, item)| {
            item.as_object()
                .unwrap()
                .keys()
                .map(move |method| {
                    format!(
                        "{} {}",
                        method.to_uppercase(),
                        path.trim_start_matches("/api/v1")
                    )
                })
                .collect::<Vec<_>>()
        })
        .collect();
    let page =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/docs/api.md")).unwrap();
    let mention = regex::Regex::new(r"`(GET|POST|DELETE) (/[A-Za-z0-9_{}/.\-]*)").unwrap();
    let mentioned: std::collections::BTreeSet<String> = mention
        .captures_iter(&page)
        .map(|c| format!("{} {}", &c[1], c[2].trim_start_matches("/api/v1")))
        .collect();
    // The document itself is served beside the operations it describes.
    let unknown: Vec<&String> = mentioned
        .difference(&served)
        .filter(|m| m.as_str() != "GET /openapi.json")
        .collect();
    assert!(
        unknown.is_empty(),
        "docs/api.md names operations that are not served: {unknown:?}"
    );
    // The problem codes the document's operations answer, with those no
    // operation answers, are the codes of the table on this page.
    let mut answered: std::collections::BTreeSet<String> = scfledger::api::contract::NOT_ANSWERED
        .iter()
        .map(|c| c.as_str().to_string())
        .collect();
    for item in document["paths"].as_object().unwrap().values() {
        for operation in item.as_object().unwrap().values() {
            for response in operation["responses"].as_object().unwrap().values() {
                let schema = &response["content"]["application/problem+json"]["schema"];
                for code in schema["allOf"][1]["properties"]["code"]["enum"]
                    .as_array()
                    .into_iter()
                    .flatten()
                {
                    answered.insert(code.as_str().unwrap().to_string());
                }
            }
        }
    }
    let row = regex::Regex::new(r"(?m)^\| `([a-z0-9_]+)` \| \d{3} \|").unwrap();
    let tabled: std::collections::BTreeSet<String> =
        row.captures_iter(&page).map(|c| c[1].to_string()).collect();
    assert_eq!(
        answered, tabled,
        "the problem codes of docs/api.md and of the document"
    );
    let undocumented: Vec<&String> = served.difference(&mentioned).collect();
    assert!(
        undocumented.is_empty(),
        "served operations missing from docs/api.md: {undocumented:?}"
    );
}

/// Closed sets are enums in the document, with the values the service
/// itself uses (issue 18, point 2).
#[test]
fn closed_sets_are_enums_in_the_openapi_document() {
    let w = world("sqlite");
    let (_, document) = w.operator.get("/api/v1/openapi.json");
    let values = |name: &str| -> Vec<String> {
        document["components"]["schemas"][name]["enum"]
            .as_array()
            .unwrap_or_else(|| {
                panic!(
                    "{name} is not an enum: {}",
                    document["components"]["schemas"][name]
                )
            })
            .iter()
            .map(|v| v.as_str().unwrap().to_string())
            .collect()
    };
    assert_eq!(
        values("RoleName"),
        ["operator", "supplier", "retailer", "funder", "auditor"]
    );
    assert_eq!(
        values("InvoiceStatusName"),
        [
            "registered",
            "confirmed",
            "disputed",
            "rejected",
            "financed",
            "partially_paid",
            "settled",
            "overdue",
            "defaulted"
        ]
    );
    assert_eq!(values("DayCountName"), ["ACT/360", "ACT/365"]);
    assert_eq!(
        values("AllocationName"),
        ["single", "priority", "pro_rata", "buyer_funded"]
    );
    assert_eq!(
        values("BankLineStatusName"),
        ["unmatched", "suspense", "matched", "reversed"]
    );
    let invoice = &document["components"]["schemas"]["InvoiceResponse"]["properties"]["status"];
    assert_eq!(
        invoice["$ref"], "#/components/schemas/InvoiceStatusName",
        "{invoice}"
    );
    // Money, rates and dates carry a pattern and an example.
    let schemas = &document["components"]["schemas"];
    for (name, example) in [
        ("Amount", "9000.00"),
        ("Rate", "0.12"),
        ("Day", "2026-03-02"),
    ] {
        let pattern = regex::Regex::new(schemas[name]["pattern"].as_str().unwrap()).unwrap();
        assert!(pattern.is_match(example), "{name}");
        assert_eq!(schemas[name]["examples"][0], example);
    }
    let amount = &schemas["InvoiceResponse"]["properties"]["amount"];
    assert_eq!(amount["$ref"], "#/components/schemas/Amount", "{amount}");
    let rate = &schemas["ProgramRequest"]["properties"]["advance_rate"];
    assert_eq!(rate["$ref"], "#/components/schemas/Rate", "{rate}");
}

/// Parties, programmes and API keys page in one convention (issue 18,
/// point 1): `data`, `has_more`, an opaque `next_cursor`; each reader sees
/// what it may.
#[test]
fn lists_page_with_an_opaque_cursor_and_show_each_reader_its_own() {
    for backend in backends() {
        let w = world(backend);
        let walk = |client: &Client, path: &str, key: &str| -> Vec<String> {
            let mut seen = Vec::new();
            let mut cursor: Option<String> = None;
            loop {
                let separator = if path.contains('?') { '&' } else { '?' };
                let url = match &cursor {
                    Some(c) => format!("{path}{separator}limit=2&cursor={c}"),
                    None => format!("{path}{separator}limit=2"),
                };
                let (status, page) = client.get(&url);
                assert_eq!(status, 200, "{backend} {url}: {page}");
                let data = page["data"].as_array().unwrap();
                assert!(data.len() <= 2);
                seen.extend(
                    data.iter()
                        .map(|item| item[key].as_str().unwrap().to_string()),
                );
                match (
                    page["has_more"].as_bool().unwrap(),
                    page["next_cursor"].as_str(),
                ) {
                    (true, Some(next)) => cursor = Some(next.to_string()),
                    (false, None) => break,
                    other => panic!("{backend}: has_more and next_cursor disagree: {other:?}"),
                }
            }
            seen
        };
        assert_eq!(
            walk(&w.operator, "/api/v1/parties", "party_id"),
            [
                "aud-kpmg",
                "fund-nord",
                "op-treasury",
                "ret-hansa",
                "ret-other",
                "sup-acme",
                "sup-other"
            ],
            "{backend}"
        );
        assert_eq!(
            walk(&w.operator, "/api/v1/parties?role=retailer", "party_id"),
            ["ret-hansa", "ret-other"]
        );
        assert_eq!(
            walk(&w.supplier, "/api/v1/parties", "party_id"),
            ["sup-acme"]
        );
        assert_eq!(
            walk(&w.funder, "/api/v1/programs", "program_id"),
            ["prog-hansa"]
        );
        assert_eq!(
            walk(&w.other_retailer, "/api/v1/programs", "program_id"),
            Vec::<String>::new()
        );
        assert_eq!(
            walk(&w.other_supplier, "/api/v1/programs", "program_id"),
            Vec::<String>::new()
        );
        // Keys: the supplier sees its own, never a secret.
        let (_, keys) = w.supplier.get("/api/v1/api-keys");
        let keys = keys["data"].as_array().unwrap();
        assert_eq!(keys.len(), 1, "{backend}: {keys:?}");
        assert_eq!(keys[0]["party_id"], "sup-acme");
        let created = keys[0]["created_at"].as_str().unwrap();
        assert!(
            chrono::DateTime::parse_from_rfc3339(created).is_ok() && created.ends_with('Z'),
            "{backend}: {created} is an RFC 3339 instant in UTC"
        );
        assert!(keys[0].get("token").is_none() && keys[0].get("secret_sha256_hex").is_none());
        assert_eq!(
            walk(
                &w.operator,
                "/api/v1/api-keys?party_id=sup-acme",
                "party_id"
            ),
            ["sup-acme"]
        );
        // A cursor that is not one the list gave, and a limit out of bounds.
        for bad in [
            "/api/v1/parties?cursor=not-ours",
            "/api/v1/parties?limit=0",
            "/api/v1/parties?limit=201",
        ] {
            let (status, problem) = w.operator.get(bad);
            assert_eq!(
                (status, problem["code"].as_str()),
                (400, Some("bad_query")),
                "{bad}"
            );
        }
    }
}

/// Every list pages the one way: walked a page of one at a time by its
/// cursor it gives what one page of 200 gives, with `has_more` exact; a
/// cursor it did not give is refused.
#[test]
fn every_list_pages_one_way_and_payments_say_what_each_invoice_received() {
    for backend in backends() {
        let w = world(backend);
        let id = &w.invoice_id;
        let mut others = Vec::new();
        for number in ["INV-B", "INV-C"] {
            let (status, body) = w.supplier.post("/api/v1/invoices", &json!({"program_id": "prog-hansa", "invoice_number": number,
                "issue_date": "2026-01-01", "due_date": "2026-04-01", "currency": "EUR", "amount": "500.00"}));
            assert_eq!(status, 201, "{backend}: {body}");
            others.push(body["id"].as_str().unwrap().to_string());
        }
        let (status, body) = w
            .retailer
            .post(&format!("/api/v1/invoices/{id}/confirm"), &json!({}));
        assert_eq!(status, 201, "{backend}: {body}");
        let (status, body) = w
            .supplier
            .post(&format!("/api/v1/invoices/{id}/advance"), &json!({}));
        assert_eq!(status, 201, "{backend}: {body}");
        let (status, payment) = w.operator.post(
            "/api/v1/payments",
            &json!({"retailer_id": "ret-hansa", "currency": "EUR", "amount": "10250.00",
            "value_date": "2026-03-02", "reference": "RF18INVA", "invoice_ids": [id]}),
        );
        assert_eq!(status, 201, "{backend}: {payment}");

        // The payer's view: what came in, what the invoice took, what waits.
        let (status, payments) = w.retailer.get("/api/v1/payments");
        assert_eq!(status, 200, "{backend}: {payments}");
        assert_eq!(
            payments["data"],
            json!([{"payment_id": payment["id"], "seq": payment["receipt"]["seq"],
                "retailer_id": "ret-hansa", "currency": "EUR", "amount": "10250.00",
                "value_date": "2026-03-02", "reference": "RF18INVA",
                "invoices": [{"invoice_id": id, "applied": "10000.00", "status_after": "settled"}],
                "unapplied": "250.00", "bank_line_id": null}]),
            "{backend}"
        );
        assert_eq!(
            w.other_retailer.get("/api/v1/payments").1["data"],
            json!([]),
            "{backend}"
        );
        assert_eq!(
            w.operator
                .get(&format!("/api/v1/payments?invoice_id={id}"))
                .1["data"][0]["payment_id"],
            payment["id"]
        );
        assert_eq!(
            w.supplier.get("/api/v1/payments").1["code"],
            "forbidden",
            "{backend}"
        );
        let (status, body) = w.retailer.post(
            &format!("/api/v1/invoices/{}/confirm", others[0]),
            &json!({}),
        );
        assert_eq!(status, 201, "{backend}: {body}");
        let (status, body) = w.operator.post(
            "/api/v1/payments",
            &json!({"retailer_id": "ret-hansa", "currency": "EUR", "amount": "500.00",
            "value_date": "2026-03-02", "reference": "INV-B", "invoice_ids": [others[0]]}),
        );
        assert_eq!(status, 201, "{backend}: {body}");

        // An empty filter is no filter (schemathesis found the panic).
        let (status, all) = w.operator.get("/api/v1/balances?account_prefix=&limit=200");
        assert_eq!(
            (status, all["data"].as_array().map(Vec::len)),
            (
                200,
                w.operator.get("/api/v1/balances?limit=200").1["data"]
                    .as_array()
                    .map(Vec::len)
            ),
            "{backend}: {all}"
        );
        // Filters narrow; a party's list is its own whatever it asks.
        let (_, due) = w.supplier.get("/api/v1/invoices?due_from=2026-03-03");
        let numbers: Vec<&str> = due["data"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| i["invoice_number"].as_str().unwrap())
            .collect();
        assert_eq!(numbers, ["INV-B", "INV-C"], "{backend}");
        assert_eq!(
            w.other_supplier
                .get("/api/v1/invoices?supplier_id=sup-acme")
                .1["data"],
            json!([]),
            "{backend}"
        );

        for (client, list) in [
            (&w.operator, "/api/v1/parties"),
            (&w.operator, "/api/v1/api-keys"),
            (&w.supplier, "/api/v1/invoices"),
            (&w.operator, "/api/v1/payments"),
            (&w.operator, "/api/v1/payouts"),
            (&w.operator, "/api/v1/balances"),
            (&w.funder, "/api/v1/balances?currency=EUR"),
            (
                &w.operator,
                "/api/v1/statements?currency=EUR&account_prefix=funder:fund-nord:",
            ),
            (&w.supplier, "/api/v1/events"),
            (&w.operator, "/api/v1/events"),
        ] {
            let join = if list.contains('?') { '&' } else { '?' };
            let (status, whole) = client.get(&format!("{list}{join}limit=200"));
            assert_eq!(status, 200, "{backend} {list}: {whole}");
            assert_eq!(whole["has_more"], false, "{backend} {list}");
            let whole = whole["data"].as_array().unwrap().clone();
            assert!(whole.len() >= 2, "{backend} {list}: {whole:?}");
            let mut walked = Vec::new();
            let mut cursor = String::new();
            loop {
                let (status, page) = client.get(&format!("{list}{join}limit=1{cursor}"));
                assert_eq!(status, 200, "{backend} {list}: {page}");
                let data = page["data"].as_array().unwrap();
                walked.extend(data.iter().cloned());
                if page["has_more"] == false {
                    break;
                }
                // One item, or for a statement one entry's postings.
                assert!(!data.is_empty(), "{backend} {list}: {page}");
                cursor = format!("&cursor={}", page["next_cursor"].as_str().unwrap());
                assert!(walked.len() <= whole.len(), "{backend} {list}: runs on");
            }
            assert_eq!(walked, whole, "{backend} {list}");
            let (status, refused) = client.get(&format!("{list}{join}cursor=bm9wZQ"));
            assert_eq!(
                (status, refused["code"].as_str()),
                (400, Some("bad_query")),
                "{backend} {list}"
            );
            let (status, refused) = client.get(&format!("{list}{join}limit=201"));
            assert_eq!((status, refused["code"].as_str()), (400, Some("bad_query")));
        }

        // A status filter names the statuses there are.
        let (status, refused) = w.operator.get("/api/v1/payouts?status=paid");
        assert_eq!(
            (
                status,
                refused["field"].as_str(),
                refused["detail"].as_str()
            ),
            (
                422,
                Some("status"),
                Some("status must be one of pending, proposed, sent, confirmed, cancelled")
            ),
            "{backend}"
        );
        // After the largest seq there is nothing (schemathesis found the overflow).
        let (status, none) = w
            .operator
            .get(&format!("/api/v1/events?after_seq={}", i64::MAX));
        assert_eq!(
            (status, &none["data"]),
            (200, &json!([])),
            "{backend}: {none}"
        );
        // The feed's cursor stays on its last page: polled, it gives what came since.
        let (_, last) = w.supplier.get("/api/v1/events?limit=200");
        let cursor = last["next_cursor"].as_str().unwrap().to_string();
        let (status, body) = w.supplier.post("/api/v1/invoices", &json!({"program_id": "prog-hansa", "invoice_number": "INV-D",
            "issue_date": "2026-01-01", "due_date": "2026-04-01", "currency": "EUR", "amount": "700.00"}));
        assert_eq!(status, 201, "{backend}: {body}");
        let (_, since) = w.supplier.get(&format!("/api/v1/events?cursor={cursor}"));
        assert_eq!(
            (
                since["data"].as_array().unwrap().len(),
                since["data"][0]["seq"].clone()
            ),
            (1, body["receipt"]["seq"].clone()),
            "{backend}: {since}"
        );
    }
}

/// A rate comes back exactly as it was written; one that would not is refused.
#[test]
fn a_rate_comes_back_as_it_was_written() {
    let w = world("sqlite");
    let (_, program) = w.operator.get("/api/v1/programs/prog-hansa");
    assert_eq!(
        (
            program["advance_rate"].as_str(),
            program["discount_rate"].as_str(),
            program["late_rate"].as_str()
        ),
        (Some("0.90"), Some("0.12"), Some("0.18"))
    );
    let (status, quote) = w
        .supplier
        .get(&format!("/api/v1/invoices/{}/quote", w.invoice_id));
    assert_eq!(status, 200, "{quote}");
    assert_eq!(quote["advance_rate"], "0.90");
    for written in ["00.5", ".5", "5."] {
        let (status, refused) = w.operator.post("/api/v1/programs", &json!({"program_id": "prog-x", "retailer_id": "ret-hansa", "funder_id": "fund-nord", "currency": "EUR",
            "advance_rate": written, "discount_rate": "0.12", "day_count": "ACT/360", "tenor_min_days": 10, "tenor_max_days": 120,
            "grace_days": 5, "late_rate": "0.18", "default_days": 30, "recourse": true, "program_limit": "1000000.00",
            "retailer_limit": "1000000.00", "supplier_limit_fixed": "500000.00", "supplier_limit_multiple": null}));
        assert_eq!(
            (status, refused["field"].as_str()),
            (422, Some("advance_rate")),
            "{written}: {refused}"
        );
    }
}

/// Shortens a recorded body for the document: lists to three items,
/// secrets replaced.
fn example_of(body: &Value) -> Value {
    match body {
        Value::Array(items) => Value::Array(items.iter().take(3).map(example_of).collect()),
        Value::Object(members) => Value::Object(
            members
                .iter()
                .map(|(name, value)| {
                    let value = match (name.as_str(), value) {
                        ("token", Value::String(_)) => {
                            json!("scf_0a1b2c3d4e5f6a7b_secret-shown-once")
                        }
                        ("secret", Value::String(_)) => json!("whsec_secret-shown-once"),
                        _ => example_of(value),
                    };
                    (name.clone(), value)
                })
                .collect(),
        ),
        other => other.clone(),
    }
}

/// Every operation's request and successful answer have an example in the
/// served document, and every example fits its schema. With
/// `SCFLEDGER_EXAMPLES_FROM=DIR` (exchanges recorded by a test run with
/// `SCFLEDGER_EXAMPLES_RECORD=DIR`), first gathers them into
/// src/api/examples.json; the next build serves them.
#[test]
fn the_examples_cover_every_operation_and_fit_its_schemas() {
    use scfledger::api::examples::{Examples, Exchange};
    use utoipa::OpenApi as _;
    let kept = concat!(env!("CARGO_MANIFEST_DIR"), "/src/api/examples.json");
    if let Some(folder) = std::env::var_os("SCFLEDGER_EXAMPLES_FROM") {
        let mut examples = Examples::new();
        let mut files: Vec<_> = std::fs::read_dir(folder)
            .unwrap()
            .map(|f| f.unwrap().path())
            .collect();
        files.sort();
        for file in files {
            let exchange: Exchange =
                serde_json::from_slice(&std::fs::read(&file).unwrap()).unwrap();
            let entry = examples.entry(exchange.operation).or_default();
            let success = (200..300).contains(&exchange.status);
            if let (true, Some(mut request)) = (success, exchange.request) {
                request.body = example_of(&request.body);
                entry.request = Some(request);
            }
            if let Some(mut response) = exchange.response {
                response.body = example_of(&response.body);
                let key = format!("{} {}", exchange.status, response.content_type);
                entry.responses.insert(key, response);
            }
        }
        std::fs::write(
            kept,
            serde_json::to_string_pretty(&examples).unwrap() + "\n",
        )
        .unwrap();
        return;
    }
    let document = serde_json::to_value(scfledger::api::openapi::ApiDoc::openapi()).unwrap();
    let mut missing = Vec::new();
    let mut unfit = Vec::new();
    let mut check = |at: String, content: &Value| {
        let (Some(schema), Some(example)) = (content.get("schema"), content.get("example")) else {
            missing.push(at);
            return;
        };
        if example.is_string() && !schema["type"].is_null() && schema["type"] != "string" {
            unfit.push(format!("{at}: a string for a non-string schema"));
            return;
        }
        let root = json!({"components": document["components"], "allOf": [schema]});
        let validator = jsonschema::validator_for(&root).unwrap();
        for error in validator.iter_errors(example) {
            unfit.push(format!("{at}: {error}"));
        }
    };
    for (path, item) in document["paths"].as_object().unwrap() {
        for (method, operation) in item.as_object().unwrap() {
            let at = format!("{} {path}", method.to_uppercase());
            if let Some(body) = operation.get("requestBody") {
                for (kind, content) in body["content"].as_object().unwrap() {
                    check(format!("{at} request {kind}"), content);
                }
            }
            for (status, response) in operation["responses"].as_object().unwrap() {
                for (kind, content) in response["content"].as_object().into_iter().flatten() {
                    let success = status.starts_with('2');
                    if success || content.get("example").is_some() {
                        check(format!("{at} {status} {kind}"), content);
                    }
                }
            }
        }
    }
    assert!(missing.is_empty(), "no example for: {missing:#?}");
    assert!(unfit.is_empty(), "examples that do not fit: {unfit:#?}");
}

/// The commands the other tests reach through the web pages, through the
/// API: a batch of invoices, a dispute, a rejection, a credit note, a payout
/// batch proposed and withdrawn, a key and a subscription revoked.
#[test]
fn batches_disputes_rejections_credit_notes_and_withdrawals_answer_as_documented() {
    for backend in backends() {
        let w = world(backend);
        let invoice = |number: &str| {
            json!({"program_id": "prog-hansa", "invoice_number": number,
            "issue_date": "2026-01-01", "due_date": "2026-03-02", "currency": "EUR", "amount": "2000.00"})
        };
        let (status, batch) = w.supplier.post(
            "/api/v1/invoices/batch",
            &json!({"invoices": [invoice("INV-D1"), invoice("INV-D2"), {"program_id": "prog-hansa",
                "invoice_number": "INV-A", "issue_date": "2026-01-01", "due_date": "2026-03-02",
                "currency": "EUR", "amount": "10000.00"}]}),
        );
        assert_eq!(status, 200, "{backend}: {batch}");
        assert_eq!(
            batch["results"][2]["problem"]["code"], "duplicate_invoice",
            "{batch}"
        );
        let id = |n: usize| {
            batch["results"][n]["recorded"]["id"]
                .as_str()
                .unwrap()
                .to_string()
        };
        let (d1, d2) = (id(0), id(1));

        let (status, body) = w.retailer.post(
            &format!("/api/v1/invoices/{d1}/dispute"),
            &json!({"reason": "two cartons short"}),
        );
        assert_eq!(status, 201, "{backend}: {body}");
        let (status, body) = w.retailer.post(
            &format!("/api/v1/invoices/{d2}/reject"),
            &json!({"reason": "not ordered"}),
        );
        assert_eq!(status, 201, "{backend}: {body}");
        let status_of =
            |id: &str| w.supplier.get(&format!("/api/v1/invoices/{id}")).1["status"].clone();
        assert_eq!(
            (status_of(&d1), status_of(&d2)),
            (json!("disputed"), json!("rejected"))
        );

        // A credit note on the confirmed, financed invoice lowers what the retailer owes.
        let a = &w.invoice_id;
        assert_eq!(
            w.retailer
                .post(&format!("/api/v1/invoices/{a}/confirm"), &json!({}))
                .0,
            201
        );
        assert_eq!(
            w.supplier
                .post(&format!("/api/v1/invoices/{a}/advance"), &json!({}))
                .0,
            201
        );
        let (status, body) = w.supplier.post(
            &format!("/api/v1/invoices/{a}/credit-notes"),
            &json!({"credit_note_number": "CN-1", "amount": "500.00"}),
        );
        assert_eq!(status, 201, "{backend}: {body}");
        assert_eq!(
            w.supplier.get(&format!("/api/v1/invoices/{a}")).1["open"],
            "9500.00"
        );

        // The advance's payout goes in a batch, which its proposer withdraws.
        for (party, iban) in [
            ("op-treasury", "DE89 3704 0044 0532 0130 00"),
            ("sup-acme", "DE44500105175407324931"),
        ] {
            let (status, body) = w.operator.post(
                &format!("/api/v1/parties/{party}/bank-account"),
                &json!({"iban": iban}),
            );
            assert_eq!(status, 201, "{backend}: {body}");
        }
        let (status, proposed) = w.operator.post(
            "/api/v1/payout-batches",
            &json!({"currency": "EUR", "requested_execution_date": "2026-01-02"}),
        );
        assert_eq!(status, 201, "{backend}: {proposed}");
        let batch_id = proposed["id"].as_str().unwrap();
        let (status, body) = w.operator.post(
            &format!("/api/v1/payout-batches/{batch_id}/decline"),
            &json!({"reason": "wrong execution date"}),
        );
        assert_eq!(status, 201, "{backend}: {body}");
        let (_, batches) = w.operator.get("/api/v1/payout-batches?status=declined");
        assert_eq!(batches["data"][0]["batch_id"], batch_id, "{backend}");
        let (_, pending) = w.supplier.get("/api/v1/payouts?status=pending");
        assert_eq!(
            (
                pending["data"].as_array().unwrap().len(),
                pending["data"][0]["amount"].as_str()
            ),
            (1, Some("8820.00")),
            "{backend}: the payout is pending again"
        );

        // A key and a subscription end.
        let (_, keys) = w.operator.get("/api/v1/api-keys?party_id=aud-kpmg");
        let key_id = keys["data"][0]["key_id"].as_str().unwrap();
        assert_eq!(
            w.operator.delete(&format!("/api/v1/api-keys/{key_id}")).0,
            204
        );
        assert_eq!(w.auditor.get("/api/v1/balances").0, 401, "{backend}");
        std::env::set_var("SCFLEDGER_WEBHOOK_ALLOW_PRIVATE", "true");
        let (status, hook) = w.retailer.post(
            "/api/v1/webhooks",
            &json!({"url": "http://127.0.0.1:9/never"}),
        );
        assert_eq!(status, 201, "{backend}: {hook}");
        let hook_id = hook["subscription_id"].as_str().unwrap();
        assert_eq!(
            w.retailer.delete(&format!("/api/v1/webhooks/{hook_id}")).0,
            204
        );
        assert_eq!(w.retailer.get("/api/v1/webhooks").1["data"], json!([]));
    }
}
