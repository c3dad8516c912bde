//! A financing programme in a scratch database, for the benchmarks: the
//! parties, a programme with room for any number of advances, a funder with
//! the money, and as many confirmed invoices as a benchmark needs. Everything
//! goes through the real commands and the sequencer.

use std::thread::JoinHandle;

use chrono::{Duration, NaiveDate};

use super::Scratch;
use crate::db::{self, DatabaseUrl};
use crate::domain::{PartyId, Role};
use crate::ledger::note::LedgerKey;
use crate::ledger::{Command, Ledger, SequencerConfig};
use crate::services::advance::AcceptAdvance;
use crate::services::clock::Clock;
use crate::services::common::Actor;
use crate::services::deposit::FunderDeposit;
use crate::services::invoice::{InvoiceFields, RegisterInvoice, RetailerDecision};
use crate::services::party::RegisterParty;
use crate::services::payment::ReceivePayment;
use crate::services::program::{CreateProgram, EnrolSupplier, ProgramFields};

pub const OPERATOR: &str = "op-bench";
pub const RETAILER: &str = "ret-bench";
pub const FUNDER: &str = "fund-bench";
pub const SUPPLIER: &str = "sup-bench";
pub const PROGRAM: &str = "prog-bench";

/// A running ledger on a scratch database with a programme set up.
pub struct Fixture {
    pub url: DatabaseUrl,
    pub today: NaiveDate,
    pub ledger: Ledger,
    writer: Option<JoinHandle<()>>,
    runtime: tokio::runtime::Runtime,
    invoices_registered: usize,
    // Last, so the database outlives the writer.
    _scratch: Scratch,
}

/// The benches' programme terms: room for any number of advances, funded by
/// [`FUNDER`].
pub fn program_terms<'a>(program_id: &'a str, retailer_id: &'a str) -> ProgramFields<'a> {
    ProgramFields {
        program_id,
        retailer_id,
        funder_id: FUNDER,
        currency: "EUR",
        advance_rate: "0.90",
        discount_rate: "0.12",
        day_count: "ACT/360",
        tenor_min_days: 10,
        tenor_max_days: 120,
        grace_days: 5,
        late_rate: "0.18",
        default_days: 30,
        recourse: true,
        program_limit: "100000000000.00",
        retailer_limit: "100000000000.00",
        supplier_limit_fixed: Some("100000000000.00"),
        supplier_limit_multiple: None,
        syndicate: None,
    }
}

fn actor(party: &str, role: Role) -> Actor {
    Actor {
        party: PartyId::parse(party).expect("a valid party id"),
        role,
    }
}

impl Fixture {
    pub fn new(postgres_admin: Option<&str>, tag: &str) -> anyhow::Result<Fixture> {
        let key = LedgerKey::generate("bench.scfledger.local/ledger")?;
        Fixture::with_key(postgres_admin, tag, key)
    }

    /// A fixture whose ledger signs with `key` (one kept in a file, for a
    /// bench that runs `scfledger` itself on the database afterwards).
    pub fn with_key(
        postgres_admin: Option<&str>,
        tag: &str,
        key: LedgerKey,
    ) -> anyhow::Result<Fixture> {
        let (scratch, url) = Scratch::create(postgres_admin, tag)?;
        let mut connection = url.connect()?;
        db::run_migrations(&mut connection)?;
        let (ledger, writer) =
            crate::services::start_ledger(&url, key, SequencerConfig::default())?;
        let fixture = Fixture {
            url,
            today: NaiveDate::from_ymd_opt(2026, 11, 2).expect("a date"),
            ledger,
            writer: Some(writer),
            runtime: tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()?,
            invoices_registered: 0,
            _scratch: scratch,
        };
        let operator = PartyId::parse(OPERATOR).map_err(anyhow::Error::msg)?;
        let mut setup: Vec<Box<dyn Command>> = Vec::new();
        for (id, role, name, tax_id) in [
            (OPERATOR, "operator", "Bench Treasury", None),
            (RETAILER, "retailer", "Bench Retail", None),
            (FUNDER, "funder", "Bench Capital", None),
            (SUPPLIER, "supplier", "Bench Supplies", Some("DE999999999")),
        ] {
            setup.push(Box::new(RegisterParty::parse(
                &operator, id, role, name, tax_id, None,
            )?));
        }
        let program = program_terms(PROGRAM, RETAILER);
        setup.push(Box::new(CreateProgram::parse(&operator, &program)?));
        let operator_actor = Actor {
            party: operator.clone(),
            role: Role::Operator,
        };
        setup.push(Box::new(EnrolSupplier::parse(
            operator_actor,
            PROGRAM,
            SUPPLIER,
        )?));
        setup.push(Box::new(FunderDeposit::parse(
            &operator,
            FUNDER,
            "EUR",
            "100000000000.00",
        )?));
        fixture.submit_all(setup)?;
        Ok(fixture)
    }

    /// Submits commands together (they share batches); fails on the first refusal.
    pub fn submit_all(&self, commands: Vec<Box<dyn Command>>) -> anyhow::Result<Vec<u64>> {
        let outcomes = self.runtime.block_on(self.ledger.submit_all(commands));
        outcomes
            .into_iter()
            .map(|o| o.map(|receipt| receipt.seq).map_err(anyhow::Error::from))
            .collect()
    }

