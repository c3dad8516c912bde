//! Demo data for `scfledger serve --demo`: a believable programme with a
//! retailer, a funder, three suppliers with history, and invoices in every
//! state, written only into an empty ledger. Dates are relative to today.

use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

use chrono::{Duration, NaiveDate};

use crate::db::{log as log_db, DbConnection};
use crate::domain::{PartyId, Role};
use crate::ledger::{Command, Ledger, LedgerError};
use crate::services::advance::AcceptAdvance;
use crate::services::api_keys;
use crate::services::common::Actor;
use crate::services::deposit::FunderDeposit;
use crate::services::invoice::sweep;
use crate::services::invoice::{InvoiceFields, RegisterInvoice, RetailerDecision};
use crate::services::journal::{JournalEntry, PostingText};
use crate::services::party::RegisterParty;
use crate::services::party::{RequestBankAccount, SetBankAccount};
use crate::services::payment::ReceivePayment;
use crate::services::payout::{ApproveBatch, DeclineBatch, ProposeBatch};
use crate::services::program::{CreateProgram, EnrolSupplier, ProgramFields};

/// What the demo seed did.
pub struct DemoSeed {
    /// Where the operator's API key was written (mode 0600), when a new one was made.
    pub api_key_file: Option<PathBuf>,
    pub entries_written: u64,
}

const OPERATOR: &str = "op-treasury";

/// Web users of the demo: (e-mail, password, party, role). The passwords are
/// public (README) because the demo's data is.
pub const DEMO_USERS: [(&str, &str, &str, Role); 5] = [
    (
        "anna@acme-textiles.example",
        "demo-supplier-2026",
        "sup-acme",
        Role::Supplier,
    ),
    (
        "payables@hansa-retail.example",
        "demo-retailer-2026",
        "ret-hansa",
        Role::Retailer,
    ),
    (
        "treasury@scfledger.example",
        "demo-operator-2026",
        "op-treasury",
        Role::Operator,
    ),
    // A second treasury user: payout batches need two people (four eyes).
    (
        "payments@scfledger.example",
        "demo-payments-2026",
        "op-treasury",
        Role::Operator,
    ),
    // The funder's credit team: its portfolio.
    (
        "credit@nordbank.example",
        "demo-funder-2026",
        "fund-nord",
        Role::Funder,
    ),
];
const RETAILER: &str = "ret-hansa";
const PROGRAM: &str = "prog-hansa-eu";

