//! Witnesses (issue 16): they cosign a growing log, refuse with evidence a
//! log rolled back, rewritten or forked, catch up through one consistency
//! proof, and a verifier can require N of M of their cosignatures.

mod common;

use std::path::Path;

use common::*;
use scfledger::ledger::cosignature::{cosigned_by, WitnessKey, WitnessVerifier};
use scfledger::ledger::note::Checkpoint;
use scfledger::services::clock::Clock;
use scfledger::witness::{Seen, Witness, WitnessError};
use serde_json::json;

fn clock() -> Clock {
    Clock::fixed_at(chrono::NaiveDate::from_ymd_opt(2026, 12, 1).unwrap())
}

fn journal(client: &Client, memo: &str) {
    let (status, body) = client.post(
        "/api/v1/journal",
        &json!({"memo": memo, "postings": [
            {"account": "a", "currency": "EUR", "amount": "1.00"},
            {"account": "b", "currency": "EUR", "amount": "-1.00"}]}),
    );
    assert_eq!(status, 201, "{body}");
}

fn witness(base: &str, key: &WitnessKey, state: &Path) -> Witness {
    let key = WitnessKey::parse_private(&key.private_text()).unwrap();
    Witness::new(base, test_key().verifier(), key, state).unwrap()
}

fn text(url: &str) -> (u16, String) {
    let answer = reqwest::blocking::get(url).unwrap();
    (answer.status().as_u16(), answer.text().unwrap())
}

#[test]
fn two_witnesses_cosign_a_growing_log_and_a_verifier_requires_both() {
    for backend in backends() {
        let db = TestDb::new(backend);
        let (alice, bob) = (
            WitnessKey::generate("funder.example/witness").unwrap(),
            WitnessKey::generate("auditor.example/witness").unwrap(),
        );
        let (base, operator) =
            spawn_app_witnessed(&db, clock(), vec![alice.verifier(), bob.verifier()]);
        let client = Client::new(&base, &operator);
        for n in 0..3 {
            journal(&client, &format!("first {n}"));
        }
        let folder = tempfile::tempdir().unwrap();
        let (a, b) = (
            witness(&base, &alice, &folder.path().join("alice.json")),
            witness(&base, &bob, &folder.path().join("bob.json")),
        );
        assert_eq!(a.step().unwrap(), Seen::Cosigned { size: 4 }, "{backend}");
        let (status, _) = text(&format!(
            "{base}/api/v1/log/checkpoint/cosigned?witnesses=2"
        ));
        assert_eq!(status, 404, "{backend}: one cosignature is not two");
        assert_eq!(b.step().unwrap(), Seen::Cosigned { size: 4 });
        assert_eq!(a.step().unwrap(), Seen::Unchanged { size: 4 });
        // The log grows; both follow it through a consistency proof.
        for n in 0..5 {
            journal(&client, &format!("then {n}"));
        }
        assert_eq!(a.step().unwrap(), Seen::Cosigned { size: 9 });
        assert_eq!(b.step().unwrap(), Seen::Cosigned { size: 9 });
        let (status, note) = text(&format!(
            "{base}/api/v1/log/checkpoint/cosigned?witnesses=2"
        ));
        assert_eq!(status, 200, "{note}");
        let verifier = test_key().verifier();
        let body = verifier.open(&note).unwrap();
        assert_eq!(Checkpoint::parse(body).unwrap().size, 9);
        let both = [alice.verifier(), bob.verifier()];
        assert_eq!(cosigned_by(&note, body, &both).len(), 2, "{note}");
        // A receipt of the first entry, upgraded to the cosigned checkpoint.
        let (_, proof) = client.get("/api/v1/log/proof/inclusion?seq=1&tree_size=9");
        let upgraded = proof["checkpoint"].as_str().unwrap();
        assert_eq!(cosigned_by(upgraded, body, &both).len(), 2, "{upgraded}");

        // The ledger keeps only valid cosignatures of its own witnesses.
        let carol = WitnessKey::generate("stranger.example/witness").unwrap();
        let post = |line: String| {
            client.post(
                "/api/v1/log/cosignatures",
                &json!({"tree_size": 9, "cosignature": line}),
            )
        };
        assert_eq!(post(carol.cosign(body, 1_800_000_000)).0, 403);
        let (status, refused) = post(alice.cosign(&body.replace('9', "8"), 1_800_000_000));
        assert_eq!(
            (status, refused["code"].as_str()),
            (422, Some("bad_signature")),
            "{refused}"
        );
        let (status, refused) = client.post(
            "/api/v1/log/cosignatures",
            &json!({"tree_size": 1000, "cosignature": alice.cosign(body, 1)}),
        );
        assert_eq!(status, 404, "{refused}");

        // An export verifies with N of M witnesses required.
        let out = db.folder.path().join("log.jsonl");
        scfledger::services::export::export(&mut db.connect(), &out).unwrap();
        std::fs::write(out.with_extension("jsonl.checkpoint"), &note).unwrap();
        let key_file = db.folder.path().join("ledger.pub");
        std::fs::write(&key_file, verifier.to_text()).unwrap();
        let mut witness_files = Vec::new();
        for (name, key) in [
            ("alice", alice.verifier()),
            ("bob", bob.verifier()),
            ("carol", carol.verifier()),
        ] {
            let path = db.folder.path().join(format!("{name}.vkey"));
            std::fs::write(&path, key.to_text()).unwrap();
            witness_files.push(path);
        }
        let verify = |quorum: &str| {
            let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_scfledger"));
            command
                .args(["verify", "--export"])
                .arg(&out)
                .arg("--checkpoint")
                .arg(out.with_extension("jsonl.checkpoint"))
                .arg("--key")
                .arg(&key_file)
                .args(["--quorum", quorum]);
            for path in &witness_files {
                command.arg("--witness").arg(path);
            }
            command.output().unwrap()
        };
        let passed = verify("2");
        assert!(
            passed.status.success(),
            "{}",
            String::from_utf8_lossy(&passed.stderr)
        );
        let failed = verify("3");
        assert!(!failed.status.success());
        let said = String::from_utf8_lossy(&failed.stderr);
        assert!(
            said.contains("2 of the 3 witnesses cosigned it") && said.contains("3 are required"),
            "{said}"
        );
        let _ = WitnessVerifier::parse(&alice.verifier().to_text()).unwrap();
    }
}

