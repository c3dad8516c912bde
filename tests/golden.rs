//! The golden ledger: a fixed script of commands that records every entry
//! kind, with a fixed clock and the test key, so its export comes out byte
//! for byte the same on every run. The export committed in `tests/golden/`
//! was written by the code of its commit; a change that alters the canonical
//! bytes of any kind fails here, naming the first entry that differs, and the
//! committed export must still verify.
//!
//! To record the fixture again (only when a format change is intended and
//! documented in docs/ledger-format.md): `SCFLEDGER_GOLDEN_WRITE=1 cargo test --test golden`.

mod common;

use chrono::{NaiveDate, TimeZone, Utc};
use common::*;
use scfledger::db::financing::{self as fin_db, InvoiceFilter};
use scfledger::domain::{PartyId, Role};
use scfledger::ledger::SequencerConfig;
use scfledger::services::common::Actor;
use scfledger::services::invoice::CreditNote;

/// Every entry kind the ledger writes; the golden ledger holds each.
const KINDS: [&str; 24] = [
    "advance.accepted",
    "bank.line_imported",
    "funder.deposited",
    "invoice.confirmed",
    "invoice.credited",
    "invoice.defaulted",
    "invoice.disputed",
    "invoice.matured",
    "invoice.overdue",
    "invoice.registered",
    "invoice.rejected",
    "journal.posted",
    "party.bank_account_request_declined",
    "party.bank_account_requested",
    "party.bank_account_set",
    "party.registered",
    "payment.received",
    "payment.reversed",
    "payout.batch_created",
    "payout.batch_declined",
    "payout.batch_proposed",
    "payout.confirmed",
    "program.created",
    "program.supplier_enrolled",
];

fn golden_folder() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden")
}

fn operator() -> Actor {
    Actor {
        party: PartyId::parse("op-treasury").unwrap(),
        role: Role::Operator,
    }
}

/// One booked camt.053.001.08 entry.
fn camt_entry(
    amount: &str,
    credit: bool,
    reversal: bool,
    reference: &str,
    details: &str,
) -> String {
    format!(
        "<Ntry><Amt Ccy=\"EUR\">{amount}</Amt><CdtDbtInd>{}</CdtDbtInd><RvslInd>{reversal}</RvslInd><Sts><Cd>BOOK</Cd></Sts>\
         <BookgDt><Dt>2026-11-30</Dt></BookgDt><ValDt><Dt>2026-11-30</Dt></ValDt><AcctSvcrRef>{reference}</AcctSvcrRef>\
         <BkTxCd><Domn><Cd>PMNT</Cd><Fmly><Cd>RCDT</Cd><SubFmlyCd>ESCT</SubFmlyCd></Fmly></Domn></BkTxCd>\
         <NtryDtls>{details}</NtryDtls></Ntry>",
        if credit { "CRDT" } else { "DBIT" },
    )
}

