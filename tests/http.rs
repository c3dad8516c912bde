//! The HTTP surface and a crash: the real binary, SIGKILLed while a client
//! appends, on every backend.

mod common;

use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine as _;
use common::*;
use serde_json::{json, Value};

const BINARY: &str = env!("CARGO_BIN_EXE_scfledger");

/// SIGKILLs per backend in the crash test.
const KILL_CYCLES: u64 = 20;

/// A fresh Idempotency-Key.
fn next_key() -> String {
    static COUNTER: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    format!(
        "test-{}-{}",
        std::process::id(),
        COUNTER.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
    )
}

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

/// Starts a server and waits until it is ready and the writer.
fn spawn_server(db: &TestDb, port: u16) -> Child {
    spawn_server_until(db, port, "role: writer")
}

/// Starts a server and waits until `/readyz` answers 200 with `wanted`.
fn spawn_server_until(db: &TestDb, port: u16, wanted: &str) -> Child {
    let child = Command::new(BINARY)
        .args(["--database", &db.url_text, "--key-file"])
        .arg(db.folder.path().join("ledger.key"))
        .args(["serve", "--listen", &format!("127.0.0.1:{port}")])
        .env("SCFLEDGER_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let client = reqwest::blocking::Client::new();
    let deadline = Instant::now() + Duration::from_secs(30);
    // Ready in the role wanted: after a kill -9 on PostgreSQL a new process
    // stands by until the dead one's lease runs out, and a standby alone
    // answers commands 503.
    while !client
        .get(format!("http://127.0.0.1:{port}/readyz"))
        .send()
        .ok()
        .filter(|r| r.status() == 200)
        .and_then(|r| r.text().ok())
        .is_some_and(|text| text.contains(wanted))
    {
        assert!(
            Instant::now() < deadline,
            "server did not become {wanted:?}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    child
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

fn decode(text: &Value) -> [u8; 32] {
    BASE64
        .decode(text.as_str().unwrap())
        .unwrap()
        .try_into()
        .unwrap()
}

#[test]
fn http_endpoints_answer_with_verifiable_data_and_problem_json() {
    for backend in backends() {
        let db = TestDb::new(backend);
        let init = scfledger(&db, &["init", "--name", "scfledger.test/http"]);
        assert!(init.status.success());
        let verifier_line = String::from_utf8(init.stdout).unwrap();
        let verifier = scfledger::ledger::note::NoteVerifier::parse(verifier_line.trim()).unwrap();
        // Credentials belong to registered parties: the operator's key
        // registers its party (seq 0), and the supplier is registered
        // (seq 1) before it gets a key.
        let operator = operator_key(&db);
        for args in [
            [
                "apikey", "create", "--party", "sup-acme", "--role", "supplier",
            ],
            [
                "apikey", "create", "--party", "op-test", "--role", "auditor",
            ],
        ] {
            let refused = scfledger(&db, &args);
            assert!(!refused.status.success(), "{backend}: {args:?}");
            assert!(refused.stdout.is_empty(), "{backend}: no token");
        }
        let port = free_port();
        let mut server = spawn_server(&db, port);
        let base = format!("http://127.0.0.1:{port}");
        let client = reqwest::blocking::Client::new();
        let setup_client = Client::new(&base, &operator);
        let (status, answer) = setup_client.post(
            "/api/v1/parties",
            &json!({"party_id": "sup-acme", "role": "supplier", "name": "Acme", "tax_id": "DE1"}),
        );
        assert_eq!(status, 201, "{backend}: {answer}");
        let (status, answer) = setup_client.post(
            "/api/v1/api-keys",
            &json!({"party_id": "sup-acme", "role": "supplier"}),
        );
        assert_eq!(status, 201, "{backend}: {answer}");
        let supplier = answer["token"].as_str().unwrap().to_string();
        let setup: u64 = 2;

        assert_eq!(
            client
                .get(format!("{base}/healthz"))
                .send()
                .unwrap()
                .text()
                .unwrap(),
            "ok\n"
        );
        let first_note = client
            .get(format!("{base}/api/v1/log/checkpoint"))
            .send()
            .unwrap()
            .text()
            .unwrap();
        assert!(
            first_note.starts_with(&format!("scfledger.test/http\n{setup}\n")),
            "{backend}: {first_note}"
        );

        let body = json!({"memo": "Capital", "postings": [
            {"account": "bank:eur", "currency": "EUR", "amount": "1000.00"},
            {"account": "funder:f1:capital", "currency": "EUR", "amount": "-1000.00"}]});
        let mut receipts = Vec::new();
        for _ in 0..3 {
            let response = client
                .post(format!("{base}/api/v1/journal"))
                .header("Idempotency-Key", next_key())
                .bearer_auth(&operator)
                .json(&body)
                .send()
                .unwrap();
            assert_eq!(response.status(), 201, "{backend}");
            receipts.push(response.json::<Value>().unwrap()["receipt"].clone());
        }
        let last = &receipts[2];
        assert_eq!(last["seq"], setup + 2);
        let checkpoint = scfledger::ledger::note::Checkpoint::open_signed(
            last["checkpoint"].as_str().unwrap(),
            &verifier,
        )
        .unwrap();
        let proof: Vec<[u8; 32]> = last["inclusion_proof"]
            .as_array()
            .unwrap()
            .iter()
            .map(decode)
            .collect();
        scfledger::ledger::merkle::verify_inclusion(
            &decode(&last["leaf_hash"]),
            setup + 2,
            setup + 3,
            &proof,
            &checkpoint.root,
        )
        .unwrap();

        let note = client
            .get(format!("{base}/api/v1/log/checkpoint"))
            .send()
            .unwrap()
            .text()
            .unwrap();
        assert!(
            note.starts_with(&format!("scfledger.test/http\n{}\n", setup + 3)),
            "{backend}: {note}"
        );

        let page: Value = client
            .get(format!(
                "{base}/api/v1/log/entries?from={}&limit=1",
                setup + 1
            ))
            .bearer_auth(&operator)
            .send()
            .unwrap()
            .json()
            .unwrap();
        assert_eq!(page["entries"][0]["seq"], setup + 1);
        assert_eq!(page["entries"][0]["postings"][0]["amount"], "1000.00");
        assert_eq!(page["next_from"], setup + 2);

        let inclusion: Value = client
            .get(format!(
                "{base}/api/v1/log/proof/inclusion?seq={setup}&tree_size={}",
                setup + 2
            ))
            .send()
            .unwrap()
            .json()
            .unwrap();
        let at_two = scfledger::ledger::note::Checkpoint::open_signed(
            inclusion["checkpoint"].as_str().unwrap(),
            &verifier,
        )
        .unwrap();
        let proof: Vec<[u8; 32]> = inclusion["inclusion_proof"]
            .as_array()
            .unwrap()
            .iter()
            .map(decode)
            .collect();
        scfledger::ledger::merkle::verify_inclusion(
            &decode(&inclusion["leaf_hash"]),
            setup,
            setup + 2,
            &proof,
            &at_two.root,
        )
        .unwrap();

        let consistency: Value = client
            .get(format!(
                "{base}/api/v1/log/proof/consistency?first={}&second={}",
                setup + 2,
                setup + 3
            ))
            .send()
            .unwrap()
            .json()
            .unwrap();
        let proof: Vec<[u8; 32]> = consistency["consistency_proof"]
            .as_array()
            .unwrap()
            .iter()
            .map(decode)
            .collect();
        scfledger::ledger::merkle::verify_consistency(
            setup + 2,
            setup + 3,
            &proof,
            &at_two.root,
            &checkpoint.root,
        )
        .unwrap();

        // Bad input: problem+json with a stable code, nothing written.
        let cases: Vec<(reqwest::blocking::RequestBuilder, u16, &str)> = vec![
            (client.get(format!("{base}/api/v1/log/entries?limit=1001")).bearer_auth(&operator), 400, "bad_request"),
            (client.get(format!("{base}/api/v1/log/entries?from=-1")).bearer_auth(&operator), 400, "bad_query"),
            (client.get(format!("{base}/api/v1/log/proof/inclusion?seq={}", setup + 3)), 404, "not_found"),
            (client.get(format!("{base}/api/v1/log/proof/inclusion?seq=0&tree_size={}", setup + 5)), 404, "not_found"),
            (client.post(format!("{base}/api/v1/journal")).header("Idempotency-Key", next_key()).json(&body), 401, "unauthorized"),
            (client.post(format!("{base}/api/v1/journal")).header("Idempotency-Key", next_key()).bearer_auth("scf_0000000000000000_".to_string() + &"0".repeat(64)).json(&body), 401, "unauthorized"),
            (client.post(format!("{base}/api/v1/journal")).header("Idempotency-Key", next_key()).bearer_auth(&supplier).json(&body), 403, "forbidden"),
            (client.post(format!("{base}/api/v1/journal")).header("Idempotency-Key", next_key()).bearer_auth(&operator).header("content-type", "application/json").body("{\"memo\":"), 400, "malformed_json"),
            (client.post(format!("{base}/api/v1/journal")).header("Idempotency-Key", next_key()).bearer_auth(&operator).header("content-type", "application/json").body(vec![b' '; 300_000]), 413, "body_too_large"),
            (client.post(format!("{base}/api/v1/journal")).header("Idempotency-Key", next_key()).bearer_auth(&operator).json(&json!({"memo": "x", "postings": [
                {"account": "a", "currency": "EUR", "amount": "1.001"}, {"account": "b", "currency": "EUR", "amount": "-1.00"}]})), 422, "invalid_field"),
            (client.post(format!("{base}/api/v1/journal")).header("Idempotency-Key", next_key()).bearer_auth(&operator).json(&json!({"memo": "x", "postings": [
                {"account": "a", "currency": "EUR", "amount": "92233720368547758.08"}, {"account": "b", "currency": "EUR", "amount": "-1.00"}]})), 422, "invalid_field"),
            (client.get(format!("{base}/nowhere")), 404, "not_found"),
            (client.get(format!("{base}/api/v1/log/entries")).bearer_auth(&supplier), 403, "forbidden"),
            (client.post(format!("{base}/api/v1/journal")).bearer_auth(&operator).json(&body), 400, "missing_idempotency_key"),
        ];
        for (request, status, code) in cases {
            let response = request.send().unwrap();
            assert_eq!(response.status().as_u16(), status, "{backend}");
            assert_eq!(
                response.headers()["content-type"],
                "application/problem+json",
                "{backend}"
            );
            let problem: Value = response.json().unwrap();
            assert_eq!(problem["code"], code, "{backend}: {problem}");
        }
        let page: Value = client
            .get(format!("{base}/api/v1/log/entries"))
            .bearer_auth(&operator)
            .send()
            .unwrap()
            .json()
            .unwrap();
        assert_eq!(
            page["tree_size"],
            setup + 3,
            "{backend}: refused requests wrote nothing"
        );
        let html = client
            .get(format!("{base}/ledger"))
            .send()
            .unwrap()
            .text()
            .unwrap();
        assert!(html.contains("5 entries."), "{backend}");
        server.kill().unwrap();
        server.wait().unwrap();
    }
}

/// One client's acknowledged commands: (seq, text the entry must hold).
type Acknowledged = Vec<(u64, String)>;

/// POSTs with a fresh Idempotency-Key; the receipt's seq and the body on 201.
fn post(
    client: &reqwest::blocking::Client,
    url: &str,
    token: &str,
    body: &Value,
) -> Option<(u64, Value)> {
    match client
        .post(url)
        .header("Idempotency-Key", next_key())
        .bearer_auth(token)
        .json(body)
        .send()
    {
        Ok(response) if response.status() == 201 => {
            let answer: Value = response.json().ok()?;
            Some((answer["receipt"]["seq"].as_u64()?, answer))
        }
        _ => None,
    }
}

#[test]
fn sigkill_during_a_mixed_workload_loses_no_acknowledged_command() {
    use std::sync::{Arc, Mutex};
    for backend in backends() {
        let db = TestDb::new(backend);
        assert!(scfledger(&db, &["init"]).status.success());
        let operator = operator_key(&db);
        let port = free_port();
        let mut server = spawn_server(&db, port);
        let (supplier, retailer) = programme(&format!("http://127.0.0.1:{port}"), &operator);
        server.kill().unwrap();
        server.wait().unwrap();
        // Invoices acknowledged as registered wait to be confirmed, then financed.
        let registered: Arc<Mutex<Vec<String>>> = Arc::default();
        let confirmed: Arc<Mutex<Vec<String>>> = Arc::default();
        let mut acknowledged: Acknowledged = Vec::new();
        let today = chrono::Utc::now().date_naive();
        let due = today + chrono::Duration::days(60);
        for cycle in 0..KILL_CYCLES {
            let port = free_port();
            let mut server = spawn_server(&db, port);
            let base = format!("http://127.0.0.1:{port}");
            // Vary the moment of the kill so it lands at different points of a batch.
            let stop = Instant::now() + Duration::from_millis(300 + 37 * cycle);
            let killer = std::thread::spawn(move || {
                std::thread::sleep(stop.saturating_duration_since(Instant::now()));
                server.kill().unwrap(); // SIGKILL
                server.wait().unwrap();
            });
            let mut clients = Vec::new();
            for role in 0..4 {
                let (base, operator, supplier, retailer) = (
                    base.clone(),
                    operator.clone(),
                    supplier.clone(),
                    retailer.clone(),
                );
                let (registered, confirmed) = (registered.clone(), confirmed.clone());
                clients.push(std::thread::spawn(move || {
                    let http = reqwest::blocking::Client::builder()
                        .timeout(Duration::from_secs(5))
                        .build()
                        .unwrap();
                    let mut mine: Acknowledged = Vec::new();
                    for i in 0.. {
                        let done = match role {
                            // A treasury journal entry.
                            0 => {
                                let memo = format!("cycle {cycle} entry {i}");
                                let body = json!({"memo": memo, "postings": [
                                    {"account": "a", "currency": "EUR", "amount": "1.00"}, {"account": "b", "currency": "EUR", "amount": "-1.00"}]});
                                post(&http, &format!("{base}/api/v1/journal"), &operator, &body)
                                    .map(|(seq, _)| (seq, format!("\"memo\":\"{memo}\"")))
                            }
                            // The supplier registers an invoice.
                            1 => {
                                let number = format!("K-{cycle}-{i}");
                                let body = json!({"program_id": "prog-k", "invoice_number": number, "issue_date": today.to_string(),
                                    "due_date": due.to_string(), "currency": "EUR", "amount": "1000.00"});
                                post(&http, &format!("{base}/api/v1/invoices"), &supplier, &body).map(
                                    |(seq, answer)| {
                                        registered.lock().unwrap().push(answer["id"].as_str().unwrap().to_string());
                                        (seq, format!("\"invoice_number\":\"{number}\""))
                                    },
                                )
                            }
                            // The retailer confirms one, or the supplier finances one.
                            _ => {
                                let (queue, path, token, kind) = if role == 2 {
                                    (&registered, "confirm", &retailer, "invoice.confirmed")
                                } else {
                                    (&confirmed, "advance", &supplier, "advance.accepted")
                                };
                                let Some(id) = queue.lock().unwrap().pop() else {
                                    // Nothing to do yet: wait while the server lives.
                                    match http.get(format!("{base}/readyz")).send() {
                                        Ok(r) if r.status() == 200 => {
                                            std::thread::sleep(Duration::from_millis(5));
                                            continue;
                                        }
                                        _ => break,
                                    }
                                };
                                let url = format!("{base}/api/v1/invoices/{id}/{path}");
                                match post(&http, &url, token, &json!({})) {
                                    Some((seq, _)) => {
                                        if role == 2 {
                                            confirmed.lock().unwrap().push(id.clone());
                                        }
                                        Some((seq, format!("\"kind\":\"{kind}\"")))
                                    }
                                    // Perhaps done before the kill but not acknowledged:
                                    // nothing later counts on it.
                                    None => None,
                                }
                            }
                        };
                        match done {
                            Some(ack) => mine.push(ack),
                            None => break,
                        }
                    }
                    mine
                }));
            }
            killer.join().unwrap();
            for client in clients {
                acknowledged.extend(client.join().unwrap());
            }
        }
        let kinds = |needle: &str| {
            acknowledged
                .iter()
                .filter(|(_, t)| t.contains(needle))
                .count()
        };
        assert!(
            kinds("memo") > 10 && kinds("invoice_number") > 10 && kinds("invoice.confirmed") > 5 && kinds("advance.accepted") > 5,
            "{backend}: too few acknowledged commands of some kind: {} journal, {} registered, {} confirmed, {} financed",
            kinds("memo"), kinds("invoice_number"), kinds("invoice.confirmed"), kinds("advance.accepted")
        );
        let verify = scfledger(&db, &["verify"]);
        assert!(
            verify.status.success(),
            "{backend}: {}",
            String::from_utf8_lossy(&verify.stderr)
        );
        let replay = scfledger(&db, &["replay"]);
        assert!(
            replay.status.success(),
            "{backend}: {}",
            String::from_utf8_lossy(&replay.stderr)
        );
        let mut connection = db.connect();
        let count = scfledger::db::log::entry_count(&mut connection).unwrap() as u64;
        for (seq, needle) in &acknowledged {
            let row =
                &scfledger::db::log::entries_from(&mut connection, *seq as i64, 1).unwrap()[0];
            assert!(
                row.canonical.contains(needle),
                "{backend}: seq {seq} should hold {needle}"
            );
        }
        // Everything stored is acknowledged, set up before, or was in flight at
        // a kill: never more than one per client per cycle.
        // The operator's party, three parties, the programme, the supplier's
        // enrolment and a deposit.
        let set_up = 7;
        assert!(
            count >= acknowledged.len() as u64 + set_up
                && count <= acknowledged.len() as u64 + set_up + 4 * KILL_CYCLES,
            "{backend}: {count} stored, {} acknowledged",
            acknowledged.len()
        );
        let journal_entries = scfledger::db::log::entries_from(&mut connection, 0, count as i64)
            .unwrap()
            .iter()
            .filter(|row| row.canonical.contains("\"kind\":\"journal.posted\""))
            .count() as i64;
        assert_eq!(
            scfledger::db::log::balance(&mut connection, "a", "EUR").unwrap(),
            journal_entries * 100,
            "{backend}: the balance equals the journal entries stored"
        );
    }
}

/// Every Idempotency-Key in flight at a SIGKILL resolves on retry: to the
/// answer of the committed command, or it runs now; never "in progress", and
/// never twice.
#[test]
fn idempotency_keys_in_flight_at_a_sigkill_resolve_exactly_once() {
    const CYCLES: u64 = 10;
    const CLIENTS: u64 = 3;
    for backend in backends() {
        let db = TestDb::new(backend);
        assert!(scfledger(&db, &["init"]).status.success());
        let operator = operator_key(&db);
        // (key, memo) of requests whose answer was lost to a kill.
        let mut in_flight: Vec<(String, String)> = Vec::new();
        let mut memos: Vec<String> = Vec::new();
        let mut replayed_after_kill = 0;
        let body_of = |memo: &str| {
            json!({"memo": memo, "postings": [
                {"account": "a", "currency": "EUR", "amount": "1.00"},
                {"account": "b", "currency": "EUR", "amount": "-1.00"}]})
        };
        for cycle in 0..=CYCLES {
            let port = free_port();
            let mut server = spawn_server(&db, port);
            let url = format!("http://127.0.0.1:{port}/api/v1/journal");
            let http = reqwest::blocking::Client::builder()
                .timeout(Duration::from_secs(10))
                .build()
                .unwrap();
            // First, the retries of what the last kill cut off.
            for (key, memo) in in_flight.drain(..) {
                let response = http
                    .post(&url)
                    .header("Idempotency-Key", &key)
                    .bearer_auth(&operator)
                    .json(&body_of(&memo))
                    .send()
                    .unwrap();
                if response.headers().contains_key("Idempotent-Replayed") {
                    replayed_after_kill += 1;
                }
                let status = response.status().as_u16();
                assert_eq!(
                    status,
                    201,
                    "{backend}: retry of {key}: {:?}",
                    response.text()
                );
            }
            if cycle == CYCLES {
                server.kill().unwrap();
                server.wait().unwrap();
                break;
            }
            let stop = Instant::now() + Duration::from_millis(200 + 41 * cycle);
            let killer = std::thread::spawn(move || {
                std::thread::sleep(stop.saturating_duration_since(Instant::now()));
                server.kill().unwrap();
                server.wait().unwrap();
            });
            let clients: Vec<_> = (0..CLIENTS)
                .map(|client| {
                    let (url, operator, http) = (url.clone(), operator.clone(), http.clone());
                    std::thread::spawn(move || {
                        let mut sent = Vec::new();
                        for i in 0.. {
                            let memo = format!("cycle {cycle} client {client} entry {i}");
                            let key = format!("kill-{cycle}-{client}-{i}");
                            let answer = http
                                .post(&url)
                                .header("Idempotency-Key", &key)
                                .bearer_auth(&operator)
                                .json(&json!({"memo": memo, "postings": [
                                    {"account": "a", "currency": "EUR", "amount": "1.00"},
                                    {"account": "b", "currency": "EUR", "amount": "-1.00"}]}))
                                .send();
                            match answer {
                                Ok(response) if response.status() == 201 => {
                                    sent.push((key, memo, true))
                                }
                                _ => {
                                    sent.push((key, memo, false));
                                    break;
                                }
                            }
                        }
                        sent
                    })
                })
                .collect();
            killer.join().unwrap();
            for client in clients {
                for (key, memo, acknowledged) in client.join().unwrap() {
                    if !acknowledged {
                        in_flight.push((key, memo.clone()));
                    }
                    memos.push(memo);
                }
            }
        }
        let mut connection = db.connect();
        let count = scfledger::db::log::entry_count(&mut connection).unwrap();
        let stored = scfledger::db::log::entries_from(&mut connection, 0, count).unwrap();
        for memo in &memos {
            let needle = format!("\"memo\":\"{memo}\"");
            let found = stored
                .iter()
                .filter(|row| row.canonical.contains(&needle))
                .count();
            assert_eq!(found, 1, "{backend}: {memo} is stored {found} times");
        }
        assert_eq!(
            count as usize,
            memos.len() + 1,
            "{backend}: nothing else was stored but the operator's party"
        );
        eprintln!("{backend}: {} requests, {replayed_after_kill} retries answered from a committed command", memos.len());
        let verify = scfledger(&db, &["verify"]);
        assert!(
            verify.status.success(),
            "{backend}: {}",
            String::from_utf8_lossy(&verify.stderr)
        );
    }
}

/// Two `serve` processes on one PostgreSQL database: one writes, the other
/// stands by (reads served, commands 503 with Retry-After). The writer is
/// SIGKILLed, several times over: each time the standby takes over within
/// 5 s and continues the same tree, a new process takes its place as the
/// standby, and verify and replay pass at the end.
#[test]
fn a_standby_server_takes_over_when_the_writer_is_killed() {
    for backend in backends() {
        if backend != "postgres" {
            continue;
        }
        let db = TestDb::new(backend);
        assert!(scfledger(&db, &["init"]).status.success());
        let operator = operator_key(&db);
        let client = reqwest::blocking::Client::new();
        let role = |port: u16| {
            client
                .get(format!("http://127.0.0.1:{port}/readyz"))
                .send()
                .ok()
                .and_then(|r| r.text().ok())
                .unwrap_or_default()
        };
        let journal = |port: u16| {
            client
                .post(format!("http://127.0.0.1:{port}/api/v1/journal"))
                .header("Idempotency-Key", next_key())
                .bearer_auth(&operator)
                .json(&json!({"memo": "takeover", "postings": [
                    {"account": "a", "currency": "EUR", "amount": "1.00"},
                    {"account": "b", "currency": "EUR", "amount": "-1.00"}]}))
                .send()
                .unwrap()
        };
        let (mut writer_port, mut writer) = {
            let port = free_port();
            (port, spawn_server(&db, port))
        };
        let mut acknowledged = 0;
        let mut takeovers = Vec::new();
        for _ in 0..3 {
            let standby_port = free_port();
            let standby = spawn_server_until(&db, standby_port, "role: standby");
            assert!(
                role(writer_port).contains("role: writer"),
                "{}",
                role(writer_port)
            );
            assert!(
                role(standby_port).contains("role: standby"),
                "{}",
                role(standby_port)
            );
            let refused = journal(standby_port);
            assert_eq!(refused.status().as_u16(), 503);
            assert_eq!(refused.headers()["retry-after"], "1");
            let problem: Value = refused.json().unwrap();
            assert_eq!(problem["code"], "unavailable", "{problem}");
            assert_eq!(journal(writer_port).status().as_u16(), 201);
            acknowledged += 1;
            writer.kill().unwrap(); // SIGKILL
            writer.wait().unwrap();
            let killed = Instant::now();
            while !role(standby_port).contains("role: writer") {
                assert!(
                    killed.elapsed() < Duration::from_secs(5),
                    "no takeover within 5 s"
                );
                std::thread::sleep(Duration::from_millis(20));
            }
            takeovers.push(killed.elapsed());
            assert!(role(standby_port).contains("takeovers: 1"));
            assert_eq!(journal(standby_port).status().as_u16(), 201);
            acknowledged += 1;
            (writer_port, writer) = (standby_port, standby);
        }
        writer.kill().unwrap();
        writer.wait().unwrap();
        eprintln!("{backend}: takeovers after a SIGKILL took {takeovers:?}");
        let mut connection = db.connect();
        assert_eq!(
            scfledger::db::log::balance(&mut connection, "a", "EUR").unwrap(),
            acknowledged * 100,
            "every acknowledged entry is in the ledger, once"
        );
        for command in [&["verify"][..], &["replay"][..]] {
            let out = scfledger(&db, command);
            assert!(
                out.status.success(),
                "{command:?}: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
    }
}

/// Requests per API key (issue 18, point 5): past its burst a key is answered
/// 429 `rate_limited` with `Retry-After` and the RateLimit headers; another
/// key is not held back, and the key is served again once it waited.
#[test]
fn an_api_key_over_its_rate_is_told_when_to_retry() {
    let db = TestDb::new("sqlite");
    let clock = scfledger::services::clock::Clock::system();
    let (base, token) = spawn_app_with(
        &db,
        clock,
        Vec::new(),
        scfledger::api::rate::KeyRates::per_second(5),
    );
    let client = reqwest::blocking::Client::new();
    let get = |token: &str| {
        client
            .get(format!("{base}/api/v1/invoices"))
            .bearer_auth(token)
            .send()
            .unwrap()
    };
    // A burst of twice the rate is served, counting down.
    for left in (0..10).rev() {
        let answer = get(&token);
        assert_eq!(answer.status().as_u16(), 200);
        assert_eq!(answer.headers()["ratelimit-limit"], "5");
        assert_eq!(
            answer.headers()["ratelimit-remaining"],
            left.to_string().as_str()
        );
    }
    let refused = get(&token);
    assert_eq!(refused.status().as_u16(), 429);
    assert_eq!(refused.headers()["retry-after"], "1");
    assert_eq!(refused.headers()["ratelimit-remaining"], "0");
    let problem: serde_json::Value = refused.json().unwrap();
    assert_eq!(problem["code"], "rate_limited");
    assert_eq!(
        problem["detail"],
        "this API key may send 5 requests a second; retry in 1 s"
    );
    // Another key has its own limit.
    let other = scfledger::services::api_keys::create(
        &mut db.connect(),
        &scfledger::domain::PartyId::parse("op-treasury").unwrap(),
        scfledger::domain::Role::Operator,
        "another",
    )
    .unwrap()
    .token;
    let ring_reloads = std::time::Instant::now();
    loop {
        let answer = get(&other);
        if answer.status().as_u16() == 200 || ring_reloads.elapsed().as_secs() > 10 {
            assert_eq!(answer.status().as_u16(), 200);
            break;
        }
    }
    // A fifth of a second later, one more request fits.
    std::thread::sleep(std::time::Duration::from_millis(250));
    assert_eq!(get(&token).status().as_u16(), 200);
}
