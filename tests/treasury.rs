//! Treasury end to end on every backend: a funder's money arrives on a
//! statement, invoices get RF references, advances are paid out in a pain.001
//! batch, and a camt.053 of the retailer's payments comes back (exact,
//! partial, lump, by invoice number, unknown, a reversal) with the bank's debit
//! of the batch. Every match, every balance and the day's reconciliation are
//! checked to the cent.

mod common;

use chrono::NaiveDate;
use common::*;
use serde_json::{json, Value};

/// One booked entry of a camt.053.001.08 statement; `details` is the inside of `NtryDtls`.
fn entry(
    amount: &str,
    credit: bool,
    reversal: bool,
    day: &str,
    bank_reference: &str,
    details: &str,
) -> String {
    format!(
        "<Ntry><Amt Ccy=\"EUR\">{amount}</Amt><CdtDbtInd>{}</CdtDbtInd><RvslInd>{reversal}</RvslInd><Sts><Cd>BOOK</Cd></Sts>\
         <BookgDt><Dt>{day}</Dt></BookgDt><ValDt><Dt>{day}</Dt></ValDt><AcctSvcrRef>{bank_reference}</AcctSvcrRef>\
         <BkTxCd><Domn><Cd>PMNT</Cd><Fmly><Cd>RCDT</Cd><SubFmlyCd>ESCT</SubFmlyCd></Fmly></Domn></BkTxCd>\
         <NtryDtls>{details}</NtryDtls></Ntry>",
        if credit { "CRDT" } else { "DBIT" },
    )
}

/// A credit transfer's details: its EndToEndId and remittance (an RF reference or text).
fn transfer(end_to_end: &str, reference: Option<&str>, text: &str) -> String {
    let remittance = match reference {
        Some(reference) => format!("<Strd><CdtrRefInf><Tp><CdOrPrtry><Cd>SCOR</Cd></CdOrPrtry></Tp><Ref>{reference}</Ref></CdtrRefInf></Strd>"),
        None => format!("<Ustrd>{text}</Ustrd>"),
    };
    format!("<TxDtls><Refs><EndToEndId>{end_to_end}</EndToEndId></Refs><RmtInf>{remittance}</RmtInf></TxDtls>")
}

