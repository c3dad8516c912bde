//! A database failover under load (issue 15): the ledger on a PostgreSQL
//! primary with a synchronous streaming replica, reached through a libpq
//! multi-host URL. The replica is promoted and the primary stopped while
//! clients write; the ledger carries on against the new primary, with no
//! acknowledged entry lost, and verify and replay pass.
//!
//! The two clusters come from `.ci/failover-clusters`, which `.ci/run` runs
//! and which prints the `SCFLEDGER_TEST_FAILOVER` it describes them by. The
//! test uses them up (the primary ends stopped): run the script again before
//! running it again.

mod common;

use std::collections::BTreeSet;
use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

const BINARY: &str = env!("CARGO_BIN_EXE_scfledger");

/// `version:primary:port:replica:port`, as `.ci/failover-clusters` prints it.
struct Clusters {
    version: String,
    primary: String,
    primary_port: u16,
    replica: String,
    replica_port: u16,
}

fn clusters() -> Option<Clusters> {
    let Some(text) = std::env::var("SCFLEDGER_TEST_FAILOVER")
        .ok()
        .filter(|t| !t.is_empty())
    else {
        assert!(
            std::env::var("CI").map_or(true, |v| v != "true"),
            "CI=true but SCFLEDGER_TEST_FAILOVER is not set: run .ci/failover-clusters"
        );
        eprintln!("skipped: set SCFLEDGER_TEST_FAILOVER (see .ci/failover-clusters)");
        return None;
    };
    let parts: Vec<&str> = text.split(':').collect();
    assert_eq!(parts.len(), 5, "SCFLEDGER_TEST_FAILOVER={text}");
    Some(Clusters {
        version: parts[0].into(),
        primary: parts[1].into(),
        primary_port: parts[2].parse().unwrap(),
        replica: parts[3].into(),
        replica_port: parts[4].parse().unwrap(),
    })
}

