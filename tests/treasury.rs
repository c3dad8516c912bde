//! Treasury end to end on every backend: invoices get RF references, a camt.053
//! of the retailer's payments comes back (exact, partial, lump, by invoice
//! number, unknown, a reversal), is matched, and every balance is checked.

mod common;

use chrono::NaiveDate;
use common::*;
use serde_json::{json, Value};

struct Payment<'a> {
    amount: &'a str,
    credit: bool,
    reversal: bool,
    end_to_end: &'a str,
    reference: Option<String>,
    remittance: &'a str,
}

fn camt053(message_id: &str, payments: &[Payment<'_>]) -> String {
    let mut entries = String::new();
    for (n, p) in payments.iter().enumerate() {
        let remittance = match &p.reference {
            Some(reference) => format!("<Strd><CdtrRefInf><Tp><CdOrPrtry><Cd>SCOR</Cd></CdOrPrtry></Tp><Ref>{reference}</Ref></CdtrRefInf></Strd>"),
            None => format!("<Ustrd>{}</Ustrd>", p.remittance),
        };
        entries.push_str(&format!(
            "<Ntry><Amt Ccy=\"EUR\">{}</Amt><CdtDbtInd>{}</CdtDbtInd><RvslInd>{}</RvslInd><Sts><Cd>BOOK</Cd></Sts>\
             <BookgDt><Dt>2026-03-02</Dt></BookgDt><ValDt><Dt>2026-03-02</Dt></ValDt><AcctSvcrRef>{message_id}-{n}</AcctSvcrRef>\
             <BkTxCd><Domn><Cd>PMNT</Cd><Fmly><Cd>RCDT</Cd><SubFmlyCd>ESCT</SubFmlyCd></Fmly></Domn></BkTxCd>\
             <NtryDtls><TxDtls><Refs><EndToEndId>{}</EndToEndId></Refs><RmtInf>{remittance}</RmtInf></TxDtls></NtryDtls></Ntry>",
            p.amount,
            if p.credit { "CRDT" } else { "DBIT" },
            p.reversal,
            p.end_to_end,
        ));
    }
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Document xmlns=\"urn:iso:std:iso:20022:tech:xsd:camt.053.001.08\"><BkToCstmrStmt>\
         <GrpHdr><MsgId>{message_id}</MsgId><CreDtTm>2026-03-02T18:00:00</CreDtTm></GrpHdr><Stmt><Id>{message_id}-S</Id>\
         <CreDtTm>2026-03-02T18:00:00</CreDtTm><Acct><Id><IBAN>DE89370400440532013000</IBAN></Id><Ccy>EUR</Ccy></Acct>\
         <Bal><Tp><CdOrPrtry><Cd>OPBD</Cd></CdOrPrtry></Tp><Amt Ccy=\"EUR\">100000.00</Amt><CdtDbtInd>CRDT</CdtDbtInd><Dt><Dt>2026-03-02</Dt></Dt></Bal>\
         <Bal><Tp><CdOrPrtry><Cd>CLBD</Cd></CdOrPrtry></Tp><Amt Ccy=\"EUR\">120649.00</Amt><CdtDbtInd>CRDT</CdtDbtInd><Dt><Dt>2026-03-02</Dt></Dt></Bal>\
         {entries}</Stmt></BkToCstmrStmt></Document>"
    )
}

fn import(base: &str, token: &str, key: &str, xml: &str) -> Value {
    let response = reqwest::blocking::Client::new()
        .post(format!("{base}/api/v1/bank-statements"))
        .bearer_auth(token)
        .header("Idempotency-Key", key)
        .header("Content-Type", "application/xml")
        .body(xml.to_string())
        .send()
        .unwrap();
    assert_eq!(response.status().as_u16(), 200);
    response.json().unwrap()
}