    /// Registers and confirms `count` invoices of `amount` EUR due in 60 days;
    /// returns each one's id and RF creditor reference.
    pub fn confirmed_invoices(
        &mut self,
        count: usize,
        amount: &str,
    ) -> anyhow::Result<Vec<(String, String)>> {
        let supplier = actor(SUPPLIER, Role::Supplier);
        let (issued, due) = (
            self.today.to_string(),
            (self.today + Duration::days(60)).to_string(),
        );
        let mut registrations: Vec<Box<dyn Command>> = Vec::with_capacity(count);
        for n in 0..count {
            let number = format!("BENCH-{}", self.invoices_registered + n);
            let fields = InvoiceFields {
                program_id: PROGRAM,
                supplier_id: SUPPLIER,
                invoice_number: &number,
                issue_date: &issued,
                due_date: &due,
                currency: "EUR",
                amount,
                channel: "api",
                document_sha256: None,
            };
            registrations.push(Box::new(RegisterInvoice::parse(supplier.clone(), &fields)?));
        }
        self.invoices_registered += count;
        let seqs = self.submit_all(registrations)?;
        let retailer = actor(RETAILER, Role::Retailer);
        let ids: Vec<String> = seqs.iter().map(|seq| format!("inv-{seq}")).collect();
        self.submit_all(
            ids.iter()
                .map(|id| {
                    Box::new(RetailerDecision::confirm(retailer.clone(), id, None))
                        as Box<dyn Command>
                })
                .collect(),
        )?;
        seqs.iter()
            .zip(ids)
            .map(|(seq, id)| {
                let reference =
                    crate::domain::creditor_reference::creditor_reference(&format!("SCF{seq}"))?;
                Ok((id, reference))
            })
            .collect()
    }

    /// Finances the invoices (the supplier accepts each advance today).
    pub fn finance(&self, invoice_ids: &[String]) -> anyhow::Result<()> {
        let supplier = actor(SUPPLIER, Role::Supplier);
        self.submit_all(
            invoice_ids
                .iter()
                .map(|id| {
                    Box::new(AcceptAdvance {
                        actor: supplier.clone(),
                        invoice_id: id.clone(),
                        today: self.today,
                    }) as Box<dyn Command>
                })
                .collect(),
        )?;
        Ok(())
    }

    /// Pays each invoice in full on its due date, by a retailer's payment of
    /// `amount` EUR that treasury records.
    pub fn pay(&self, invoice_ids: &[String], amount: &str) -> anyhow::Result<()> {
        let due = self.today + Duration::days(60);
        let mut payments: Vec<Box<dyn Command>> = Vec::with_capacity(invoice_ids.len());
        for id in invoice_ids {
            payments.push(Box::new(ReceivePayment::parse(
                Fixture::operator(),
                RETAILER,
                "EUR",
                amount,
                due,
                id,
                vec![id.clone()],
            )?));
        }
        self.submit_all(payments)?;
        Ok(())
    }

    /// An API key for `party`; create it before [`Fixture::serve`], which loads the keys.
    pub fn api_key(&self, party: &str, role: Role) -> anyhow::Result<String> {
        let mut connection = self.url.connect()?;
        let party = PartyId::parse(party).map_err(anyhow::Error::msg)?;
        Ok(crate::services::api_keys::create(&mut connection, &party, role, "bench")?.token)
    }

    /// Serves the application on a loopback port; returns its base URL.
    pub fn serve(&self, read_connections: u32) -> anyhow::Result<String> {
        let pool = db::read_pool(&self.url, read_connections)?;
        let (ledger, clock) = (self.ledger.clone(), Clock::fixed_at(self.today));
        let (port_sender, port) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            actix_web::rt::System::new().block_on(async move {
                // The benches measure the server, not the per-key limit.
                let options = crate::server::forward::Cluster::new(None).map(|cluster| {
                    crate::server::Options {
                        cluster,
                        witnesses: Vec::new(),
                        key_rates: crate::api::rate::KeyRates::unlimited(),
                    }
                });
                let built = options.map_err(std::io::Error::other).and_then(|options| {
                    crate::server::Application::build_with(
                        "127.0.0.1:0",
                        ledger,
                        pool,
                        clock,
                        options,
                    )
                });
                match built {
                    Ok(application) => {
                        let _ = port_sender.send(Ok(application.port()));
                        let _ = application.run().await;
                    }
                    Err(error) => {
                        let _ = port_sender.send(Err(error));
                    }
                }
            })
        });
        Ok(format!("http://127.0.0.1:{}", port.recv()??))
    }

    /// A read pool on the fixture's database.
    pub fn pool(&self, size: u32) -> anyhow::Result<db::Pool> {
        Ok(db::read_pool(&self.url, size)?)
    }

    /// The operator, as commands name it.
    pub fn operator() -> Actor {
        actor(OPERATOR, Role::Operator)
    }
}

impl Drop for Fixture {
    fn drop(&mut self) {
        // The writer stops when the last handle is gone; a served app keeps one
        // until the process ends, so the writer is not joined here.
        let _ = self.writer.take();
    }
}