fn pg_ctlcluster(clusters: &Clusters, name: &str, action: &[&str]) {
    let status = Command::new("pg_ctlcluster")
        .arg("--skip-systemctl-redirect")
        .args([&clusters.version, name])
        .args(action)
        .status()
        .unwrap();
    assert!(status.success(), "pg_ctlcluster {name} {action:?}");
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

struct Ledger {
    url: String,
    folder: tempfile::TempDir,
}

impl Ledger {
    fn run(&self, args: &[&str]) -> std::process::Output {
        Command::new(BINARY)
            .args(["--database", &self.url, "--key-file"])
            .arg(self.folder.path().join("ledger.key"))
            .args(args)
            .env("SCFLEDGER_LOG", "warn")
            .output()
            .unwrap()
    }

    fn serve(&self, port: u16) -> Child {
        let log = std::fs::File::create(self.folder.path().join("serve.log")).unwrap();
        let child = Command::new(BINARY)
            .args(["--database", &self.url, "--key-file"])
            .arg(self.folder.path().join("ledger.key"))
            .args(["serve", "--listen", &format!("127.0.0.1:{port}")])
            .env("SCFLEDGER_LOG", "info")
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .unwrap();
        let deadline = Instant::now() + Duration::from_secs(30);
        while reqwest::blocking::get(format!("http://127.0.0.1:{port}/readyz"))
            .map(|r| r.status() != 200)
            .unwrap_or(true)
        {
            assert!(Instant::now() < deadline, "the server did not become ready");
            std::thread::sleep(Duration::from_millis(50));
        }
        child
    }
}

#[test]
fn the_ledger_carries_on_when_the_database_fails_over() {
    let Some(clusters) = clusters() else {
        return;
    };
    let admin = format!(
        "postgres://postgres@127.0.0.1:{}/postgres",
        clusters.primary_port
    );
    let name = format!("scfledger_failover_{}", std::process::id());
    scfledger::db::scratch::create_postgres_database(&admin, &name).unwrap();
    let ledger = Ledger {
        url: format!(
            "postgres://postgres@127.0.0.1:{},127.0.0.1:{}/{name}?target_session_attrs=read-write",
            clusters.primary_port, clusters.replica_port
        ),
        folder: tempfile::tempdir().unwrap(),
    };
    assert!(ledger.run(&["init"]).status.success());
    let out = ledger.run(&[
        "apikey", "create", "--party", "op-test", "--role", "operator",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let operator = String::from_utf8(out.stdout).unwrap().trim().to_string();
    let port = free_port();
    let mut server = ledger.serve(port);

    // Two clients append journal entries, each until it has a receipt.
    let stop = Arc::new(AtomicBool::new(false));
    let acknowledged: Arc<Mutex<Vec<(String, Instant)>>> = Arc::default();
    let clients: Vec<_> = (0..2)
        .map(|client| {
            let (stop, acknowledged, operator) =
                (stop.clone(), acknowledged.clone(), operator.clone());
            std::thread::spawn(move || {
                let http = reqwest::blocking::Client::builder()
                    .timeout(Duration::from_secs(10))
                    .build()
                    .unwrap();
                for i in 0.. {
                    if stop.load(Ordering::Relaxed) {
                        return;
                    }
                    let memo = format!("failover-{client}-{i}");
                    let body = json!({"memo": memo, "postings": [
                        {"account": "a", "currency": "EUR", "amount": "1.00"},
                        {"account": "b", "currency": "EUR", "amount": "-1.00"}]});
                    let started = Instant::now();
                    loop {
                        let answer = http
                            .post(format!("http://127.0.0.1:{port}/api/v1/journal"))
                            .bearer_auth(&operator)
                            .header("Idempotency-Key", &memo)
                            .json(&body)
                            .send();
                        match answer {
                            Ok(r) if r.status() == 201 => break,
                            Ok(r) if r.status() == 503 => {}
                            Ok(r) => {
                                let status = r.status();
                                panic!("{memo}: {status} {}", r.text().unwrap_or_default())
                            }
                            Err(_) => {}
                        }
                        assert!(
                            started.elapsed() < Duration::from_secs(60),
                            "{memo}: no receipt in 60 s"
                        );
                        std::thread::sleep(Duration::from_millis(50));
                    }
                    acknowledged.lock().unwrap().push((memo, Instant::now()));
                }
            })
        })
        .collect();

    std::thread::sleep(Duration::from_millis(1_500));
    let before = acknowledged.lock().unwrap().len();
    // The failover: the replica becomes the primary, the old primary stops.
    pg_ctlcluster(&clusters, &clusters.replica, &["promote"]);
    pg_ctlcluster(&clusters, &clusters.primary, &["stop", "-m", "fast"]);
    let failed_over = Instant::now();
    let first_after = loop {
        let first = acknowledged
            .lock()
            .unwrap()
            .iter()
            .find(|(_, at)| *at > failed_over)
            .map(|(_, at)| *at);
        if let Some(at) = first {
            break at;
        }
        assert!(
            failed_over.elapsed() < Duration::from_secs(30),
            "no receipt 30 s after the failover"
        );
        std::thread::sleep(Duration::from_millis(10));
    };
    std::thread::sleep(Duration::from_millis(1_000));
    stop.store(true, Ordering::Relaxed);
    for client in clients {
        client.join().unwrap();
    }
    let readyz = reqwest::blocking::get(format!("http://127.0.0.1:{port}/readyz"))
        .unwrap()
        .text()
        .unwrap();
    server.kill().unwrap();
    server.wait().unwrap();
    let acknowledged: Vec<String> = acknowledged
        .lock()
        .unwrap()
        .iter()
        .map(|(m, _)| m.clone())
        .collect();
    let after = acknowledged.len() - before;
    eprintln!(
        "failover: {before} entries before, {after} after; first receipt {:?} after the primary stopped; {readyz:?}",
        first_after - failed_over
    );
    assert!(before > 10 && after > 10, "{before} before, {after} after");
    assert!(readyz.contains("role: writer"), "{readyz}");

    // On the new primary: every acknowledged entry, once, and nothing else.
    let mut connection = scfledger::db::DatabaseUrl::parse(&ledger.url)
        .unwrap()
        .connect()
        .unwrap();
    let count = scfledger::db::log::entry_count(&mut connection).unwrap();
    let memos: Vec<String> = scfledger::db::log::entries_from(&mut connection, 0, count)
        .unwrap()
        .iter()
        .filter_map(|row| {
            let entry: Value = serde_json::from_str(&row.canonical).unwrap();
            entry["body"]["memo"].as_str().map(String::from)
        })
        .collect();
    let stored: BTreeSet<&String> = memos.iter().collect();
    assert_eq!(stored.len(), memos.len(), "an entry was applied twice");
    let wanted: BTreeSet<&String> = acknowledged.iter().collect();
    assert_eq!(
        stored, wanted,
        "the log holds exactly the acknowledged entries"
    );
    for command in [&["verify"][..], &["replay"][..]] {
        let out = ledger.run(command);
        assert!(
            out.status.success(),
            "{command:?}: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
}
