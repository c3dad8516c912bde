//! Test helpers: a fresh database per test on every backend under test, the
//! real sequencer, and the real HTTP application on port 0.
#![allow(dead_code)]

use std::sync::atomic::{AtomicU64, Ordering};

use scfledger::db::{self, scratch, DatabaseUrl, DbConnection};
use scfledger::domain::PartyId;
use scfledger::ledger::note::LedgerKey;
use scfledger::ledger::{BatchContext, Ledger, LedgerError, Receipt, SequencerConfig};
use scfledger::services::journal::{JournalEntry, PostingText};

/// Backends under test: SQLite always; PostgreSQL when
/// SCFLEDGER_TEST_POSTGRES_URL is set. In CI a missing URL is a failure, never a skip.
pub fn backends() -> Vec<&'static str> {
    let mut backends = vec!["sqlite"];
    if postgres_admin_url().is_some() {
        backends.push("postgres");
    } else if std::env::var("CI").is_ok_and(|v| v == "true") {
        panic!(
            "CI=true but SCFLEDGER_TEST_POSTGRES_URL is not set: PostgreSQL tests must run in CI"
        );
    }
    backends
}

fn postgres_admin_url() -> Option<String> {
    std::env::var("SCFLEDGER_TEST_POSTGRES_URL")
        .ok()
        .filter(|u| !u.is_empty())
}

static COUNTER: AtomicU64 = AtomicU64::new(0);

/// A fresh, migrated database, removed on drop.
pub struct TestDb {
    pub url: DatabaseUrl,
    pub url_text: String,
    pub folder: tempfile::TempDir,
    postgres_name: Option<String>,
}

impl TestDb {
    pub fn new(backend: &str) -> TestDb {
        let folder = tempfile::tempdir().unwrap();
        let (url_text, postgres_name) = match backend {
            "sqlite" => (
                format!("sqlite://{}", folder.path().join("test.db").display()),
                None,
            ),
            "postgres" => {
                let name = format!(
                    "scfledger_test_{}_{}",
                    std::process::id(),
                    COUNTER.fetch_add(1, Ordering::Relaxed)
                );
                let url = scratch::create_postgres_database(&postgres_admin_url().unwrap(), &name)
                    .unwrap();
                (url, Some(name))
            }
            other => panic!("unknown backend {other}"),
        };
        let url = DatabaseUrl::parse(&url_text).unwrap();
        let mut connection = url.connect().unwrap();
        db::run_migrations(&mut connection).unwrap();
        TestDb {
            url,
            url_text,
            folder,
            postgres_name,
        }
    }

    pub fn connect(&self) -> DbConnection {
        self.url.connect().unwrap()
    }

    pub fn backend(&self) -> &'static str {
        self.url.backend_name()
    }

    /// Removes the append-only triggers, as an attacker with database access could.
    pub fn drop_append_only_triggers(&self) {
        let sql = match self.backend() {
            "sqlite" => "DROP TRIGGER log_entries_no_update; DROP TRIGGER log_entries_no_delete; \
                         DROP TRIGGER merkle_nodes_no_update; DROP TRIGGER merkle_nodes_no_delete; \
                         DROP TRIGGER checkpoints_no_update; DROP TRIGGER checkpoints_no_delete;",
            _ => "ALTER TABLE log_entries DISABLE TRIGGER USER; ALTER TABLE merkle_nodes DISABLE TRIGGER USER; \
                  ALTER TABLE checkpoints DISABLE TRIGGER USER;",
        };
        db::execute_raw(&mut self.connect(), sql).unwrap();
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        if let Some(name) = &self.postgres_name {
            let _ = scratch::drop_postgres_database(&postgres_admin_url().unwrap(), name);
        }
    }
}

/// The fixed key of the tests.
pub fn test_key() -> LedgerKey {
    LedgerKey::from_seed("scfledger.test/ledger", [42; 32]).unwrap()
}

/// A running sequencer on `db`; join the handle after dropping the ledger.
pub fn start(db: &TestDb) -> (Ledger, std::thread::JoinHandle<()>) {
    scfledger::services::start_ledger(&db.url, test_key(), SequencerConfig::default()).unwrap()
}

/// A journal entry moving `amount` EUR from `from` to `to`.
pub fn transfer(memo: &str, to: &str, from: &str, amount: &str) -> JournalEntry {
    let negative = format!("-{amount}");
    JournalEntry::parse(
        memo,
        &[
            PostingText {
                account: to,
                currency: "EUR",
                amount,
            },
            PostingText {
                account: from,
                currency: "EUR",
                amount: &negative,
            },
        ],
    )
    .unwrap()
}

