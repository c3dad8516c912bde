//! Several funders per programme (issue 17), on every backend: advances
//! allocated by priority with caps and pro rata by commitment, a funder at
//! its concentration limit or out of cash skipped, each funder repaid its
//! own share of the principal and the late fee, a supplier debt split
//! between them, and every figure to the cent; verify and replay agree.

mod common;

use chrono::NaiveDate;
use common::*;
use scfledger::db::{financing as fin_db, log as log_db};
use scfledger::domain::{ErrorCode, PartyId, Role};
use scfledger::ledger::state::WriterState;
use scfledger::ledger::{Ledger, LedgerError, Receipt};
use scfledger::services::advance::AcceptAdvance;
use scfledger::services::api_keys::Principal;
use scfledger::services::common::Actor;
use scfledger::services::deposit::FunderDeposit;
use scfledger::services::funder::{self, book};
use scfledger::services::invoice::sweep;
use scfledger::services::invoice::{CreditNote, InvoiceFields, RegisterInvoice, RetailerDecision};
use scfledger::services::party::RegisterParty;
use scfledger::services::payment::ReceivePayment;
use scfledger::services::program::{
    CreateProgram, EnrolSupplier, FunderFields, ProgramFields, SyndicateFields,
};

fn date(text: &str) -> NaiveDate {
    NaiveDate::parse_from_str(text, "%Y-%m-%d").unwrap()
}

fn actor(party: &str, role: Role) -> Actor {
    Actor {
        party: PartyId::parse(party).unwrap(),
        role,
    }
}

fn operator() -> Actor {
    actor("op-treasury", Role::Operator)
}

/// A programme of retailer `ret-hansa` and supplier `sup-acme` funded by
/// `fund-a`, `fund-b` and `fund-c` (in that order) under `allocation`:
/// 90% advance, 12% ACT/360, 5 grace days, 18% late rate, recourse.
struct Syndicate {
    db: TestDb,
    ledger: Ledger,
    writer: Option<std::thread::JoinHandle<()>>,
}

