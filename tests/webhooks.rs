//! Webhooks: queued in the entry's transaction, signed with the ledger key,
//! retried with backoff after a failure, logged; on every backend.

mod common;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::sync::{Arc, Mutex};

use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine as _;
use chrono::{Duration, NaiveDate, Utc};
use common::*;
use serde_json::json;

/// One request as received: lower-cased headers and the body.
type Received = (std::collections::HashMap<String, String>, Vec<u8>);

/// A receiver on loopback that answers the given statuses in turn and records what it got.
struct Receiver {
    url: String,
    received: Arc<Mutex<Vec<Received>>>,
}

fn receiver(statuses: Vec<u16>) -> Receiver {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    let received = Arc::new(Mutex::new(Vec::new()));
    let store = received.clone();
    std::thread::spawn(move || {
        for (stream, status) in listener.incoming().zip(statuses) {
            let mut stream = stream.unwrap();
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut headers = std::collections::HashMap::new();
            let mut line = String::new();
            reader.read_line(&mut line).unwrap();
            loop {
                line.clear();
                reader.read_line(&mut line).unwrap();
                if line == "\r\n" || line.is_empty() {
                    break;
                }
                let (name, value) = line.split_once(':').unwrap();
                headers.insert(name.trim().to_ascii_lowercase(), value.trim().to_string());
            }
            let length: usize = headers
                .get("content-length")
                .map_or(0, |v| v.parse().unwrap());
            let mut body = vec![0; length];
            reader.read_exact(&mut body).unwrap();
            store.lock().unwrap().push((headers, body));
            write!(
                stream,
                "HTTP/1.1 {status} X\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
            )
            .unwrap();
        }
    });
    Receiver { url, received }
}

