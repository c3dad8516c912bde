//! `scfledger bench verify` and `scfledger bench replay`: what an auditor runs.
//!
//! - verify: an export of 1,000,000 entries, one in ten a retailer's signed
//!   confirmation, checked on every core with batched signature checks,
//!   beside one core checking each signature alone (the baseline) in the same run;
//! - replay: 1,000,000 financing entries (each invoice registered,
//!   confirmed, financed and paid) appended through the sequencer, then
//!   `scfledger replay` run as a child process, which reports its time and its
//!   peak resident memory; the baseline is `scfledger verify` on the same
//!   database in the same run.

use std::fmt;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::time::Instant;

use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine as _;
use chrono::{DateTime, Duration, Utc};
use ed25519_dalek::Signer;
use serde_json::json;

use super::fixture::Fixture;
use super::{joined, median};
use crate::ledger::entry::{entry_leaf_hash, request_signing_bytes, ActorSignature, EntryDraft};
use crate::ledger::merkle::Frontier;
use crate::ledger::note::{Checkpoint, LedgerKey, NoteVerifier};
use crate::ledger::verify::{verify_export_with, VerifyOptions};
use crate::services::journal::{JournalEntry, PostingText};

/// The journal entry the generated ledgers repeat.
fn bank_charges() -> anyhow::Result<JournalEntry> {
    Ok(JournalEntry::parse(
        "Bank charges for the day",
        &[
            PostingText {
                account: "expense:bank-fees",
                currency: "EUR",
                amount: "12.50",
            },
            PostingText {
                account: "bank:main",
                currency: "EUR",
                amount: "-12.50",
            },
        ],
    )?)
}

/// Retailers with request keys in the generated export.
const RETAILERS: usize = 16;

/// Writes an export of `entries` entries: the retailers' registrations, then
/// one signed `invoice.confirmed` in every `signed_every`, journal entries
/// otherwise; and its checkpoint. Returns the export's path and the verifier.
pub fn write_export(
    folder: &Path,
    entries: u64,
    signed_every: u64,
) -> anyhow::Result<(PathBuf, String, NoteVerifier)> {
    let key = LedgerKey::generate("bench.scfledger.local/ledger")?;
    let path = folder.join("export.jsonl");
    let mut out = BufWriter::with_capacity(1 << 20, std::fs::File::create(&path)?);
    let mut retailers = Vec::with_capacity(RETAILERS);
    for n in 0..RETAILERS {
        let mut secret = [0u8; 32];
        getrandom::fill(&mut secret).map_err(|e| anyhow::anyhow!("random: {e}"))?;
        let signing = ed25519_dalek::SigningKey::from_bytes(&secret);
        let public = signing.verifying_key().to_bytes();
        let key_id = crate::services::party::request_key_id(&public);
        retailers.push((format!("ret-{n}"), key_id, BASE64.encode(public), signing));
    }
    let journal = bank_charges()?;
    let operator = crate::domain::PartyId::parse("op-treasury").map_err(anyhow::Error::msg)?;
    let start: DateTime<Utc> = DateTime::parse_from_rfc3339("2026-11-02T08:00:00Z")?.into();
    let mut frontier = Frontier::default();
    for seq in 0..entries {
        let n = seq as usize;
        let draft = if n < RETAILERS {
            let (party, key_id, public, _) = &retailers[n];
            EntryDraft {
                kind: "party.registered".into(),
                actor: operator.to_string(),
                body: json!({"party_id": party, "role": "retailer", "name": party, "public_key": public, "key_id": key_id})
                    .as_object()
                    .cloned()
                    .unwrap_or_default(),
                postings: vec![],
                actor_sig: None,
            }
        } else if seq % signed_every == 0 {
            let (party, key_id, _, signing) = &retailers[n % RETAILERS];
            let invoice_id = format!("inv-{seq}");
            let message =
                request_signing_bytes("invoice.confirmed", &json!({ "invoice_id": invoice_id }));
            EntryDraft {
                kind: "invoice.confirmed".into(),
                actor: party.clone(),
                body: json!({"invoice_id": invoice_id, "creditor_reference": crate::domain::creditor_reference::creditor_reference(&format!("SCF{seq}"))?})
                    .as_object()
                    .cloned()
                    .unwrap_or_default(),
                postings: vec![],
                actor_sig: Some(ActorSignature {
                    key_id: key_id.clone(),
                    signature: BASE64.encode(signing.sign(&message).to_bytes()),
                }),
            }
        } else {
            journal.draft(&operator)
        };
        let entry = draft.into_entry(seq, start + Duration::microseconds(seq as i64 * 250));
        let bytes = entry.canonical_bytes()?;
        frontier.append(entry_leaf_hash(&bytes), |_| {});
        out.write_all(&bytes)?;
        out.write_all(b"\n")?;
    }
    out.flush()?;
    let checkpoint = Checkpoint {
        origin: key.name().to_string(),
        size: frontier.size(),
        root: frontier.root(),
    };
    let note = key.sign_note(&checkpoint.to_text())?;
    Ok((path, note, key.verifier()))
}

pub struct VerifyBenchReport {
    pub entries: u64,
    pub signatures: u64,
    pub bytes: u64,
    pub threads: usize,
    pub fast: Vec<f64>,
    pub plain: Vec<f64>,
}

impl fmt::Display for VerifyBenchReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "verify an export of {} entries ({:.0} MiB, {} actor signatures, 1 checkpoint)",
            self.entries,
            self.bytes as f64 / 1_048_576.0,
            self.signatures
        )?;
        writeln!(f)?;
        writeln!(f, "| way | seconds (median) | runs | entries/s |")?;
        writeln!(f, "|---|---|---|---|")?;
        for (way, runs) in [
            (
                format!("{} threads, batched signatures", self.threads),
                &self.fast,
            ),
            (
                "baseline: 1 thread, one signature at a time".to_string(),
                &self.plain,
            ),
        ] {
            let seconds = median(runs);
            writeln!(
                f,
                "| {way} | {seconds:.2} | {} | {:.0} |",
                joined(runs, 2),
                self.entries as f64 / seconds
            )?;
        }
        Ok(())
    }
}

