//! Hostile input: every parser at the edge (UBL, CII, camt, JSON requests) is
//! fuzzed with a bounded proptest corpus (random bytes and mutated real
//! samples) and must answer with a value or an error, never a panic; and the
//! HTTP API answers oversized bodies, deep nesting, huge numbers, wrong
//! encodings and entity expansion with a clear 4xx problem.
//!
//! The number of cases per target is proptest's (256 by default; set
//! PROPTEST_CASES to run longer). No test here measures time.

mod common;

use std::path::PathBuf;

use chrono::NaiveDate;
use common::*;
use proptest::prelude::*;
use serde_json::{json, Value};

fn samples(folder: &str) -> Vec<Vec<u8>> {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/samples");
    let mut files: Vec<PathBuf> = std::fs::read_dir(root.join(folder))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    files
        .into_iter()
        .map(|f| std::fs::read(f).unwrap())
        .collect()
}

/// A change to a document: flip a byte, cut it, insert bytes, or repeat a slice.
#[derive(Debug, Clone)]
enum Mutation {
    Flip {
        at: usize,
        byte: u8,
    },
    Cut {
        at: usize,
    },
    Insert {
        at: usize,
        bytes: Vec<u8>,
    },
    Repeat {
        from: usize,
        len: usize,
        times: usize,
    },
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        (any::<usize>(), any::<u8>()).prop_map(|(at, byte)| Mutation::Flip { at, byte }),
        any::<usize>().prop_map(|at| Mutation::Cut { at }),
        (
            any::<usize>(),
            prop::collection::vec(
                prop_oneof![
                    Just(b'<'),
                    Just(b'>'),
                    Just(b'&'),
                    Just(b'"'),
                    Just(b'/'),
                    Just(0xC3),
                    Just(0xFF),
                    any::<u8>()
                ],
                1..16
            )
        )
            .prop_map(|(at, bytes)| Mutation::Insert { at, bytes }),
        (any::<usize>(), 1usize..64, 1usize..64).prop_map(|(from, len, times)| Mutation::Repeat {
            from,
            len,
            times
        }),
    ]
}

fn mutate(mut document: Vec<u8>, mutations: &[Mutation]) -> Vec<u8> {
    for m in mutations {
        if document.is_empty() {
            break;
        }
        let n = document.len();
        match m {
            Mutation::Flip { at, byte } => document[at % n] = *byte,
            Mutation::Cut { at } => document.truncate(at % n),
            Mutation::Insert { at, bytes } => {
                let at = at % n;
                document.splice(at..at, bytes.iter().copied());
            }
            Mutation::Repeat { from, len, times } => {
                let from = from % n;
                let slice = document[from..(from + len).min(n)].to_vec();
                let at = (from + len).min(n);
                let repeated: Vec<u8> = slice.repeat(*times);
                document.splice(at..at, repeated);
            }
        }
    }
    document
}

proptest! {
    #[test]
    fn e_invoices_never_panic_on_mutated_samples(
        pick in any::<prop::sample::Index>(),
        mutations in prop::collection::vec(mutation(), 1..6),
    ) {
        let mut documents = samples("ubl");
        documents.extend(samples("cii"));
        let document = mutate(pick.get(&documents).clone(), &mutations);
        let _ = scfledger::formats::einvoice::parse(&document);
    }

    #[test]
    fn bank_statements_never_panic_on_mutated_samples(
        pick in any::<prop::sample::Index>(),
        mutations in prop::collection::vec(mutation(), 1..6),
    ) {
        let document = mutate(pick.get(&samples("camt")).clone(), &mutations);
        if let Ok(statement) = scfledger::formats::camt::parse(&document) {
            // What parses also splits into ledger lines without a panic.
            let _ = scfledger::services::bank_line::lines_of(&statement);
        }
    }

    #[test]
    fn every_parser_refuses_random_bytes_without_panic(bytes in prop::collection::vec(any::<u8>(), 0..4096)) {
        prop_assert!(scfledger::formats::einvoice::parse(&bytes).is_err());
        prop_assert!(scfledger::formats::camt::parse(&bytes).is_err());
        let _ = serde_json::from_slice::<Value>(&bytes);
    }
}