#[test]
fn entries_are_delivered_signed_and_retried_with_backoff() {
    // The receiver runs on loopback, which production refuses.
    std::env::set_var("SCFLEDGER_WEBHOOK_ALLOW_PRIVATE", "true");
    for backend in backends() {
        let db = TestDb::new(backend);
        let (base, token) = spawn_app(
            &db,
            scfledger::services::clock::Clock::fixed_at(
                NaiveDate::from_ymd_opt(2026, 1, 1).unwrap(),
            ),
        );
        let operator = Client::new(&base, &token);
        for (id, role, tax) in [
            ("ret-h", "retailer", None),
            ("fund-n", "funder", None),
            ("sup-a", "supplier", Some("DE1")),
            ("sup-b", "supplier", Some("DE2")),
        ] {
            assert_eq!(
                operator
                    .post(
                        "/api/v1/parties",
                        &json!({"party_id": id, "role": role, "name": id, "tax_id": tax})
                    )
                    .0,
                201
            );
        }
        let program = json!({"program_id": "prog-h", "retailer_id": "ret-h", "funder_id": "fund-n", "currency": "EUR", "advance_rate": "0.9",
            "discount_rate": "0.1", "day_count": "ACT/360", "tenor_min_days": 1, "tenor_max_days": 120, "grace_days": 0, "late_rate": "0.1",
            "default_days": 10, "recourse": true, "program_limit": "1000.00", "retailer_limit": "1000.00", "supplier_limit_fixed": "1000.00"});
        assert_eq!(operator.post("/api/v1/programs", &program).0, 201);
        enrol(&operator, "prog-h", "sup-a");
        let key_for = |party: &str, role: &str| {
            operator
                .post(
                    "/api/v1/api-keys",
                    &json!({"party_id": party, "role": role}),
                )
                .1["token"]
                .as_str()
                .unwrap()
                .to_string()
        };
        let supplier = Client::new(&base, &key_for("sup-a", "supplier"));
        let other = Client::new(&base, &key_for("sup-b", "supplier"));
        let hook = receiver(vec![500, 200]);
        let (status, subscription) = supplier.post("/api/v1/webhooks", &json!({"url": hook.url}));
        assert_eq!(status, 201, "{backend}: {subscription}");
        let subscription_id = subscription["subscription_id"]
            .as_str()
            .unwrap()
            .to_string();
        assert_eq!(
            other.post("/api/v1/webhooks", &json!({"url": "ftp://x"})).1["field"],
            "url"
        );
        let (_, other_sub) = other.post(
            "/api/v1/webhooks",
            &json!({"url": "http://127.0.0.1:9/never"}),
        );
        let (status, registered) = supplier.post("/api/v1/invoices", &json!({"program_id": "prog-h", "invoice_number": "W-1",
            "issue_date": "2026-01-01", "due_date": "2026-02-01", "currency": "EUR", "amount": "100.00"}));
        assert_eq!(status, 201, "{registered}");
        let seq = registered["receipt"]["seq"].as_i64().unwrap();

        // The outbox row was written with the entry; the worker sends it.
        let mut connection = db.connect();
        let client = scfledger::services::webhooks::client();
        let now = Utc::now().naive_utc() + Duration::seconds(1);
        assert_eq!(
            scfledger::services::webhooks::deliver_due(&mut connection, &test_key(), &client, now)
                .unwrap(),
            1,
            "{backend}: only sup-a's entry, not sup-b's"
        );
        let log = supplier
            .get(&format!("/api/v1/webhooks/{subscription_id}/deliveries"))
            .1["data"]
            .clone();
        assert_eq!(
            (log[0]["status"].as_str(), log[0]["attempts"].as_i64()),
            (Some("pending"), Some(1)),
            "{backend}: {log}"
        );
        assert_eq!(log[0]["log"][0]["status_code"], 500);
        // Not due again before the 2-second backoff.
        assert_eq!(
            scfledger::services::webhooks::deliver_due(
                &mut connection,
                &test_key(),
                &client,
                now + Duration::seconds(1)
            )
            .unwrap(),
            0
        );
        assert_eq!(
            scfledger::services::webhooks::deliver_due(
                &mut connection,
                &test_key(),
                &client,
                now + Duration::seconds(2)
            )
            .unwrap(),
            1
        );
        let log = supplier
            .get(&format!("/api/v1/webhooks/{subscription_id}/deliveries"))
            .1["data"]
            .clone();
        assert_eq!(
            (
                log[0]["status"].as_str(),
                log[0]["attempts"].as_i64(),
                log[0]["seq"].as_i64()
            ),
            (Some("delivered"), Some(2), Some(seq)),
            "{backend}"
        );
        assert_eq!(log[0]["log"][1]["status_code"], 200);

        // What arrived: the entry's canonical bytes, signed with the ledger key.
        let received = hook.received.lock().unwrap().clone();
        assert_eq!(received.len(), 2);
        let (headers, body) = &received[1];
        let entry: serde_json::Value = serde_json::from_slice(body).unwrap();
        assert_eq!(
            (entry["seq"].as_i64(), entry["kind"].as_str()),
            (Some(seq), Some("invoice.registered"))
        );
        let delivery_id = &headers["scfledger-delivery"];
        assert_eq!(delivery_id, &format!("{seq}-{subscription_id}"));
        assert_eq!(
            headers["scfledger-key-id"],
            hex::encode(test_key().key_id())
        );
        let signature = ed25519_dalek::Signature::from_slice(
            &BASE64.decode(&headers["scfledger-signature"]).unwrap(),
        )
        .unwrap();
        let verifier = test_key().verifier();
        verifier
            .public_key()
            .verify_strict(
                &scfledger::services::webhooks::signing_bytes(delivery_id, body),
                &signature,
            )
            .unwrap();
        assert!(verifier
            .public_key()
            .verify_strict(
                &scfledger::services::webhooks::signing_bytes("other", body),
                &signature
            )
            .is_err());

        // Another party cannot read this subscription's log; unsubscribing stops deliveries.
        assert_eq!(
            other
                .get(&format!("/api/v1/webhooks/{subscription_id}/deliveries"))
                .0,
            404
        );
        assert_eq!(
            other
                .delete(&format!("/api/v1/webhooks/{subscription_id}"))
                .0,
            404
        );
        assert_eq!(
            supplier
                .delete(&format!("/api/v1/webhooks/{subscription_id}"))
                .0,
            204
        );
        assert_eq!(other_sub["active"], true);
        assert_eq!(
            scfledger::services::webhooks::backoff_seconds(30),
            3_600,
            "the backoff is bounded"
        );
    }
}