/// Appends a journal entry and waits for its receipt (from a non-async thread).
pub fn append(ledger: &Ledger, entry: JournalEntry) -> Result<Receipt, LedgerError> {
    let draft = entry.draft(&PartyId::parse("op-test").unwrap());
    ledger.submit_blocking(move |_: &mut BatchContext<'_>| Ok(draft.clone()))
}

/// Appends `count` entries one by one (one batch and checkpoint each):
/// memo `entry {i}`, 1.00 × (i + 1) EUR from funder:f1:cash to supplier:s1:bank.
pub fn append_numbered(ledger: &Ledger, count: u64) -> Vec<Receipt> {
    (0..count)
        .map(|i| {
            let amount = format!("{}.00", i + 1);
            append(
                ledger,
                transfer(
                    &format!("entry {i}"),
                    "supplier:s1:bank",
                    "funder:f1:cash",
                    &amount,
                ),
            )
            .unwrap()
        })
        .collect()
}

/// Verify and replay must both pass: the log verifies and every projection
/// equals what the log rebuilds.
pub fn assert_consistent(db: &TestDb) {
    let mut connection = db.connect();
    scfledger::ledger::verify::verify_database(&mut connection, &test_key().verifier()).unwrap();
    let report = scfledger::ledger::replay::replay(
        &mut connection,
        false,
        scfledger::services::projector::apply,
    )
    .unwrap();
    assert_eq!(
        report.differences,
        Vec::<String>::new(),
        "{}: replay differs",
        db.backend()
    );
}

/// Starts the real application in-process on port 0 with `clock`; returns its
/// base URL and an operator API key. The server lives until the test process ends.
pub fn spawn_app(db: &TestDb, clock: scfledger::services::clock::Clock) -> (String, String) {
    spawn_app_witnessed(db, clock, Vec::new())
}

/// [`spawn_app`] keeping the cosignatures of `witnesses`.
pub fn spawn_app_witnessed(
    db: &TestDb,
    clock: scfledger::services::clock::Clock,
    witnesses: Vec<scfledger::ledger::cosignature::WitnessVerifier>,
) -> (String, String) {
    spawn_app_with(db, clock, witnesses, Default::default())
}

/// [`spawn_app`] keeping the cosignatures of `witnesses`, each API key
/// limited by `key_rates`.
pub fn spawn_app_with(
    db: &TestDb,
    clock: scfledger::services::clock::Clock,
    witnesses: Vec<scfledger::ledger::cosignature::WitnessVerifier>,
    key_rates: scfledger::api::rate::KeyRates,
) -> (String, String) {
    let (ledger, _writer) = start(db);
    // A credential belongs to a registered party holding its role.
    let operator_party = PartyId::parse("op-treasury").unwrap();
    let exists = scfledger::db::financing::party(&mut db.connect(), "op-treasury")
        .unwrap()
        .is_some();
    if !exists {
        let register = scfledger::services::party::RegisterParty::parse(
            &operator_party,
            "op-treasury",
            "operator",
            "Platform treasury",
            None,
            None,
        )
        .unwrap();
        // On a thread of its own: the caller may be an async test.
        let writer = ledger.clone();
        std::thread::spawn(move || writer.submit_blocking(register).unwrap())
            .join()
            .unwrap();
    }
    let operator = scfledger::services::api_keys::create(
        &mut db.connect(),
        &operator_party,
        scfledger::domain::Role::Operator,
        "tests",
    )
    .unwrap()
    .token;
    let pool = scfledger::db::read_pool(&db.url, 4).unwrap();
    let (port_sender, port) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        actix_web::rt::System::new().block_on(async move {
            let options = scfledger::server::Options {
                cluster: scfledger::server::forward::Cluster::new(None).unwrap(),
                witnesses,
                key_rates,
            };
            let application = scfledger::server::Application::build_with(
                "127.0.0.1:0",
                ledger,
                pool,
                clock,
                options,
            )
            .unwrap();
            port_sender.send(application.port()).unwrap();
            application.run().await.unwrap();
        })
    });
    (
        format!("http://127.0.0.1:{}", port.recv().unwrap()),
        operator,
    )
}

/// Enrols `supplier` in `program` through the API (operator's client).
pub fn enrol(operator: &Client, program: &str, supplier: &str) {
    let (status, body) = operator.post(
        &format!("/api/v1/programs/{program}/suppliers"),
        &serde_json::json!({ "supplier_id": supplier }),
    );
    assert_eq!(status, 201, "enrolling {supplier} in {program}: {body}");
}