#[test]
fn a_statement_of_payments_settles_the_invoices_to_the_cent() {
    for backend in backends() {
        let db = TestDb::new(backend);
        let (base, token) = spawn_app(
            &db,
            scfledger::services::clock::Clock::fixed_at(
                NaiveDate::from_ymd_opt(2026, 1, 1).unwrap(),
            ),
        );
        let operator = Client::new(&base, &token);
        for (id, role, tax) in [
            ("ret-h", "retailer", None),
            ("fund-n", "funder", None),
            ("sup-a", "supplier", Some("DE1")),
        ] {
            assert_eq!(
                operator
                    .post(
                        "/api/v1/parties",
                        &json!({"party_id": id, "role": role, "name": id, "tax_id": tax})
                    )
                    .0,
                201
            );
        }
        let program = json!({"program_id": "prog-h", "retailer_id": "ret-h", "funder_id": "fund-n", "currency": "EUR", "advance_rate": "0.90",
            "discount_rate": "0.12", "day_count": "ACT/360", "tenor_min_days": 10, "tenor_max_days": 120, "grace_days": 5, "late_rate": "0.18",
            "default_days": 30, "recourse": true, "program_limit": "1000000.00", "retailer_limit": "1000000.00", "supplier_limit_fixed": "500000.00"});
        assert_eq!(operator.post("/api/v1/programs", &program).0, 201);
        assert_eq!(
            operator
                .post(
                    "/api/v1/funders/fund-n/deposits",
                    &json!({"currency": "EUR", "amount": "100000.00"})
                )
                .0,
            201
        );
        let key = |party: &str, role: &str| {
            operator
                .post(
                    "/api/v1/api-keys",
                    &json!({"party_id": party, "role": role}),
                )
                .1["token"]
                .as_str()
                .unwrap()
                .to_string()
        };
        let supplier = Client::new(&base, &key("sup-a", "supplier"));
        let retailer = Client::new(&base, &key("ret-h", "retailer"));
        let mut ids = Vec::new();
        for (number, amount) in [
            ("A-100", "10000.00"),
            ("B-200", "2000.00"),
            ("C-300", "3000.00"),
            ("D-400", "1500.00"),
            ("E-500", "4000.00"),
        ] {
            let (status, body) = supplier.post("/api/v1/invoices", &json!({"program_id": "prog-h", "invoice_number": number, "issue_date": "2026-01-01",
                "due_date": "2026-03-02", "currency": "EUR", "amount": amount}));
            assert_eq!(status, 201, "{body}");
            let id = body["id"].as_str().unwrap().to_string();
            assert_eq!(
                retailer
                    .post(&format!("/api/v1/invoices/{id}/confirm"), &json!({}))
                    .0,
                201
            );
            ids.push(id);
        }
        let rf = |id: &str| {
            supplier.get(&format!("/api/v1/invoices/{id}")).1["creditor_reference"]
                .as_str()
                .unwrap()
                .to_string()
        };
        let (rf_a, rf_b) = (rf(&ids[0]), rf(&ids[1]));
        assert!(
            rf_a.starts_with("RF") && scfledger::domain::creditor_reference::parse(&rf_a).is_ok(),
            "{rf_a}"
        );
        for id in &ids[..2] {
            assert_eq!(
                supplier
                    .post(&format!("/api/v1/invoices/{id}/advance"), &json!({}))
                    .0,
                201,
                "{backend}"
            );
        }
        let payments = [
            Payment {
                amount: "10000.00",
                credit: true,
                reversal: false,
                end_to_end: "NOTPROVIDED",
                reference: Some(rf_a.clone()),
                remittance: "",
            },
            Payment {
                amount: "1200.00",
                credit: true,
                reversal: false,
                end_to_end: &rf_b,
                reference: None,
                remittance: "part payment",
            },
            Payment {
                amount: "7000.00",
                credit: true,
                reversal: false,
                end_to_end: "NOTPROVIDED",
                reference: None,
                remittance: "Invoices C-300 and E-500",
            },
            Payment {
                amount: "1500.00",
                credit: true,
                reversal: false,
                end_to_end: "NOTPROVIDED",
                reference: None,
                remittance: "Payment D-400 thank you",
            },
            Payment {
                amount: "999.00",
                credit: true,
                reversal: false,
                end_to_end: "NOTPROVIDED",
                reference: None,
                remittance: "who knows",
            },
            Payment {
                amount: "50.00",
                credit: false,
                reversal: true,
                end_to_end: "NOTPROVIDED",
                reference: None,
                remittance: "return of a direct debit",
            },
        ];
        let xml = camt053("STMT-2026-03-02", &payments);
        let report = import(&base, &token, "stmt-1", &xml);
        assert_eq!(report["lines_imported"], 6, "{backend}: {report}");
        let rules: Vec<&str> = report["matched"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m[2].as_str().unwrap())
            .collect();
        assert_eq!(
            rules,
            vec![
                "creditor_reference",
                "end_to_end_id",
                "invoice_number_and_amount"
            ],
            "{backend}: {report}"
        );
        assert_eq!(
            (
                report["unmatched"].as_array().unwrap().len(),
                report["suspense"].as_array().unwrap().len()
            ),
            (2, 1)
        );
        // The same statement again changes nothing, even under another Idempotency-Key.
        let again = import(&base, &token, "stmt-1-again", &xml);
        assert_eq!(
            (
                again["lines_imported"].as_i64(),
                again["already_imported"].as_i64()
            ),
            (Some(0), Some(6)),
            "{backend}"
        );

        // The lump payment waits with suggestions; treasury splits it by hand.
        let (_, queue) = operator.get("/api/v1/bank-lines?status=unmatched");
        let lump = queue
            .as_array()
            .unwrap()
            .iter()
            .find(|l| l["amount"] == "7000.00")
            .unwrap();
        let suggestions: Vec<&str> = lump["suggestions"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s.as_str().unwrap())
            .collect();
        assert_eq!(
            suggestions,
            vec![ids[2].as_str(), ids[4].as_str()],
            "{backend}"
        );
        let line_id = lump["line_id"].as_str().unwrap();
        let (status, matched) = operator.post(
            &format!("/api/v1/bank-lines/{line_id}/match"),
            &json!({"invoice_ids": [ids[2], ids[4]]}),
        );
        assert_eq!(status, 201, "{backend}: {matched}");
        let (status, twice) = operator.post(
            &format!("/api/v1/bank-lines/{line_id}/match"),
            &json!({"invoice_ids": [ids[2]]}),
        );
        assert_eq!(
            (status, twice["code"].as_str()),
            (409, Some("illegal_transition")),
            "{backend}"
        );
        let (_, matched_lines) = operator.get("/api/v1/bank-lines?status=matched");
        let manual = matched_lines
            .as_array()
            .unwrap()
            .iter()
            .find(|l| l["line_id"] == line_id)
            .unwrap();
        assert_eq!(
            (manual["match_rule"].as_str(), manual["matched_by"].as_str()),
            (Some("manual"), Some("op-treasury"))
        );

        // Every balance, to the cent.
        let status = |id: &str| supplier.get(&format!("/api/v1/invoices/{id}")).1;
        let statuses: Vec<String> = ids
            .iter()
            .map(|id| status(id)["status"].as_str().unwrap().to_string())
            .collect();
        assert_eq!(
            statuses,
            vec!["settled", "partially_paid", "settled", "settled", "settled"],
            "{backend}"
        );
        assert_eq!(status(&ids[1])["paid"], "1200.00");
        let balances: Value = operator.get("/api/v1/balances").1;
        let balance = |account: &str| {
            balances
                .as_array()
                .unwrap()
                .iter()
                .find(|b| b["account"] == account)
                .map(|b| b["balance"].as_str().unwrap().to_string())
        };
        assert_eq!(
            balance("bank:main").as_deref(),
            Some("120649.00"),
            "{backend}: 100,000 + 10,000 + 1,200 + 7,000 + 1,500 + 999 - 50"
        );
        assert_eq!(
            balance("unapplied-cash").as_deref(),
            Some("-999.00"),
            "{backend}: the unknown payment waits"
        );
        assert_eq!(
            balance("bank-suspense").as_deref(),
            Some("50.00"),
            "{backend}: the reversal waits for treasury"
        );
        // A: principal 9,000 back; B: 1,200 of its 1,800 principal back. Fees: 180.00 + 36.00 deducted up front.
        assert_eq!(
            balance("funder:fund-n:cash").as_deref(),
            Some("-99616.00"),
            "{backend}: 100,000 - 8,820 - 1,764 + 9,000 + 1,200"
        );
        assert_eq!(
            balance("funder:fund-n:principal").as_deref(),
            Some("-600.00"),
            "{backend}: B's 600.00 still out"
        );
        // The day reconciles: the statement's arithmetic, its lines and the bank account all agree.
        let document = scfledger::formats::camt::parse(xml.as_bytes()).unwrap();
        let rows = scfledger::services::treasury::reconcile(&mut db.connect(), &document).unwrap();
        let csv = scfledger::services::treasury::reconciliation_csv(&rows).unwrap();
        assert_eq!(
            csv,
            "account,currency,item,statement,ledger,difference\n\
             DE89370400440532013000,EUR,\"closing balance: stated, and opening + credits - debits\",120649.00,120649.00,0.00\n\
             DE89370400440532013000,EUR,\"booked credits: statement, ledger\",20699.00,20699.00,0.00\n\
             DE89370400440532013000,EUR,\"booked debits: statement, ledger\",50.00,50.00,0.00\n\
             DE89370400440532013000,EUR,closing balance against bank:main in the ledger,120649.00,120649.00,0.00\n",
            "{backend}"
        );
        drop((supplier, retailer));
        assert_consistent(&db);
    }
}