pub fn verify(runs: usize, entries: u64) -> anyhow::Result<VerifyBenchReport> {
    let folder = tempfile::tempdir()?;
    let started = Instant::now();
    let (path, note, verifier) = write_export(folder.path(), entries, 10)?;
    eprintln!(
        "wrote {entries} entries in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    let options = VerifyOptions::default();
    let (mut fast, mut plain, mut signatures) = (Vec::new(), Vec::new(), 0);
    for run in 0..runs.max(1) {
        for (way, times) in [(options, &mut fast), (VerifyOptions::plain(), &mut plain)] {
            let file = std::io::BufReader::with_capacity(1 << 20, std::fs::File::open(&path)?);
            let began = Instant::now();
            let report = verify_export_with(file, &note, &verifier, way)?;
            times.push(began.elapsed().as_secs_f64());
            signatures = report.actor_signatures;
            anyhow::ensure!(
                report.entries == entries,
                "verified {} entries",
                report.entries
            );
        }
        eprintln!(
            "run {}: {:.2} s on {} threads batched, {:.2} s plain",
            run + 1,
            fast[run],
            options.threads,
            plain[run]
        );
    }
    Ok(VerifyBenchReport {
        entries,
        signatures,
        bytes: std::fs::metadata(&path)?.len(),
        threads: options.threads,
        fast,
        plain,
    })
}

pub struct ReplayBenchReport {
    pub entries: u64,
    pub replay_seconds: Vec<f64>,
    pub replay_peak_mib: Vec<f64>,
    pub verify_seconds: Vec<f64>,
    pub verify_peak_mib: Vec<f64>,
}

impl fmt::Display for ReplayBenchReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "replay of {} entries from SQLite (`scfledger replay` as a child process)",
            self.entries
        )?;
        writeln!(f)?;
        writeln!(
            f,
            "| command | seconds (median) | runs | peak RSS MiB (median) | runs |"
        )?;
        writeln!(f, "|---|---|---|---|---|")?;
        for (command, seconds, peak) in [
            ("replay", &self.replay_seconds, &self.replay_peak_mib),
            (
                "baseline: verify (same database)",
                &self.verify_seconds,
                &self.verify_peak_mib,
            ),
        ] {
            writeln!(
                f,
                "| {command} | {:.2} | {} | {:.0} | {} |",
                median(seconds),
                joined(seconds, 2),
                median(peak),
                joined(peak, 0)
            )?;
        }
        Ok(())
    }
}

/// Runs this binary with `arguments`; returns its seconds and the peak
/// memory it printed ("peak memory N MiB"), or else none.
fn child(arguments: &[&str]) -> anyhow::Result<(f64, Option<f64>)> {
    let began = Instant::now();
    let output = std::process::Command::new(std::env::current_exe()?)
        .args(arguments)
        .output()?;
    let seconds = began.elapsed().as_secs_f64();
    let text = String::from_utf8_lossy(&output.stdout).to_string();
    anyhow::ensure!(
        output.status.success(),
        "{arguments:?} failed: {text} {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let peak = text
        .split("peak memory ")
        .nth(1)
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|n| n.parse().ok());
    Ok((seconds, peak))
}

pub fn replay(runs: usize, entries: u64) -> anyhow::Result<ReplayBenchReport> {
    let key_folder = tempfile::tempdir()?;
    let key_file = key_folder.path().join("ledger.key");
    let (key, _) =
        crate::ledger::keyfile::load_or_create(&key_file, "bench.scfledger.local/ledger")?;
    let mut fixture = Fixture::with_key(None, "replay", key)?;
    let url = fixture.url.clone();
    let started = Instant::now();
    // Four entries an invoice: registered, confirmed, financed, paid.
    let invoices = (entries / 4).max(1) as usize;
    let mut written = 0;
    while written < invoices {
        let count = (invoices - written).min(20_000);
        let ids: Vec<String> = fixture
            .confirmed_invoices(count, "1000.00")?
            .into_iter()
            .map(|(id, _)| id)
            .collect();
        fixture.finance(&ids)?;
        fixture.pay(&ids, "1000.00")?;
        written += count;
    }
    let entries = fixture.ledger.counts().commands;
    eprintln!(
        "appended {entries} financing entries ({invoices} invoices) in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    let database = match &url {
        crate::db::DatabaseUrl::Sqlite(path) => format!("sqlite://{}", path.display()),
        _ => unreachable!("checked above"),
    };
    let key_arg = key_file.display().to_string();
    let mut report = ReplayBenchReport {
        entries,
        replay_seconds: vec![],
        replay_peak_mib: vec![],
        verify_seconds: vec![],
        verify_peak_mib: vec![],
    };
    for run in 0..runs.max(1) {
        let (seconds, peak) = child(&["--database", &database, "--key-file", &key_arg, "replay"])?;
        report.replay_seconds.push(seconds);
        report.replay_peak_mib.push(peak.unwrap_or(f64::NAN));
        let (seconds, peak) = child(&["--database", &database, "--key-file", &key_arg, "verify"])?;
        report.verify_seconds.push(seconds);
        report.verify_peak_mib.push(peak.unwrap_or(f64::NAN));
        eprintln!(
            "run {}: replay {:.2} s, verify {:.2} s",
            run + 1,
            report.replay_seconds[run],
            report.verify_seconds[run]
        );
    }
    Ok(report)
}