/// Records the golden ledger into `db` and returns its entries, one canonical line each.
fn record(db: &TestDb) -> Vec<String> {
    let config = SequencerConfig {
        fixed_time: Some(Utc.with_ymd_and_hms(2026, 11, 30, 12, 0, 0).unwrap()),
        ..SequencerConfig::default()
    };
    let (ledger, writer) = scfledger::services::start_ledger(&db.url, test_key(), config).unwrap();
    let today = NaiveDate::from_ymd_opt(2026, 11, 30).unwrap();
    let mut connection = db.connect();
    // The demo: parties, bank accounts, a programme and its members, a
    // deposit, a journal entry, invoices in every state, advances, payments,
    // the overdue and default sweep, and a payout batch.
    scfledger::services::demo::seed(&mut connection, &ledger, db.folder.path(), today).unwrap();
    // A credit note on a confirmed, unfinanced invoice.
    let confirmed = fin_db::list_invoices(
        &mut connection,
        &InvoiceFilter {
            status: Some("confirmed".into()),
            ..Default::default()
        },
        -1,
        1,
    )
    .unwrap();
    ledger
        .submit_blocking(
            CreditNote::parse(operator(), &confirmed[0].invoice_id, "CN-GOLD-1", "100.00").unwrap(),
        )
        .unwrap();
    // A bank statement: a retailer's payment by RF reference, its reversal,
    // and the bank's debit of the payout batch.
    let financed = fin_db::list_invoices(
        &mut connection,
        &InvoiceFilter {
            status: Some("financed".into()),
            ..Default::default()
        },
        -1,
        1,
    )
    .unwrap();
    let reference = financed[0].creditor_reference.clone().unwrap();
    let batch = scfledger::db::payouts::all_batches(&mut connection).unwrap()[0].clone();
    let batch_total = scfledger::domain::Currency::parse("EUR")
        .unwrap()
        .format_amount(batch.total_minor);
    let credit_details = format!(
        "<TxDtls><Refs><EndToEndId>E2E-GOLD-1</EndToEndId></Refs><RmtInf><Strd><CdtrRefInf><Tp><CdOrPrtry>\
         <Cd>SCOR</Cd></CdOrPrtry></Tp><Ref>{reference}</Ref></CdtrRefInf></Strd></RmtInf></TxDtls>"
    );
    let entries = [
        camt_entry("500.00", true, false, "GOLD-1", &credit_details),
        camt_entry("500.00", false, true, "GOLD-2", &credit_details),
        camt_entry(
            &batch_total,
            false,
            false,
            "GOLD-3",
            &format!(
                "<Btch><MsgId>{id}</MsgId><PmtInfId>{id}</PmtInfId><NbOfTxs>{n}</NbOfTxs></Btch>",
                id = batch.batch_id,
                n = batch.payout_count
            ),
        ),
    ]
    .concat();
    let statement = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Document xmlns=\"urn:iso:std:iso:20022:tech:xsd:camt.053.001.08\"><BkToCstmrStmt>\
         <GrpHdr><MsgId>GOLD-STMT</MsgId><CreDtTm>2026-11-30T18:00:00</CreDtTm></GrpHdr><Stmt><Id>GOLD-STMT-S</Id>\
         <CreDtTm>2026-11-30T18:00:00</CreDtTm><Acct><Id><IBAN>DE89370400440532013000</IBAN></Id><Ccy>EUR</Ccy></Acct>\
         <Bal><Tp><CdOrPrtry><Cd>OPBD</Cd></CdOrPrtry></Tp><Amt Ccy=\"EUR\">{batch_total}</Amt><CdtDbtInd>CRDT</CdtDbtInd><Dt><Dt>2026-11-30</Dt></Dt></Bal>\
         <Bal><Tp><CdOrPrtry><Cd>CLBD</Cd></CdOrPrtry></Tp><Amt Ccy=\"EUR\">0.00</Amt><CdtDbtInd>CRDT</CdtDbtInd><Dt><Dt>2026-11-30</Dt></Dt></Bal>\
         {entries}</Stmt></BkToCstmrStmt></Document>"
    );
    let pool = scfledger::db::read_pool(&db.url, 2).unwrap();
    let report = actix_web::rt::System::new()
        .block_on(scfledger::services::treasury::import(
            &ledger,
            &pool,
            &operator(),
            statement.into_bytes(),
        ))
        .unwrap();
    assert_eq!(report.lines_imported, 3, "{report:?}");
    // Treasury approves Cobalt's bank account (asked for in the demo); Baltic
    // asks for another one, and treasury declines it.
    let cobalt = fin_db::party(&mut connection, "sup-cobalt")
        .unwrap()
        .unwrap();
    ledger
        .submit_blocking(
            scfledger::services::party::SetBankAccount::approve_request(
                operator(),
                "sup-cobalt",
                cobalt.requested_seq.unwrap(),
            )
            .unwrap(),
        )
        .unwrap();
    let baltic = Actor {
        party: PartyId::parse("sup-baltic").unwrap(),
        role: Role::Supplier,
    };
    let asked = ledger
        .submit_blocking(
            scfledger::services::party::RequestBankAccount::parse(
                baltic,
                "finance@baltic.example",
                "EE38 2200 2210 2014 5685",
                None,
            )
            .unwrap(),
        )
        .unwrap();
    ledger
        .submit_blocking(
            scfledger::services::party::DeclineBankAccountRequest::parse(
                operator(),
                "sup-baltic",
                asked.seq as i64,
                "Not confirmed by phone with Baltic's finance team",
            )
            .unwrap(),
        )
        .unwrap();
    syndicate_and_early_payment(&ledger);
    drop(ledger);
    writer.join().unwrap();
    let count = scfledger::db::log::entry_count(&mut connection).unwrap();
    scfledger::db::log::entries_from(&mut connection, 0, count)
        .unwrap()
        .into_iter()
        .map(|row| row.canonical)
        .collect()
}