/// JSON bodies built to break things: wrong types, huge and odd numbers, deep nesting.
fn hostile_json() -> impl Strategy<Value = String> {
    let leaf = prop_oneof![
        Just("null".to_string()),
        Just("1e400".to_string()),
        Just("-0".to_string()),
        Just("99999999999999999999999999999999".to_string()),
        Just("\"99999999999999999999999.99\"".to_string()),
        Just("\"1e3\"".to_string()),
        Just("\"-1.00\"".to_string()),
        Just("\"\\u0000\"".to_string()),
        Just("\"\u{202e}\"".to_string()),
        Just("true".to_string()),
        "[a-z0-9 .,-]{0,20}".prop_map(|s| format!("\"{s}\"")),
        any::<i64>().prop_map(|n| n.to_string()),
    ];
    let fields = prop::collection::vec(
        (
            prop_oneof![
                Just("program_id"),
                Just("invoice_number"),
                Just("issue_date"),
                Just("due_date"),
                Just("currency"),
                Just("amount"),
                Just("invoice_ids"),
                Just("retailer_id"),
                Just("value_date"),
                Just("memo"),
                Just("postings"),
                Just("x")
            ],
            leaf,
        ),
        0..8,
    );
    (fields, 0usize..3).prop_map(|(fields, depth)| {
        let object = fields
            .iter()
            .map(|(k, v)| format!("\"{k}\": {v}"))
            .collect::<Vec<_>>()
            .join(", ");
        format!("{}{{{object}}}{}", "[".repeat(depth), "]".repeat(depth))
    })
}

fn send(base: &str, token: &str, path: &str, content_type: &str, body: Vec<u8>) -> (u16, Value) {
    let response = reqwest::blocking::Client::new()
        .post(format!("{base}{path}"))
        .bearer_auth(token)
        .header("Idempotency-Key", format!("hostile-{}", rand_key()))
        .header("Content-Type", content_type)
        .body(body)
        .send()
        .unwrap();
    let status = response.status().as_u16();
    let text = response.text().unwrap();
    (
        status,
        serde_json::from_str(&text).unwrap_or(Value::String(text)),
    )
}

fn rand_key() -> u64 {
    static COUNTER: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    COUNTER.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
}

fn app() -> (TestDb, String, String) {
    let db = TestDb::new("sqlite");
    let (base, token) = spawn_app(
        &db,
        scfledger::services::clock::Clock::fixed_at(NaiveDate::from_ymd_opt(2026, 1, 1).unwrap()),
    );
    (db, base, token)
}

/// A 4xx with a problem document that names what is wrong.
fn assert_clear_4xx(path: &str, status: u16, body: &Value) {
    assert!((400..500).contains(&status), "{path}: {status} {body}");
    assert!(
        body["code"].is_string() && body["detail"].as_str().is_some_and(|d| !d.is_empty()),
        "{path}: a problem names the trouble: {body}"
    );
}

#[test]
fn fuzzed_json_requests_get_a_4xx_or_are_accepted_never_a_5xx() {
    let (_db, base, token) = app();
    let mut runner = proptest::test_runner::TestRunner::new(proptest::test_runner::Config {
        cases: 128,
        ..Default::default()
    });
    for path in [
        "/api/v1/invoices",
        "/api/v1/payments",
        "/api/v1/journal",
        "/api/v1/parties",
        "/api/v1/programs",
        "/api/v1/payout-batches",
    ] {
        runner
            .run(&hostile_json(), |body| {
                let (status, answer) =
                    send(&base, &token, path, "application/json", body.into_bytes());
                prop_assert!(status < 500, "{path}: {status} {answer}");
                if status >= 400 {
                    prop_assert!(answer["code"].is_string(), "{path}: {answer}");
                }
                Ok(())
            })
            .unwrap();
    }
}

