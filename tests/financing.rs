//! Receivables financing end to end on every backend: the worked example to the
//! cent, late, short, diluted and lump payments, other currencies, the
//! double-financing guard under concurrency, signatures and bad input.

mod common;

use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine as _;
use chrono::NaiveDate;
use common::*;
use ed25519_dalek::Signer as _;
use scfledger::db::{self, financing as fin_db, log as log_db};
use scfledger::domain::ErrorCode;
use scfledger::domain::{PartyId, Role};
use scfledger::ledger::records::Tally;
use scfledger::ledger::state::WriterState;
use scfledger::ledger::{replay, Ledger, LedgerError, Receipt};
use scfledger::services::advance::AcceptAdvance;
use scfledger::services::common::Actor;
use scfledger::services::deposit::FunderDeposit;
use scfledger::services::invoice::sweep;
use scfledger::services::invoice::{
    request_signing_bytes, CreditNote, InvoiceFields, RegisterInvoice, RetailerDecision,
};
use scfledger::services::party::RegisterParty;
use scfledger::services::payment::ReceivePayment;
use scfledger::services::program::{CreateProgram, EnrolSupplier, ProgramFields};

fn date(text: &str) -> NaiveDate {
    NaiveDate::parse_from_str(text, "%Y-%m-%d").unwrap()
}

fn operator() -> Actor {
    Actor {
        party: PartyId::parse("op-treasury").unwrap(),
        role: Role::Operator,
    }
}

fn as_party(party: &str, role: Role) -> Actor {
    Actor {
        party: PartyId::parse(party).unwrap(),
        role,
    }
}

/// A programme: retailer `ret-hansa`, funder `fund-nord` with 100,000 deposited,
/// supplier `sup-acme`; 90% advance, 12% ACT/360, tenor 10-120 days, 5 grace days,
/// 18% late rate, 30 default days.
struct Scenario {
    db: TestDb,
    ledger: Ledger,
    writer: Option<std::thread::JoinHandle<()>>,
    currency: &'static str,
}

impl Scenario {
    fn new(
        backend: &str,
        currency: &'static str,
        deposit: &str,
        recourse: bool,
        supplier_limit_fixed: Option<&str>,
    ) -> Scenario {
        let db = TestDb::new(backend);
        let (ledger, writer) = start(&db);
        let scenario = Scenario {
            db,
            ledger,
            writer: Some(writer),
            currency,
        };
        let op = operator().party;
        scenario.ok(RegisterParty::parse(
            &op,
            "ret-hansa",
            "retailer",
            "Hansa Retail AG",
            None,
            None,
        )
        .unwrap());
        scenario.ok(RegisterParty::parse(
            &op,
            "fund-nord",
            "funder",
            "Nordbank Capital",
            None,
            None,
        )
        .unwrap());
        scenario.ok(RegisterParty::parse(
            &op,
            "sup-acme",
            "supplier",
            "Acme Textiles GmbH",
            Some("DE123456789"),
            None,
        )
        .unwrap());
        let limit = if currency == "JPY" {
            "1000000000"
        } else if currency == "BHD" {
            "1000000.000"
        } else {
            "1000000.00"
        };
        let fields = ProgramFields {
            program_id: "prog-hansa",
            retailer_id: "ret-hansa",
            funder_id: "fund-nord",
            currency,
            advance_rate: "0.90",
            discount_rate: "0.12",
            day_count: "ACT/360",
            tenor_min_days: 10,
            tenor_max_days: 120,
            grace_days: 5,
            late_rate: "0.18",
            default_days: 30,
            recourse,
            program_limit: limit,
            retailer_limit: limit,
            supplier_limit_fixed: Some(supplier_limit_fixed.unwrap_or(limit)),
            supplier_limit_multiple: None,
            syndicate: None,
        };
        scenario.ok(CreateProgram::parse(&op, &fields).unwrap());
        scenario.ok(EnrolSupplier::parse(operator(), "prog-hansa", "sup-acme").unwrap());
        scenario.ok(FunderDeposit::parse(&op, "fund-nord", currency, deposit).unwrap());
        scenario
    }

    fn submit(&self, command: impl scfledger::ledger::Command) -> Result<Receipt, LedgerError> {
        self.ledger.submit_blocking(command)
    }

    fn ok(&self, command: impl scfledger::ledger::Command) -> Receipt {
        self.submit(command)
            .unwrap_or_else(|e| panic!("{}: {e:?}", self.db.backend()))
    }

    /// Registers and confirms an invoice; returns its id.
    fn confirmed_invoice(&self, number: &str, amount: &str, issue: &str, due: &str) -> String {
        let receipt = self.ok(self.register(number, amount, issue, due).unwrap());
        let invoice_id = format!("inv-{}", receipt.seq);
        self.ok(RetailerDecision::confirm(
            as_party("ret-hansa", Role::Retailer),
            &invoice_id,
            None,
        ));
        invoice_id
    }

    fn register(
        &self,
        number: &str,
        amount: &str,
        issue: &str,
        due: &str,
    ) -> Result<RegisterInvoice, LedgerError> {
        RegisterInvoice::parse(
            as_party("sup-acme", Role::Supplier),
            &InvoiceFields {
                program_id: "prog-hansa",
                supplier_id: "sup-acme",
                invoice_number: number,
                issue_date: issue,
                due_date: due,
                currency: self.currency,
                amount,
                channel: "api",
                document_sha256: None,
            },
        )
    }

    fn accept(&self, invoice_id: &str, today: &str) -> Result<Receipt, LedgerError> {
        self.submit(AcceptAdvance {
            actor: as_party("sup-acme", Role::Supplier),
            invoice_id: invoice_id.into(),
            today: date(today),
        })
    }

