//! The `scfledger` command line.

use std::io::BufReader;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Parser, Subcommand};

use crate::config::{Settings, StorageArgs};
use crate::db;
use crate::domain::{PartyId, Role};
use crate::ledger::{keyfile, note::Checkpoint, note::NoteVerifier, replay, verify};
use crate::server::Application;
use crate::services::clock::Clock;
use crate::services::{api_keys, demo, export};

/// Name (and checkpoint origin) of a ledger key made without --name.
pub const DEFAULT_LEDGER_NAME: &str = "scfledger.local/ledger";

#[derive(Debug, Parser)]
#[command(
    name = "scfledger",
    version,
    about = "Supply-chain receivables financing on a verifiable, append-only ledger"
)]
pub struct Cli {
    #[command(flatten)]
    pub storage: StorageArgs,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Create the database and the ledger key, and print the verifier key.
    Init {
        /// Key name, which is also the checkpoint origin.
        #[arg(long, default_value = DEFAULT_LEDGER_NAME)]
        name: String,
    },
    /// Serve the web pages and the API (creates the database and key on first start).
    Serve {
        /// Seed demo data into an empty ledger.
        #[arg(long)]
        demo: bool,
        /// Address to listen on.
        #[arg(long, env = "SCFLEDGER_LISTEN", default_value = "127.0.0.1:8080")]
        listen: String,
        /// The URL at which the other instances of this ledger reach this one
        /// [default: http://LISTEN, unless LISTEN is a wildcard address].
        #[arg(long, env = "SCFLEDGER_ADVERTISE_URL")]
        advertise_url: Option<String>,
        /// A file (mode 0600) holding the secret all instances of this ledger
        /// share: with it a standby forwards writes to the writer; without
        /// it a standby answers them 503.
        #[arg(long, env = "SCFLEDGER_CLUSTER_SECRET_FILE")]
        cluster_secret_file: Option<PathBuf>,
        /// A witness's verifier key (`name+keyid+key`, as `scfledger witness
        /// key` prints it) whose cosignatures the ledger keeps and serves; repeat for each.
        #[arg(long = "witness", env = "SCFLEDGER_WITNESSES", value_delimiter = ',')]
        witnesses: Vec<String>,
        /// Requests a second one API key may make on average (twice that in
        /// a burst); more are answered 429. 0: no limit.
        #[arg(long, env = "SCFLEDGER_API_KEY_RATE", default_value_t = crate::limits::API_KEY_REQUESTS_PER_SECOND)]
        api_key_rate: u32,
    },
    /// Witness a ledger: cosign its checkpoints while they extend the last one cosigned.
    #[command(subcommand)]
    Witness(WitnessCommand),
    /// Follow the whole log from outside: check every entry against the signed tree, keep
    /// running balances; exits 2 on an alert (a gap, a rewrite, an unbalanced posting).
    Monitor {
        /// The ledger's URL.
        #[arg(long)]
        ledger: String,
        /// File holding the ledger's verifier key line (`scfledger pubkey`).
        #[arg(long)]
        ledger_key: PathBuf,
        /// File holding an auditor's (or the operator's) API key, to read the log.
        #[arg(long)]
        api_key_file: PathBuf,
        /// Where the monitor keeps its tree and its balances.
        #[arg(long)]
        state: PathBuf,
        /// A URL an alert is POSTed to as JSON.
        #[arg(long)]
        webhook: Option<String>,
        /// Print the running balances of this account after each look.
        #[arg(long)]
        balance: Option<String>,
        /// Look once and stop, rather than every --interval-seconds.
        #[arg(long)]
        once: bool,
        #[arg(long, default_value_t = 10)]
        interval_seconds: u64,
    },
    /// Say which instance writes the ledger, under which epoch, and how far the log goes.
    Status,
    /// Seed demo data into an empty ledger without serving.
    Demo,
    /// Write the log as JSON Lines to FILE and the latest checkpoint to FILE.checkpoint.
    Export {
        #[arg(long)]
        out: PathBuf,
    },
    /// Print the verifier key line.
    Pubkey,
    /// Verify the database, or an export with its checkpoint and verifier key.
    Verify {
        /// An export's JSON Lines file.
        #[arg(long, requires_all = ["checkpoint", "key"])]
        export: Option<PathBuf>,
        /// A funder's book (`GET /api/v1/funders/{id}/book`): its entries
        /// and their proofs are checked, and its totals printed.
        #[arg(long, requires = "key", conflicts_with = "export")]
        book: Option<PathBuf>,
        /// The export's checkpoint note.
        #[arg(long)]
        checkpoint: Option<PathBuf>,
        /// File holding the verifier key line (as `scfledger pubkey` prints it).
        #[arg(long)]
        key: Option<PathBuf>,
        /// A file holding a witness's verifier key; repeat for each witness.
        #[arg(long = "witness", requires = "export")]
        witnesses: Vec<PathBuf>,
        /// How many of those witnesses must have cosigned the checkpoint.
        #[arg(long, default_value_t = 0, requires = "export")]
        quorum: usize,
    },
    /// Rebuild the projections from the log and compare; exit 1 on any difference.
    Replay {
        /// Also replace the stored projections by the rebuilt ones.
        #[arg(long)]
        repair: bool,
    },
    /// Manage API keys.
    #[command(subcommand)]
    Apikey(ApiKeyCommand),
    /// Manage web users.
    #[command(subcommand)]
    User(UserCommand),
    /// Import a file.
    #[command(subcommand)]
    Import(ImportCommand),
    /// Reconcile a camt.053/054 statement with the ledger; prints CSV (writes nothing).
    Reconcile { file: PathBuf },
    /// Run a benchmark.
    #[command(subcommand)]
    Bench(BenchCommand),
}