/// Ledgers signed by the same key but holding different histories: the one
/// a witness followed, one rolled back, one with another history at the
/// same size, and one that grew from another history.
#[test]
fn a_rolled_back_rewritten_or_forked_log_is_refused_with_evidence() {
    let ledger = |memos: &[&str]| {
        let db = TestDb::new("sqlite");
        let (base, operator) = spawn_app(&db, clock());
        let client = Client::new(&base, &operator);
        for memo in memos {
            journal(&client, memo);
        }
        (db, base)
    };
    let honest: Vec<String> = (0..10).map(|n| format!("honest {n}")).collect();
    let honest: Vec<&str> = honest.iter().map(String::as_str).collect();
    let (_db1, followed) = ledger(&honest);
    let (_db2, rolled_back) = ledger(&honest[..5]);
    let forged: Vec<String> = (0..10).map(|n| format!("forged {n}")).collect();
    let forged: Vec<&str> = forged.iter().map(String::as_str).collect();
    let (_db3, forked) = ledger(&forged);
    let mut longer = forged.clone();
    longer.extend(["forged 10", "forged 11", "forged 12"]);
    let (_db4, regrown) = ledger(&longer);

    let folder = tempfile::tempdir().unwrap();
    let key = WitnessKey::generate("funder.example/witness").unwrap();
    let state = folder.path().join("state.json");
    assert_eq!(
        witness(&followed, &key, &state).step().unwrap(),
        Seen::Cosigned { size: 11 }
    );
    let cosigned = std::fs::read_to_string(&state).unwrap();
    for (offered, reason) in [
        (
            &rolled_back,
            "smaller than the 11 entries this witness cosigned",
        ),
        (&forked, "two different trees of 11 entries"),
        (
            &regrown,
            "the tree of 14 entries does not extend the tree of 11",
        ),
    ] {
        match witness(offered, &key, &state).step() {
            Err(WitnessError::Refused { evidence, path }) => {
                assert!(evidence.reason.contains(reason), "{}", evidence.reason);
                let kept = std::fs::read_to_string(&path).unwrap();
                // Both signed checkpoints, as received: they verify, and differ.
                let (_, offered_note) = text(&format!("{offered}/api/v1/log/checkpoint"));
                assert!(
                    kept.contains(&offered_note) && kept.contains(&evidence.cosigned),
                    "{kept}"
                );
                assert_ne!(evidence.cosigned, evidence.offered);
                for note in [&evidence.cosigned, &evidence.offered] {
                    Checkpoint::open_signed(note, &test_key().verifier()).unwrap();
                }
            }
            other => panic!("{offered}: expected a refusal for {reason}, got {other:?}"),
        }
        // The witness's state is untouched: it still follows the honest log.
        assert_eq!(std::fs::read_to_string(&state).unwrap(), cosigned);
    }
    // A fork served to two witnesses: each cosigns its own view, and no
    // checkpoint carries both, so a verifier requiring both finds none; the
    // first witness shown the other view refuses it.
    let other = WitnessKey::generate("auditor.example/witness").unwrap();
    let other_state = folder.path().join("other.json");
    assert_eq!(
        witness(&forked, &other, &other_state).step().unwrap(),
        Seen::Cosigned { size: 11 }
    );
    let views = [
        std::fs::read_to_string(&state).unwrap(),
        std::fs::read_to_string(&other_state).unwrap(),
    ];
    assert_ne!(views[0], views[1]);
    assert!(matches!(
        witness(&followed, &other, &other_state).step(),
        Err(WitnessError::Refused { .. })
    ));
}