impl Syndicate {
    fn new(
        backend: &str,
        allocation: &str,
        funders: &[FunderFields<'_>],
        deposits: [&str; 3],
    ) -> Self {
        let s = Syndicate::parties(backend);
        let fields = ProgramFields {
            syndicate: Some(SyndicateFields {
                allocation,
                funders: funders.to_vec(),
                early_payment_budget: None,
            }),
            ..terms("fund-a", "0.90", "0.12", "ACT/360")
        };
        s.ok(CreateProgram::parse(&operator().party, &fields).unwrap());
        s.ok(EnrolSupplier::parse(operator(), "prog-hansa", "sup-acme").unwrap());
        for (funder, amount) in ["fund-a", "fund-b", "fund-c"].into_iter().zip(deposits) {
            s.ok(FunderDeposit::parse(&operator().party, funder, "EUR", amount).unwrap());
        }
        s
    }

    /// The parties, and no programme yet.
    fn parties(backend: &str) -> Self {
        let db = TestDb::new(backend);
        let (ledger, writer) = start(&db);
        let s = Syndicate {
            db,
            ledger,
            writer: Some(writer),
        };
        let op = operator().party;
        let parties = [
            ("ret-hansa", "retailer", "Hansa Retail AG", None),
            ("fund-a", "funder", "Alpha Bank", None),
            ("fund-b", "funder", "Beta Capital", None),
            ("fund-c", "funder", "Gamma Credit", None),
            (
                "sup-acme",
                "supplier",
                "Acme Textiles GmbH",
                Some("DE123456789"),
            ),
        ];
        for (id, role, name, tax_id) in parties {
            s.ok(RegisterParty::parse(&op, id, role, name, tax_id, None).unwrap());
        }
        s
    }

    fn submit(&self, command: impl scfledger::ledger::Command) -> Result<Receipt, LedgerError> {
        self.ledger.submit_blocking(command)
    }

    fn ok(&self, command: impl scfledger::ledger::Command) -> Receipt {
        self.submit(command)
            .unwrap_or_else(|e| panic!("{}: {e:?}", self.db.backend()))
    }

    /// Registers and confirms an invoice issued 2026-01-01, due 2026-03-02
    /// (60 days); returns its id.
    fn confirmed_invoice(&self, number: &str, amount: &str) -> String {
        let command = RegisterInvoice::parse(
            actor("sup-acme", Role::Supplier),
            &InvoiceFields {
                program_id: "prog-hansa",
                supplier_id: "sup-acme",
                invoice_number: number,
                issue_date: "2026-01-01",
                due_date: "2026-03-02",
                currency: "EUR",
                amount,
                channel: "api",
                document_sha256: None,
            },
        )
        .unwrap();
        let invoice_id = format!("inv-{}", self.ok(command).seq);
        self.ok(RetailerDecision::confirm(
            actor("ret-hansa", Role::Retailer),
            &invoice_id,
            None,
        ));
        invoice_id
    }

    fn accept(&self, invoice_id: &str) -> Result<Receipt, LedgerError> {
        self.accept_on(invoice_id, "2026-01-01")
    }

    fn accept_on(&self, invoice_id: &str, today: &str) -> Result<Receipt, LedgerError> {
        self.submit(AcceptAdvance {
            actor: actor("sup-acme", Role::Supplier),
            invoice_id: invoice_id.into(),
            today: date(today),
        })
    }

    fn pay(&self, amount: &str, value_date: &str, invoice_id: &str) -> Receipt {
        self.ok(ReceivePayment::parse(
            operator(),
            "ret-hansa",
            "EUR",
            amount,
            date(value_date),
            "bank transfer",
            vec![invoice_id.to_string()],
        )
        .unwrap())
    }

    fn balance(&self, account: &str) -> i64 {
        log_db::balance(&mut self.db.connect(), account, "EUR").unwrap()
    }

    /// Each funder's (cash, principal) balances, in funder order.
    fn funders(&self) -> [(i64, i64); 3] {
        ["fund-a", "fund-b", "fund-c"].map(|f| {
            (
                self.balance(&format!("funder:{f}:cash")),
                self.balance(&format!("funder:{f}:principal")),
            )
        })
    }

    /// Each share of the advance on `invoice_id`: (funder, principal, fee,
    /// net, outstanding, late fee paid).
    fn shares(&self, invoice_id: &str) -> Vec<(String, i64, i64, i64, i64, i64)> {
        fin_db::shares_of_advance(&mut self.db.connect(), invoice_id)
            .unwrap()
            .into_iter()
            .map(|s| {
                (
                    s.funder_id.to_string(),
                    s.principal_minor,
                    s.fee_minor,
                    s.net_minor,
                    s.principal_outstanding_minor,
                    s.late_fee_paid_minor,
                )
            })
            .collect()
    }

    fn entry(&self, seq: u64) -> String {
        log_db::entries_from(&mut self.db.connect(), seq as i64, 1).unwrap()[0]
            .canonical
            .clone()
    }

    /// A funder's totals: (advanced, outstanding, yield earned, yield to come).
    fn portfolio(&self, funder_id: &str) -> (i64, i64, i64, i64) {
        let principal = Principal {
            key_id: "test".into(),
            party: PartyId::parse(funder_id).unwrap(),
            role: Role::Funder,
        };
        let portfolio = funder::portfolio(
            &mut self.db.connect(),
            &principal,
            funder_id,
            date("2026-03-20"),
        )
        .unwrap();
        let totals = &portfolio.totals["EUR"];
        (
            totals.advanced_minor,
            totals.outstanding_minor,
            totals.yield_earned_minor,
            totals.yield_to_come_minor,
        )
    }

    /// A funder's book as downloaded, and its portfolio's totals.
    fn book(
        &self,
        funder_id: &str,
    ) -> (String, std::collections::BTreeMap<String, funder::Totals>) {
        let principal = Principal {
            key_id: "test".into(),
            party: PartyId::parse(funder_id).unwrap(),
            role: Role::Funder,
        };
        let mut connection = self.db.connect();
        let book = book::book(&mut connection, &principal, funder_id).unwrap();
        let portfolio =
            funder::portfolio(&mut connection, &principal, funder_id, date("2026-03-20")).unwrap();
        (serde_json::to_string(&book).unwrap(), portfolio.totals)
    }

    /// The writer's memory equals a fresh load; verify and replay agree;
    /// every balance sums to zero.
    fn finish(self) {
        let in_memory = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap()
            .block_on(self.ledger.state())
            .unwrap();
        let loaded = WriterState::load(&mut self.db.connect()).unwrap();
        assert_eq!(
            in_memory.records.differences(&loaded.records),
            Vec::<String>::new()
        );
        assert_eq!(in_memory, loaded, "{}", self.db.backend());
        let Syndicate { db, ledger, writer } = self;
        drop(ledger);
        writer.unwrap().join().unwrap();
        assert_consistent(&db);
        let sum: i64 = log_db::all_balances(&mut db.connect())
            .unwrap()
            .iter()
            .map(|b| b.balance_minor)
            .sum();
        assert_eq!(sum, 0, "{}", db.backend());
    }
}

/// The programme's terms, without its funders.
fn terms<'a>(
    funder_id: &'a str,
    advance_rate: &'a str,
    discount_rate: &'a str,
    day_count: &'a str,
) -> ProgramFields<'a> {
    ProgramFields {
        program_id: "prog-hansa",
        retailer_id: "ret-hansa",
        funder_id,
        currency: "EUR",
        advance_rate,
        discount_rate,
        day_count,
        tenor_min_days: 10,
        tenor_max_days: 120,
        grace_days: 5,
        late_rate: "0.18",
        default_days: 30,
        recourse: true,
        program_limit: "1000000.00",
        retailer_limit: "1000000.00",
        supplier_limit_fixed: Some("1000000.00"),
        supplier_limit_multiple: None,
        syndicate: None,
    }
}