#[test]
fn oversized_deep_huge_misencoded_and_entity_bodies_get_a_clear_4xx() {
    let (_db, base, token) = app();
    let json = "application/json";
    let xml = "application/xml";
    let einvoice = "/api/v1/invoices/einvoice?program_id=prog-x";
    let statement = "/api/v1/bank-statements";
    let ubl = samples("ubl").remove(0);
    let camt = samples("camt").remove(1);
    let utf16: Vec<u8> = [0xFF, 0xFE]
        .into_iter()
        .chain(
            String::from_utf8(camt.clone())
                .unwrap()
                .encode_utf16()
                .flat_map(u16::to_le_bytes),
        )
        .collect();
    let laughs = r#"<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;"><!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]><Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.08">&lol3;</Document>"#;
    let external = r#"<?xml version="1.0"?><!DOCTYPE x [<!ENTITY xxe SYSTEM "file:///etc/passwd">]><Invoice xmlns="urn:oasis:names:specification:ubl:schema:xsd:Invoice-2">&xxe;</Invoice>"#;
    let deep_xml = format!(
        "<Document xmlns=\"urn:iso:std:iso:20022:tech:xsd:camt.053.001.08\">{}{}</Document>",
        "<a>".repeat(100_000),
        "</a>".repeat(100_000)
    );
    let cases: Vec<(&str, &str, Vec<u8>, Option<u16>)> = vec![
        // Oversized: past each route's limit.
        ("/api/v1/invoices", json, vec![b' '; 300 * 1024], Some(413)),
        (einvoice, xml, vec![b' '; 5 * 1024 * 1024], Some(413)),
        (statement, xml, vec![b' '; 33 * 1024 * 1024], Some(413)),
        // Deep nesting.
        (
            "/api/v1/invoices",
            json,
            format!("{}{}", "[".repeat(100_000), "]".repeat(100_000)).into_bytes(),
            None,
        ),
        (statement, xml, deep_xml.clone().into_bytes(), Some(422)),
        (einvoice, xml, deep_xml.replace("urn:iso:std:iso:20022:tech:xsd:camt.053.001.08", "urn:oasis:names:specification:ubl:schema:xsd:Invoice-2").into_bytes(), None),
        // Huge numbers.
        (
            "/api/v1/invoices",
            json,
            json!({"program_id": "prog-x", "invoice_number": "1", "issue_date": "2026-01-01", "due_date": "2026-03-01", "currency": "EUR", "amount": "99999999999999999999999.99"}).to_string().into_bytes(),
            None,
        ),
        (
            "/api/v1/funders/fund-x/deposits",
            json,
            br#"{"currency": "EUR", "amount": 1e400}"#.to_vec(),
            None,
        ),
        (
            "/api/v1/programs",
            json,
            br#"{"program_id": "p", "tenor_min_days": 99999999999999999999999}"#.to_vec(),
            None,
        ),
        // Wrong encodings.
        (statement, xml, utf16, Some(422)),
        (einvoice, xml, ubl.iter().map(|b| if *b == b'e' { 0xE9 } else { *b }).collect(), None),
        ("/api/v1/journal", json, b"{\"memo\": \"caf\xe9\"}".to_vec(), None),
        // Entity expansion and external entities.
        (statement, xml, laughs.as_bytes().to_vec(), Some(422)),
        (einvoice, xml, external.as_bytes().to_vec(), None),
    ];
    for (path, content_type, body, expected) in cases {
        let size = body.len();
        let (status, answer) = send(&base, &token, path, content_type, body);
        assert_clear_4xx(&format!("{path} ({size} bytes)"), status, &answer);
        if let Some(expected) = expected {
            assert_eq!(status, expected, "{path}: {answer}");
        }
    }
    // The server is still there, and none of it reached the ledger.
    // The one entry is the operator's own party, registered before its key.
    let note = reqwest::blocking::get(format!("{base}/api/v1/log/checkpoint"))
        .unwrap()
        .text()
        .unwrap();
    assert_eq!(note.lines().nth(1), Some("1"), "{note}");
}
