//! Several `serve` processes on one PostgreSQL database (issue 15): every
//! instance answers every route through the one writer, a standby takes
//! over when the writer is killed or paused, and nothing acknowledged is
//! lost or applied twice.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine as _;
use common::*;
use scfledger::ledger::merkle;
use scfledger::ledger::note::{Checkpoint, NoteVerifier};
use serde_json::{json, Value};

const BINARY: &str = env!("CARGO_BIN_EXE_scfledger");

/// Writer SIGKILLs in the three-instance test.
const KILLS: usize = 20;

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn scfledger(db: &TestDb, args: &[&str]) -> std::process::Output {
    Command::new(BINARY)
        .args(["--database", &db.url_text, "--key-file"])
        .arg(db.folder.path().join("ledger.key"))
        .args(args)
        .env("SCFLEDGER_LOG", "warn")
        .output()
        .unwrap()
}

fn operator_key(db: &TestDb) -> String {
    let out = scfledger(
        db,
        &[
            "apikey", "create", "--party", "op-test", "--role", "operator",
        ],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap().trim().to_string()
}

/// The instances' shared secret, in a file only its owner reads.
fn secret_file(db: &TestDb) -> PathBuf {
    use std::os::unix::fs::PermissionsExt;
    let path = db.folder.path().join("cluster-secret");
    std::fs::write(&path, "a-test-cluster-secret-of-some-length\n").unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
    path
}

/// One `serve` process of the ledger, on a port of its own; its log goes to
/// a file beside the database.
struct Instance {
    port: u16,
    child: Child,
    log: PathBuf,
}

impl Instance {
    fn start(db: &TestDb, port: u16, secret: &Path) -> Instance {
        let log = db.folder.path().join(format!("serve-{port}.log"));
        let child = Command::new(BINARY)
            .args(["--database", &db.url_text, "--key-file"])
            .arg(db.folder.path().join("ledger.key"))
            .args(["serve", "--listen", &format!("127.0.0.1:{port}")])
            .arg("--cluster-secret-file")
            .arg(secret)
            .env("SCFLEDGER_LOG", "info")
            .stdout(Stdio::null())
            .stderr(
                std::fs::File::options()
                    .create(true)
                    .append(true)
                    .open(&log)
                    .unwrap(),
            )
            .spawn()
            .unwrap();
        let instance = Instance { port, child, log };
        let deadline = Instant::now() + Duration::from_secs(30);
        while !instance.readyz().starts_with("ready") {
            assert!(
                Instant::now() < deadline,
                "instance {port} did not become ready"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        instance
    }

    fn base(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    fn readyz(&self) -> String {
        readyz(self.port)
    }

    fn is_writer(&self) -> bool {
        self.readyz().contains("role: writer")
    }

    fn signal(&self, signal: &str) {
        let status = Command::new("kill")
            .args([signal, &self.child.id().to_string()])
            .status()
            .unwrap();
        assert!(status.success(), "kill {signal}");
    }

    fn kill(mut self) -> u16 {
        self.child.kill().unwrap(); // SIGKILL
        self.child.wait().unwrap();
        self.port
    }
}

impl Drop for Instance {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn readyz(port: u16) -> String {
    reqwest::blocking::Client::builder()
        .timeout(Duration::from_secs(2))
        .build()
        .unwrap()
        .get(format!("http://127.0.0.1:{port}/readyz"))
        .send()
        .ok()
        .filter(|r| r.status() == 200)
        .and_then(|r| r.text().ok())
        .unwrap_or_default()
}

/// Waits until one of `ports` writes; how long it took, and which.
fn wait_for_writer(ports: &[u16]) -> (Duration, u16) {
    let started = Instant::now();
    loop {
        if let Some(port) = ports.iter().find(|p| readyz(**p).contains("role: writer")) {
            return (started.elapsed(), *port);
        }
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "no instance writes after 5 s"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// The epoch /readyz reports.
fn epoch_of(readyz: &str) -> u64 {
    readyz
        .lines()
        .find_map(|line| line.strip_prefix("epoch: "))
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no epoch in {readyz}"))
}

fn verifier(db: &TestDb) -> NoteVerifier {
    let out = scfledger(db, &["pubkey"]);
    NoteVerifier::parse(String::from_utf8(out.stdout).unwrap().trim()).unwrap()
}

fn decode(text: &Value) -> [u8; 32] {
    BASE64
        .decode(text.as_str().unwrap())
        .unwrap()
        .try_into()
        .unwrap()
}

fn verify_and_replay(db: &TestDb) {
    for command in [&["verify"][..], &["replay"][..]] {
        let out = scfledger(db, command);
        assert!(
            out.status.success(),
            "{command:?}: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

fn journal_body(memo: &str) -> Value {
    json!({"memo": memo, "postings": [
        {"account": "a", "currency": "EUR", "amount": "1.00"},
        {"account": "b", "currency": "EUR", "amount": "-1.00"}]})
}

/// Two instances: a write sent to the standby is answered by the writer, an
/// Idempotency-Key holds across them, a forged forward is refused, `status`
/// and the metrics say who writes; the writer is SIGKILLed and the standby's
/// first checkpoint is proven consistent with the last one signed before.
#[test]
fn every_instance_answers_writes_through_the_one_writer() {
    for backend in backends() {
        if backend != "postgres" {
            continue;
        }
        let db = TestDb::new(backend);
        assert!(scfledger(&db, &["init"]).status.success());
        let operator = operator_key(&db);
        let secret = secret_file(&db);
        let first = Instance::start(&db, free_port(), &secret);
        let second = Instance::start(&db, free_port(), &secret);
        assert!(
            first.is_writer() && !second.is_writer(),
            "{}",
            second.readyz()
        );
        assert!(
            second
                .readyz()
                .contains(&format!("writer: {}", first.base())),
            "{}",
            second.readyz()
        );
        let via_standby = Client::new(&second.base(), &operator);
        let via_writer = Client::new(&first.base(), &operator);

        // One API: the standby relays the writer's answer, and the key holds.
        let body = journal_body("through the standby");
        let ((status, answer), replayed) =
            via_standby.post_with_key("/api/v1/journal", &body, "cluster-key-1");
        assert_eq!((status, replayed), (201, false), "{answer}");
        let ((status, again), replayed) =
            via_writer.post_with_key("/api/v1/journal", &body, "cluster-key-1");
        assert_eq!((status, replayed), (201, true), "{again}");
        assert_eq!(again, answer);
        let ((status, refused), _) =
            via_standby.post_with_key("/api/v1/journal", &journal_body("other"), "cluster-key-1");
        assert_eq!(status, 409, "{refused}");
        // Reads are served where they arrive.
        assert_eq!(via_standby.get("/api/v1/log/checkpoint").0, 200);

        // A forwarded request must carry the secret.
        let forged = reqwest::blocking::Client::new()
            .post(format!("{}/api/v1/journal", first.base()))
            .bearer_auth(&operator)
            .header("Idempotency-Key", "cluster-key-2")
            .header("x-scfledger-cluster-secret", "not-the-secret")
            .json(&journal_body("forged"))
            .send()
            .unwrap();
        assert_eq!(forged.status().as_u16(), 403);

        // Who writes: `status`, /readyz, /metrics.
        let status = scfledger(&db, &["status"]);
        let said = String::from_utf8_lossy(&status.stdout).to_string();
        assert!(status.status.success(), "{said}");
        let epoch = epoch_of(&first.readyz());
        assert!(
            said.contains(&format!("pid {} (epoch {epoch}", first.child.id())),
            "{said}"
        );
        assert!(
            said.contains(&format!("writer url: {}", first.base())),
            "{said}"
        );
        let metrics = |instance: &Instance| {
            reqwest::blocking::get(format!("{}/metrics", instance.base()))
                .unwrap()
                .text()
                .unwrap()
        };
        assert!(
            metrics(&first).contains("\nscfledger_writer 1\n"),
            "{}",
            metrics(&first)
        );
        let standby_metrics = metrics(&second);
        assert!(
            standby_metrics.contains("\nscfledger_writer 0\n"),
            "{standby_metrics}"
        );
        assert!(
            standby_metrics.contains("\nscfledger_forwarded_total 2\n"),
            "{standby_metrics}"
        );

        // Through the standby: a programme and an invoice, a quote (a read
        // only the writer's memory answers), and the supplier's web pages.
        let (supplier, retailer) = programme(&second.base(), &operator);
        let supplier_api = Client::new(&second.base(), &supplier);
        let today = chrono::Utc::now().date_naive();
        let (status, invoice) = supplier_api.post(
            "/api/v1/invoices",
            &json!({"program_id": "prog-k", "invoice_number": "CL-1", "issue_date": today.to_string(),
                "due_date": (today + chrono::Duration::days(60)).to_string(), "currency": "EUR", "amount": "1234.50"}),
        );
        assert_eq!(status, 201, "{invoice}");
        let id = invoice["id"].as_str().unwrap();
        let confirm = format!("/api/v1/invoices/{id}/confirm");
        let (status, body) = Client::new(&second.base(), &retailer).post(&confirm, &json!({}));
        assert_eq!(status, 201, "{body}");
        let (status, quote) = supplier_api.get(&format!("/api/v1/invoices/{id}/quote"));
        assert_eq!(status, 200, "{quote}");
        let user = Command::new(BINARY)
            .args(["--database", &db.url_text, "--key-file"])
            .arg(db.folder.path().join("ledger.key"))
            .args([
                "user",
                "create",
                "--email",
                "sup@example.com",
                "--party",
                "sup-k",
                "--role",
                "supplier",
            ])
            .env("SCFLEDGER_PASSWORD", "a long enough password")
            .output()
            .unwrap();
        assert!(
            user.status.success(),
            "{}",
            String::from_utf8_lossy(&user.stderr)
        );
        let (session, _) = web_sign_in(&second.base(), "sup@example.com", "a long enough password");
        let financing = reqwest::blocking::Client::new()
            .get(format!("{}/supplier/financing", second.base()))
            .header("Cookie", &session)
            .send()
            .unwrap();
        assert_eq!(financing.status().as_u16(), 200);
        let html = financing.text().unwrap();
        assert!(html.contains("CL-1") && html.contains("1,234.50"), "{html}");

        // The writer dies; the standby takes over and extends the same tree.
        let before: Value = answer["receipt"].clone();
        let first_port = first.kill();
        let (took, port) = wait_for_writer(&[second.port]);
        assert_eq!(port, second.port);
        eprintln!("{backend}: the standby took over {took:?} after the SIGKILL");
        let ((status, after), _) =
            via_standby.post_with_key("/api/v1/journal", &journal_body("after"), "cluster-key-3");
        assert_eq!(status, 201, "{after}");
        let verifier = verifier(&db);
        let open = |receipt: &Value| {
            Checkpoint::open_signed(receipt["checkpoint"].as_str().unwrap(), &verifier).unwrap()
        };
        let (old, new) = (open(&before), open(&after["receipt"]));
        assert!(new.size > old.size);
        let (status, proof) = via_standby.get(&format!(
            "/api/v1/log/proof/consistency?first={}&second={}",
            old.size, new.size
        ));
        assert_eq!(status, 200, "{proof}");
        let hashes: Vec<[u8; 32]> = proof["consistency_proof"]
            .as_array()
            .unwrap()
            .iter()
            .map(decode)
            .collect();
        merkle::verify_consistency(old.size, new.size, &hashes, &old.root, &new.root)
            .expect("the new writer's checkpoint extends the last one signed before");
        assert!(
            second.readyz().contains("takeovers: 1"),
            "{}",
            second.readyz()
        );
        let said = String::from_utf8_lossy(&scfledger(&db, &["status"]).stdout).to_string();
        assert_eq!(epoch_of(&second.readyz()), epoch + 1);
        assert!(
            said.contains(&format!("pid {} (epoch {}", second.child.id(), epoch + 1)),
            "{said}"
        );
        // The killed instance comes back as a standby and forwards again.
        let back = Instance::start(&db, first_port, &secret);
        assert!(back.readyz().contains("role: standby"), "{}", back.readyz());
        let ((status, _), _) = Client::new(&back.base(), &operator).post_with_key(
            "/api/v1/journal",
            &journal_body("back"),
            "cluster-key-4",
        );
        assert_eq!(status, 201);
        drop((back, second));
        verify_and_replay(&db);
    }
}

/// A writer SIGSTOPped, whose lock session is then ended (as a network
/// partition would end it) so that a standby takes over, and then SIGCONTed,
/// commits nothing: its batches are fenced off and it stands by; what its
/// clients send it is answered 503 with Retry-After or forwarded.
#[test]
fn a_paused_writer_commits_nothing_once_another_took_over() {
    for backend in backends() {
        if backend != "postgres" {
            continue;
        }
        let db = TestDb::new(backend);
        assert!(scfledger(&db, &["init"]).status.success());
        let operator = operator_key(&db);
        let secret = secret_file(&db);
        let paused = Instance::start(&db, free_port(), &secret);
        let other = Instance::start(&db, free_port(), &secret);
        let mut acknowledged = BTreeSet::new();
        let send = |instance: &Instance, memo: &str| {
            Client::new(&instance.base(), &operator).post_with_key(
                "/api/v1/journal",
                &journal_body(memo),
                &memo.replace(' ', "-"),
            )
        };
        assert_eq!(send(&paused, "before").0 .0, 201);
        acknowledged.insert("before".to_string());
        paused.signal("-STOP");
        let mut admin = db.connect();
        let holder = scfledger::db::writer_lock_holder(&mut admin)
            .unwrap()
            .unwrap();
        scfledger::db::execute_raw(
            &mut admin,
            &format!("SELECT pg_terminate_backend({holder})"),
        )
        .unwrap();
        let (took, _) = wait_for_writer(&[other.port]);
        eprintln!("{backend}: took over from a paused writer in {took:?}");
        assert_eq!(send(&other, "during").0 .0, 201);
        acknowledged.insert("during".to_string());
        paused.signal("-CONT");
        // Straight to the paused one, which still believed it wrote.
        for n in 0..5 {
            let memo = format!("after the pause {n}");
            let deadline = Instant::now() + Duration::from_secs(10);
            loop {
                let ((status, body), _) = send(&paused, &memo);
                match status {
                    201 => break,
                    503 => assert!(Instant::now() < deadline, "{body}"),
                    other => panic!("{other}: {body}"),
                }
                std::thread::sleep(Duration::from_millis(100));
            }
            acknowledged.insert(memo);
        }
        assert!(
            paused.readyz().contains("role: standby"),
            "{}",
            paused.readyz()
        );
        let log = std::fs::read_to_string(&paused.log).unwrap();
        assert!(
            log.contains("no longer writes") || log.contains("lock session is gone"),
            "{log}"
        );
        drop((paused, other));
        let entries = scfledger::db::log::entries_from(&mut admin, 0, 1_000).unwrap();
        let memos: Vec<String> = entries
            .iter()
            .filter_map(|row| {
                let entry: Value = serde_json::from_str(&row.canonical).unwrap();
                entry["body"]["memo"].as_str().map(String::from)
            })
            .collect();
        assert_eq!(
            memos.iter().cloned().collect::<BTreeSet<_>>(),
            acknowledged,
            "every acknowledged entry once, nothing else: {memos:?}"
        );
        assert_eq!(memos.len(), acknowledged.len(), "{memos:?}");
        verify_and_replay(&db);
    }
}

/// A command a client sends until it has a receipt: always the same body
/// and Idempotency-Key, to whichever instance is next.
struct Sent {
    key: String,
    /// Text the entry must hold.
    needle: String,
    seq: u64,
    leaf_hash: String,
}

/// Sends one command until it is answered 201, moving to the next instance
/// on a connection error or a 503; any other answer fails the test.
fn until_recorded(
    http: &reqwest::blocking::Client,
    ports: &[u16],
    turn: &mut usize,
    (path, token, key, body): (&str, &str, &str, &Value),
) -> Value {
    let started = Instant::now();
    loop {
        let port = ports[*turn % ports.len()];
        *turn += 1;
        let answer = http
            .post(format!("http://127.0.0.1:{port}{path}"))
            .bearer_auth(token)
            .header("Idempotency-Key", key)
            .json(body)
            .send();
        match answer {
            Ok(response) if response.status() == 201 => return response.json().unwrap(),
            Ok(response) if response.status() == 503 => {
                assert!(response.headers().contains_key("retry-after"));
            }
            Ok(response) => {
                let status = response.status();
                panic!(
                    "{path} answered {status}: {}",
                    response.text().unwrap_or_default()
                );
            }
            Err(_) => {}
        }
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "{path} {key}: no receipt within 60 s"
        );
        std::thread::sleep(Duration::from_millis(25));
    }
}

/// Three instances under a mixed financing load sent through all three, and
/// the writer SIGKILLed at random moments, again and again: every command
/// is recorded exactly once, every receipt names the entry the log holds,
/// and verify and replay pass.
#[test]
fn three_instances_survive_the_writer_killed_again_and_again() {
    for backend in backends() {
        if backend != "postgres" {
            continue;
        }
        let db = TestDb::new(backend);
        assert!(scfledger(&db, &["init"]).status.success());
        let operator = operator_key(&db);
        let secret = secret_file(&db);
        let ports: Vec<u16> = (0..3).map(|_| free_port()).collect();
        let instances: Arc<Mutex<BTreeMap<u16, Instance>>> = Arc::new(Mutex::new(
            ports
                .iter()
                .map(|port| (*port, Instance::start(&db, *port, &secret)))
                .collect(),
        ));
        let (supplier, retailer) = programme(&format!("http://127.0.0.1:{}", ports[1]), &operator);
        let today = chrono::Utc::now().date_naive();
        let due = today + chrono::Duration::days(60);
        let stop = Arc::new(AtomicBool::new(false));
        let registered: Arc<Mutex<Vec<String>>> = Arc::default();
        let confirmed: Arc<Mutex<Vec<String>>> = Arc::default();
        let mut clients = Vec::new();
        for role in 0..4usize {
            let (ports, operator, supplier, retailer) = (
                ports.clone(),
                operator.clone(),
                supplier.clone(),
                retailer.clone(),
            );
            let (stop, registered, confirmed) =
                (stop.clone(), registered.clone(), confirmed.clone());
            clients.push(std::thread::spawn(move || {
                let http = reqwest::blocking::Client::builder()
                    .timeout(Duration::from_secs(10))
                    .build()
                    .unwrap();
                let mut turn = role;
                let mut sent = Vec::new();
                for i in 0.. {
                    if stop.load(Ordering::Relaxed) {
                        break;
                    }
                    let key = format!("load-{role}-{i}");
                    let (path, token, body, needle) = match role {
                        0 => {
                            let memo = format!("load {i}");
                            ("/api/v1/journal".to_string(), &operator, journal_body(&memo), format!("\"memo\":\"{memo}\""))
                        }
                        1 => {
                            let number = format!("C-{i}");
                            let body = json!({"program_id": "prog-k", "invoice_number": number, "issue_date": today.to_string(),
                                "due_date": due.to_string(), "currency": "EUR", "amount": "1000.00"});
                            ("/api/v1/invoices".to_string(), &supplier, body, format!("\"invoice_number\":\"{number}\""))
                        }
                        _ => {
                            let (queue, action, token, kind) = if role == 2 {
                                (&registered, "confirm", &retailer, "invoice.confirmed")
                            } else {
                                (&confirmed, "advance", &supplier, "advance.accepted")
                            };
                            let Some(id) = queue.lock().unwrap().pop() else {
                                std::thread::sleep(Duration::from_millis(10));
                                continue;
                            };
                            let needle = format!("\"kind\":\"{kind}\"");
                            (format!("/api/v1/invoices/{id}/{action}"), token, json!({}), format!("{needle}|\"invoice_id\":\"{id}\""))
                        }
                    };
                    let answer = until_recorded(&http, &ports, &mut turn, (&path, token, &key, &body));
                    if role == 1 {
                        registered.lock().unwrap().push(answer["id"].as_str().unwrap().to_string());
                    }
                    if role == 2 {
                        let id = path.split('/').nth(4).unwrap().to_string();
                        confirmed.lock().unwrap().push(id);
                    }
                    sent.push(Sent {
                        key,
                        needle,
                        seq: answer["receipt"]["seq"].as_u64().unwrap(),
                        leaf_hash: answer["receipt"]["leaf_hash"].as_str().unwrap().to_string(),
                    });
                }
                sent
            }));
        }
        // The killer: the writer, at a random moment, KILLS times; each time
        // another instance takes over and the killed one comes back.
        let mut seed = u64::from(std::process::id()) ^ 0x9e37_79b9_7f4a_7c15;
        eprintln!("{backend}: kill moments from seed {seed}");
        let mut random = move |below: u64| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed % below
        };
        let mut takeovers = Vec::new();
        for _ in 0..KILLS {
            std::thread::sleep(Duration::from_millis(100 + random(500)));
            let (_, writer) = wait_for_writer(&ports);
            let killed = instances.lock().unwrap().remove(&writer).unwrap();
            let port = killed.kill();
            let others: Vec<u16> = ports.iter().copied().filter(|p| *p != port).collect();
            let (took, _) = wait_for_writer(&others);
            takeovers.push(took);
            instances
                .lock()
                .unwrap()
                .insert(port, Instance::start(&db, port, &secret));
        }
        stop.store(true, Ordering::Relaxed);
        let sent: Vec<Sent> = clients
            .into_iter()
            .flat_map(|c| c.join().unwrap())
            .collect();
        drop(instances);
        takeovers.sort();
        eprintln!(
            "{backend}: {} commands recorded through {KILLS} writer kills; takeover median {:?}, slowest {:?}",
            sent.len(),
            takeovers[takeovers.len() / 2],
            takeovers.last().unwrap()
        );
        let kinds = |needle: &str| sent.iter().filter(|s| s.needle.contains(needle)).count();
        assert!(
            kinds("memo") > 20
                && kinds("invoice_number") > 20
                && kinds("invoice.confirmed") > 5
                && kinds("advance.accepted") > 5,
            "too few commands of some kind: {} journal, {} registered, {} confirmed, {} financed",
            kinds("memo"),
            kinds("invoice_number"),
            kinds("invoice.confirmed"),
            kinds("advance.accepted")
        );
        let mut connection = db.connect();
        let count = scfledger::db::log::entry_count(&mut connection).unwrap();
        let entries = scfledger::db::log::entries_from(&mut connection, 0, count).unwrap();
        // Every receipt names an entry the log holds, and no two the same.
        let seqs: BTreeSet<u64> = sent.iter().map(|s| s.seq).collect();
        assert_eq!(seqs.len(), sent.len(), "two commands got the same seq");
        for s in &sent {
            let row = &entries[s.seq as usize];
            let leaf = scfledger::ledger::entry::entry_leaf_hash(row.canonical.as_bytes());
            assert_eq!(
                BASE64.encode(leaf),
                s.leaf_hash,
                "{}: seq {} is another entry",
                s.key,
                s.seq
            );
            let (needle, invoice) = s.needle.split_once('|').unwrap_or((&s.needle, ""));
            assert!(
                row.canonical.contains(needle) && row.canonical.contains(invoice),
                "{}: seq {} should hold {}",
                s.key,
                s.seq,
                s.needle
            );
        }
        // Nothing was applied twice: each command's text is in the log once.
        for s in &sent {
            let (needle, invoice) = s.needle.split_once('|').unwrap_or((&s.needle, ""));
            let copies = entries
                .iter()
                .filter(|row| row.canonical.contains(needle) && row.canonical.contains(invoice))
                .count();
            assert_eq!(copies, 1, "{}: {} copies of {}", s.key, copies, s.needle);
        }
        // Everything stored was acknowledged or set up before: the operator's
        // party, three parties, the programme, the enrolment, a deposit.
        assert_eq!(
            count as usize,
            sent.len() + 7,
            "stored beyond what was acknowledged"
        );
        let head = scfledger::db::head::read(&mut connection).unwrap().unwrap();
        assert!(head.epoch > KILLS as i64, "epoch {}", head.epoch);
        assert_eq!(head.tree_size, count);
        verify_and_replay(&db);
    }
}