/// Sets up a programme through the API; returns the supplier's and the retailer's keys.
pub fn programme(base: &str, operator: &str) -> (String, String) {
    let client = Client::new(base, operator);
    for (id, role, tax) in [
        ("ret-k", "retailer", None),
        ("fund-k", "funder", None),
        ("sup-k", "supplier", Some("DE1")),
    ] {
        let (status, body) = client.post(
            "/api/v1/parties",
            &serde_json::json!({"party_id": id, "role": role, "name": id, "tax_id": tax}),
        );
        assert_eq!(status, 201, "{body}");
    }
    let program = serde_json::json!({"program_id": "prog-k", "retailer_id": "ret-k", "funder_id": "fund-k", "currency": "EUR", "advance_rate": "0.90",
        "discount_rate": "0.12", "day_count": "ACT/360", "tenor_min_days": 10, "tenor_max_days": 120, "grace_days": 5, "late_rate": "0.18",
        "default_days": 30, "recourse": true, "program_limit": "100000000.00", "retailer_limit": "100000000.00", "supplier_limit_fixed": "100000000.00"});
    assert_eq!(client.post("/api/v1/programs", &program).0, 201);
    enrol(&client, "prog-k", "sup-k");
    assert_eq!(
        client
            .post(
                "/api/v1/funders/fund-k/deposits",
                &serde_json::json!({"currency": "EUR", "amount": "100000000.00"})
            )
            .0,
        201
    );
    let key = |party: &str, role: &str| {
        client
            .post(
                "/api/v1/api-keys",
                &serde_json::json!({"party_id": party, "role": role}),
            )
            .1["token"]
            .as_str()
            .unwrap()
            .to_string()
    };
    (key("sup-k", "supplier"), key("ret-k", "retailer"))
}

/// A blocking API client with a bearer key; every POST gets a fresh Idempotency-Key.
pub struct Client {
    pub base: String,
    pub token: String,
    http: reqwest::blocking::Client,
}

impl Client {
    pub fn new(base: &str, token: &str) -> Client {
        Client {
            base: base.into(),
            token: token.into(),
            http: reqwest::blocking::Client::new(),
        }
    }

    pub fn get(&self, path: &str) -> (u16, serde_json::Value) {
        let response = self
            .http
            .get(format!("{}{path}", self.base))
            .bearer_auth(&self.token)
            .send()
            .unwrap();
        let status = response.status().as_u16();
        (status, response.json().unwrap_or(serde_json::Value::Null))
    }

    pub fn post(&self, path: &str, body: &serde_json::Value) -> (u16, serde_json::Value) {
        static COUNTER: AtomicU64 = AtomicU64::new(0);
        let key = format!(
            "k-{}-{}",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::Relaxed)
        );
        self.post_with_key(path, body, &key).0
    }

    /// POST with a chosen Idempotency-Key; also returns whether the answer was replayed.
    pub fn post_with_key(
        &self,
        path: &str,
        body: &serde_json::Value,
        key: &str,
    ) -> ((u16, serde_json::Value), bool) {
        let response = self
            .http
            .post(format!("{}{path}", self.base))
            .bearer_auth(&self.token)
            .header("Idempotency-Key", key)
            .json(body)
            .send()
            .unwrap();
        let replayed = response.headers().contains_key("Idempotent-Replayed");
        let status = response.status().as_u16();
        (
            (status, response.json().unwrap_or(serde_json::Value::Null)),
            replayed,
        )
    }

    pub fn delete(&self, path: &str) -> (u16, serde_json::Value) {
        let response = self
            .http
            .delete(format!("{}{path}", self.base))
            .bearer_auth(&self.token)
            .send()
            .unwrap();
        let status = response.status().as_u16();
        (status, response.json().unwrap_or(serde_json::Value::Null))
    }
}

/// Signs in through the web form at `base`: the session cookie
/// (`name=value`) and where the server sent the browser.
pub fn web_sign_in(base: &str, email: &str, password: &str) -> (String, String) {
    let browser = reqwest::blocking::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let page = browser.get(format!("{base}/")).send().unwrap();
    let form_cookie = first_cookie(&page);
    let html = page.text().unwrap();
    let csrf = html
        .split("name=\"csrf\" value=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .expect("a CSRF token on the sign-in page")
        .to_string();
    let signed_in = browser
        .post(format!("{base}/sign-in"))
        .header("Cookie", form_cookie)
        .form(&[("email", email), ("password", password), ("csrf", &csrf)])
        .send()
        .unwrap();
    assert_eq!(signed_in.status().as_u16(), 303, "signing in as {email}");
    let location = signed_in.headers()["location"]
        .to_str()
        .unwrap()
        .to_string();
    (first_cookie(&signed_in), location)
}

/// The `name=value` of a response's first Set-Cookie.
fn first_cookie(response: &reqwest::blocking::Response) -> String {
    let header = response.headers()["set-cookie"].to_str().unwrap();
    header.split(';').next().unwrap().to_string()
}