#[test]
fn a_stale_witness_catches_up_through_one_consistency_proof() {
    let db = TestDb::new("sqlite");
    let key = WitnessKey::generate("funder.example/witness").unwrap();
    let (base, operator) = spawn_app_witnessed(&db, clock(), vec![key.verifier()]);
    let client = Client::new(&base, &operator);
    journal(&client, "early");
    let folder = tempfile::tempdir().unwrap();
    let state = folder.path().join("state.json");
    assert_eq!(
        witness(&base, &key, &state).step().unwrap(),
        Seen::Cosigned { size: 2 }
    );
    // Forty checkpoints later, one step: one proof from 2 to 42.
    for n in 0..40 {
        journal(&client, &format!("later {n}"));
    }
    assert_eq!(
        witness(&base, &key, &state).step().unwrap(),
        Seen::Cosigned { size: 42 }
    );
    let (status, note) = text(&format!("{base}/api/v1/log/checkpoint/cosigned"));
    assert_eq!(status, 200);
    let body = test_key().verifier().open(&note).unwrap().to_string();
    assert_eq!(Checkpoint::parse(&body).unwrap().size, 42);
    assert_eq!(cosigned_by(&note, &body, &[key.verifier()]).len(), 1);
}

/// The monitor follows the whole log with its own tree and balances, and
/// alerts on an entry rewritten, an unbalanced posting, and a gap.
#[test]
fn the_monitor_checks_every_entry_and_alerts_on_a_rewrite_an_imbalance_and_a_gap() {
    use scfledger::witness::monitor::{Monitor, MonitorError};
    for backend in backends() {
        let db = TestDb::new(backend);
        let (base, operator) = spawn_app(&db, clock());
        let client = Client::new(&base, &operator);
        for n in 0..6 {
            journal(&client, &format!("watched {n}"));
        }
        let folder = tempfile::tempdir().unwrap();
        let monitor = |name: &str| {
            Monitor::new(
                &base,
                test_key().verifier(),
                &operator,
                &folder.path().join(name),
                None,
            )
            .unwrap()
        };
        let watching = monitor("watching.json");
        assert_eq!(watching.step().unwrap(), 7, "{backend}");
        journal(&client, "watched 6");
        assert_eq!(watching.step().unwrap(), 8);
        assert_eq!(
            watching.balances_of("a").unwrap(),
            vec![("EUR".to_string(), 700)]
        );
        assert_eq!(
            watching.balances_of("b").unwrap(),
            vec![("EUR".to_string(), -700)]
        );

        let alert_of = |name: &str| match monitor(name).step() {
            Err(MonitorError::Alert(alert)) => alert,
            other => panic!("{backend}: expected an alert, got {other:?}"),
        };
        db.drop_append_only_triggers();
        let edit = |sql: &str| scfledger::db::execute_raw(&mut db.connect(), sql).unwrap();
        // A memo rewritten in place: the entries no longer hash to the signed root.
        edit("UPDATE log_entries SET canonical = replace(canonical, 'watched 2', 'watched X') WHERE seq = 3");
        let alert = alert_of("fresh-1.json");
        assert_eq!(alert.kind, "rewrite", "{alert:?}");
        assert!(
            alert.detail.contains("do not hash to the signed root"),
            "{alert:?}"
        );
        // An amount changed on one side only.
        edit("UPDATE log_entries SET canonical = replace(canonical, '\"-1.00\"', '\"-1.01\"') WHERE seq = 4");
        let alert = alert_of("fresh-2.json");
        assert_eq!(alert.kind, "unbalanced", "{alert:?}");
        assert!(alert.detail.contains("entry 4"), "{alert:?}");
        // An entry removed.
        edit("DELETE FROM postings WHERE seq = 2; DELETE FROM entry_parties WHERE seq = 2; DELETE FROM log_entries WHERE seq = 2");
        let alert = alert_of("fresh-3.json");
        assert_eq!(alert.kind, "gap", "{alert:?}");
        assert!(alert.detail.contains("expected entry 2"), "{alert:?}");
    }
}
