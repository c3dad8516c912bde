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

fn spawn_server(db: &TestDb, port: u16) -> Child {
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
    while client
        .get(format!("http://127.0.0.1:{port}/readyz"))
        .send()
        .map(|r| r.status() != 200)
        .unwrap_or(true)
    {
        assert!(Instant::now() < deadline, "server did not become ready");
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
        let operator = operator_key(&db);
        let supplier_out = scfledger(
            &db,
            &[
                "apikey", "create", "--party", "sup-acme", "--role", "supplier",
            ],
        );
        let supplier = String::from_utf8(supplier_out.stdout)
            .unwrap()
            .trim()
            .to_string();
        let port = free_port();
        let mut server = spawn_server(&db, port);
        let base = format!("http://127.0.0.1:{port}");
        let client = reqwest::blocking::Client::new();

        assert_eq!(
            client
                .get(format!("{base}/healthz"))
                .send()
                .unwrap()
                .text()
                .unwrap(),
            "ok\n"
        );
        assert_eq!(
            client
                .get(format!("{base}/api/v1/log/checkpoint"))
                .send()
                .unwrap()
                .status(),
            404
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
        assert_eq!(last["seq"], 2);
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
            2,
            3,
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
            note.starts_with("scfledger.test/http\n3\n"),
            "{backend}: {note}"
        );

        let page: Value = client
            .get(format!("{base}/api/v1/log/entries?from=1&limit=1"))
            .bearer_auth(&operator)
            .send()
            .unwrap()
            .json()
            .unwrap();
        assert_eq!(page["entries"][0]["seq"], 1);
        assert_eq!(page["entries"][0]["postings"][0]["amount"], "1000.00");
        assert_eq!(page["next_from"], 2);

        let inclusion: Value = client
            .get(format!(
                "{base}/api/v1/log/proof/inclusion?seq=0&tree_size=2"
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
            0,
            2,
            &proof,
            &at_two.root,
        )
        .unwrap();

        let consistency: Value = client
            .get(format!(
                "{base}/api/v1/log/proof/consistency?first=2&second=3"
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
        scfledger::ledger::merkle::verify_consistency(2, 3, &proof, &at_two.root, &checkpoint.root)
            .unwrap();

        // Bad input: problem+json with a stable code, nothing written.
        let cases: Vec<(reqwest::blocking::RequestBuilder, u16, &str)> = vec![
            (client.get(format!("{base}/api/v1/log/entries?limit=1001")).bearer_auth(&operator), 400, "bad_request"),
            (client.get(format!("{base}/api/v1/log/entries?from=-1")).bearer_auth(&operator), 400, "bad_query"),
            (client.get(format!("{base}/api/v1/log/proof/inclusion?seq=3")), 404, "not_found"),
            (client.get(format!("{base}/api/v1/log/proof/inclusion?seq=0&tree_size=5")), 404, "not_found"),
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
            page["tree_size"], 3,
            "{backend}: refused requests wrote nothing"
        );
        let html = client
            .get(format!("{base}/ledger"))
            .send()
            .unwrap()
            .text()
            .unwrap();
        assert!(html.contains("3 entries."), "{backend}");
        server.kill().unwrap();
        server.wait().unwrap();
    }
}

#[test]
fn sigkill_while_appending_loses_no_acknowledged_entry() {
    for backend in backends() {
        let db = TestDb::new(backend);
        assert!(scfledger(&db, &["init"]).status.success());
        let operator = operator_key(&db);
        let mut acknowledged: Vec<(u64, String)> = Vec::new();
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
            let mut writers = Vec::new();
            for client_number in 0..4 {
                let (base, operator) = (base.clone(), operator.clone());
                writers.push(std::thread::spawn(move || {
                    let client = reqwest::blocking::Client::builder().timeout(Duration::from_secs(5)).build().unwrap();
                    let mut mine = Vec::new();
                    for i in 0.. {
                        let memo = format!("cycle {cycle} client {client_number} entry {i}");
                        let body = json!({"memo": memo, "postings": [
                            {"account": "a", "currency": "EUR", "amount": "1.00"}, {"account": "b", "currency": "EUR", "amount": "-1.00"}]});
                        match client.post(format!("{base}/api/v1/journal")).header("Idempotency-Key", next_key()).bearer_auth(&operator).json(&body).send() {
                            Ok(response) if response.status() == 201 => {
                                let receipt: Value = response.json().unwrap();
                                mine.push((receipt["receipt"]["seq"].as_u64().unwrap(), memo));
                            }
                            _ => break,
                        }
                    }
                    mine
                }));
            }
            killer.join().unwrap();
            for writer in writers {
                acknowledged.extend(writer.join().unwrap());
            }
        }
        assert!(
            acknowledged.len() > 10,
            "{backend}: only {} appends were acknowledged",
            acknowledged.len()
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
        for (seq, memo) in &acknowledged {
            let row =
                &scfledger::db::log::entries_from(&mut connection, *seq as i64, 1).unwrap()[0];
            assert!(
                row.canonical.contains(&format!("\"memo\":\"{memo}\"")),
                "{backend}: seq {seq} should hold {memo}"
            );
        }
        // Everything stored is acknowledged or was in flight at the kill: never more than the clients.
        assert!(
            count >= acknowledged.len() as u64
                && count <= acknowledged.len() as u64 + 4 * KILL_CYCLES,
            "{backend}: {count} stored"
        );
        assert_eq!(
            scfledger::db::log::balance(&mut connection, "a", "EUR").unwrap(),
            count as i64 * 100,
            "{backend}: the balance equals the entries stored"
        );
    }
}