    fn pay(&self, amount: &str, value_date: &str, invoices: &[&str]) -> Receipt {
        self.ok(ReceivePayment::parse(
            operator(),
            "ret-hansa",
            self.currency,
            amount,
            date(value_date),
            "bank transfer",
            invoices.iter().map(|s| s.to_string()).collect(),
        )
        .unwrap())
    }

    fn balance(&self, account: &str) -> i64 {
        log_db::balance(&mut self.db.connect(), account, self.currency).unwrap()
    }

    fn invoice(&self, invoice_id: &str) -> fin_db::InvoiceRow {
        fin_db::invoice(&mut self.db.connect(), invoice_id)
            .unwrap()
            .unwrap()
    }

    fn payouts(&self) -> Vec<(String, i64)> {
        fin_db::payouts_of(&mut self.db.connect(), "sup-acme")
            .unwrap()
            .into_iter()
            .map(|p| (p.reason, p.amount_minor))
            .collect()
    }

    fn entry_count(&self) -> i64 {
        log_db::entry_count(&mut self.db.connect()).unwrap()
    }

    /// Stops the writer and checks verify and replay.
    /// Principal outstanding in the programme, as stored and as the writer
    /// holds it in memory: (programme, supplier, retailer).
    fn exposures(&self) -> [(i64, i64); 3] {
        let in_memory = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap()
            .block_on(self.ledger.state())
            .unwrap();
        let mut connection = self.db.connect();
        ["*", "sup-acme", "ret-hansa"].map(|party| {
            let stored = fin_db::exposure_minor(&mut connection, "prog-hansa", party).unwrap();
            let tally = Tally::exposure("prog-hansa", party);
            (stored, in_memory.records.tally(tally.clone()..=tally))
        })
    }

    /// Checks the writer's memory, verify and replay (see `finish_keeping`).
    fn finish(self) {
        self.finish_keeping();
    }

    /// `finish`, keeping the database for more checks.
    fn finish_keeping(self) -> TestDb {
        // What the writer holds in memory is what a fresh load of the
        // projections gives.
        let in_memory = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap()
            .block_on(self.ledger.state())
            .unwrap();
        let loaded = WriterState::load(&mut self.db.connect()).unwrap();
        assert_eq!(
            in_memory.records.differences(&loaded.records),
            Vec::<String>::new(),
            "{}",
            self.db.backend()
        );
        assert_eq!(in_memory, loaded, "{}", self.db.backend());
        let Scenario {
            db, ledger, writer, ..
        } = self;
        // The writer stops once its last handle is gone; verify and replay read the database.
        drop(ledger);
        if let Some(writer) = writer {
            writer.join().unwrap();
        }
        assert_consistent(&db);
        // Money is conserved: every currency's balances sum to zero.
        let sum: i64 = log_db::all_balances(&mut db.connect())
            .unwrap()
            .iter()
            .map(|b| b.balance_minor)
            .sum();
        assert_eq!(sum, 0, "{}: balances do not sum to zero", db.backend());
        db
    }
}