#[derive(Debug, Subcommand)]
pub enum WitnessCommand {
    /// Create a witness key file (mode 0600) and print its verifier key.
    Key {
        /// The witness's name, a schema-less URL such as funder.example/witness.
        #[arg(long)]
        name: String,
        #[arg(long)]
        out: PathBuf,
    },
    /// Fetch, check and cosign the ledger's checkpoints; exits 2 with evidence on a rewritten or forked log.
    Run {
        /// The ledger's URL, such as https://ledger.example.
        #[arg(long)]
        ledger: String,
        /// File holding the ledger's verifier key line (`scfledger pubkey`).
        #[arg(long)]
        ledger_key: PathBuf,
        /// The witness key file (`scfledger witness key`).
        #[arg(long)]
        key: PathBuf,
        /// Where the witness keeps the last checkpoint it cosigned.
        #[arg(long)]
        state: PathBuf,
        /// Look once and stop, rather than every --interval-seconds.
        #[arg(long)]
        once: bool,
        #[arg(long, default_value_t = 10)]
        interval_seconds: u64,
    },
}

#[derive(Debug, Subcommand)]
pub enum ApiKeyCommand {
    /// Create a key for a party; the token is printed once.
    Create {
        #[arg(long)]
        party: String,
        #[arg(long)]
        role: String,
        #[arg(long, default_value = "")]
        label: String,
    },
    /// Revoke a key by its id.
    Revoke { key_id: String },
}