/// Issue 17: a programme shared pro rata by two funders, an advance split
/// between them and a payment repaying each its share; and a programme the
/// retailer funds from its own cash, an invoice paid early and settled on
/// its due date.
fn syndicate_and_early_payment(ledger: &scfledger::ledger::Ledger) {
    use scfledger::services::advance::AcceptAdvance;
    use scfledger::services::deposit::FunderDeposit;
    use scfledger::services::invoice::sweep::SettlePaidEarly;
    use scfledger::services::invoice::{InvoiceFields, RegisterInvoice, RetailerDecision};
    use scfledger::services::party::RegisterParty;
    use scfledger::services::payment::ReceivePayment;
    use scfledger::services::program::{
        CreateProgram, EnrolSupplier, FunderFields, ProgramFields, SyndicateFields,
    };
    let op = operator();
    fn submit(
        ledger: &scfledger::ledger::Ledger,
        command: impl scfledger::ledger::Command,
    ) -> scfledger::ledger::Receipt {
        ledger.submit_blocking(command).unwrap()
    }
    let acme = Actor {
        party: PartyId::parse("sup-acme").unwrap(),
        role: Role::Supplier,
    };
    let hansa = Actor {
        party: PartyId::parse("ret-hansa").unwrap(),
        role: Role::Retailer,
    };
    let today = NaiveDate::from_ymd_opt(2026, 11, 30).unwrap();
    submit(
        ledger,
        RegisterParty::parse(&op.party, "fund-sud", "funder", "Südbank AG", None, None).unwrap(),
    );
    submit(
        ledger,
        FunderDeposit::parse(&op.party, "fund-sud", "EUR", "50000.00").unwrap(),
    );
    submit(
        ledger,
        FunderDeposit::parse(&op.party, "ret-hansa", "EUR", "30000.00").unwrap(),
    );
    let terms = |program_id, funder_id, advance_rate, discount_rate, syndicate| ProgramFields {
        program_id,
        retailer_id: "ret-hansa",
        funder_id,
        currency: "EUR",
        advance_rate,
        discount_rate,
        day_count: "ACT/360",
        tenor_min_days: 10,
        tenor_max_days: 120,
        grace_days: 5,
        late_rate: "0.15",
        default_days: 30,
        recourse: true,
        program_limit: "500000.00",
        retailer_limit: "500000.00",
        supplier_limit_fixed: Some("100000.00"),
        supplier_limit_multiple: None,
        syndicate: Some(syndicate),
    };
    let club = terms(
        "prog-hansa-club",
        "fund-nord",
        "0.90",
        "0.095",
        SyndicateFields {
            allocation: "pro_rata",
            funders: vec![
                FunderFields {
                    funder_id: "fund-nord",
                    commitment: "300000.00",
                    retailer_limit: None,
                    supplier_limit: None,
                },
                FunderFields {
                    funder_id: "fund-sud",
                    commitment: "200000.00",
                    retailer_limit: Some("250000.00"),
                    supplier_limit: Some("50000.00"),
                },
            ],
            early_payment_budget: None,
        },
    );
    let early = terms(
        "prog-hansa-early",
        "ret-hansa",
        "1",
        "0.02",
        SyndicateFields {
            allocation: "buyer_funded",
            funders: Vec::new(),
            early_payment_budget: Some("20000.00"),
        },
    );
    let mut financed = Vec::new();
    for (program, number) in [(club, "INV-2026-0501"), (early, "INV-2026-0502")] {
        submit(ledger, CreateProgram::parse(&op.party, &program).unwrap());
        submit(
            ledger,
            EnrolSupplier::parse(op.clone(), program.program_id, "sup-acme").unwrap(),
        );
        let registered = submit(
            ledger,
            RegisterInvoice::parse(
                acme.clone(),
                &InvoiceFields {
                    program_id: program.program_id,
                    supplier_id: "sup-acme",
                    invoice_number: number,
                    issue_date: "2026-11-30",
                    due_date: "2027-01-29",
                    currency: "EUR",
                    amount: "10000.01",
                    channel: "api",
                    document_sha256: None,
                },
            )
            .unwrap(),
        );
        let invoice_id = format!("inv-{}", registered.seq);
        submit(
            ledger,
            RetailerDecision::confirm(hansa.clone(), &invoice_id, None),
        );
        submit(
            ledger,
            AcceptAdvance {
                actor: acme.clone(),
                invoice_id: invoice_id.clone(),
                today,
            },
        );
        financed.push(invoice_id);
    }
    submit(
        ledger,
        ReceivePayment::parse(
            op.clone(),
            "ret-hansa",
            "EUR",
            "4000.00",
            today,
            "part payment",
            vec![financed[0].clone()],
        )
        .unwrap(),
    );
    submit(
        ledger,
        SettlePaidEarly {
            invoice_id: financed[1].clone(),
            today: NaiveDate::from_ymd_opt(2027, 1, 29).unwrap(),
        },
    );
}