fn camt053(
    message_id: &str,
    day: &str,
    opening: &str,
    closing: &str,
    entries: &[String],
) -> String {
    let entries = entries.concat();
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Document xmlns=\"urn:iso:std:iso:20022:tech:xsd:camt.053.001.08\"><BkToCstmrStmt>\
         <GrpHdr><MsgId>{message_id}</MsgId><CreDtTm>{day}T18:00:00</CreDtTm></GrpHdr><Stmt><Id>{message_id}-S</Id>\
         <CreDtTm>{day}T18:00:00</CreDtTm><Acct><Id><IBAN>DE89370400440532013000</IBAN></Id><Ccy>EUR</Ccy></Acct>\
         <Bal><Tp><CdOrPrtry><Cd>OPBD</Cd></CdOrPrtry></Tp><Amt Ccy=\"EUR\">{opening}</Amt><CdtDbtInd>CRDT</CdtDbtInd><Dt><Dt>{day}</Dt></Dt></Bal>\
         <Bal><Tp><CdOrPrtry><Cd>CLBD</Cd></CdOrPrtry></Tp><Amt Ccy=\"EUR\">{closing}</Amt><CdtDbtInd>CRDT</CdtDbtInd><Dt><Dt>{day}</Dt></Dt></Bal>\
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

fn get_text(base: &str, token: &str, path: &str) -> (u16, String) {
    let response = reqwest::blocking::Client::new()
        .get(format!("{base}{path}"))
        .bearer_auth(token)
        .send()
        .unwrap();
    (response.status().as_u16(), response.text().unwrap())
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
        // op-treasury, the operator's own party, is registered with its key.
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
        for (party, iban) in [
            ("op-treasury", "DE89 3704 0044 0532 0130 00"),
            ("sup-a", "DE44500105175407324931"),
        ] {
            let (status, body) = operator.post(
                &format!("/api/v1/parties/{party}/bank-account"),
                &json!({"iban": iban}),
            );
            assert_eq!(status, 201, "{backend}: {body}");
        }
        let (status, bad) = operator.post(
            "/api/v1/parties/sup-a/bank-account",
            &json!({"iban": "DE44500105175407324932"}),
        );
        assert_eq!(
            (status, bad["detail"].as_str()),
            (
                422,
                Some("\"DE44500105175407324932\" fails the IBAN check digits (ISO 13616)")
            ),
            "{backend}: {bad}"
        );
        let program = json!({"program_id": "prog-h", "retailer_id": "ret-h", "funder_id": "fund-n", "currency": "EUR", "advance_rate": "0.90",
            "discount_rate": "0.12", "day_count": "ACT/360", "tenor_min_days": 10, "tenor_max_days": 120, "grace_days": 5, "late_rate": "0.18",
            "default_days": 30, "recourse": true, "program_limit": "1000000.00", "retailer_limit": "1000000.00", "supplier_limit_fixed": "500000.00"});
        assert_eq!(operator.post("/api/v1/programs", &program).0, 201);
        enrol(&operator, "prog-h", "sup-a");

        // Day 1: the funder's money arrives; treasury books it as the funder's deposit.
        let day_1 = camt053(
            "STMT-2026-01-01",
            "2026-01-01",
            "0.00",
            "100000.00",
            &[entry(
                "100000.00",
                true,
                false,
                "2026-01-01",
                "D1-0",
                &transfer("NORDBANK-CAPITAL-1", None, "Capital call fund-n"),
            )],
        );
        let report = import(&base, &token, "stmt-day-1", &day_1);
        let deposit_line = report["unmatched"][0].as_str().unwrap().to_string();
        let (status, body) = operator.post(
            &format!("/api/v1/bank-lines/{deposit_line}/match"),
            &json!({"deposit_for_funder": "fund-n"}),
        );
        assert_eq!(status, 201, "{backend}: {body}");

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

        // The advances' payouts (8,820.00 and 1,764.00) go to the bank in one pain.001 file.
        let (status, batch) = operator.post(
            "/api/v1/payout-batches",
            &json!({"currency": "EUR", "requested_execution_date": "2026-01-02"}),
        );
        assert_eq!(status, 201, "{backend}: {batch}");
        let batch_id = batch["id"].as_str().unwrap().to_string();
        // Four eyes: the key that proposed the batch cannot approve it, and
        // nothing is instructed until a second one does.
        let (status, refused) = operator.post(
            &format!("/api/v1/payout-batches/{batch_id}/approval"),
            &json!({}),
        );
        assert_eq!(
            (status, refused["code"].as_str()),
            (403, Some("second_approver_required")),
            "{backend}: {refused}"
        );
        let proposed = operator.get("/api/v1/payouts?status=proposed").1["data"].clone();
        assert_eq!(
            proposed.as_array().unwrap().len(),
            2,
            "{backend}: {proposed}"
        );
        let (status, file) = get_text(
            &base,
            &token,
            &format!("/api/v1/payout-batches/{batch_id}/pain001"),
        );
        assert_eq!(status, 409, "{backend}: no file before approval: {file}");
        // A key the proposer created stands in for the proposer: refused too.
        let (status, second) = operator.post(
            "/api/v1/api-keys",
            &json!({"party_id": "op-treasury", "role": "operator", "label": "approver"}),
        );
        assert_eq!(status, 201, "{backend}: {second}");
        let sock = Client::new(&base, second["token"].as_str().unwrap());
        let (status, refused) = sock.post(
            &format!("/api/v1/payout-batches/{batch_id}/approval"),
            &json!({}),
        );
        assert_eq!(
            (status, refused["code"].as_str()),
            (403, Some("second_approver_required")),
            "{backend}: {refused}"
        );
        assert!(
            refused["detail"]
                .as_str()
                .unwrap()
                .contains("who created the credential you approve with"),
            "{backend}: {refused}"
        );
        // A second person's key, set up from the command line, approves it.
        let independent = scfledger::services::api_keys::create(
            &mut db.connect(),
            &scfledger::domain::PartyId::parse("op-treasury").unwrap(),
            scfledger::domain::Role::Operator,
            "second treasury person",
        )
        .unwrap();
        let approver = Client::new(&base, &independent.token);
        // The server learns of a key made by another process within a second.
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
        while approver.get("/api/v1/payout-batches").0 == 401 {
            assert!(
                std::time::Instant::now() < deadline,
                "{backend}: the key never counted"
            );
            std::thread::sleep(std::time::Duration::from_millis(100));
        }
        let (status, approved) = approver.post(
            &format!("/api/v1/payout-batches/{batch_id}/approval"),
            &json!({}),
        );
        assert_eq!(status, 201, "{backend}: {approved}");
        let sent = operator.get("/api/v1/payouts?status=sent").1["data"].clone();
        let payout_ids: Vec<String> = sent
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p["payout_id"].as_str().unwrap().to_string())
            .collect();
        let amounts: Vec<&str> = sent
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p["amount"].as_str().unwrap())
            .collect();
        assert_eq!(amounts, vec!["8820.00", "1764.00"], "{backend}: {sent}");
        let (status, pain001) = get_text(
            &base,
            &token,
            &format!("/api/v1/payout-batches/{batch_id}/pain001"),
        );
        assert_eq!(status, 200, "{backend}: {pain001}");
        scfledger::formats::pain001::schema()
            .validate(pain001.as_bytes())
            .unwrap();
        for expected in [
            format!("<MsgId>{batch_id}</MsgId>"),
            "<NbOfTxs>2</NbOfTxs>\n      <CtrlSum>10584.00</CtrlSum>".to_string(),
            "<ReqdExctnDt>\n        <Dt>2026-01-02</Dt>".to_string(),
            "<IBAN>DE89370400440532013000</IBAN>".to_string(),
            format!("<EndToEndId>{}</EndToEndId>", payout_ids[0]),
            "<InstdAmt Ccy=\"EUR\">8820.00</InstdAmt>".to_string(),
            "<IBAN>DE44500105175407324931</IBAN>".to_string(),
        ] {
            assert!(
                pain001.contains(&expected),
                "{backend}: {expected} in {pain001}"
            );
        }
        let (_, again) = get_text(
            &base,
            &token,
            &format!("/api/v1/payout-batches/{batch_id}/pain001"),
        );
        assert_eq!(
            again, pain001,
            "the file is written again byte for byte from the log"
        );
        let (status, none_left) =
            operator.post("/api/v1/payout-batches", &json!({"currency": "EUR"}));
        assert_eq!(
            (status, none_left["code"].as_str()),
            (422, Some("nothing_to_pay")),
            "{backend}"
        );

        // Day 2: the retailer's payments, the bank's debit of the batch, and a reversal.
        let day_2_entries = [
            // Exact, by RF reference.
            entry("10000.00", true, false, "2026-03-02", "D2-0", &transfer("NOTPROVIDED", Some(&rf_a), "")),
            // Partial, the RF reference as EndToEndId.
            entry("1200.00", true, false, "2026-03-02", "D2-1", &transfer(&rf_b, None, "part payment")),
            // A lump for two invoices: treasury splits it.
            entry("7000.00", true, false, "2026-03-02", "D2-2", &transfer("NOTPROVIDED", None, "Invoices C-300 and E-500")),
            // By invoice number and amount, and later reversed by the payer's bank.
            entry("1500.00", true, false, "2026-03-02", "D2-3", &transfer("HANSA-PAY-0004", None, "Payment D-400 thank you")),
            // Unknown.
            entry("999.00", true, false, "2026-03-02", "D2-4", &transfer("NOTPROVIDED", None, "who knows")),
            // The batch, booked as one debit.
            entry("10584.00", false, false, "2026-03-02", "D2-5", &format!("<Btch><MsgId>{batch_id}</MsgId><PmtInfId>{batch_id}</PmtInfId><NbOfTxs>2</NbOfTxs></Btch>")),
            // The D-400 credit comes back.
            entry("1500.00", false, true, "2026-03-02", "D2-6", &transfer("HANSA-PAY-0004", None, "Return AC04 account closed")),
        ];
        let day_2 = camt053(
            "STMT-2026-03-02",
            "2026-03-02",
            "100000.00",
            "108615.00",
            &day_2_entries,
        );
        let report = import(&base, &token, "stmt-day-2", &day_2);
        assert_eq!(report["lines_imported"], 7, "{backend}: {report}");
        // The same, as objects.
        for (i, triple) in report["matched"].as_array().unwrap().iter().enumerate() {
            let object = &report["matches"][i];
            assert_eq!(
                (&object["line_id"], &object["matched"], &object["rule"]),
                (&triple[0], &triple[1], &triple[2])
            );
        }
        let matched: Vec<(&str, &str)> = report["matched"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| (m[1].as_str().unwrap(), m[2].as_str().unwrap()))
            .collect();
        let reversed_line = report["matched"][2][0].as_str().unwrap().to_string();
        assert_eq!(
            matched,
            vec![
                (ids[0].as_str(), "creditor_reference"),
                (ids[1].as_str(), "end_to_end_id"),
                (ids[3].as_str(), "invoice_number_and_amount"),
                (batch_id.as_str(), "payment_information_id"),
                (reversed_line.as_str(), "reversal"),
            ],
            "{backend}: {report}"
        );
        assert_eq!(
            (
                report["unmatched"].as_array().unwrap().len(),
                report["suspense"].as_array().unwrap().len()
            ),
            (2, 0),
            "{backend}: {report}"
        );
        // The same statement again changes nothing, even under another Idempotency-Key.
        let again = import(&base, &token, "stmt-day-2-again", &day_2);
        assert_eq!(
            (
                again["lines_imported"].as_i64(),
                again["already_imported"].as_i64()
            ),
            (Some(0), Some(7)),
            "{backend}"
        );

        // The lump payment waits with suggestions; treasury splits it by hand.
        let queue = operator.get("/api/v1/bank-lines?status=unmatched").1["data"].clone();
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
        let matched_lines = operator.get("/api/v1/bank-lines?status=matched").1["data"].clone();
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
        let reversed = operator.get("/api/v1/bank-lines?status=reversed").1["data"].clone();
        assert_eq!(reversed[0]["line_id"], reversed_line.as_str(), "{backend}");

        // Every invoice and balance, to the cent.
        let invoice = |id: &str| supplier.get(&format!("/api/v1/invoices/{id}")).1;
        let statuses: Vec<String> = ids
            .iter()
            .map(|id| invoice(id)["status"].as_str().unwrap().to_string())
            .collect();
        assert_eq!(
            statuses,
            vec![
                "settled",
                "partially_paid",
                "settled",
                "confirmed",
                "settled"
            ],
            "{backend}: D-400's payment was reversed"
        );
        assert_eq!(invoice(&ids[1])["paid"], "1200.00");
        assert_eq!(invoice(&ids[3])["paid"], "0.00");
        let balances: Value = operator.get("/api/v1/balances?limit=200").1["data"].clone();
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
            Some("108615.00"),
            "{backend}: 100,000 + 10,000 + 1,200 + 7,000 + 1,500 + 999 - 10,584 - 1,500"
        );
        assert_eq!(
            balance("unapplied-cash").as_deref(),
            Some("-999.00"),
            "{backend}: the unknown payment waits"
        );
        assert_eq!(
            balance("bank-suspense").as_deref(),
            Some("0.00"),
            "{backend}: the batch debit and the reversal are explained"
        );
        assert_eq!(
            balance("payouts:sent").as_deref(),
            Some("0.00"),
            "{backend}: the bank paid the whole batch"
        );
        assert_eq!(
            balance("payouts:pending").as_deref(),
            Some("-8000.00"),
            "{backend}: A's reserve 1,000 + C 3,000 + E 4,000; D's 1,500 was cancelled"
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
        let batches = operator.get("/api/v1/payout-batches").1["data"].clone();
        assert_eq!(
            (
                batches[0]["status"].as_str(),
                batches[0]["confirmed"].as_str()
            ),
            (Some("confirmed"), Some("10584.00")),
            "{backend}"
        );
        let confirmed = operator.get("/api/v1/payouts?status=confirmed").1["data"].clone();
        assert_eq!(confirmed.as_array().unwrap().len(), 2, "{backend}");
        let cancelled = supplier.get("/api/v1/payouts?status=cancelled").1["data"].clone();
        assert_eq!(
            (
                cancelled[0]["amount"].as_str(),
                cancelled[0]["invoice_id"].as_str()
            ),
            (Some("1500.00"), Some(ids[3].as_str())),
            "{backend}: {cancelled}"
        );

        // The day reconciles: the statement's arithmetic, its lines, and
        // bank:main at the end of the day before and of the day itself.
        let statements = operator.get("/api/v1/bank-statements").1["data"].clone();
        let day_2_statement = statements
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["message_id"] == "STMT-2026-03-02")
            .unwrap();
        let (status, csv) = get_text(
            &base,
            &token,
            &format!(
                "{}?format=csv",
                day_2_statement["reconciliation"].as_str().unwrap()
            ),
        );
        assert_eq!(status, 200);
        assert_eq!(
            csv,
            "account,currency,item,statement,ledger,difference\n\
             DE89370400440532013000,EUR,\"closing balance: stated, and opening + credits - debits\",108615.00,108615.00,0.00\n\
             DE89370400440532013000,EUR,\"booked credits: statement, ledger\",20699.00,20699.00,0.00\n\
             DE89370400440532013000,EUR,\"booked debits: statement, ledger\",12084.00,12084.00,0.00\n\
             DE89370400440532013000,EUR,opening balance against bank:main at the end of 2026-03-01,100000.00,100000.00,0.00\n\
             DE89370400440532013000,EUR,closing balance against bank:main at the end of 2026-03-02,108615.00,108615.00,0.00\n",
            "{backend}"
        );
        let (_, rows) = operator.get(day_2_statement["reconciliation"].as_str().unwrap());
        assert!(rows
            .as_array()
            .unwrap()
            .iter()
            .all(|r| r["difference"] == "0.00"));
        drop((supplier, retailer));
        assert_consistent(&db);
    }
}