#[derive(Debug, Subcommand)]
pub enum ImportCommand {
    /// A camt.053 or camt.054 bank statement: every booked line once, then automatic matching.
    Camt {
        file: PathBuf,
        /// The operator party recorded as the importer.
        #[arg(long, default_value = "op-treasury")]
        operator: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Create a web user; the password is read from SCFLEDGER_PASSWORD or the first line of standard input.
    Create {
        #[arg(long)]
        email: String,
        #[arg(long)]
        party: String,
        #[arg(long)]
        role: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum BenchCommand {
    /// Appends per second through the sequencer, beside one-transaction-per-row inserts.
    Ledger {
        /// Runs per backend; the median is reported.
        #[arg(long, default_value_t = 5)]
        runs: usize,
        /// Entries appended per run.
        #[arg(long, default_value_t = 100_000)]
        entries: u64,
        /// Rows inserted per baseline run.
        #[arg(long, default_value_t = 2_000)]
        baseline_rows: u64,
        /// PostgreSQL server to benchmark too (a scratch database is created there).
        #[arg(long, env = "SCFLEDGER_BENCH_POSTGRES_URL")]
        postgres_url: Option<String>,
    },
    /// Quote + accept over HTTP at several numbers of concurrent clients.
    Advance {
        #[arg(long, default_value_t = 3)]
        runs: usize,
        /// Advances per concurrency level and run.
        #[arg(long, default_value_t = 2_000)]
        advances: usize,
        /// Concurrent clients, comma-separated.
        #[arg(long, value_delimiter = ',', default_value = "1,16,128")]
        clients: Vec<usize>,
        #[arg(long, env = "SCFLEDGER_BENCH_POSTGRES_URL")]
        postgres_url: Option<String>,
    },
    /// POST /api/v1/journal over HTTP at several numbers of connections, beside GET /healthz.
    Api {
        #[arg(long, default_value_t = 3)]
        runs: usize,
        /// Requests per concurrency level and run.
        #[arg(long, default_value_t = 4_000)]
        requests: usize,
        /// Concurrent connections, comma-separated.
        #[arg(long, value_delimiter = ',', default_value = "1,8,32,128")]
        connections: Vec<usize>,
        #[arg(long, env = "SCFLEDGER_BENCH_POSTGRES_URL")]
        postgres_url: Option<String>,
    },
    /// Register invoices 100 a request over HTTP, then confirm them 100 signed a request.
    Register {
        #[arg(long, default_value_t = 3)]
        runs: usize,
        /// Invoices registered and confirmed per run.
        #[arg(long, default_value_t = 100_000)]
        invoices: usize,
        /// Concurrent connections for both steps.
        #[arg(long, default_value_t = 16)]
        connections: usize,
        #[arg(long, env = "SCFLEDGER_BENCH_POSTGRES_URL")]
        postgres_url: Option<String>,
    },
    /// Import, match and settle a camt.053 of retailer payments.
    Settle {
        #[arg(long, default_value_t = 3)]
        runs: usize,
        /// Entries in the statement.
        #[arg(long, default_value_t = 10_000)]
        entries: usize,
        #[arg(long, env = "SCFLEDGER_BENCH_POSTGRES_URL")]
        postgres_url: Option<String>,
    },
    /// Load the writer's in-memory state from projections of many invoices.
    State {
        #[arg(long, default_value_t = 3)]
        runs: usize,
        /// Open invoices in the projections; every other one is financed.
        #[arg(long, default_value_t = 1_000_000)]
        invoices: usize,
        #[arg(long, env = "SCFLEDGER_BENCH_POSTGRES_URL")]
        postgres_url: Option<String>,
    },
    /// Verify a generated export, on every core with batched signatures and on one core.
    Verify {
        #[arg(long, default_value_t = 3)]
        runs: usize,
        #[arg(long, default_value_t = 1_000_000)]
        entries: u64,
    },
    /// Replay a SQLite ledger of journal entries, with the peak memory.
    Replay {
        #[arg(long, default_value_t = 3)]
        runs: usize,
        #[arg(long, default_value_t = 1_000_000)]
        entries: u64,
    },
}

/// Runs the command line; the exit code says whether it worked.
pub fn run(cli: Cli) -> ExitCode {
    match execute(cli) {
        Ok(code) => code,
        Err(error) => {
            eprintln!("scfledger: {error:#}");
            ExitCode::FAILURE
        }
    }
}

fn open(settings: &Settings) -> anyhow::Result<db::DbConnection> {
    let mut connection = settings.database.connect()?;
    db::run_migrations(&mut connection)?;
    Ok(connection)
}

/// The platform's own operator parties are registered by the command line
/// that creates their first credential: an operator key is what registers
/// every other party, so it cannot wait for the API. Any other party must be
/// registered before it gets a credential (`api_keys::check_party_holds`).
fn register_operator_party_if_new(
    settings: &Settings,
    connection: &mut db::DbConnection,
    party: &PartyId,
    role: Role,
) -> anyhow::Result<()> {
    if role != Role::Operator || crate::db::financing::party(connection, party.as_str())?.is_some()
    {
        return Ok(());
    }
    let key = keyfile::load(&settings.key_file)
        .map_err(|e| anyhow::anyhow!("{e} (run `scfledger init` first)"))?;
    let (ledger, writer) =
        crate::services::start_ledger(&settings.database, key, settings.sequencer)?;
    let command = crate::services::party::RegisterParty::parse(
        party,
        party.as_str(),
        "operator",
        party.as_str(),
        None,
        None,
    )?;
    let outcome = ledger.submit_blocking(command);
    drop(ledger);
    let _ = writer.join();
    let receipt = outcome?;
    eprintln!(
        "registered the operator party {party} (seq {})",
        receipt.seq
    );
    Ok(())
}

fn execute(cli: Cli) -> anyhow::Result<ExitCode> {
    let settings = cli.storage.settings()?;
    match cli.command {
        Command::Init { name } => init(&settings, &cli.storage.database_url, &name),
        Command::Serve {
            demo,
            listen,
            advertise_url,
            cluster_secret_file,
            witnesses,
            api_key_rate,
        } => {
            let cluster = ClusterArgs {
                advertise_url,
                cluster_secret_file,
                witnesses,
                api_key_rate,
            };
            serve(&settings, demo, &listen, &cluster)?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Status => status(&settings),
        Command::Demo => seed_demo(&settings),
        Command::Export { out } => export_log(&settings, &out),
        Command::Pubkey => {
            println!(
                "{}",
                keyfile::load(&settings.key_file)?.verifier().to_text()
            );
            Ok(ExitCode::SUCCESS)
        }
        Command::Verify {
            export,
            book: Some(book),
            key: Some(key),
            ..
        } if export.is_none() => verify_book(&book, &key),
        Command::Verify {
            export,
            checkpoint,
            key,
            witnesses,
            quorum,
            ..
        } => verify_command(&settings, export, checkpoint, key, &witnesses, quorum),
        Command::Witness(command) => witness_command(command),
        Command::Monitor {
            ledger,
            ledger_key,
            api_key_file,
            state,
            webhook,
            balance,
            once,
            interval_seconds,
        } => {
            let read = |path: &Path| {
                std::fs::read_to_string(path)
                    .map_err(|e| anyhow::anyhow!("reading {}: {e}", path.display()))
            };
            let verifier = NoteVerifier::parse(read(&ledger_key)?.trim())?;
            let monitor = crate::witness::monitor::Monitor::new(
                &ledger,
                verifier,
                &read(&api_key_file)?,
                &state,
                webhook,
            )?;
            loop {
                match monitor.step() {
                    Ok(size) => eprintln!("checked {size} entries"),
                    Err(alert @ crate::witness::monitor::MonitorError::Alert(_)) => {
                        eprintln!("{alert}");
                        return Ok(ExitCode::from(2));
                    }
                    Err(error) if once => return Err(error.into()),
                    Err(error) => eprintln!("monitor: {error}; trying again"),
                }
                if let Some(account) = &balance {
                    for (currency, minor) in monitor.balances_of(account)? {
                        let currency = crate::domain::Currency::parse(&currency)?;
                        println!(
                            "{account} {} {}",
                            currency.format_amount(minor),
                            currency.code()
                        );
                    }
                }
                if once {
                    return Ok(ExitCode::SUCCESS);
                }
                std::thread::sleep(std::time::Duration::from_secs(interval_seconds.max(1)));
            }
        }
        Command::Replay { repair } => replay_command(&settings, repair),
        Command::Apikey(ApiKeyCommand::Create { party, role, label }) => {
            create_api_key(&settings, &party, &role, &label)
        }
        Command::Apikey(ApiKeyCommand::Revoke { key_id }) => {
            let mut connection = open(&settings)?;
            if !api_keys::revoke(&mut connection, &key_id)? {
                anyhow::bail!("no active API key with id {key_id}");
            }
            eprintln!("revoked API key {key_id}");
            Ok(ExitCode::SUCCESS)
        }
        Command::Import(ImportCommand::Camt { file, operator }) => {
            import_camt(&settings, &file, &operator)
        }
        Command::Reconcile { file } => {
            let bytes = std::fs::read(&file)
                .map_err(|e| anyhow::anyhow!("reading {}: {e}", file.display()))?;
            let document = crate::formats::camt::parse(&bytes)?;
            let mut connection = open(&settings)?;
            let rows = crate::services::treasury::reconcile(&mut connection, &document)?;
            print!("{}", crate::services::treasury::reconciliation_csv(&rows)?);
            Ok(ExitCode::SUCCESS)
        }
        Command::User(UserCommand::Create { email, party, role }) => {
            create_user(&settings, &email, &party, &role)
        }
        Command::Bench(bench) => {
            println!("{}", run_bench(bench)?);
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// `init`: the database and the ledger key.
fn init(settings: &Settings, database_url: &str, name: &str) -> anyhow::Result<ExitCode> {
    open(settings)?;
    let (key, created) = keyfile::load_or_create(&settings.key_file, name)?;
    let state = if created {
        "created"
    } else {
        "kept the existing"
    };
    eprintln!(
        "{state} ledger key {} (mode 0600); database ready at {database_url}",
        settings.key_file.display(),
    );
    println!("{}", key.verifier().to_text());
    Ok(ExitCode::SUCCESS)
}

/// `demo`: seeds an empty ledger with the demo.
fn seed_demo(settings: &Settings) -> anyhow::Result<ExitCode> {
    let mut connection = open(settings)?;
    let (key, _) = keyfile::load_or_create(&settings.key_file, DEFAULT_LEDGER_NAME)?;
    let (ledger, writer) =
        crate::services::start_ledger(&settings.database, key, settings.sequencer)?;
    let seeded = demo::seed(
        &mut connection,
        &ledger,
        key_folder(&settings.key_file),
        Clock::system().today(),
    )?;
    drop(ledger);
    let _ = writer.join();
    report_seed(&seeded);
    Ok(ExitCode::SUCCESS)
}

/// `export`: the log as JSON Lines beside its checkpoint.
fn export_log(settings: &Settings, out: &Path) -> anyhow::Result<ExitCode> {
    let mut connection = open(settings)?;
    let count = export::export(&mut connection, out)?;
    eprintln!(
        "exported {count} entries to {} and {}",
        out.display(),
        export::checkpoint_path(out).display()
    );
    Ok(ExitCode::SUCCESS)
}

/// `verify`: an export with its checkpoint and key, or the database.
fn verify_command(
    settings: &Settings,
    export: Option<PathBuf>,
    checkpoint: Option<PathBuf>,
    key: Option<PathBuf>,
    witnesses: &[PathBuf],
    quorum: usize,
) -> anyhow::Result<ExitCode> {
    let outcome = match (export, checkpoint, key) {
        (Some(export), Some(checkpoint), Some(key)) => verify_export(&export, &checkpoint, &key)?
            .and_then(|report| {
                witness_quorum(&checkpoint, &key, witnesses, quorum)?;
                Ok(report)
            }),
        (None, None, None) => {
            let key = keyfile::load(&settings.key_file)?;
            let verifier = key.verifier();
            let mut connection = open(settings)?;
            verify::verify_database(&mut connection, &verifier).and_then(|report| {
                // Advance decisions' withheld inputs against their commitments.
                crate::services::advance::disclosure::check_disclosures(&mut connection)
                    .map_err(verify::VerifyError::Disclosure)?;
                // The largest tree the key signed: a truncated, re-signed log
                // verifies on its own, but not against that.
                if let Some(path) = key.highwater() {
                    crate::ledger::highwater::check(path, &verifier, report.entries, |size| {
                        crate::ledger::merkle::root(
                            &mut crate::db::log::DbNodes { connection: &mut connection },
                            size,
                        )
                    })
                    .map_err(|e| verify::VerifyError::HighWater(e.to_string()))?;
                }
                Ok(report)
            })
        }
        _ => anyhow::bail!(
            "verify an export with all of --export, --checkpoint and --key, or the database with none"
        ),
    };
    Ok(match outcome {
        Ok(report) => {
            println!(
                "verified {} entries, {} checkpoints and {} actor signatures; root {} (peak memory {})",
                report.entries,
                report.checkpoints,
                report.actor_signatures,
                crate::api::dto::hash_text(&report.root),
                crate::bench::peak_rss_mib().map_or("unknown".into(), |mib| format!("{mib:.0} MiB"))
            );
            ExitCode::SUCCESS
        }
        Err(error) => {
            eprintln!("verify FAILED: {error}");
            ExitCode::FAILURE
        }
    })
}

/// `verify --book`: a funder's book, offline: the checkpoint's signature,
/// every entry's inclusion, and the totals the entries give.
fn verify_book(book: &Path, key: &Path) -> anyhow::Result<ExitCode> {
    let read = |path: &Path| {
        std::fs::read_to_string(path)
            .map_err(|e| anyhow::anyhow!("reading {}: {e}", path.display()))
    };
    let verifier = NoteVerifier::parse(read(key)?.trim())?;
    match crate::services::funder::book::verify(&read(book)?, &verifier) {
        Ok(report) => {
            println!(
                "verified the book of {}: {} entries included in the signed checkpoint of size {}",
                report.funder_id, report.proven, report.tree_size
            );
            for (code, totals) in &report.totals {
                let money = |minor: i64| {
                    crate::domain::Currency::parse(code)
                        .map(|c| c.format_display(minor))
                        .unwrap_or_else(|_| minor.to_string())
                };
                println!(
                    "totals: advanced {}, outstanding {}, yield earned {}, yield to come {}",
                    money(totals.advanced_minor),
                    money(totals.outstanding_minor),
                    money(totals.yield_earned_minor),
                    money(totals.yield_to_come_minor)
                );
            }
            if !report.withheld.is_empty() {
                let seqs: Vec<String> = report.withheld.iter().map(u64::to_string).collect();
                println!(
                    "entries {} also hold other parties' figures: their inclusion is proven, their content is not in the book, and the totals above lack them",
                    seqs.join(", ")
                );
            }
            Ok(ExitCode::SUCCESS)
        }
        Err(error) => {
            eprintln!("verify FAILED: {error}");
            Ok(ExitCode::FAILURE)
        }
    }
}

/// `replay`: rebuilds the projections from the log and compares them.
fn replay_command(settings: &Settings, repair: bool) -> anyhow::Result<ExitCode> {
    let mut connection = open(settings)?;
    let started = std::time::Instant::now();
    let report = replay::replay(&mut connection, repair, crate::services::projector::apply)?;
    if report.differences.is_empty() {
        println!(
            "replayed {} entries in {:.2} s; projections match the log (peak memory {})",
            report.entries,
            started.elapsed().as_secs_f64(),
            crate::bench::peak_rss_mib().map_or("unknown".into(), |mib| format!("{mib:.0} MiB"))
        );
        return Ok(ExitCode::SUCCESS);
    }
    for difference in &report.differences {
        eprintln!("replay: {difference}");
    }
    let repaired = if repair {
        "; projections rebuilt from the log"
    } else {
        ""
    };
    eprintln!(
        "replay FAILED: {} differences after {} entries{repaired}",
        report.differences.len(),
        report.entries
    );
    Ok(ExitCode::FAILURE)
}

/// `apikey create`: a key for a registered party holding `role`.
fn create_api_key(
    settings: &Settings,
    party: &str,
    role: &str,
    label: &str,
) -> anyhow::Result<ExitCode> {
    let party = PartyId::parse(party).map_err(anyhow::Error::msg)?;
    let role: Role = role.parse().map_err(anyhow::Error::msg)?;
    let mut connection = open(settings)?;
    register_operator_party_if_new(settings, &mut connection, &party, role)?;
    let created = api_keys::create(&mut connection, &party, role, label)?;
    eprintln!(
        "created API key {} for {party} ({role}); the token below is shown only once",
        created.key_id
    );
    println!("{}", created.token);
    Ok(ExitCode::SUCCESS)
}

/// `import camt`: every booked line once, then automatic matching.
fn import_camt(settings: &Settings, file: &Path, operator: &str) -> anyhow::Result<ExitCode> {
    let bytes =
        std::fs::read(file).map_err(|e| anyhow::anyhow!("reading {}: {e}", file.display()))?;
    let party = PartyId::parse(operator).map_err(anyhow::Error::msg)?;
    open(settings)?;
    let key = keyfile::load(&settings.key_file)?;
    let (ledger, writer) =
        crate::services::start_ledger(&settings.database, key, settings.sequencer)?;
    let pool = db::read_pool(&settings.database, 2)?;
    let actor = crate::services::common::Actor {
        party,
        role: Role::Operator,
    };
    let report = actix_web::rt::System::new().block_on(crate::services::treasury::import(
        &ledger, &pool, &actor, bytes,
    ));
    drop(ledger);
    let _ = writer.join();
    let report = report?;
    println!("{}", serde_json::to_string_pretty(&report)?);
    Ok(ExitCode::SUCCESS)
}

/// `user create`: a web user of a registered party holding `role`; the
/// password from SCFLEDGER_PASSWORD or the first line of standard input.
fn create_user(
    settings: &Settings,
    email: &str,
    party: &str,
    role: &str,
) -> anyhow::Result<ExitCode> {
    let party = PartyId::parse(party).map_err(anyhow::Error::msg)?;
    let role: Role = role.parse().map_err(anyhow::Error::msg)?;
    let password = match std::env::var("SCFLEDGER_PASSWORD") {
        Ok(password) => password,
        Err(_) => {
            let mut line = String::new();
            std::io::stdin().read_line(&mut line)?;
            line.trim_end_matches(['\r', '\n']).to_string()
        }
    };
    let mut connection = open(settings)?;
    register_operator_party_if_new(settings, &mut connection, &party, role)?;
    let email = crate::services::users::create(&mut connection, email, &password, &party, role)?;
    eprintln!("created web user {email} for {party} ({role})");
    Ok(ExitCode::SUCCESS)
}

/// `bench …`: the report of one scenario.
fn run_bench(bench: BenchCommand) -> anyhow::Result<String> {
    Ok(match bench {
        BenchCommand::Ledger {
            runs,
            entries,
            baseline_rows,
            postgres_url,
        } => crate::bench::ledger::ledger(runs, entries, baseline_rows, postgres_url.as_deref())?
            .to_string(),
        BenchCommand::Advance {
            runs,
            advances,
            clients,
            postgres_url,
        } => crate::bench::advance::advance(runs, advances, &clients, postgres_url.as_deref())?
            .to_string(),
        BenchCommand::Api {
            runs,
            requests,
            connections,
            postgres_url,
        } => crate::bench::api::api(runs, requests, &connections, postgres_url.as_deref())?
            .to_string(),
        BenchCommand::Register {
            runs,
            invoices,
            connections,
            postgres_url,
        } => {
            crate::bench::register::register(runs, invoices, connections, postgres_url.as_deref())?
                .to_string()
        }
        BenchCommand::Settle {
            runs,
            entries,
            postgres_url,
        } => crate::bench::settle::settle(runs, entries, postgres_url.as_deref())?.to_string(),
        BenchCommand::State {
            runs,
            invoices,
            postgres_url,
        } => crate::bench::state::state(runs, invoices, postgres_url.as_deref())?.to_string(),
        BenchCommand::Verify { runs, entries } => {
            crate::bench::audit::verify(runs, entries)?.to_string()
        }
        BenchCommand::Replay { runs, entries } => {
            crate::bench::audit::replay(runs, entries)?.to_string()
        }
    })
}

fn key_folder(key_file: &Path) -> &Path {
    key_file
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."))
}

fn report_seed(seeded: &demo::DemoSeed) {
    match &seeded.api_key_file {
        Some(path) => eprintln!(
            "demo: wrote {} entries (a programme, three suppliers, invoices in every state); operator API key in {} (mode 0600)",
            seeded.entries_written,
            path.display()
        ),
        None => eprintln!("demo: the ledger already has entries; nothing seeded"),
    }
}

/// Requires `quorum` of the witnesses (verifier key files) to have cosigned
/// the export's checkpoint.
fn witness_quorum(
    checkpoint: &Path,
    ledger_key: &Path,
    witnesses: &[PathBuf],
    quorum: usize,
) -> Result<(), verify::VerifyError> {
    if quorum == 0 {
        return Ok(());
    }
    let read = |path: &Path| {
        std::fs::read_to_string(path)
            .map_err(|e| verify::VerifyError::Input(format!("reading {}: {e}", path.display())))
    };
    let keys = witnesses
        .iter()
        .map(|path| {
            crate::ledger::cosignature::WitnessVerifier::parse(&read(path)?)
                .map_err(|e| verify::VerifyError::Input(format!("{}: {e}", path.display())))
        })
        .collect::<Result<Vec<_>, _>>()?;
    let note = read(checkpoint)?;
    let verifier = NoteVerifier::parse(read(ledger_key)?.trim())
        .map_err(|e| verify::VerifyError::Input(e.to_string()))?;
    let body = verifier
        .open(&note)
        .map_err(|e| verify::VerifyError::Input(e.to_string()))?;
    let cosigned = crate::ledger::cosignature::cosigned_by(&note, body, &keys);
    if cosigned.len() < quorum {
        return Err(verify::VerifyError::Checkpoint {
            size: Checkpoint::parse(body).map_or(0, |c| c.size),
            problem: format!(
                "{} of the {} witnesses cosigned it ({}); {quorum} are required",
                cosigned.len(),
                keys.len(),
                cosigned
                    .iter()
                    .map(|w| w.name())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        });
    }
    Ok(())
}

/// `witness key` and `witness run`.
fn witness_command(command: WitnessCommand) -> anyhow::Result<ExitCode> {
    use crate::ledger::cosignature::WitnessKey;
    match command {
        WitnessCommand::Key { name, out } => {
            use std::io::Write as _;
            use std::os::unix::fs::OpenOptionsExt as _;
            let key = WitnessKey::generate(&name)?;
            let mut file = std::fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .mode(0o600)
                .open(&out)
                .map_err(|e| anyhow::anyhow!("creating {}: {e}", out.display()))?;
            file.write_all(format!("{}\n", key.private_text()).as_bytes())?;
            file.sync_all()?;
            eprintln!(
                "created witness key {} (mode 0600); give the ledger this verifier key:",
                out.display()
            );
            println!("{}", key.verifier().to_text());
            Ok(ExitCode::SUCCESS)
        }
        WitnessCommand::Run {
            ledger,
            ledger_key,
            key,
            state,
            once,
            interval_seconds,
        } => {
            let read = |path: &Path| {
                std::fs::read_to_string(path)
                    .map_err(|e| anyhow::anyhow!("reading {}: {e}", path.display()))
            };
            let verifier = NoteVerifier::parse(read(&ledger_key)?.trim())?;
            let key = WitnessKey::parse_private(&read(&key)?)?;
            let witness = crate::witness::Witness::new(&ledger, verifier, key, &state)?;
            loop {
                match witness.step() {
                    Ok(seen) => eprintln!("{seen:?}"),
                    Err(refused @ crate::witness::WitnessError::Refused { .. }) => {
                        eprintln!("witness: {refused}");
                        return Ok(ExitCode::from(2));
                    }
                    Err(error) if once => return Err(error.into()),
                    Err(error) => eprintln!("witness: {error}; trying again"),
                }
                if once {
                    return Ok(ExitCode::SUCCESS);
                }
                std::thread::sleep(std::time::Duration::from_secs(interval_seconds.max(1)));
            }
        }
    }
}

fn verify_export(
    export: &Path,
    checkpoint: &Path,
    verifier_key: &Path,
) -> anyhow::Result<Result<verify::VerifyReport, verify::VerifyError>> {
    let read = |path: &Path| {
        std::fs::read_to_string(path)
            .map_err(|e| anyhow::anyhow!("reading {}: {e}", path.display()))
    };
    let verifier = NoteVerifier::parse(read(verifier_key)?.trim())?;
    let note = read(checkpoint)?;
    let file = std::fs::File::open(export)
        .map_err(|e| anyhow::anyhow!("reading {}: {e}", export.display()))?;
    Ok(verify::verify_export(
        BufReader::with_capacity(1 << 20, file),
        &note,
        &verifier,
    ))
}

/// How a served instance meets the other instances of its ledger.
struct ClusterArgs {
    advertise_url: Option<String>,
    cluster_secret_file: Option<PathBuf>,
    witnesses: Vec<String>,
    api_key_rate: u32,
}

impl ClusterArgs {
    /// The URL the other instances forward writes to, if they can reach this one.
    fn advertised(&self, listen: &str) -> anyhow::Result<String> {
        if let Some(url) = &self.advertise_url {
            let parsed = url::Url::parse(url)
                .map_err(|e| anyhow::anyhow!("--advertise-url {url:?} is not a URL: {e}"))?;
            if !matches!(parsed.scheme(), "http" | "https") || parsed.host().is_none() {
                anyhow::bail!(
                    "--advertise-url {url:?} must be an http:// or https:// URL with a host"
                );
            }
            return Ok(url.trim_end_matches('/').to_string());
        }
        let wildcard = listen.starts_with("0.0.0.0:") || listen.starts_with("[::]:");
        Ok(if wildcard {
            String::new()
        } else {
            format!("http://{listen}")
        })
    }

    /// The shared secret, read from its file, which only its owner may read.
    fn secret(&self) -> anyhow::Result<Option<String>> {
        let Some(path) = &self.cluster_secret_file else {
            return Ok(None);
        };
        let shown = path.display();
        let metadata = std::fs::metadata(path)
            .map_err(|e| anyhow::anyhow!("reading the cluster secret file {shown}: {e}"))?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = metadata.permissions().mode() & 0o777;
            if mode & 0o077 != 0 {
                anyhow::bail!(
                    "the cluster secret file {shown} is readable by others (mode {mode:o}); chmod 600 it"
                );
            }
        }
        let _ = metadata;
        let secret = std::fs::read_to_string(path)
            .map_err(|e| anyhow::anyhow!("reading the cluster secret file {shown}: {e}"))?;
        let secret = secret.trim();
        if secret.len() < 16 || !secret.bytes().all(|b| b.is_ascii_graphic()) {
            anyhow::bail!(
                "the cluster secret in {shown} must be at least 16 visible ASCII characters on one line"
            );
        }
        Ok(Some(secret.to_string()))
    }
}

/// `status`: who writes, from the ledger's head and the writer's lock.
fn status(settings: &Settings) -> anyhow::Result<ExitCode> {
    let mut connection = open(settings)?;
    let head = db::head::read(&mut connection)?
        .ok_or_else(|| anyhow::anyhow!("the database has no ledger head"))?;
    let running = match &settings.database {
        db::DatabaseUrl::Sqlite(_) => db::sqlite_writer_running(&settings.database),
        db::DatabaseUrl::Postgres(_) => Some(db::writer_lock_holder(&mut connection)?.is_some()),
    };
    let since = head
        .writer_since
        .map(|at| format!("{} UTC", at.format("%Y-%m-%d %H:%M:%S")))
        .unwrap_or_else(|| "never".into());
    let name = if head.writer_name.is_empty() {
        "none yet"
    } else {
        head.writer_name.as_str()
    };
    println!("ledger: {}", settings.database.backend_name());
    match running {
        Some(true) => println!(
            "writer: {name} (epoch {}, writing since {since})",
            head.epoch
        ),
        _ => println!(
            "writer: none running (the last was {name}, epoch {}, from {since})",
            head.epoch
        ),
    }
    if !head.writer_url.is_empty() {
        println!("writer url: {}", head.writer_url);
    }
    println!("entries: {}", head.tree_size);
    Ok(if running == Some(true) {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(3)
    })
}

fn serve(
    settings: &Settings,
    seed_demo: bool,
    listen: &str,
    cluster_args: &ClusterArgs,
) -> anyhow::Result<()> {
    let instance =
        crate::ledger::sequencer::Instance::this_process(&cluster_args.advertised(listen)?);
    let options = crate::server::Options {
        cluster: crate::server::forward::Cluster::new(cluster_args.secret()?)?,
        witnesses: cluster_args
            .witnesses
            .iter()
            .map(|text| {
                crate::ledger::cosignature::WitnessVerifier::parse(text)
                    .map_err(|e| anyhow::anyhow!("--witness {text:?}: {e}"))
            })
            .collect::<anyhow::Result<_>>()?,
        key_rates: crate::api::rate::KeyRates::per_second(cluster_args.api_key_rate),
    };
    let mut connection = open(settings)?;
    let (key, created) = keyfile::load_or_create(&settings.key_file, DEFAULT_LEDGER_NAME)?;
    if created {
        eprintln!(
            "created ledger key {} (mode 0600)",
            settings.key_file.display()
        );
    }
    let verifier = key.verifier().to_text();
    let clock = Clock::system();
    // On PostgreSQL a second instance stands by: it serves reads and takes
    // over when the writer's session ends (docs/reliability.md).
    let (ledger, writer) = crate::ledger::sequencer::start_or_stand_by(
        &settings.database,
        key,
        settings.sequencer,
        crate::services::projector::apply,
        &instance,
    )?;
    if !ledger.is_writer() {
        eprintln!("another instance writes this ledger: this one stands by, serves reads and takes over if that one stops");
    }
    if seed_demo && ledger.is_writer() {
        report_seed(&demo::seed(
            &mut connection,
            &ledger,
            key_folder(&settings.key_file),
            clock.today(),
        )?);
    }
    drop(connection);
    let pool = db::read_pool(&settings.database, crate::limits::READ_POOL_CONNECTIONS_MAX)?;
    let (stop_sweeper, sweeper) = start_sweeper(pool.clone(), ledger.clone(), clock.clone());
    let (stop_webhooks, webhooks) = start_webhook_worker(
        pool.clone(),
        keyfile::load(&settings.key_file)?,
        ledger.clone(),
    );
    let served = actix_web::rt::System::new().block_on(async move {
        let application = Application::build_with(listen, ledger, pool, clock, options)?;
        eprintln!(
            "scfledger serving http://{listen} (ledger {}; verifier key {verifier})",
            settings.database.backend_name()
        );
        application.run().await
    });
    // The server dropped its ledger handles; stop the sweeper, then the writer drains and stops.
    drop(stop_sweeper);
    drop(stop_webhooks);
    let _ = sweeper.join();
    let _ = webhooks.join();
    let _ = writer.join();
    Ok(served?)
}

/// How often the background sweep marks overdue and defaulted invoices.
const SWEEP_INTERVAL: std::time::Duration = std::time::Duration::from_secs(3_600);
/// How often the webhook worker looks for due deliveries.
const WEBHOOK_INTERVAL: std::time::Duration = std::time::Duration::from_secs(1);

/// A background job: runs `work` now and then every `interval` until the
/// returned sender is dropped.
fn every(
    interval: std::time::Duration,
    mut work: impl FnMut() + Send + 'static,
) -> (std::sync::mpsc::Sender<()>, std::thread::JoinHandle<()>) {
    let (stop, stopped) = std::sync::mpsc::channel::<()>();
    let handle = std::thread::spawn(move || loop {
        work();
        if let Err(std::sync::mpsc::RecvTimeoutError::Disconnected) = stopped.recv_timeout(interval)
        {
            return;
        }
    });
    (stop, handle)
}

/// The overdue/default sweep, hourly.
fn start_sweeper(
    pool: db::Pool,
    ledger: crate::ledger::Ledger,
    clock: Clock,
) -> (std::sync::mpsc::Sender<()>, std::thread::JoinHandle<()>) {
    every(SWEEP_INTERVAL, move || {
        // Only the instance that writes sweeps.
        if !ledger.is_writer() {
            return;
        }
        // A pooled connection: one lost (a database failover) is replaced.
        let mut connection = match pool.get() {
            Ok(connection) => connection,
            Err(error) => return tracing::error!(error = %error, "sweep: no database connection"),
        };
        match crate::services::invoice::sweep::sweep(&mut connection, &ledger, clock.today()) {
            Ok(report) if !report.overdue.is_empty() || !report.defaulted.is_empty() => {
                tracing::info!(
                    overdue = report.overdue.len(),
                    defaulted = report.defaulted.len(),
                    "sweep"
                )
            }
            Ok(_) => {}
            Err(error) => tracing::error!(error = %error, "sweep failed"),
        }
    })
}

/// The webhook delivery worker, every second; also purges old idempotency answers hourly.
fn start_webhook_worker(
    pool: db::Pool,
    key: crate::ledger::note::LedgerKey,
    ledger: crate::ledger::Ledger,
) -> (std::sync::mpsc::Sender<()>, std::thread::JoinHandle<()>) {
    let client = crate::services::webhooks::client();
    let mut last_purge = std::time::Instant::now() - SWEEP_INTERVAL;
    every(WEBHOOK_INTERVAL, move || {
        // Only the instance that writes delivers: one sender per delivery.
        if !ledger.is_writer() {
            return;
        }
        let mut connection = match pool.get() {
            Ok(connection) => connection,
            Err(error) => {
                return tracing::error!(error = %error, "webhooks: no database connection")
            }
        };
        if let Err(error) = crate::services::webhooks::deliver_due(
            &mut connection,
            &key,
            &client,
            chrono::Utc::now().naive_utc(),
        ) {
            tracing::error!(error = %error, "webhook delivery failed");
        }
        if last_purge.elapsed() >= SWEEP_INTERVAL {
            last_purge = std::time::Instant::now();
            let before = chrono::Utc::now().naive_utc()
                - chrono::Duration::hours(crate::limits::IDEMPOTENCY_KEY_RETENTION_HOURS);
            if let Err(error) = db::idempotency::purge_before(&mut connection, before) {
                tracing::error!(error = %error, "purging idempotency keys failed");
            }
        }
    })
}