#[test]
fn the_golden_ledger_is_recorded_byte_for_byte_and_verifies() {
    // Both backends record the same bytes.
    for backend in backends() {
        check_golden(backend);
    }
}

fn check_golden(backend: &str) {
    let db = TestDb::new(backend);
    let lines = record(&db);
    let kinds: std::collections::BTreeSet<String> = lines
        .iter()
        .map(|line| {
            let entry: serde_json::Value = serde_json::from_str(line).unwrap();
            entry["kind"].as_str().unwrap().to_string()
        })
        .collect();
    let expected: std::collections::BTreeSet<String> =
        KINDS.iter().map(|k| k.to_string()).collect();
    assert_eq!(
        kinds, expected,
        "the golden ledger holds every kind, and only those"
    );
    let export = golden_folder().join("ledger.jsonl");
    let checkpoint_path = golden_folder().join("ledger.jsonl.checkpoint");
    let note = scfledger::db::log::latest_checkpoint(&mut db.connect())
        .unwrap()
        .unwrap()
        .note;
    if backend == "sqlite" && std::env::var("SCFLEDGER_GOLDEN_WRITE").is_ok_and(|v| v == "1") {
        std::fs::create_dir_all(golden_folder()).unwrap();
        std::fs::write(
            &export,
            lines.iter().map(|l| format!("{l}\n")).collect::<String>(),
        )
        .unwrap();
        std::fs::write(&checkpoint_path, &note).unwrap();
        let vkey = format!("{}\n", test_key().verifier().to_text());
        std::fs::write(golden_folder().join("ledger.vkey"), vkey).unwrap();
    }
    assert_eq!(
        std::fs::read_to_string(golden_folder().join("ledger.vkey"))
            .unwrap()
            .trim(),
        test_key().verifier().to_text(),
        "the verifier key beside the golden export"
    );
    let golden = std::fs::read_to_string(&export).expect("tests/golden/ledger.jsonl");
    let golden_lines: Vec<&str> = golden.lines().collect();
    for (seq, (made, kept)) in lines.iter().zip(&golden_lines).enumerate() {
        assert_eq!(
            made, kept,
            "{backend}: entry {seq} differs from the golden ledger"
        );
    }
    assert_eq!(lines.len(), golden_lines.len(), "number of entries");
    let golden_note = std::fs::read_to_string(&checkpoint_path).unwrap();
    assert_eq!(note, golden_note, "the same tree, signed by the same key");
    // The committed export verifies on its own, and the ledger rebuilt from
    // the same commands replays.
    let report = scfledger::ledger::verify::verify_export(
        std::io::BufReader::new(golden.as_bytes()),
        &golden_note,
        &test_key().verifier(),
    )
    .unwrap();
    assert_eq!(report.entries as usize, golden_lines.len());
    assert_consistent(&db);
    assert_eq!(
        scfledger::services::advance::disclosure::check_disclosures(&mut db.connect()),
        Ok(7),
        "every advance's withheld inputs match its commitment"
    );
}

/// The golden export recorded before fingerprints moved to version 3 (its
/// `invoice.registered` entries hold `scfledger-invoice-v2` fingerprints)
/// still verifies: a change of what new entries hold never makes old ones invalid.
#[test]
fn the_export_recorded_before_fingerprint_v3_still_verifies() {
    let folder = golden_folder().join("v2-fingerprints");
    let export = std::fs::read_to_string(folder.join("ledger.jsonl")).unwrap();
    let note = std::fs::read_to_string(folder.join("ledger.jsonl.checkpoint")).unwrap();
    let report = scfledger::ledger::verify::verify_export(
        std::io::BufReader::new(export.as_bytes()),
        &note,
        &test_key().verifier(),
    )
    .unwrap();
    assert_eq!(report.entries as usize, export.lines().count());
}