/// What happens to a demo invoice after registration.
#[derive(Clone, Copy)]
enum Fate {
    Registered,
    Confirmed,
    Disputed(&'static str),
    Rejected(&'static str),
    /// Financed on its issue date; optionally paid `amount` `days` after issue.
    Financed(Option<(&'static str, i64)>),
}

struct DemoInvoice {
    supplier: &'static str,
    number: &'static str,
    amount: &'static str,
    /// Issue date, days before today.
    issued_days_ago: i64,
    term_days: i64,
    fate: Fate,
}

const INVOICES: &[DemoInvoice] = &[
    DemoInvoice {
        supplier: "sup-acme",
        number: "INV-2026-0101",
        amount: "12400.00",
        issued_days_ago: 100,
        term_days: 60,
        fate: Fate::Financed(Some(("12400.00", 60))),
    },
    DemoInvoice {
        supplier: "sup-acme",
        number: "INV-2026-0142",
        amount: "8750.00",
        issued_days_ago: 30,
        term_days: 60,
        fate: Fate::Financed(Some(("2000.00", 25))),
    },
    DemoInvoice {
        supplier: "sup-acme",
        number: "INV-2026-0177",
        amount: "15980.00",
        issued_days_ago: 2,
        term_days: 60,
        fate: Fate::Confirmed,
    },
    DemoInvoice {
        supplier: "sup-baltic",
        number: "BF-5531",
        amount: "22500.00",
        issued_days_ago: 75,
        term_days: 60,
        fate: Fate::Financed(Some(("10000.00", 60))),
    },
    DemoInvoice {
        supplier: "sup-baltic",
        number: "BF-5535",
        amount: "7800.00",
        issued_days_ago: 20,
        term_days: 60,
        fate: Fate::Financed(None),
    },
    DemoInvoice {
        supplier: "sup-baltic",
        number: "BF-5540",
        amount: "4300.00",
        issued_days_ago: 1,
        term_days: 45,
        fate: Fate::Registered,
    },
    DemoInvoice {
        supplier: "sup-cobalt",
        number: "CC-801",
        amount: "9900.00",
        issued_days_ago: 140,
        term_days: 60,
        fate: Fate::Financed(None),
    },
    DemoInvoice {
        supplier: "sup-cobalt",
        number: "CC-870",
        amount: "3050.00",
        issued_days_ago: 12,
        term_days: 60,
        fate: Fate::Rejected("duplicate of CC-869"),
    },
    DemoInvoice {
        supplier: "sup-cobalt",
        number: "CC-889",
        amount: "6120.00",
        issued_days_ago: 10,
        term_days: 60,
        fate: Fate::Disputed("quantity delivered was 180, not 200"),
    },
];

/// Submits the seed's commands one by one, counting the entries written.
struct Seeder<'a> {
    ledger: &'a Ledger,
    operator: Actor,
    count: u64,
}

impl Seeder<'_> {
    fn submit(&mut self, command: impl Command) -> Result<u64, LedgerError> {
        let receipt = self.ledger.submit_blocking(command)?;
        self.count += 1;
        Ok(receipt.seq)
    }

    /// Proposes a EUR batch as `by`; returns its id and payouts.
    fn propose_batch(
        &mut self,
        connection: &mut DbConnection,
        by: &str,
        day: NaiveDate,
    ) -> Result<(String, Vec<String>), LedgerError> {
        let seq = self.submit(ProposeBatch::parse(self.operator.clone(), by, "EUR", day)?)?;
        let batch_id = format!("pb-{seq}");
        let payout_ids = crate::db::payouts::payouts_of_batch(connection, &batch_id)?
            .into_iter()
            .map(|p| String::from(p.payout_id))
            .collect();
        Ok((batch_id, payout_ids))
    }

    fn operator_id(&self) -> PartyId {
        self.operator.party.clone()
    }
}

/// Seeds the demo into an empty ledger as of `today`; does nothing to a ledger with entries.
pub fn seed(
    connection: &mut DbConnection,
    ledger: &Ledger,
    key_folder: &Path,
    today: NaiveDate,
) -> Result<DemoSeed, LedgerError> {
    if log_db::entry_count(connection)? > 0 {
        return Ok(DemoSeed {
            api_key_file: None,
            entries_written: 0,
        });
    }
    let mut seeder = Seeder {
        ledger,
        operator: Actor {
            party: PartyId::parse(OPERATOR).expect("a valid party id"),
            role: Role::Operator,
        },
        count: 0,
    };
    seed_parties(&mut seeder)?;
    let api_key_file = seed_credentials(connection, &seeder, key_folder)?;
    seed_bank_accounts(&mut seeder)?;
    seed_program(&mut seeder)?;
    let payments = seed_invoices(&mut seeder, today)?;
    for (value_date, invoice_id, amount) in payments {
        let reference = format!("Hansa Retail payment {invoice_id}");
        let payment = ReceivePayment::parse(
            seeder.operator.clone(),
            RETAILER,
            "EUR",
            amount,
            value_date,
            &reference,
            vec![invoice_id],
        )?;
        seeder.submit(payment)?;
    }
    let swept = sweep::sweep(connection, ledger, today)?;
    seeder.count += (swept.overdue.len() + swept.defaulted.len()) as u64;
    // One pain.001 batch of what was pending until now, proposed by one
    // treasury user and approved by the other (four eyes) after a first
    // proposal was declined; later payouts stay pending.
    let (proposer, approver) = (DEMO_USERS[2].0, DEMO_USERS[3].0);
    let first = seeder.propose_batch(connection, proposer, today)?;
    seeder.submit(DeclineBatch::parse(
        seeder.operator.clone(),
        approver,
        &first.0,
        first.1,
        "Pay tomorrow: today's cut-off at the bank has passed",
    )?)?;
    let tomorrow = today.succ_opt().unwrap_or(today);
    let (batch_id, payout_ids) = seeder.propose_batch(connection, proposer, tomorrow)?;
    seeder.submit(ApproveBatch::parse(
        seeder.operator.clone(),
        approver,
        &batch_id,
        payout_ids,
    )?)?;
    // Cobalt, paid nowhere yet, gives its bank account on the web; the
    // change waits for treasury's check, and Cobalt's payouts with it.
    seeder.submit(RequestBankAccount::parse(
        Actor {
            party: PartyId::parse("sup-cobalt").expect("a valid party id"),
            role: Role::Supplier,
        },
        "amministrazione@cobalt-ceramics.example",
        "IT60 X054 2811 1010 0000 0123 456",
        None,
    )?)?;
    Ok(DemoSeed {
        api_key_file: Some(api_key_file),
        entries_written: seeder.count,
    })
}

fn seed_parties(seeder: &mut Seeder<'_>) -> Result<(), LedgerError> {
    let parties: [(&str, &str, &str, Option<&str>); 6] = [
        (OPERATOR, "operator", "scfledger Treasury", None),
        (RETAILER, "retailer", "Hansa Retail AG", None),
        ("fund-nord", "funder", "Nordbank Capital", None),
        (
            "sup-acme",
            "supplier",
            "Acme Textiles GmbH",
            Some("DE129273398"),
        ),
        (
            "sup-baltic",
            "supplier",
            "Baltic Furniture OÜ",
            Some("EE101234567"),
        ),
        (
            "sup-cobalt",
            "supplier",
            "Cobalt Ceramics S.r.l.",
            Some("IT01234567897"),
        ),
    ];
    let operator_id = seeder.operator_id();
    for (id, role, name, tax_id) in parties {
        seeder.submit(RegisterParty::parse(
            &operator_id,
            id,
            role,
            name,
            tax_id,
            None,
        )?)?;
    }
    Ok(())
}

/// The operator's API key (written to a 0600 file) and the demo's web users.
/// Credentials belong to registered parties, so they come after them.
fn seed_credentials(
    connection: &mut DbConnection,
    seeder: &Seeder<'_>,
    key_folder: &Path,
) -> Result<std::path::PathBuf, LedgerError> {
    let key = api_keys::create(
        connection,
        &seeder.operator.party,
        Role::Operator,
        "demo operator key",
    )
    .map_err(|e| LedgerError::Inconsistent(format!("demo operator key: {e}")))?;
    let api_key_file = key_folder.join("demo-operator-api-key");
    write_secret(&api_key_file, &key.token).map_err(|e| {
        LedgerError::Inconsistent(format!("writing {}: {e}", api_key_file.display()))
    })?;
    for (email, password, party, role) in DEMO_USERS {
        let party = PartyId::parse(party).expect("a valid party id");
        crate::services::users::create(connection, email, password, &party, role)
            .map_err(|e| LedgerError::Inconsistent(format!("demo user {email}: {e}")))?;
    }
    Ok(api_key_file)
}

/// Bank accounts: the operator's (batches are paid from it) and two of the
/// three suppliers'; Cobalt's payouts wait until it gives one.
fn seed_bank_accounts(seeder: &mut Seeder<'_>) -> Result<(), LedgerError> {
    let accounts: [(&str, &str, Option<&str>); 3] = [
        (OPERATOR, "DE89 3704 0044 0532 0130 00", Some("COBADEFFXXX")),
        ("sup-acme", "DE44 5001 0517 5407 3249 31", None),
        (
            "sup-baltic",
            "EE58 3822 0022 1020 1456 85",
            Some("EEUHEE2X"),
        ),
    ];
    for (party, iban, bic) in accounts {
        seeder.submit(SetBankAccount::parse(
            seeder.operator.clone(),
            party,
            iban,
            bic,
        )?)?;
    }
    Ok(())
}

/// The programme, its three suppliers, the funder's deposit and one
/// operator journal entry (the bank's monthly fee).
fn seed_program(seeder: &mut Seeder<'_>) -> Result<(), LedgerError> {
    let program = ProgramFields {
        program_id: PROGRAM,
        retailer_id: RETAILER,
        funder_id: "fund-nord",
        currency: "EUR",
        advance_rate: "0.90",
        discount_rate: "0.095",
        day_count: "ACT/360",
        tenor_min_days: 10,
        tenor_max_days: 120,
        grace_days: 5,
        late_rate: "0.15",
        default_days: 30,
        recourse: true,
        program_limit: "2000000.00",
        retailer_limit: "2000000.00",
        supplier_limit_fixed: Some("250000.00"),
        supplier_limit_multiple: None,
        syndicate: None,
    };
    let operator_id = seeder.operator_id();
    seeder.submit(CreateProgram::parse(&operator_id, &program)?)?;
    for supplier in ["sup-acme", "sup-baltic", "sup-cobalt"] {
        seeder.submit(EnrolSupplier::parse(
            seeder.operator.clone(),
            PROGRAM,
            supplier,
        )?)?;
    }
    seeder.submit(FunderDeposit::parse(
        &operator_id,
        "fund-nord",
        "EUR",
        "750000.00",
    )?)?;
    let fee = JournalEntry::parse(
        "Monthly bank account fee",
        &[
            PostingText {
                account: "expense:bank-fees",
                currency: "EUR",
                amount: "25.00",
            },
            PostingText {
                account: "bank:main",
                currency: "EUR",
                amount: "-25.00",
            },
        ],
    )
    .expect("a balanced demo entry");
    let fee_draft = fee.draft(&operator_id);
    seeder.submit(move |_: &mut crate::ledger::BatchContext<'_>| Ok(fee_draft.clone()))?;
    Ok(())
}

/// Registers the demo invoices, oldest first, each taken as far as its fate;
/// returns the retailer's payments to record, in date order.
fn seed_invoices(
    seeder: &mut Seeder<'_>,
    today: NaiveDate,
) -> Result<Vec<(NaiveDate, String, &'static str)>, LedgerError> {
    let retailer = Actor {
        party: PartyId::parse(RETAILER).expect("valid"),
        role: Role::Retailer,
    };
    // Oldest first, so that payments and the sweep happen in date order.
    let mut invoices: Vec<&DemoInvoice> = INVOICES.iter().collect();
    invoices.sort_by_key(|i| std::cmp::Reverse(i.issued_days_ago));
    let mut payments: Vec<(NaiveDate, String, &'static str)> = Vec::new();
    for invoice in invoices {
        let issued = today - Duration::days(invoice.issued_days_ago);
        let due = issued + Duration::days(invoice.term_days);
        let supplier = Actor {
            party: PartyId::parse(invoice.supplier).expect("valid"),
            role: Role::Supplier,
        };
        let fields = InvoiceFields {
            program_id: PROGRAM,
            supplier_id: invoice.supplier,
            invoice_number: invoice.number,
            issue_date: &issued.to_string(),
            due_date: &due.to_string(),
            currency: "EUR",
            amount: invoice.amount,
            channel: "form",
            document_sha256: None,
        };
        let seq = seeder.submit(RegisterInvoice::parse(supplier.clone(), &fields)?)?;
        let invoice_id = format!("inv-{seq}");
        match invoice.fate {
            Fate::Registered => {}
            Fate::Disputed(reason) => {
                seeder.submit(RetailerDecision::dispute(
                    retailer.clone(),
                    &invoice_id,
                    reason,
                )?)?;
            }
            Fate::Rejected(reason) => {
                seeder.submit(RetailerDecision::reject(
                    retailer.clone(),
                    &invoice_id,
                    reason,
                )?)?;
            }
            Fate::Confirmed | Fate::Financed(_) => {
                seeder.submit(RetailerDecision::confirm(
                    retailer.clone(),
                    &invoice_id,
                    None,
                ))?;
                if let Fate::Financed(payment) = invoice.fate {
                    seeder.submit(AcceptAdvance {
                        actor: supplier.clone(),
                        invoice_id: invoice_id.clone(),
                        today: issued,
                    })?;
                    if let Some((amount, after_days)) = payment {
                        payments.push((issued + Duration::days(after_days), invoice_id, amount));
                    }
                }
            }
        }
    }
    payments.sort();
    Ok(payments)
}

fn write_secret(path: &Path, secret: &str) -> std::io::Result<()> {
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(path)?;
    file.write_all(secret.as_bytes())?;
    file.write_all(b"\n")
}