fn funder<'a>(
    funder_id: &'a str,
    commitment: &'a str,
    retailer_limit: Option<&'a str>,
    supplier_limit: Option<&'a str>,
) -> FunderFields<'a> {
    FunderFields {
        funder_id,
        commitment,
        retailer_limit,
        supplier_limit,
    }
}

#[test]
fn priority_with_caps_skips_a_full_funder_and_repays_each_its_own() {
    for backend in backends() {
        // fund-a is capped at 15,000 of principal; fund-b may hold at most
        // 18,000 on this retailer; fund-c has 10,000 of cash.
        let s = Syndicate::new(
            backend,
            "priority",
            &[
                funder("fund-a", "15000.00", None, None),
                funder("fund-b", "50000.00", Some("18000.00"), None),
                funder("fund-c", "50000.00", None, None),
            ],
            ["100000.00", "100000.00", "10000.00"],
        );
        // Each invoice: 10,000.00 due in 60 days: principal 9,000.00, fee
        // 180.00, net 8,820.00.
        let invoices: Vec<String> = (1..=5)
            .map(|n| s.confirmed_invoice(&format!("INV-{n}"), "10000.00"))
            .collect();
        let first = s.accept(&invoices[0]).unwrap();
        let second = s.accept(&invoices[1]).unwrap();
        s.accept(&invoices[2]).unwrap();
        s.accept(&invoices[3]).unwrap();
        let takers: Vec<String> = invoices[..4]
            .iter()
            .map(|i| s.shares(i)[0].0.clone())
            .collect();
        assert_eq!(
            takers,
            ["fund-a", "fund-b", "fund-b", "fund-c"],
            "{backend}: a is full after one, b at its retailer limit after two"
        );
        for invoice in &invoices[..4] {
            let shares = s.shares(invoice);
            assert_eq!(
                shares.len(),
                1,
                "{backend}: priority gives the whole advance to one funder"
            );
            assert_eq!(
                (shares[0].1, shares[0].2, shares[0].3),
                (900_000, 18_000, 882_000)
            );
        }
        // The first advance is fund-a's alone: its entry reads as before.
        assert!(!s.entry(first.seq).contains("\"shares\""));
        // The second records why fund-a passed, its inputs withheld; the
        // disclosure document holds them.
        let entry = s.entry(second.seq);
        assert!(
            entry.contains(r#""allocation":{"funders":[{"input":"withheld","passed":false,"rule":"allocation fund-a","threshold":"withheld"},{"input":"withheld","passed":true,"rule":"allocation fund-b","threshold":"withheld"}],"rule":"priority"}"#),
            "{backend}: {entry}"
        );
        assert!(entry.contains(r#""funder_id":"fund-b""#), "{entry}");
        let disclosure = fin_db::disclosure(&mut s.db.connect(), second.seq as i64)
            .unwrap()
            .unwrap();
        assert!(
            disclosure.contains("share 9000.00 (net 8820.00); commitment used 9000.00; cash 91180.00; retailer exposure 9000.00; supplier exposure 9000.00")
                && disclosure.contains("commitment 15000.00; retailer limit none; supplier limit none"),
            "{backend}: {disclosure}"
        );
        // No one can take the fifth: a is full, b at its limit, c has
        // 1,180.00 of cash left for a net of 8,820.00.
        match s.accept(&invoices[4]) {
            Err(LedgerError::Rejected { code, message, .. }) => {
                assert_eq!(code, ErrorCode::AdvanceDeclined);
                assert!(
                    message.contains("funder_liquidity (input withheld, threshold withheld)"),
                    "{message}"
                );
            }
            other => panic!("{backend}: {other:?}"),
        }
        assert_eq!(
            s.funders(),
            [
                (-(10_000_000 - 882_000), -900_000),
                (-(10_000_000 - 2 * 882_000), -1_800_000),
                (-(1_000_000 - 882_000), -900_000),
            ],
            "{backend}"
        );
        // The second invoice is paid 15 days late (10 past the grace days):
        // fund-b gets its 9,000.00 and the late fee 9,000.00 × 18% × 10/360
        // = 45.00; the supplier the rest, 955.00.
        s.pay("10000.00", "2026-03-17", &invoices[1]);
        assert_eq!(
            s.funders()[1],
            (-(10_000_000 - 2 * 882_000 + 904_500), -900_000),
            "{backend}"
        );
        let repaid = &s.shares(&invoices[1])[0];
        assert_eq!(
            (repaid.4, repaid.5),
            (0, 4_500),
            "{backend}: outstanding, late fee paid"
        );
        // fund-b: 18,000.00 advanced, 9,000.00 outstanding, 180.00 + 45.00
        // earned, 180.00 to come; fund-a and fund-c each hold one advance.
        assert_eq!(
            s.portfolio("fund-b"),
            (1_800_000, 900_000, 22_500, 18_000),
            "{backend}"
        );
        assert_eq!(
            s.portfolio("fund-a"),
            (900_000, 900_000, 0, 18_000),
            "{backend}"
        );
        assert_eq!(
            s.portfolio("fund-c"),
            (900_000, 900_000, 0, 18_000),
            "{backend}"
        );
        s.finish();
    }
}

#[test]
fn pro_rata_shares_by_commitment_and_splits_every_repayment_to_the_cent() {
    for backend in backends() {
        // Commitments 5 : 3 : 2; fund-c may hold at most 1,900.00 on one supplier.
        let s = Syndicate::new(
            backend,
            "pro_rata",
            &[
                funder("fund-a", "50000.00", None, None),
                funder("fund-b", "30000.00", None, None),
                funder("fund-c", "20000.00", None, Some("1900.00")),
            ],
            ["100000.00", "100000.00", "100000.00"],
        );
        // X = 10,000.07: principal 9,000.06 (90%, half-even), fee 180.00,
        // net 8,820.06. Principal 5:3:2 floors to 4,500.03, 2,700.01 and
        // 1,800.01; the residue 0.01 goes to the lead, fund-a: 4,500.04.
        // The fee splits as the principal does: 90.00, 53.99 and 35.99,
        // the residue 0.02 to fund-a: 90.02.
        let x = s.confirmed_invoice("INV-X", "10000.07");
        let advance = s.accept(&x).unwrap();
        assert_eq!(
            s.shares(&x),
            vec![
                ("fund-a".into(), 450_004, 9_002, 441_002, 450_004, 0),
                ("fund-b".into(), 270_001, 5_399, 264_602, 270_001, 0),
                ("fund-c".into(), 180_001, 3_599, 176_402, 180_001, 0),
            ],
            "{backend}"
        );
        let entry = s.entry(advance.seq);
        assert!(
            entry.contains(r#""shares":[{"fee":"90.02","funder_id":"fund-a","net":"4410.02","principal":"4500.04"},{"fee":"53.99","funder_id":"fund-b","net":"2646.02","principal":"2700.01"},{"fee":"35.99","funder_id":"fund-c","net":"1764.02","principal":"1800.01"}]"#),
            "{backend}: {entry}"
        );
        // Y = 1,000.00: principal 900.00; fund-c's share, 180.00, would take
        // it to 1,980.01 on sup-acme, above its 1,900.00: it is left out,
        // and fund-a and fund-b share 5:3: 562.50 and 337.50, fees 11.25 and 6.75.
        let y = s.confirmed_invoice("INV-Y", "1000.00");
        let advance = s.accept(&y).unwrap();
        assert_eq!(
            s.shares(&y),
            vec![
                ("fund-a".into(), 56_250, 1_125, 55_125, 56_250, 0),
                ("fund-b".into(), 33_750, 675, 33_075, 33_750, 0),
            ],
            "{backend}"
        );
        assert!(
            s.entry(advance.seq).contains(r#"{"input":"withheld","passed":false,"rule":"allocation fund-c","threshold":"withheld"}"#),
            "{backend}"
        );
        // A credit note of 500.00 brings Y below its principal: the reserve
        // (100.00) goes and 400.00 is due from the supplier, each funder's
        // part by its share: 250.00 to fund-a, 150.00 to fund-b.
        let credit =
            s.ok(
                CreditNote::parse(actor("sup-acme", Role::Supplier), &y, "CN-1", "500.00").unwrap(),
            );
        let debts = fin_db::open_debts(&mut s.db.connect(), "sup-acme", "EUR").unwrap();
        let debts: Vec<(String, String, i64)> = debts
            .into_iter()
            .map(|d| {
                (
                    d.debt_id.to_string(),
                    d.funder_id.to_string(),
                    d.amount_minor,
                )
            })
            .collect();
        assert_eq!(
            debts,
            vec![
                (format!("debt-{}", credit.seq), "fund-a".into(), 25_000),
                (format!("debt-{}-1", credit.seq), "fund-b".into(), 15_000),
            ],
            "{backend}"
        );
        // X is paid 5,000.00 on its due date: all principal, split by what
        // each has outstanding: 2,500.02, 1,499.99 and 999.99.
        s.pay("5000.00", "2026-03-02", &x);
        assert_eq!(
            s.shares(&x).iter().map(|s| s.4).collect::<Vec<_>>(),
            [200_002, 120_002, 80_002],
            "{backend}"
        );
        // The rest, 5,000.07, 15 days late: the principal left (4,000.06),
        // the late fee 4,000.06 × 18% × 10/360 = 20.00 split 10.00, 6.00 and
        // 4.00, and 980.01 for the supplier, less its 400.00 of debt, which
        // goes back to fund-a and fund-b.
        s.pay("5000.07", "2026-03-17", &x);
        assert_eq!(
            s.shares(&x).iter().map(|s| (s.4, s.5)).collect::<Vec<_>>(),
            [(0, 1_000), (0, 600), (0, 400)],
            "{backend}"
        );
        let payouts: Vec<i64> = fin_db::payouts_of(&mut s.db.connect(), "sup-acme")
            .unwrap()
            .into_iter()
            .map(|p| p.amount_minor)
            .collect();
        assert_eq!(payouts, [882_006, 88_200, 58_001], "{backend}");
        // fund-a: 100,000.00 − 4,410.02 − 551.25 + 2,500.02 + 2,000.02 +
        // 10.00 + 250.00 = 99,798.77 in cash; 312.50 of Y's principal left.
        assert_eq!(
            s.funders(),
            [
                (-9_979_877, -31_250),
                (
                    -(10_000_000 - 264_602 - 33_075 + 149_999 + 120_002 + 600 + 15_000),
                    -18_750
                ),
                (-(10_000_000 - 176_402 + 99_999 + 80_002 + 400), 0),
            ],
            "{backend}"
        );
        // Each funder's book: (advanced, outstanding, earned, to come).
        assert_eq!(
            s.portfolio("fund-a"),
            (506_254, 31_250, 9_002 + 1_000, 1_125),
            "{backend}"
        );
        assert_eq!(
            s.portfolio("fund-b"),
            (303_751, 18_750, 5_399 + 600, 675),
            "{backend}"
        );
        assert_eq!(
            s.portfolio("fund-c"),
            (180_001, 0, 3_599 + 400, 0),
            "{backend}"
        );
        // Each funder's book verifies against the signed checkpoint, and its
        // entries give the portfolio's totals.
        for funder_id in ["fund-a", "fund-b", "fund-c"] {
            let (book, portfolio) = s.book(funder_id);
            let report = book::verify(&book, &test_key().verifier()).unwrap();
            assert_eq!(report.withheld, Vec::<u64>::new(), "{backend}");
            assert_eq!(report.totals, portfolio, "{backend}: {funder_id}");
        }
        s.finish();
    }
}

#[test]
fn a_syndicate_is_checked_when_the_programme_is_created() {
    let s = Syndicate::new(
        "sqlite",
        "single",
        &[funder("fund-a", "1000000.00", None, None)],
        ["1.00", "1.00", "1.00"],
    );
    let parse = |allocation: &str, funders: Vec<FunderFields<'_>>, lead: &str| {
        let fields = ProgramFields {
            program_id: "prog-two",
            syndicate: Some(SyndicateFields {
                allocation,
                funders,
                early_payment_budget: None,
            }),
            ..terms(lead, "0.90", "0.12", "ACT/360")
        };
        CreateProgram::parse(&operator().party, &fields)
            .err()
            .map(|e| e.to_string())
    };
    let a = || funder("fund-a", "100.00", None, None);
    let cases = [
        (
            parse("pro_rata", vec![a()], "fund-a"),
            "a pro_rata programme has 2-5 funders, got 1",
        ),
        (
            parse("evenly", vec![a()], "fund-a"),
            "allocation \"evenly\" must be single, priority, pro_rata or buyer_funded",
        ),
        (
            parse("priority", vec![a(), a()], "fund-a"),
            "funder fund-a is listed twice",
        ),
        (
            parse(
                "priority",
                vec![a(), funder("fund-b", "0.00", None, None)],
                "fund-a",
            ),
            "funders[1].commitment must be greater than zero",
        ),
        (
            parse(
                "priority",
                vec![a(), funder("fund-b", "1.00", None, None)],
                "fund-b",
            ),
            "must be the lead funder",
        ),
    ];
    for (error, expected) in cases {
        let error = error.expect("refused");
        assert!(
            error.contains(expected),
            "{error:?} does not say {expected:?}"
        );
    }
    // A funder that is not a registered funder is refused by name.
    let fields = ProgramFields {
        program_id: "prog-two",
        syndicate: Some(SyndicateFields {
            allocation: "priority",
            funders: vec![a(), funder("sup-acme", "1.00", None, None)],
            early_payment_budget: None,
        }),
        ..terms("fund-a", "0.90", "0.12", "ACT/360")
    };
    let before = log_db::entry_count(&mut s.db.connect()).unwrap();
    match s.submit(CreateProgram::parse(&operator().party, &fields).unwrap()) {
        Err(LedgerError::Rejected { field, message, .. }) => {
            assert_eq!(field.as_deref(), Some("funders[1].funder_id"));
            assert_eq!(message, "party sup-acme is a supplier, not a funder");
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(log_db::entry_count(&mut s.db.connect()).unwrap(), before);
    s.finish();
}

#[test]
fn a_retailer_pays_early_from_its_own_cash_within_its_monthly_budget() {
    for backend in backends() {
        let s = Syndicate::parties(backend);
        // Dynamic discounting: 2% a year, ACT/365, the whole invoice paid
        // early, at most 15,000.00 a month.
        let fields = ProgramFields {
            syndicate: Some(SyndicateFields {
                allocation: "buyer_funded",
                funders: Vec::new(),
                early_payment_budget: Some("15000.00"),
            }),
            ..terms("ret-hansa", "1", "0.02", "ACT/365")
        };
        s.ok(CreateProgram::parse(&operator().party, &fields).unwrap());
        s.ok(EnrolSupplier::parse(operator(), "prog-hansa", "sup-acme").unwrap());
        s.ok(FunderDeposit::parse(&operator().party, "ret-hansa", "EUR", "50000.00").unwrap());
        // 10,000.00 paid 60 days early: discount 10,000.00 × 2% × 60/365 =
        // 32.88 (32.8767 half-even); the supplier gets 9,967.12 now.
        let first = s.confirmed_invoice("INV-1", "10000.00");
        let early = s.accept(&first).unwrap();
        let entry = s.entry(early.seq);
        assert!(
            entry.contains(r#""fee":"32.88""#)
                && entry.contains(r#""net":"9967.12""#)
                && entry.contains(r#""principal":"10000.00""#)
                && entry.contains(r#""rule":"buyer_funded""#)
                && entry.contains(r#"{"input":"withheld","passed":true,"rule":"early_payment_budget","threshold":"withheld"}"#),
            "{backend}: {entry}"
        );
        // The same month: 6,000.00 would take January's early payments to
        // 9,967.12 + 5,980.27 = 15,947.39, above the budget.
        let second = s.confirmed_invoice("INV-2", "6000.00");
        match s.accept(&second) {
            Err(LedgerError::Rejected { code, message, .. }) => {
                assert_eq!(code, ErrorCode::AdvanceDeclined);
                assert_eq!(
                    message,
                    "advance declined: early_payment_budget (input withheld, threshold withheld)",
                    "{backend}"
                );
            }
            other => panic!("{backend}: {other:?}"),
        }
        // In February, 29 days early: discount 9.53, paid 5,990.47.
        s.accept_on(&second, "2026-02-01").unwrap();
        assert_eq!(
            s.balance("retailer:ret-hansa:cash"),
            -(5_000_000 - 996_712 - 599_047),
            "{backend}: the retailer's own cash paid both"
        );
        assert_eq!(s.balance("payouts:pending"), -(996_712 + 599_047));
        // No receivable, no funder, no reserve: the early payment discharged
        // the invoice.
        for account in [
            "retailer:ret-hansa:receivable",
            "supplier:sup-acme:reserve",
            "funder:ret-hansa:principal",
        ] {
            assert_eq!(s.balance(account), 0, "{backend}: {account}");
        }
        // Paying it again is refused by name; so is a credit note.
        let again = ReceivePayment::parse(
            operator(),
            "ret-hansa",
            "EUR",
            "10000.00",
            date("2026-03-02"),
            "ERP payment run",
            vec![first.clone()],
        )
        .unwrap();
        let error = s.submit(again).unwrap_err().to_string();
        assert_eq!(
            error,
            "invoice INV-1 was paid early by ret-hansa: nothing is due on it"
        );
        let credit = CreditNote::parse(actor("sup-acme", Role::Supplier), &first, "CN-1", "100.00");
        assert!(s
            .submit(credit.unwrap())
            .unwrap_err()
            .to_string()
            .contains("was paid early"));
        // On the due date the sweep settles both, with no transfer.
        let entries = log_db::entry_count(&mut s.db.connect()).unwrap();
        let before = sweep::sweep(&mut s.db.connect(), &s.ledger, date("2026-03-01")).unwrap();
        assert!(before.matured.is_empty() && before.overdue.is_empty());
        let on_due = sweep::sweep(&mut s.db.connect(), &s.ledger, date("2026-03-02")).unwrap();
        let mut matured = on_due.matured.clone();
        matured.sort_by_key(|id| id.len());
        assert_eq!(matured, [first.clone(), second.clone()], "{backend}");
        assert_eq!(
            log_db::entry_count(&mut s.db.connect()).unwrap(),
            entries + 2
        );
        for invoice_id in [&first, &second] {
            let invoice = fin_db::invoice(&mut s.db.connect(), invoice_id)
                .unwrap()
                .unwrap();
            assert_eq!(
                (
                    invoice.status.as_str(),
                    invoice.open_minor(),
                    invoice.settled_on
                ),
                ("settled", 0, Some(date("2026-03-02"))),
                "{backend}"
            );
        }
        assert_eq!(
            s.balance("retailer:ret-hansa:cash"),
            -(5_000_000 - 996_712 - 599_047)
        );
        assert_eq!(
            s.balance("bank:main"),
            5_000_000,
            "{backend}: no second transfer"
        );
        let later = sweep::sweep(&mut s.db.connect(), &s.ledger, date("2026-06-01")).unwrap();
        assert!(later.matured.is_empty() && later.overdue.is_empty() && later.defaulted.is_empty());
        s.finish();
    }
}

#[test]
fn a_buyer_funded_programme_is_its_retailers_with_no_reserve() {
    let s = Syndicate::parties("sqlite");
    let refused = |funder_id: &str,
                   advance_rate: &str,
                   funders: Vec<FunderFields<'_>>,
                   budget: Option<&str>| {
        let fields = ProgramFields {
            syndicate: Some(SyndicateFields {
                allocation: "buyer_funded",
                funders,
                early_payment_budget: budget,
            }),
            ..terms(funder_id, advance_rate, "0.02", "ACT/365")
        };
        CreateProgram::parse(&operator().party, &fields)
            .err()
            .map(|e| e.to_string())
    };
    let cases = [
        (
            refused("fund-a", "1", vec![], Some("1.00")),
            "a buyer_funded programme's funder is its retailer (ret-hansa), not fund-a",
        ),
        (
            refused("ret-hansa", "0.90", vec![], Some("1.00")),
            "a buyer_funded programme pays the whole invoice early: advance_rate must be 1",
        ),
        (
            refused("ret-hansa", "1", vec![], None),
            "a buyer_funded programme needs early_payment_budget",
        ),
        (
            refused(
                "ret-hansa",
                "1",
                vec![funder("fund-a", "1.00", None, None)],
                Some("1.00"),
            ),
            "list no funders",
        ),
    ];
    for (error, expected) in cases {
        let error = error.expect("refused");
        assert!(
            error.contains(expected),
            "{error:?} does not say {expected:?}"
        );
    }
    s.finish();
}