#[test]
fn worked_example_to_the_cent() {
    for backend in backends() {
        let s = Scenario::new(backend, "EUR", "100000.00", true, None);
        let a = s.confirmed_invoice("INV-A", "10000.00", "2026-01-01", "2026-03-02");
        let receipt = s.accept(&a, "2026-01-01").unwrap();
        let entry = &log_db::entries_from(&mut s.db.connect(), receipt.seq as i64, 1).unwrap()[0];
        assert!(
            entry.canonical.contains(r#""principal":"9000.00""#)
                && entry.canonical.contains(r#""fee":"180.00""#)
                && entry.canonical.contains(r#""net":"8820.00""#),
            "{}",
            entry.canonical
        );
        assert!(
            entry.canonical.contains(r#""rule":"supplier_limit""#),
            "every rule is recorded"
        );
        assert_eq!(
            s.payouts(),
            vec![("advance".to_string(), 882_000)],
            "{backend}: supplier paid 8,820.00 now"
        );
        assert_eq!(s.balance("funder:fund-nord:cash"), -(10_000_000 - 882_000));
        assert_eq!(s.invoice(&a).status, "financed");

        s.pay("10000.00", "2026-03-02", &[&a]);
        assert_eq!(
            s.payouts(),
            vec![
                ("advance".to_string(), 882_000),
                ("settlement".to_string(), 100_000)
            ],
            "{backend}: then 1,000.00"
        );
        // Funder: 8,820.00 out, 9,000.00 back: 180.00 earned.
        assert_eq!(s.balance("funder:fund-nord:cash"), -(10_000_000 + 18_000));
        assert_eq!(s.balance("funder:fund-nord:principal"), 0);
        assert_eq!(s.balance("retailer:ret-hansa:receivable"), 0);
        assert_eq!(s.balance("supplier:sup-acme:reserve"), 0);
        assert_eq!(
            s.balance("payouts:pending"),
            -(882_000 + 100_000),
            "{backend}: supplier gets 9,820.00 = A - fee"
        );
        assert_eq!(s.balance("bank:main"), 10_000_000 + 1_000_000);
        let invoice = s.invoice(&a);
        assert_eq!(
            (
                invoice.status.as_str(),
                invoice.paid_minor,
                invoice.settled_on
            ),
            ("settled", 1_000_000, Some(date("2026-03-02")))
        );
        s.finish();
    }
}

#[test]
fn late_payment_pays_the_late_fee_from_the_reserve() {
    for backend in backends() {
        let s = Scenario::new(backend, "EUR", "100000.00", true, None);
        let a = s.confirmed_invoice("INV-A", "10000.00", "2026-01-01", "2026-03-02");
        s.accept(&a, "2026-01-01").unwrap();
        // Due 2 March, 5 grace days: late from 7 March; paid 17 March = 10 days.
        // 9,000.00 × 18% × 10 / 360 = 45.00.
        let receipt = s.pay("10000.00", "2026-03-17", &[&a]);
        let entry = &log_db::entries_from(&mut s.db.connect(), receipt.seq as i64, 1).unwrap()[0];
        assert!(
            entry.canonical.contains(r#""late_fee":"45.00""#),
            "{backend}: {}",
            entry.canonical
        );
        assert_eq!(
            s.balance("funder:fund-nord:cash"),
            -(10_000_000 + 18_000 + 4_500)
        );
        assert_eq!(
            s.payouts()[1],
            ("settlement".to_string(), 95_500),
            "{backend}: 1,000.00 - 45.00"
        );
        assert_eq!(s.invoice(&a).status, "settled");
        assert_eq!(
            s.balance("supplier:sup-acme:reserve"),
            0,
            "{backend}: the reserve is used up"
        );
        assert_eq!(
            s.balance("bank:main"),
            11_000_000,
            "{backend}: 100,000.00 deposited + 10,000.00 paid"
        );
        s.finish();
    }
}

#[test]
fn short_payment_with_recourse_becomes_a_supplier_debt_netted_from_the_next_payout() {
    for backend in backends() {
        let s = Scenario::new(backend, "EUR", "100000.00", true, None);
        let a = s.confirmed_invoice("INV-A", "10000.00", "2026-01-01", "2026-03-02");
        let c = s.confirmed_invoice("INV-C", "5000.00", "2026-01-01", "2026-04-01");
        s.accept(&a, "2026-01-01").unwrap();
        s.accept(&c, "2026-01-01").unwrap();
        // C: 4,500.00 principal, 90 days: fee 135.00, net 4,365.00.
        assert_eq!(
            s.payouts(),
            vec![
                ("advance".to_string(), 882_000),
                ("advance".to_string(), 436_500)
            ]
        );
        // 9,000.00 and 4,500.00 principal.
        assert_eq!(s.exposures(), [(1_350_000, 1_350_000); 3], "{backend}");
        s.pay("6000.00", "2026-03-02", &[&a]);
        assert_eq!(s.invoice(&a).status, "partially_paid");
        assert_eq!(s.exposures(), [(750_000, 750_000); 3], "{backend}");
        // Nothing happens before due + grace + default days (2 March + 5 + 30 = 6 April).
        let report = sweep::sweep(&mut s.db.connect(), &s.ledger, date("2026-03-05")).unwrap();
        assert_eq!(report, sweep::SweepReport::default());
        let report = sweep::sweep(&mut s.db.connect(), &s.ledger, date("2026-03-08")).unwrap();
        assert_eq!(report.overdue, vec![a.clone()], "{backend}");
        let report = sweep::sweep(&mut s.db.connect(), &s.ledger, date("2026-04-07")).unwrap();
        assert_eq!(report.defaulted, vec![a.clone()], "{backend}");
        assert_eq!(
            report.overdue,
            vec![c.clone()],
            "{backend}: C is past 1 April + 5 too"
        );
        // A's 3,000.00 left the exposures for the supplier's debt; C's 4,500.00 stays.
        assert_eq!(s.exposures(), [(450_000, 450_000); 3], "{backend}");
        // Open 4,000.00 written off: reserve 1,000.00 forfeited, 3,000.00 principal now owed by the supplier.
        assert_eq!(s.balance("supplier:sup-acme:debt"), 300_000);
        assert_eq!(
            s.balance("retailer:ret-hansa:receivable"),
            500_000,
            "{backend}: only C remains"
        );
        assert_eq!(s.invoice(&a).defaulted_on, Some(date("2026-04-07")));
        // A default within 365 days bars new advances.
        let d = s.confirmed_invoice("INV-D", "1000.00", "2026-04-07", "2026-06-01");
        let declined = s.accept(&d, "2026-04-07").unwrap_err().to_string();
        assert!(
            declined.contains("no_default_365_days"),
            "{backend}: {declined}"
        );
        // C is paid late in full: principal 4,500.00; late fee 4,500.00 × 18% × 2 / 360 = 4.50;
        // supplier's 495.50 goes to the debt; nothing is paid out.
        s.pay("5000.00", "2026-04-08", &[&c]);
        assert_eq!(s.balance("supplier:sup-acme:debt"), 300_000 - 49_550);
        let debts = fin_db::open_debts(&mut s.db.connect(), "sup-acme", "EUR").unwrap();
        assert_eq!(
            (debts.len(), debts[0].recovered_minor),
            (1, 49_550),
            "{backend}"
        );
        assert_eq!(
            s.payouts().len(),
            2,
            "{backend}: the remainder was netted, not paid out"
        );
        // Funder: 100,000 - 8,820 - 4,365 + 6,000 + 4,500 + 4.50 + 495.50 (recovered).
        assert_eq!(
            s.balance("funder:fund-nord:cash"),
            -(10_000_000 - 882_000 - 436_500 + 600_000 + 450_000 + 450 + 49_550)
        );
        assert_eq!(
            s.balance("funder:fund-nord:principal"),
            -(300_000 - 49_550),
            "{backend}: the funder's claim is the open debt"
        );
        s.finish();
    }
}

#[test]
fn credit_note_below_the_principal_is_due_from_the_supplier_at_once() {
    for backend in backends() {
        let s = Scenario::new(backend, "EUR", "100000.00", true, None);
        let a = s.confirmed_invoice("INV-A", "10000.00", "2026-01-01", "2026-03-02");
        s.accept(&a, "2026-01-01").unwrap();
        s.ok(
            CreditNote::parse(as_party("sup-acme", Role::Supplier), &a, "CN-1", "2000.00").unwrap(),
        );
        // A' = 8,000.00 < P = 9,000.00: reserve 1,000.00 gone, 1,000.00 owed by the supplier.
        assert_eq!(s.balance("supplier:sup-acme:reserve"), 0);
        assert_eq!(s.balance("supplier:sup-acme:debt"), 100_000);
        assert_eq!(s.balance("retailer:ret-hansa:receivable"), 800_000);
        let too_much = s
            .submit(
                CreditNote::parse(as_party("sup-acme", Role::Supplier), &a, "CN-2", "8000.01")
                    .unwrap(),
            )
            .unwrap_err();
        assert!(
            too_much.to_string().contains("exceeds what is open"),
            "{backend}: {too_much}"
        );
        s.pay("8000.00", "2026-03-02", &[&a]);
        assert_eq!(s.invoice(&a).status, "settled");
        assert_eq!(
            s.balance("funder:fund-nord:principal"),
            -100_000,
            "{backend}: 1,000.00 still owed, by the supplier"
        );
        assert_eq!(s.payouts(), vec![("advance".to_string(), 882_000)]);
        s.finish();
    }
}

#[test]
fn one_lump_payment_over_three_invoices_and_the_excess_to_unapplied_cash() {
    for backend in backends() {
        let s = Scenario::new(backend, "EUR", "100000.00", true, None);
        let ids: Vec<String> = [("L-1", "1000.00"), ("L-2", "2000.00"), ("L-3", "3000.00")]
            .iter()
            .map(|(n, a)| s.confirmed_invoice(n, a, "2026-01-01", "2026-03-02"))
            .collect();
        s.accept(&ids[0], "2026-01-01").unwrap();
        s.accept(&ids[2], "2026-01-01").unwrap();
        // L-2 is not financed: its whole payment goes to the supplier.
        let receipt = s.pay("6500.00", "2026-03-02", &[&ids[0], &ids[1], &ids[2]]);
        for id in &ids {
            assert_eq!(s.invoice(id).status, "settled", "{backend}");
        }
        assert_eq!(
            s.balance("unapplied-cash"),
            -50_000,
            "{backend}: 500.00 for treasury"
        );
        let entry = &log_db::entries_from(&mut s.db.connect(), receipt.seq as i64, 1).unwrap()[0];
        assert!(entry.canonical.contains(r#""unapplied":"500.00""#));
        let settlements: Vec<i64> = s
            .payouts()
            .into_iter()
            .filter(|(r, _)| r == "settlement")
            .map(|(_, a)| a)
            .collect();
        assert_eq!(
            settlements,
            vec![10_000, 200_000, 30_000],
            "{backend}: reserves 100.00 and 300.00, and L-2 in full"
        );
        // Principal back: 900.00 + 2,700.00; fees 18.00 + 54.00 earned.
        assert_eq!(
            s.balance("funder:fund-nord:cash"),
            -(10_000_000 + 1_800 + 5_400)
        );
        s.finish();
    }
}

#[test]
fn yen_has_no_minor_unit_and_bahraini_dinar_three() {
    for backend in backends() {
        let s = Scenario::new(backend, "JPY", "10000000", true, None);
        let a = s.confirmed_invoice("JP-1", "12345", "2026-01-01", "2026-03-02");
        let receipt = s.accept(&a, "2026-01-01").unwrap();
        let entry = &log_db::entries_from(&mut s.db.connect(), receipt.seq as i64, 1).unwrap()[0];
        // 12,345 × 0.9 = 11,110.5 → 11,110 (half-even); fee 11,110 × 12% × 60/360 = 222.2 → 222.
        assert!(
            entry.canonical.contains(r#""principal":"11110""#)
                && entry.canonical.contains(r#""fee":"222""#)
                && entry.canonical.contains(r#""net":"10888""#),
            "{backend}: {}",
            entry.canonical
        );
        assert!(
            s.register("JP-2", "100.5", "2026-01-01", "2026-03-02")
                .is_err(),
            "yen has no decimals"
        );
        s.pay("12345", "2026-03-02", &[&a]);
        assert_eq!(
            s.payouts(),
            vec![
                ("advance".to_string(), 10_888),
                ("settlement".to_string(), 1_235)
            ]
        );
        s.finish();

        let s = Scenario::new(backend, "BHD", "10000.000", true, None);
        let b = s.confirmed_invoice("BH-1", "1000.005", "2026-01-01", "2026-03-02");
        let receipt = s.accept(&b, "2026-01-01").unwrap();
        let entry = &log_db::entries_from(&mut s.db.connect(), receipt.seq as i64, 1).unwrap()[0];
        // 1,000.005 × 0.9 = 900.0045 → 900.004; fee 900.004 × 12% × 60/360 = 18.00008 → 18.000.
        assert!(
            entry.canonical.contains(r#""principal":"900.004""#)
                && entry.canonical.contains(r#""fee":"18.000""#)
                && entry.canonical.contains(r#""net":"882.004""#),
            "{backend}: {}",
            entry.canonical
        );
        s.pay("1000.005", "2026-03-02", &[&b]);
        assert_eq!(
            s.payouts(),
            vec![
                ("advance".to_string(), 882_004),
                ("settlement".to_string(), 100_001)
            ]
        );
        s.finish();
    }
}

#[test]
fn fifty_racing_registrations_and_advances_of_one_invoice_produce_exactly_one() {
    for backend in backends() {
        let s = Scenario::new(backend, "EUR", "100000.00", true, None);
        let outcomes: Vec<Result<Receipt, LedgerError>> = std::thread::scope(|scope| {
            let handles: Vec<_> = (0..50)
                .map(|i| {
                    let s = &s;
                    // The same invoice, spelled differently by different channels.
                    let number = if i % 2 == 0 {
                        "INV-RACE-1"
                    } else {
                        "inv race 1"
                    };
                    scope.spawn(move || {
                        s.submit(
                            s.register(number, "10000.00", "2026-01-01", "2026-03-02")
                                .unwrap(),
                        )
                    })
                })
                .collect();
            handles.into_iter().map(|h| h.join().unwrap()).collect()
        });
        let winners: Vec<&Receipt> = outcomes.iter().filter_map(|o| o.as_ref().ok()).collect();
        assert_eq!(winners.len(), 1, "{backend}: exactly one registration");
        assert!(outcomes
            .iter()
            .filter_map(|o| o.as_ref().err())
            .all(|e| matches!(
                e,
                LedgerError::Rejected {
                    code: ErrorCode::DuplicateInvoice,
                    ..
                }
            )));
        let invoice_id = format!("inv-{}", winners[0].seq);
        s.ok(RetailerDecision::confirm(
            as_party("ret-hansa", Role::Retailer),
            &invoice_id,
            None,
        ));
        let outcomes: Vec<Result<Receipt, LedgerError>> = std::thread::scope(|scope| {
            let handles: Vec<_> = (0..50)
                .map(|_| scope.spawn(|| s.accept(&invoice_id, "2026-01-01")))
                .collect();
            handles.into_iter().map(|h| h.join().unwrap()).collect()
        });
        assert_eq!(
            outcomes.iter().filter(|o| o.is_ok()).count(),
            1,
            "{backend}: exactly one advance"
        );
        assert_eq!(s.payouts(), vec![("advance".to_string(), 882_000)]);
        s.finish();
    }
}

#[test]
fn limits_and_liquidity_decline_with_the_rule_named() {
    for backend in backends() {
        let s = Scenario::new(backend, "EUR", "10000.00", true, Some("9500.00"));
        let a = s.confirmed_invoice("INV-A", "10000.00", "2026-01-01", "2026-03-02");
        let b = s.confirmed_invoice("INV-B", "1000.00", "2026-01-01", "2026-03-02");
        let c = s.confirmed_invoice("INV-C", "2000.00", "2026-01-01", "2026-03-02");
        s.accept(&a, "2026-01-01").unwrap();
        // 9,000.00 used + 900.00 > 9,500.00.
        let error = s.accept(&b, "2026-01-01").unwrap_err().to_string();
        assert!(
            error.contains(
                "supplier_limit (input 9000.00 used + 900.00 = 9900.00, threshold 9500.00)"
            ),
            "{backend}: {error}"
        );
        assert!(
            !error.contains("funder_liquidity"),
            "{backend}: 1,180.00 left, 882.00 needed is fine; {error}"
        );
        // The supplier learns which rule failed, not the funder's cash.
        let error = s.accept(&c, "2026-01-01").unwrap_err().to_string();
        assert!(
            error.contains("funder_liquidity (input withheld, threshold withheld)"),
            "{backend}: {error}"
        );
        let error = s
            .submit(AcceptAdvance {
                actor: operator(),
                invoice_id: c.clone(),
                today: date("2026-01-01"),
            })
            .unwrap_err()
            .to_string();
        assert!(
            error.contains("funder_liquidity (input 1180.00 available, threshold net 1764.00)"),
            "{backend}: {error}"
        );
        let early = s.confirmed_invoice("INV-E", "1000.00", "2026-01-01", "2026-01-05");
        assert!(s
            .accept(&early, "2026-01-01")
            .unwrap_err()
            .to_string()
            .contains("tenor (input 4 days, threshold 10-120 days)"));
        s.finish();
    }
}

#[test]
fn a_retailer_with_a_key_must_sign_its_confirmations() {
    for backend in backends() {
        let s = Scenario::new(backend, "EUR", "100000.00", true, None);
        let key = ed25519_dalek::SigningKey::from_bytes(&[9; 32]);
        let public = BASE64.encode(key.verifying_key().as_bytes());
        s.ok(RegisterParty::parse(
            &operator().party,
            "ret-signed",
            "retailer",
            "Signed Retail",
            None,
            Some(&public),
        )
        .unwrap());
        let fields = ProgramFields {
            program_id: "prog-signed",
            retailer_id: "ret-signed",
            funder_id: "fund-nord",
            currency: "EUR",
            advance_rate: "0.9",
            discount_rate: "0.1",
            day_count: "ACT/365",
            tenor_min_days: 1,
            tenor_max_days: 90,
            grace_days: 0,
            late_rate: "0.1",
            default_days: 10,
            recourse: false,
            program_limit: "1000.00",
            retailer_limit: "1000.00",
            supplier_limit_fixed: None,
            supplier_limit_multiple: Some("2.5"),
            syndicate: None,
        };
        s.ok(CreateProgram::parse(&operator().party, &fields).unwrap());
        s.ok(EnrolSupplier::parse(operator(), "prog-signed", "sup-acme").unwrap());
        let receipt = s.ok(RegisterInvoice::parse(
            as_party("sup-acme", Role::Supplier),
            &InvoiceFields {
                program_id: "prog-signed",
                supplier_id: "sup-acme",
                invoice_number: "S-1",
                issue_date: "2026-01-01",
                due_date: "2026-02-01",
                currency: "EUR",
                amount: "100.00",
                channel: "api",
                document_sha256: None,
            },
        )
        .unwrap());
        let invoice_id = format!("inv-{}", receipt.seq);
        let retailer = as_party("ret-signed", Role::Retailer);
        let unsigned = s
            .submit(RetailerDecision::confirm(
                retailer.clone(),
                &invoice_id,
                None,
            ))
            .unwrap_err();
        assert!(
            matches!(
                unsigned,
                LedgerError::Rejected {
                    code: ErrorCode::SignatureRequired,
                    ..
                }
            ),
            "{backend}"
        );
        let message = request_signing_bytes(
            "invoice.confirmed",
            &serde_json::json!({"invoice_id": invoice_id}),
        );
        assert_eq!(
            String::from_utf8(message.clone()).unwrap(),
            format!("scfledger-request-v1\ninvoice.confirmed\n{{\"invoice_id\":\"{invoice_id}\"}}")
        );
        let wrong = BASE64.encode(key.sign(b"something else").to_bytes());
        let forged = s
            .submit(RetailerDecision::confirm(
                retailer.clone(),
                &invoice_id,
                Some(wrong),
            ))
            .unwrap_err();
        assert!(
            matches!(
                forged,
                LedgerError::Rejected {
                    code: ErrorCode::BadSignature,
                    ..
                }
            ),
            "{backend}"
        );
        // Another party cannot confirm it, signed or not.
        let other = s
            .submit(RetailerDecision::confirm(
                as_party("ret-hansa", Role::Retailer),
                &invoice_id,
                None,
            ))
            .unwrap_err();
        assert!(
            matches!(
                other,
                LedgerError::Rejected {
                    code: ErrorCode::NotFound,
                    ..
                }
            ),
            "{backend}"
        );
        // Checked ahead of the writer under a key that is not the retailer's
        // (an old one): the writer checks again under the registered key.
        let old_key = ed25519_dalek::SigningKey::from_bytes(&[7; 32]);
        let old_public = BASE64.encode(old_key.verifying_key().as_bytes());
        let old_signature = BASE64.encode(old_key.sign(&message).to_bytes());
        let stale = RetailerDecision::confirm(retailer.clone(), &invoice_id, Some(old_signature))
            .verify_ahead(&old_public);
        assert!(
            matches!(
                s.submit(stale).unwrap_err(),
                LedgerError::Rejected {
                    code: ErrorCode::BadSignature,
                    ..
                }
            ),
            "{backend}"
        );
        let signature = BASE64.encode(key.sign(&message).to_bytes());
        let receipt = s.ok(RetailerDecision::confirm(
            retailer,
            &invoice_id,
            Some(signature.clone()),
        ));
        let entry = &log_db::entries_from(&mut s.db.connect(), receipt.seq as i64, 1).unwrap()[0];
        assert!(
            entry.canonical.contains("\"actor_sig\":{\"key_id\":")
                && entry.canonical.contains(&signature),
            "{backend}"
        );
        // A trading-history limit with no history: 2.5 × 0.00 settled = 0.00.
        let declined = s.accept(&invoice_id, "2026-01-01").unwrap_err().to_string();
        assert!(
            declined.contains("supplier_limit (input 0.00 used + 90.00 = 90.00, threshold 0.00)"),
            "{backend}: {declined}"
        );
        s.finish();
    }
}

#[test]
fn bad_input_is_refused_clearly_and_writes_nothing() {
    for backend in backends() {
        let s = Scenario::new(backend, "EUR", "100000.00", true, None);
        let before = s.entry_count();
        let cases: Vec<(&str, &str, &str, &str, &str)> = vec![
            (
                "N-1",
                "-5.00",
                "2026-01-01",
                "2026-03-01",
                "amount must be greater than zero",
            ),
            (
                "N-2",
                "0.00",
                "2026-01-01",
                "2026-03-01",
                "amount must be greater than zero",
            ),
            (
                "N-3",
                "10.001",
                "2026-01-01",
                "2026-03-01",
                "exactly 2 decimals",
            ),
            (
                "N-4",
                "92233720368547758.08",
                "2026-01-01",
                "2026-03-01",
                "too large",
            ),
            (
                "N-5",
                "10.00",
                "2026-03-01",
                "2026-01-01",
                "before issue_date",
            ),
            ("N-6", "10.00", "2026-02-30", "2026-03-01", "YYYY-MM-DD"),
        ];
        for (number, amount, issue, due, expected) in cases {
            let error = s
                .register(number, amount, issue, due)
                .err()
                .expect("must be refused")
                .to_string();
            assert!(error.contains(expected), "{number}: {error}");
        }
        let wrong_currency = RegisterInvoice::parse(
            as_party("sup-acme", Role::Supplier),
            &InvoiceFields {
                program_id: "prog-hansa",
                supplier_id: "sup-acme",
                invoice_number: "N-7",
                issue_date: "2026-01-01",
                due_date: "2026-03-01",
                currency: "USD",
                amount: "10.00",
                channel: "api",
                document_sha256: None,
            },
        )
        .unwrap();
        assert!(s
            .submit(wrong_currency)
            .unwrap_err()
            .to_string()
            .contains("programme prog-hansa is in EUR, the invoice in USD"));
        let unknown = RegisterInvoice::parse(
            as_party("op-treasury", Role::Operator),
            &InvoiceFields {
                program_id: "prog-hansa",
                supplier_id: "sup-nobody",
                invoice_number: "N-8",
                issue_date: "2026-01-01",
                due_date: "2026-03-01",
                currency: "EUR",
                amount: "10.00",
                channel: "api",
                document_sha256: None,
            },
        )
        .unwrap();
        assert!(matches!(
            s.submit(unknown).unwrap_err(),
            LedgerError::Rejected {
                code: ErrorCode::UnknownParty,
                ..
            }
        ));
        let another = RegisterInvoice::parse(
            as_party("sup-other", Role::Supplier),
            &InvoiceFields {
                program_id: "prog-hansa",
                supplier_id: "sup-acme",
                invoice_number: "N-9",
                issue_date: "2026-01-01",
                due_date: "2026-03-01",
                currency: "EUR",
                amount: "10.00",
                channel: "api",
                document_sha256: None,
            },
        );
        assert!(matches!(
            another.err().unwrap(),
            LedgerError::Rejected {
                code: ErrorCode::Forbidden,
                ..
            }
        ));
        assert_eq!(s.entry_count(), before, "{backend}: nothing written");
        // Illegal transitions.
        let a = s.confirmed_invoice("T-1", "100.00", "2026-01-01", "2026-03-01");
        let again = s
            .submit(RetailerDecision::confirm(
                as_party("ret-hansa", Role::Retailer),
                &a,
                None,
            ))
            .unwrap_err()
            .to_string();
        assert_eq!(
            again,
            "invoice T-1: cannot confirm an invoice that is confirmed"
        );
        let r = s.ok(s
            .register("T-2", "100.00", "2026-01-01", "2026-03-01")
            .unwrap());
        let rejected = format!("inv-{}", r.seq);
        s.ok(RetailerDecision::reject(
            as_party("ret-hansa", Role::Retailer),
            &rejected,
            "not delivered",
        )
        .unwrap());
        assert!(
            s.accept(&rejected, "2026-01-01")
                .unwrap_err()
                .to_string()
                .contains("confirmed (input rejected"),
            "{backend}"
        );
        s.finish();
    }
}

mod properties {
    use super::*;
    use proptest::prelude::*;

    #[derive(Debug, Clone)]
    enum Op {
        Invoice {
            amount_cents: i64,
            tenor_days: i64,
        },
        Accept {
            pick: usize,
        },
        Pay {
            amount_cents: i64,
            picks: Vec<usize>,
        },
        Credit {
            pick: usize,
            amount_cents: i64,
        },
        Sweep {
            days_forward: i64,
        },
    }

    fn op() -> impl Strategy<Value = Op> {
        prop_oneof![
            3 => (1i64..2_000_000, 5i64..130).prop_map(|(amount_cents, tenor_days)| Op::Invoice { amount_cents, tenor_days }),
            3 => (0usize..20).prop_map(|pick| Op::Accept { pick }),
            3 => (1i64..3_000_000, proptest::collection::vec(0usize..20, 0..4)).prop_map(|(amount_cents, picks)| Op::Pay { amount_cents, picks }),
            1 => (0usize..20, 1i64..500_000).prop_map(|(pick, amount_cents)| Op::Credit { pick, amount_cents }),
            1 => (1i64..60).prop_map(|days_forward| Op::Sweep { days_forward }),
        ]
    }

    fn cents(minor: i64) -> String {
        format!("{}.{:02}", minor / 100, minor % 100)
    }

    /// Runs the operations; rejected commands are expected and write nothing.
    fn run(backend: &str, ops: &[Op]) {
        let s = Scenario::new(backend, "EUR", "50000.00", true, Some("40000.00"));
        let mut today = date("2026-01-01");
        let mut invoices: Vec<String> = Vec::new();
        let mut received = 0i64;
        for (n, op) in ops.iter().enumerate() {
            match op {
                Op::Invoice {
                    amount_cents,
                    tenor_days,
                } => {
                    let due = today + chrono::Duration::days(*tenor_days);
                    let id = s.confirmed_invoice(
                        &format!("P-{n}"),
                        &cents(*amount_cents),
                        &today.to_string(),
                        &due.to_string(),
                    );
                    invoices.push(id);
                }
                Op::Accept { pick } if !invoices.is_empty() => {
                    let _ = s.accept(&invoices[pick % invoices.len()], &today.to_string());
                }
                Op::Pay {
                    amount_cents,
                    picks,
                } if !invoices.is_empty() => {
                    let mut ids: Vec<String> = picks
                        .iter()
                        .map(|p| invoices[p % invoices.len()].clone())
                        .collect();
                    let mut seen = std::collections::HashSet::new();
                    ids.retain(|id| seen.insert(id.clone()));
                    let command = ReceivePayment::parse(
                        operator(),
                        "ret-hansa",
                        "EUR",
                        &cents(*amount_cents),
                        today,
                        "p",
                        ids,
                    )
                    .unwrap();
                    if s.submit(command).is_ok() {
                        received += amount_cents;
                    }
                }
                Op::Credit { pick, amount_cents } if !invoices.is_empty() => {
                    let command = CreditNote::parse(
                        as_party("sup-acme", Role::Supplier),
                        &invoices[pick % invoices.len()],
                        &format!("CN-{n}"),
                        &cents(*amount_cents),
                    )
                    .unwrap();
                    let _ = s.submit(command);
                }
                Op::Sweep { days_forward } => {
                    today += chrono::Duration::days(*days_forward);
                    sweep::sweep(&mut s.db.connect(), &s.ledger, today).unwrap();
                }
                _ => {}
            }
        }
        // The ledger's accounts agree with the projections, to the cent.
        let mut connection = s.db.connect();
        let snapshot = fin_db::snapshot(&mut connection).unwrap();
        let financed_open: Vec<(i64, i64)> = snapshot
            .advances
            .iter()
            .map(|a| {
                let invoice = snapshot
                    .invoices
                    .iter()
                    .find(|i| i.invoice_id == a.invoice_id)
                    .unwrap();
                let open = if invoice.status == "defaulted" {
                    0
                } else {
                    invoice.open_minor()
                };
                (open, a.principal_outstanding_minor)
            })
            .collect();
        let debts_open: i64 = snapshot
            .debts
            .iter()
            .map(|d| d.amount_minor - d.recovered_minor)
            .sum();
        assert_eq!(
            s.balance("retailer:ret-hansa:receivable"),
            financed_open.iter().map(|(open, _)| open).sum::<i64>(),
            "{backend}: receivable"
        );
        assert_eq!(
            s.balance("supplier:sup-acme:reserve"),
            -financed_open.iter().map(|(open, p)| open - p).sum::<i64>(),
            "{backend}: reserve"
        );
        assert_eq!(
            s.balance("funder:fund-nord:principal"),
            -(financed_open.iter().map(|(_, p)| p).sum::<i64>() + debts_open),
            "{backend}: principal"
        );
        assert_eq!(
            s.balance("supplier:sup-acme:debt"),
            debts_open,
            "{backend}: debts"
        );
        assert_eq!(
            s.balance("bank:main"),
            5_000_000 + received,
            "{backend}: bank"
        );
        let payouts: i64 = snapshot.payouts.iter().map(|p| p.amount_minor).sum();
        assert_eq!(s.balance("payouts:pending"), -payouts, "{backend}: payouts");
        for advance in &snapshot.advances {
            assert!(
                advance.principal_outstanding_minor >= 0,
                "{backend}: {advance:?}"
            );
        }
        s.finish();
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 12, failure_persistence: None, ..ProptestConfig::default() })]
        #[test]
        fn money_is_conserved_and_replay_rebuilds_every_projection(ops in proptest::collection::vec(op(), 1..40)) {
            for backend in backends() {
                run(backend, &ops);
            }
        }
    }
}

#[test]
fn racing_advances_never_exceed_a_supplier_limit_or_the_funders_cash() {
    for backend in backends() {
        // Supplier limit 9,500.00: ten advances of 900.00 fit, an eleventh does not.
        let s = Scenario::new(backend, "EUR", "100000.00", true, Some("9500.00"));
        let ids: Vec<String> = (0..30)
            .map(|n| s.confirmed_invoice(&format!("R-{n}"), "1000.00", "2026-01-01", "2026-03-02"))
            .collect();
        let outcomes: Vec<Result<Receipt, LedgerError>> = std::thread::scope(|scope| {
            let handles: Vec<_> = ids
                .iter()
                .map(|id| scope.spawn(|| s.accept(id, "2026-01-01")))
                .collect();
            handles.into_iter().map(|h| h.join().unwrap()).collect()
        });
        assert_eq!(
            outcomes.iter().filter(|o| o.is_ok()).count(),
            10,
            "{backend}"
        );
        assert!(outcomes
            .iter()
            .filter_map(|o| o.as_ref().err())
            .all(|e| e.to_string().contains("supplier_limit")));
        assert_eq!(
            s.balance("funder:fund-nord:principal"),
            -900_000,
            "{backend}: 10 × 900.00"
        );
        s.finish();

        // Funder cash 5,000.00: five nets of 882.00 fit, a sixth does not.
        let s = Scenario::new(backend, "EUR", "5000.00", true, None);
        let ids: Vec<String> = (0..20)
            .map(|n| s.confirmed_invoice(&format!("L-{n}"), "1000.00", "2026-01-01", "2026-03-02"))
            .collect();
        let outcomes: Vec<Result<Receipt, LedgerError>> = std::thread::scope(|scope| {
            let handles: Vec<_> = ids
                .iter()
                .map(|id| scope.spawn(|| s.accept(id, "2026-01-01")))
                .collect();
            handles.into_iter().map(|h| h.join().unwrap()).collect()
        });
        assert_eq!(
            outcomes.iter().filter(|o| o.is_ok()).count(),
            5,
            "{backend}"
        );
        assert!(outcomes
            .iter()
            .filter_map(|o| o.as_ref().err())
            .all(|e| e.to_string().contains("funder_liquidity")));
        assert_eq!(
            s.balance("funder:fund-nord:cash"),
            -(500_000 - 5 * 88_200),
            "{backend}: 5,000.00 - 5 × 882.00"
        );
        s.finish();
    }
}

/// Invoices 10, 100 and 1000 of one supplier, one day and one amount are
/// three invoices; `INV-0100` and `INV-l00` (letter l) are `INV-100` again.
#[test]
fn numbers_that_differ_by_a_zero_after_a_one_are_different_invoices() {
    for backend in backends() {
        let s = Scenario::new(backend, "EUR", "100000.00", true, None);
        for number in ["INV-10", "INV-100", "INV-1000"] {
            let command = s
                .register(number, "500.00", "2026-01-05", "2026-03-05")
                .unwrap();
            assert!(s.submit(command).is_ok(), "{backend}: {number} was refused");
        }
        for same in ["INV-0100", "INV-l00"] {
            let command = s
                .register(same, "500.00", "2026-01-05", "2026-03-05")
                .unwrap();
            match s.submit(command) {
                Err(LedgerError::Rejected { code, .. }) => {
                    assert_eq!(code, ErrorCode::DuplicateInvoice, "{backend}: {same}")
                }
                other => panic!("{backend}: {same} was not refused as a duplicate: {other:?}"),
            }
        }
        s.finish();
    }
}

#[test]
fn replay_names_a_changed_payout_and_a_lost_entry_party_and_repair_restores_them() {
    for backend in backends() {
        let s = Scenario::new(backend, "EUR", "100000.00", true, None);
        let a = s.confirmed_invoice("INV-A", "10000.00", "2026-01-01", "2026-03-02");
        let advance = s.accept(&a, "2026-01-01").unwrap().seq;
        let db = s.finish_keeping();
        let mut connection = db.connect();
        // The advance paid the net, 8820.00, to the supplier.
        db::execute_raw(
            &mut connection,
            &format!("UPDATE payouts SET amount_minor = 882001 WHERE payout_id = 'po-{advance}-0'"),
        )
        .unwrap();
        db::execute_raw(
            &mut connection,
            &format!("DELETE FROM entry_parties WHERE seq = {advance} AND party_id = 'sup-acme'"),
        )
        .unwrap();
        let apply = scfledger::services::projector::apply;
        let report = replay::replay(&mut connection, false, apply).unwrap();
        assert_eq!(
            report.differences,
            vec![
                format!(
                    "entry_parties projection differs from the log at seq {advance} \
                     (23 rows rebuilt, 22 stored from seq 0 to {advance})"
                ),
                format!(
                    "writer's records (the log's first, the projections' second): \
                     payout po-{advance}-0: the rows differ"
                ),
            ],
            "{backend}"
        );
        let repaired = replay::replay(&mut connection, true, apply).unwrap();
        assert_eq!(repaired.differences, report.differences, "{backend}");
        let again = replay::replay(&mut connection, false, apply).unwrap();
        assert_eq!(
            again.differences,
            Vec::<String>::new(),
            "{backend}: repaired"
        );
        let payout = fin_db::payouts_of(&mut connection, "sup-acme").unwrap();
        assert_eq!(payout[0].amount_minor, 882_000, "{backend}");
    }
}
