//! The ledger core on every backend: appends, receipts, atomicity, triggers,
//! verification, replay, export and tampering.

mod common;

use common::*;
use scfledger::db::{self, log as log_db};
use scfledger::domain::ErrorCode;
use scfledger::ledger::merkle::verify_inclusion;
use scfledger::ledger::note::{Checkpoint, LedgerKey};
use scfledger::ledger::{replay, verify, BatchContext, EntryDraft, LedgerError};
use scfledger::services::export;

#[test]
fn migrations_run_up_down_up() {
    for backend in backends() {
        let db = TestDb::new(backend);
        let mut connection = db.connect();
        db::revert_all_migrations(&mut connection).unwrap();
        assert!(
            db::execute_raw(&mut connection, "SELECT seq FROM log_entries").is_err(),
            "{backend}: tables remain after down"
        );
        db::run_migrations(&mut connection).unwrap();
        assert_eq!(
            log_db::entry_count(&mut connection).unwrap(),
            0,
            "{backend}"
        );
    }
}

#[test]
fn concurrent_appends_get_receipts_that_verify_offline() {
    for backend in backends() {
        let db = TestDb::new(backend);
        let (ledger, writer) = start(&db);
        let receipts: Vec<_> = std::thread::scope(|scope| {
            let handles: Vec<_> = (0..50)
                .map(|i| {
                    let ledger = ledger.clone();
                    scope.spawn(move || {
                        append(
                            &ledger,
                            transfer(
                                &format!("advance {i}"),
                                "supplier:s1:bank",
                                "funder:f1:cash",
                                "8820.00",
                            ),
                        )
                        .unwrap()
                    })
                })
                .collect();
            handles.into_iter().map(|h| h.join().unwrap()).collect()
        });
        let verifier = test_key().verifier();
        let mut seqs: Vec<u64> = receipts.iter().map(|r| r.seq).collect();
        seqs.sort();
        assert_eq!(
            seqs,
            (0..50).collect::<Vec<_>>(),
            "{backend}: every seq exactly once"
        );
        for receipt in &receipts {
            let checkpoint = Checkpoint::open_signed(&receipt.checkpoint, &verifier).unwrap();
            assert_eq!(checkpoint.size, receipt.tree_size);
            verify_inclusion(
                &receipt.leaf_hash,
                receipt.seq,
                receipt.tree_size,
                &receipt.inclusion_proof,
                &checkpoint.root,
            )
            .unwrap_or_else(|e| {
                panic!(
                    "{backend}: receipt of seq {} does not verify: {e}",
                    receipt.seq
                )
            });
        }
        drop(ledger);
        writer.join().unwrap();
        let mut connection = db.connect();
        assert_eq!(
            log_db::balance(&mut connection, "supplier:s1:bank", "EUR").unwrap(),
            50 * 882_000
        );
        assert_eq!(
            log_db::balance(&mut connection, "funder:f1:cash", "EUR").unwrap(),
            -50 * 882_000
        );
        let report = verify::verify_database(&mut connection, &verifier).unwrap();
        assert_eq!(report.entries, 50, "{backend}");
        assert!(report.checkpoints >= 1 && report.checkpoints <= 50);
        assert_eq!(
            replay::replay(
                &mut connection,
                false,
                scfledger::services::projector::apply
            )
            .unwrap()
            .differences,
            Vec::<String>::new()
        );
    }
}

#[test]
fn a_failed_command_writes_nothing_and_others_in_the_batch_land() {
    for backend in backends() {
        let db = TestDb::new(backend);
        let (ledger, writer) = start(&db);
        append_numbered(&ledger, 2);
        // A command that writes a projection row and then fails: its savepoint is rolled back.
        let failing = ledger.submit_blocking(|context: &mut BatchContext<'_>| -> Result<EntryDraft, LedgerError> {
            db::execute_raw(context.connection()?, "INSERT INTO balances (account, currency, balance_minor, last_seq) VALUES ('ghost', 'EUR', 5, 0)")?;
            Err(LedgerError::Rejected { code: ErrorCode::InvalidField, field: Some("x".into()), message: "refused on purpose".into() })
        });
        assert!(
            matches!(
                failing,
                Err(LedgerError::Rejected {
                    code: ErrorCode::InvalidField,
                    ..
                })
            ),
            "{backend}"
        );
        // An unbalanced draft is refused before append.
        let unbalanced = ledger.submit_blocking(|_: &mut BatchContext<'_>| {
            let mut draft = transfer("bad", "a", "b", "1.00")
                .draft(&scfledger::domain::PartyId::parse("op-test").unwrap());
            draft.postings[0].amount_minor += 1;
            Ok(draft)
        });
        assert!(
            matches!(unbalanced, Err(LedgerError::Entry(_))),
            "{backend}: {unbalanced:?}"
        );
        let next = append(&ledger, transfer("after", "a", "b", "1.00")).unwrap();
        assert_eq!(next.seq, 2, "{backend}: failed commands consumed no seq");
        drop(ledger);
        writer.join().unwrap();
        let mut connection = db.connect();
        assert_eq!(
            log_db::balance(&mut connection, "ghost", "EUR").unwrap(),
            0,
            "{backend}: rolled back"
        );
        assert_eq!(log_db::entry_count(&mut connection).unwrap(), 3);
        verify::verify_database(&mut connection, &test_key().verifier()).unwrap();
    }
}

#[test]
fn triggers_reject_update_and_delete_on_the_log_tables() {
    for backend in backends() {
        let db = TestDb::new(backend);
        let (ledger, writer) = start(&db);
        append_numbered(&ledger, 2);
        drop(ledger);
        writer.join().unwrap();
        let mut connection = db.connect();
        for sql in [
            "UPDATE log_entries SET kind = 'x' WHERE seq = 0",
            "DELETE FROM log_entries WHERE seq = 1",
            "UPDATE merkle_nodes SET hash_hex = '00' WHERE level = 0",
            "DELETE FROM merkle_nodes",
            "UPDATE checkpoints SET note = 'x'",
            "DELETE FROM checkpoints",
        ] {
            let error = db::execute_raw(&mut connection, sql)
                .unwrap_err()
                .to_string();
            assert!(
                error.contains("append-only"),
                "{backend}: {sql} gave {error}"
            );
        }
        assert_eq!(log_db::entry_count(&mut connection).unwrap(), 2);
    }
}

/// A ledger of 8 entries in 8 batches, with the triggers dropped, for tampering.
fn tamperable(backend: &str) -> TestDb {
    let db = TestDb::new(backend);
    let (ledger, writer) = start(&db);
    append_numbered(&ledger, 8);
    drop(ledger);
    writer.join().unwrap();
    db.drop_append_only_triggers();
    db
}

fn verify_error(db: &TestDb) -> String {
    verify::verify_database(&mut db.connect(), &test_key().verifier())
        .unwrap_err()
        .to_string()
}

#[test]
fn verify_names_the_first_tampered_entry() {
    for backend in backends() {
        // One byte of one entry changed.
        let db = tamperable(backend);
        db::execute_raw(&mut db.connect(), "UPDATE log_entries SET canonical = replace(canonical, 'entry 3', 'entry 9') WHERE seq = 3").unwrap();
        assert!(
            verify_error(&db).starts_with("seq 3: "),
            "{backend}: {}",
            verify_error(&db)
        );

        // A changed amount breaks the entry's own balance first.
        let db = tamperable(backend);
        db::execute_raw(&mut db.connect(), "UPDATE log_entries SET canonical = replace(canonical, '\"5.00\"', '\"5.01\"') WHERE seq = 4").unwrap();
        assert!(
            verify_error(&db).starts_with("seq 4: entry postings: postings do not balance"),
            "{backend}: {}",
            verify_error(&db)
        );

        // One entry deleted.
        let db = tamperable(backend);
        db::execute_raw(&mut db.connect(), "DELETE FROM log_entries WHERE seq = 2").unwrap();
        assert_eq!(
            verify_error(&db),
            "seq 2: missing; the next stored entry is seq 3",
            "{backend}"
        );

        // The last entry deleted.
        let db = tamperable(backend);
        db::execute_raw(&mut db.connect(), "DELETE FROM log_entries WHERE seq = 7").unwrap();
        assert_eq!(
            verify_error(&db),
            "seq 7: missing; the latest checkpoint covers 8 entries",
            "{backend}"
        );

        // Two entries swapped.
        let db = tamperable(backend);
        let mut connection = db.connect();
        let rows = log_db::entries_from(&mut connection, 1, 2).unwrap();
        for (target, source) in [(1, &rows[1]), (2, &rows[0])] {
            db::execute_raw(
                &mut connection,
                &format!(
                    "UPDATE log_entries SET canonical = '{}' WHERE seq = {target}",
                    source.canonical
                ),
            )
            .unwrap();
        }
        assert_eq!(
            verify_error(&db),
            "seq 1: entry says seq 2, expected 1",
            "{backend}"
        );

        // Entry and its leaf rewritten consistently: only the signed root catches it.
        let db = tamperable(backend);
        let mut connection = db.connect();
        let row = &log_db::entries_from(&mut connection, 5, 1).unwrap()[0];
        let forged = row.canonical.replace("entry 5", "entry X");
        let leaf = hex::encode(scfledger::ledger::merkle::leaf_hash(forged.as_bytes()));
        db::execute_raw(
            &mut connection,
            &format!("UPDATE log_entries SET canonical = '{forged}' WHERE seq = 5"),
        )
        .unwrap();
        db::execute_raw(
            &mut connection,
            &format!(
                "UPDATE merkle_nodes SET hash_hex = '{leaf}' WHERE level = 0 AND node_index = 5"
            ),
        )
        .unwrap();
        let error = verify_error(&db);
        assert!(error.starts_with("seq 5: "), "{backend}: {error}");

        // A forged checkpoint: signed by another key.
        let db = tamperable(backend);
        let mut connection = db.connect();
        let latest = log_db::latest_checkpoint(&mut connection).unwrap().unwrap();
        let impostor = LedgerKey::from_seed("scfledger.test/ledger", [7; 32]).unwrap();
        let body = scfledger::ledger::note::Checkpoint::parse(
            &latest.note[..latest.note.find("\n\n").unwrap() + 1],
        )
        .unwrap();
        let forged = impostor.sign_note(&body.to_text()).unwrap();
        db::execute_raw(
            &mut connection,
            &format!("UPDATE checkpoints SET note = '{forged}' WHERE tree_size = 8"),
        )
        .unwrap();
        let error = verify_error(&db);
        assert!(
            error.starts_with("checkpoint of size 8: no signature by key scfledger.test/ledger+"),
            "{backend}: {error}"
        );

        // The untouched ledger verifies.
        let db = tamperable(backend);
        let report = verify::verify_database(&mut db.connect(), &test_key().verifier()).unwrap();
        assert_eq!((report.entries, report.checkpoints), (8, 8), "{backend}");
    }
}

#[test]
fn replay_names_an_altered_balance_and_repair_restores_it() {
    for backend in backends() {
        let db = tamperable(backend);
        let mut connection = db.connect();
        // 1 + 2 + … + 8 = 36.00 EUR.
        assert_eq!(
            log_db::balance(&mut connection, "supplier:s1:bank", "EUR").unwrap(),
            3_600
        );
        db::execute_raw(
            &mut connection,
            "UPDATE balances SET balance_minor = 3601 WHERE account = 'supplier:s1:bank'",
        )
        .unwrap();
        let report = replay::replay(
            &mut connection,
            false,
            scfledger::services::projector::apply,
        )
        .unwrap();
        assert_eq!(
            report.differences,
            vec![
                "balance supplier:s1:bank EUR: the log gives 3600 minor units, the projection 3601"
                    .to_string()
            ],
            "{backend}"
        );
        db::execute_raw(&mut connection, "DELETE FROM postings WHERE seq = 6").unwrap();
        let report =
            replay::replay(&mut connection, true, scfledger::services::projector::apply).unwrap();
        assert_eq!(
            report.differences.len(),
            2,
            "{backend}: {:?}",
            report.differences
        );
        assert_eq!(
            report.differences[0],
            "postings projection differs from the log at seq 6"
        );
        assert_eq!(
            replay::replay(
                &mut connection,
                false,
                scfledger::services::projector::apply
            )
            .unwrap()
            .differences,
            Vec::<String>::new(),
            "{backend}: repaired"
        );
        assert_eq!(
            log_db::balance(&mut connection, "supplier:s1:bank", "EUR").unwrap(),
            3_600
        );
    }
}

#[test]
fn exports_verify_and_a_changed_byte_is_named() {
    for backend in backends() {
        let db = tamperable(backend);
        let out = db.folder.path().join("ledger.jsonl");
        assert_eq!(export::export(&mut db.connect(), &out).unwrap(), 8);
        let note = std::fs::read_to_string(export::checkpoint_path(&out)).unwrap();
        let verifier = test_key().verifier();
        let text = std::fs::read_to_string(&out).unwrap();
        assert_eq!(text.lines().count(), 8);
        let report = verify::verify_export(text.as_bytes(), &note, &verifier).unwrap();
        assert_eq!(report.entries, 8, "{backend}");
        // Every line is exactly the canonical bytes of its entry.
        for line in text.lines() {
            let entry = scfledger::ledger::Entry::from_canonical(line.as_bytes()).unwrap();
            assert_eq!(entry.canonical_bytes().unwrap(), line.as_bytes());
        }
        let tampered = text.replacen("entry 6", "entry 7", 1);
        let error = verify::verify_export(tampered.as_bytes(), &note, &verifier)
            .unwrap_err()
            .to_string();
        assert_eq!(
            error, "seq 0: entries 0..8 do not hash to the signed root of size 8",
            "{backend}"
        );
        let truncated: String = text.lines().take(7).map(|l| format!("{l}\n")).collect();
        let error = verify::verify_export(truncated.as_bytes(), &note, &verifier)
            .unwrap_err()
            .to_string();
        assert_eq!(
            error, "seq 7: the export holds 7 entries but the checkpoint covers 8",
            "{backend}"
        );
    }
}

#[test]
fn restart_continues_the_same_tree() {
    for backend in backends() {
        let db = TestDb::new(backend);
        let (ledger, writer) = start(&db);
        let first = append_numbered(&ledger, 3);
        drop(ledger);
        writer.join().unwrap();
        let (ledger, writer) = start(&db);
        let next = append(&ledger, transfer("after restart", "a", "b", "2.50")).unwrap();
        assert_eq!(next.seq, 3, "{backend}");
        drop(ledger);
        writer.join().unwrap();
        // A sequencer with another key refuses the ledger.
        let error = scfledger::services::start_ledger(
            &db.url,
            LedgerKey::from_seed("scfledger.test/ledger", [1; 32]).unwrap(),
            Default::default(),
        )
        .err()
        .expect("a foreign key must be refused");
        assert!(
            error.to_string().contains("no signature by key"),
            "{backend}: {error}"
        );
        let old = Checkpoint::open_signed(&first[2].checkpoint, &test_key().verifier()).unwrap();
        let new = Checkpoint::open_signed(&next.checkpoint, &test_key().verifier()).unwrap();
        let mut connection = db.connect();
        let proof =
            scfledger::services::log_reads::consistency(&mut connection, old.size, Some(new.size))
                .unwrap();
        scfledger::ledger::merkle::verify_consistency(
            old.size,
            new.size,
            &proof.proof,
            &old.root,
            &new.root,
        )
        .unwrap();
    }
}

#[test]
fn signed_confirmations_in_an_export_verify_on_every_core_and_a_swapped_signature_is_named() {
    use std::io::BufReader;
    use verify::{verify_export_with, VerifyOptions};
    let folder = tempfile::tempdir().unwrap();
    // 5,000 entries: 16 retailer registrations, a signed confirmation at every
    // multiple of 10 from 20 (498 of them), journal entries otherwise.
    let (path, note, verifier) =
        scfledger::bench::audit::write_export(folder.path(), 5_000, 10).unwrap();
    let check = |bytes: &[u8], options: VerifyOptions| {
        verify_export_with(BufReader::new(bytes), &note, &verifier, options)
    };
    let original = std::fs::read(&path).unwrap();
    let parallel = VerifyOptions {
        threads: 2,
        batch_signatures: true,
    };
    let fast = check(&original, parallel).unwrap();
    let plain = check(&original, VerifyOptions::plain()).unwrap();
    assert_eq!(fast, plain, "both ways reach the same report");
    assert_eq!((fast.entries, fast.actor_signatures), (5_000, 498));

    // Entry 1230 gets entry 20's signature: valid bytes, wrong message.
    let lines: Vec<&[u8]> = original.split(|b| *b == b'\n').collect();
    let signature_of = |line: &[u8]| {
        let value: serde_json::Value = serde_json::from_slice(line).unwrap();
        value["actor_sig"]["sig"].as_str().unwrap().to_string()
    };
    let (donor, victim) = (signature_of(lines[20]), signature_of(lines[1230]));
    let forged = String::from_utf8(original.clone())
        .unwrap()
        .replacen(&victim, &donor, 1)
        .into_bytes();
    for options in [parallel, VerifyOptions::plain()] {
        assert_eq!(
            check(&forged, options).unwrap_err().to_string(),
            "seq 1230: actor_sig does not verify with the registered key",
            "{options:?}"
        );
    }
    // A registration whose key id is altered leaves ret-0's first signed
    // confirmation (seq 80) under a key nobody registered.
    let unregistered =
        String::from_utf8(original)
            .unwrap()
            .replacen("\"key_id\":\"", "\"key_id\":\"00", 1);
    let error = check(unregistered.as_bytes(), parallel)
        .unwrap_err()
        .to_string();
    assert!(
        error.starts_with("seq 80: actor_sig names key ")
            && error.ends_with("which no earlier entry registers"),
        "{error}"
    );
}

/// An entry that would take a balance past its bound is refused on its own,
/// with a code; every other command of its batch is recorded.
#[test]
fn a_balance_past_its_bound_refuses_one_command_and_records_the_rest() {
    use scfledger::services::journal::{JournalEntry, PostingText};
    for backend in backends() {
        let db = TestDb::new(backend);
        let (ledger, writer) = start(&db);
        let actor = scfledger::domain::PartyId::parse("op-test").unwrap();
        // The largest accepted amount, 32 times on each side: each heavy
        // entry moves 320,000,000,000,000.00 EUR, so 31 of them fit under the
        // 10,000,000,000,000,000.00 bound and the 32nd does not.
        let mut texts = Vec::new();
        for _ in 0..32 {
            texts.push(PostingText {
                account: "funder:f1:cash",
                currency: "EUR",
                amount: "10000000000000.00",
            });
        }
        for _ in 0..32 {
            texts.push(PostingText {
                account: "supplier:s1:bank",
                currency: "EUR",
                amount: "-10000000000000.00",
            });
        }
        let heavy = JournalEntry::parse("heavy", &texts).unwrap().draft(&actor);
        let mut commands: Vec<Box<dyn scfledger::ledger::Command>> = Vec::new();
        for i in 0..40 {
            let heavy = heavy.clone();
            commands.push(Box::new(move |_: &mut BatchContext<'_>| Ok(heavy.clone())));
            let small = transfer(
                &format!("small {i}"),
                "supplier:s2:bank",
                "funder:f2:cash",
                "1.00",
            )
            .draft(&actor);
            commands.push(Box::new(move |_: &mut BatchContext<'_>| Ok(small.clone())));
        }
        let runtime = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        let outcomes = runtime.block_on(ledger.submit_all(commands));
        let mut heavy_recorded = 0;
        let mut heavy_refused = 0;
        for (index, outcome) in outcomes.iter().enumerate() {
            match (index % 2, outcome) {
                (0, Ok(_)) => heavy_recorded += 1,
                (0, Err(LedgerError::Rejected { code, .. })) => {
                    assert_eq!(*code, ErrorCode::BalanceLimitExceeded, "{backend}");
                    heavy_refused += 1;
                }
                (1, Ok(_)) => {}
                (_, other) => panic!("{backend}: command {index} answered {other:?}"),
            }
        }
        assert_eq!((heavy_recorded, heavy_refused), (31, 9), "{backend}");
        let mut connection = db.connect();
        assert_eq!(
            log_db::balance(&mut connection, "funder:f1:cash", "EUR").unwrap(),
            31 * 32 * 1_000_000_000_000_000,
            "{backend}"
        );
        assert_eq!(
            log_db::balance(&mut connection, "supplier:s2:bank", "EUR").unwrap(),
            40 * 100,
            "{backend}"
        );
        assert_eq!(
            log_db::entry_count(&mut connection).unwrap(),
            71,
            "{backend}"
        );
        drop(ledger);
        writer.join().unwrap();
        assert_consistent(&db);
    }
}

/// On SQLite one process writes to a database file: a second writer is
/// refused with a message naming the file, and starts once the first stops.
#[test]
fn a_second_writer_of_a_sqlite_file_is_refused() {
    let db = TestDb::new("sqlite");
    let (ledger, writer) = start(&db);
    append_numbered(&ledger, 1);
    let refused = scfledger::services::start_ledger(
        &db.url,
        test_key(),
        scfledger::ledger::SequencerConfig::default(),
    )
    .err()
    .expect("a second writer of the same file is refused")
    .to_string();
    assert!(
        refused.contains("another scfledger process writes to")
            && refused.contains(".writer-lock")
            && refused.contains("one process per SQLite file"),
        "{refused}"
    );
    drop(ledger);
    writer.join().unwrap();
    let (ledger, writer) = start(&db);
    let next = append(
        &ledger,
        transfer("after the first stopped", "a", "b", "1.00"),
    )
    .unwrap();
    assert_eq!(next.seq, 1);
    drop(ledger);
    writer.join().unwrap();
    assert_consistent(&db);
}

/// On PostgreSQL a second instance stands by: it refuses commands with a
/// retryable error while another writes, and takes over, continuing the
/// same tree, once the writer's session ends.
#[test]
fn a_standby_takes_over_when_the_writer_stops() {
    for backend in backends() {
        if backend != "postgres" {
            continue;
        }
        let db = TestDb::new(backend);
        let (ledger, writer) = start(&db);
        append_numbered(&ledger, 3);
        let (standby, standby_thread) = scfledger::ledger::sequencer::start_or_stand_by(
            &db.url,
            test_key(),
            scfledger::ledger::SequencerConfig::default(),
            scfledger::services::projector::apply,
            &scfledger::ledger::sequencer::Instance::this_process(""),
        )
        .unwrap();
        std::thread::sleep(std::time::Duration::from_millis(600));
        assert!(ledger.is_writer() && !standby.is_writer(), "{backend}");
        assert!(matches!(
            append(&standby, transfer("on the standby", "a", "b", "1.00")),
            Err(LedgerError::Standby)
        ));
        // The writer stops; the standby takes the lock and loads the ledger.
        drop(ledger);
        writer.join().unwrap();
        let stopped = std::time::Instant::now();
        while !standby.is_writer() {
            assert!(
                stopped.elapsed() < std::time::Duration::from_secs(5),
                "{backend}: no takeover within 5 s"
            );
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        let next = append(&standby, transfer("after the takeover", "a", "b", "1.00")).unwrap();
        assert_eq!((next.seq, standby.takeovers()), (3, 1), "{backend}");
        drop(standby);
        standby_thread.join().unwrap();
        assert_consistent(&db);
    }
}

/// A writer whose lock was taken from it while it lived (its lock session
/// ended, as when the database or the network drops it) commits nothing
/// more: its batches are fenced off by the head's epoch, it stands by, and
/// the instance that took over continues the tree.
#[test]
fn a_writer_that_lost_its_lock_cannot_commit() {
    use scfledger::ledger::sequencer::{start_or_stand_by, Instance};
    for backend in backends() {
        if backend != "postgres" {
            continue;
        }
        let db = TestDb::new(backend);
        let stand_by = || {
            start_or_stand_by(
                &db.url,
                test_key(),
                scfledger::ledger::SequencerConfig::default(),
                scfledger::services::projector::apply,
                &Instance::this_process(""),
            )
            .unwrap()
        };
        let (old, old_thread) = stand_by();
        append_numbered(&old, 2);
        let old_epoch = old.epoch();
        let (new, new_thread) = stand_by();
        assert!(old.is_writer() && !new.is_writer(), "{backend}");
        // End the old writer's lock session from outside, as a lost
        // connection would: its batch connection lives on.
        let mut admin = db.connect();
        let holder = db::writer_lock_holder(&mut admin)
            .unwrap()
            .expect("a writer holds the lock");
        db::execute_raw(
            &mut admin,
            &format!("SELECT pg_terminate_backend({holder})"),
        )
        .unwrap();
        let lost = std::time::Instant::now();
        while !new.is_writer() {
            assert!(
                lost.elapsed() < std::time::Duration::from_secs(5),
                "{backend}: no takeover within 5 s"
            );
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
        assert_eq!(new.epoch(), old_epoch + 1, "{backend}");
        // Whether it noticed yet or not, the old writer commits nothing.
        for n in 0..3 {
            let refused = append(&old, transfer(&format!("fenced {n}"), "a", "b", "1.00"));
            assert!(
                matches!(refused, Err(LedgerError::Standby)),
                "{backend}: {refused:?}"
            );
        }
        assert!(!old.is_writer(), "{backend}: the old writer stands by");
        // The fence itself: the old epoch can no longer move the head.
        assert!(!db::head::advance(&mut admin, old_epoch as i64, 2, 3).unwrap());
        let next = append(&new, transfer("after the takeover", "a", "b", "1.00")).unwrap();
        assert_eq!((next.seq, next.tree_size), (2, 3), "{backend}");
        let head = db::head::read(&mut admin).unwrap().unwrap();
        assert_eq!(
            (head.epoch, head.tree_size),
            (old_epoch as i64 + 1, 3),
            "{backend}"
        );
        drop((old, new));
        old_thread.join().unwrap();
        new_thread.join().unwrap();
        assert_consistent(&db);
    }
}

/// On PostgreSQL a writer waits for the writer before it to let go of the
/// database (a killed writer's last batch may still commit), and loads the
/// log only then.
#[test]
fn a_new_writer_waits_for_the_last_one_to_let_go() {
    for backend in backends() {
        if backend != "postgres" {
            continue;
        }
        let db = TestDb::new(backend);
        let (ledger, writer) = start(&db);
        append_numbered(&ledger, 2);
        drop(ledger);
        writer.join().unwrap();
        // An earlier writer's session that still holds the lock.
        let mut earlier = db.connect();
        db::take_writer_lock(&mut earlier).unwrap();
        let released = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let releasing = released.clone();
        let holder = std::thread::spawn(move || {
            std::thread::sleep(std::time::Duration::from_millis(300));
            releasing.store(true, std::sync::atomic::Ordering::SeqCst);
            drop(earlier);
        });
        let (ledger, writer) = start(&db);
        assert!(
            released.load(std::sync::atomic::Ordering::SeqCst),
            "{backend}: the writer started while the earlier one held the lock"
        );
        holder.join().unwrap();
        let next = append(&ledger, transfer("after the wait", "a", "b", "1.00")).unwrap();
        assert_eq!(next.seq, 2, "{backend}");
        drop(ledger);
        writer.join().unwrap();
        assert_consistent(&db);
    }
}

/// The writer's in-memory state moves only with a committed batch: a refused
/// command leaves it as it was, and so does a batch whose commit fails. After
/// both it equals a fresh load from the projections, and the next command
/// gets the seq the failed batch did not use.
#[test]
fn a_refused_command_and_a_failed_commit_leave_the_writer_state_as_it_was() {
    use scfledger::domain::Currency;
    use scfledger::ledger::state::WriterState;
    let eur = Currency::parse("EUR").unwrap();
    for backend in backends() {
        let db = TestDb::new(backend);
        let (ledger, writer) = start(&db);
        append_numbered(&ledger, 2);
        let runtime = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        let in_memory = || runtime.block_on(ledger.state()).unwrap();
        let stored = || WriterState::load(&mut db.connect()).unwrap();
        let before = in_memory();
        assert_eq!(
            before,
            stored(),
            "{backend}: loaded at start, kept up since"
        );
        assert_eq!(before.balance("supplier:s1:bank", eur), 300, "{backend}");
        assert_eq!(before.balance("funder:f1:cash", eur), -300, "{backend}");

        let refused = ledger.submit_blocking(|_: &mut BatchContext<'_>| {
            let mut draft = transfer("unbalanced", "supplier:s1:bank", "funder:f1:cash", "5.00")
                .draft(&scfledger::domain::PartyId::parse("op-test").unwrap());
            draft.postings[0].amount_minor += 1;
            Ok(draft)
        });
        assert!(
            matches!(refused, Err(LedgerError::Entry(_))),
            "{backend}: {refused:?}"
        );
        assert_eq!(in_memory(), before, "{backend}: a refused command");

        // A commit that fails: on PostgreSQL a deferred trigger refuses the
        // COMMIT itself; SQLite has none, so its trigger refuses the batch's
        // last insert, the checkpoint, just before the commit.
        let (refuse, allow) =
            refused_inserts(backend, "checkpoints", true, "commit refused on purpose");
        db::execute_raw(&mut db.connect(), &refuse).unwrap();
        let failed = append(
            &ledger,
            transfer("lost", "supplier:s1:bank", "funder:f1:cash", "7.00"),
        );
        assert!(
            matches!(&failed, Err(LedgerError::Inconsistent(message)) if message.contains("batch not committed")),
            "{backend}: {failed:?}"
        );
        assert_eq!(in_memory(), before, "{backend}: a failed commit");
        assert_eq!(stored(), before, "{backend}: nothing of it was written");

        db::execute_raw(&mut db.connect(), &allow).unwrap();
        let next = append(
            &ledger,
            transfer("kept", "supplier:s1:bank", "funder:f1:cash", "7.00"),
        )
        .unwrap();
        assert_eq!(next.seq, 2, "{backend}: the failed batch used no seq");
        let after = in_memory();
        assert_eq!(after.balance("supplier:s1:bank", eur), 1000, "{backend}");
        assert_eq!(after, stored(), "{backend}: memory and projections agree");
        assert_eq!(
            after.differences(&before).len(),
            2,
            "{backend}: two accounts moved"
        );
        drop(ledger);
        writer.join().unwrap();
        assert_consistent(&db);
    }
}

/// SQL that makes every insert into `table` fail with `message`, and SQL
/// that undoes it. `at_commit` defers the failure to the COMMIT on
/// PostgreSQL; SQLite has no deferred trigger, so there it fails the insert.
fn refused_inserts(backend: &str, table: &str, at_commit: bool, message: &str) -> (String, String) {
    let name = format!("refuse_{table}");
    match backend {
        "postgres" => {
            let trigger = if at_commit {
                format!(
                    "CREATE CONSTRAINT TRIGGER {name} AFTER INSERT ON {table} \
                     DEFERRABLE INITIALLY DEFERRED"
                )
            } else {
                format!("CREATE TRIGGER {name} BEFORE INSERT ON {table}")
            };
            (
                format!(
                    "CREATE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS \
                     $$ BEGIN RAISE EXCEPTION '{message}'; END $$; \
                     {trigger} FOR EACH ROW EXECUTE FUNCTION {name}();"
                ),
                format!("DROP TRIGGER {name} ON {table}; DROP FUNCTION {name}();"),
            )
        }
        _ => (
            format!(
                "CREATE TRIGGER {name} BEFORE INSERT ON {table} \
                 BEGIN SELECT RAISE(ABORT, '{message}'); END;"
            ),
            format!("DROP TRIGGER {name};"),
        ),
    }
}

/// A supplier's invoice of 100.00 EUR in programme `prog-r`, as the
/// supplier registers it.
fn register_invoice(number: &str) -> Box<dyn scfledger::ledger::Command> {
    use scfledger::domain::{PartyId, Role};
    use scfledger::services::common::Actor;
    use scfledger::services::invoice::{InvoiceFields, RegisterInvoice};
    Box::new(
        RegisterInvoice::parse(
            Actor {
                party: PartyId::parse("sup-a").unwrap(),
                role: Role::Supplier,
            },
            &InvoiceFields {
                program_id: "prog-r",
                supplier_id: "sup-a",
                invoice_number: number,
                issue_date: "2026-01-01",
                due_date: "2026-03-01",
                currency: "EUR",
                amount: "100.00",
                channel: "api",
                document_sha256: None,
            },
        )
        .unwrap(),
    )
}

/// The parties, programme `prog-r` and its supplier's enrolment that
/// [`register_invoice`] needs: six entries.
fn invoice_setup() -> Vec<Box<dyn scfledger::ledger::Command>> {
    use scfledger::domain::{PartyId, Role};
    use scfledger::ledger::Command;
    use scfledger::services::common::Actor;
    use scfledger::services::party::RegisterParty;
    use scfledger::services::program::{CreateProgram, EnrolSupplier, ProgramFields};
    let operator = PartyId::parse("op-test").unwrap();
    let mut setup: Vec<Box<dyn Command>> = Vec::new();
    for (id, role, tax_id) in [
        ("op-test", "operator", None),
        ("ret-r", "retailer", None),
        ("fund-r", "funder", None),
        ("sup-a", "supplier", Some("DE1")),
    ] {
        setup.push(Box::new(
            RegisterParty::parse(&operator, id, role, id, tax_id, None).unwrap(),
        ));
    }
    setup.push(Box::new(
        CreateProgram::parse(
            &operator,
            &ProgramFields {
                program_id: "prog-r",
                retailer_id: "ret-r",
                funder_id: "fund-r",
                currency: "EUR",
                advance_rate: "0.9",
                discount_rate: "0.1",
                day_count: "ACT/360",
                tenor_min_days: 1,
                tenor_max_days: 120,
                grace_days: 0,
                late_rate: "0.1",
                default_days: 10,
                recourse: true,
                program_limit: "1000.00",
                retailer_limit: "1000.00",
                supplier_limit_fixed: Some("1000.00"),
                supplier_limit_multiple: None,
                syndicate: None,
            },
        )
        .unwrap(),
    ));
    setup.push(Box::new(
        EnrolSupplier::parse(
            Actor {
                party: operator.clone(),
                role: Role::Operator,
            },
            "prog-r",
            "sup-a",
        )
        .unwrap(),
    ));
    setup
}

/// Parties, programmes, memberships and invoices live in the writer's
/// memory. A refused command's changes never reach it, a failed commit
/// leaves it as it was, and after every batch it equals what the projections
/// load, which replay rebuilds from the log alone.
#[test]
fn records_in_memory_follow_only_what_commits() {
    use scfledger::domain::{PartyId, Role};
    use scfledger::ledger::state::WriterState;
    use scfledger::services::common::Actor;
    use scfledger::services::invoice::RetailerDecision;
    let actor = |party: &str, role| Actor {
        party: PartyId::parse(party).unwrap(),
        role,
    };
    let register = register_invoice;
    for backend in backends() {
        let db = TestDb::new(backend);
        let (ledger, writer) = start(&db);
        let runtime = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        let submit_all = |commands| runtime.block_on(ledger.submit_all(commands));
        let in_memory = || runtime.block_on(ledger.state()).unwrap();
        let stored = || WriterState::load(&mut db.connect()).unwrap();
        let setup = invoice_setup();
        // The enrolment reads the party and programme registered just before
        // it, in the same batch, from the batch's changes.
        for outcome in submit_all(setup) {
            outcome.unwrap();
        }
        // In one batch: an invoice, the same invoice again, another one.
        let outcomes = submit_all(vec![register("R-1"), register("R-1"), register("R-2")]);
        assert!(
            outcomes[0].is_ok() && outcomes[2].is_ok(),
            "{backend}: {outcomes:?}"
        );
        assert!(
            matches!(
                &outcomes[1],
                Err(LedgerError::Rejected {
                    code: ErrorCode::DuplicateInvoice,
                    ..
                })
            ),
            "{backend}: the batch's own first R-1 is found: {:?}",
            outcomes[1]
        );
        let before = in_memory();
        assert_eq!(before.records.invoice_count(), 2, "{backend}");
        assert_eq!(before, stored(), "{backend}: memory and projections agree");

        let (refuse, allow) =
            refused_inserts(backend, "invoices", true, "commit refused on purpose");
        db::execute_raw(&mut db.connect(), &refuse).unwrap();
        let failed = submit_all(vec![register("R-3")]);
        assert!(
            matches!(&failed[0], Err(LedgerError::Inconsistent(_))),
            "{backend}: {failed:?}"
        );
        assert_eq!(in_memory(), before, "{backend}: a failed commit");
        db::execute_raw(&mut db.connect(), &allow).unwrap();
        let third = submit_all(vec![register("R-3")]).remove(0).unwrap();
        let confirmed = ledger
            .submit_blocking(RetailerDecision::confirm(
                actor("ret-r", Role::Retailer),
                "inv-6",
                None,
            ))
            .unwrap();
        assert_eq!((third.seq, confirmed.seq), (8, 9), "{backend}");
        let after = in_memory();
        assert_eq!(after.records.invoice_count(), 3, "{backend}");
        assert_eq!(after, stored(), "{backend}: memory and projections agree");
        let row = scfledger::db::financing::invoice(&mut db.connect(), "inv-6")
            .unwrap()
            .unwrap();
        assert_eq!(row.status.to_string(), "confirmed", "{backend}");
        assert!(row.creditor_reference.is_some(), "{backend}");
        drop(ledger);
        writer.join().unwrap();
        assert_consistent(&db);
    }
}

/// A batch of more than `limits::BATCH_PART_COMMANDS` commands has its
/// records written on a second thread while it is still being decided
/// (`ledger::part_writer`). When a part's write is refused there, the whole
/// batch fails: no caller gets a receipt, the writer's state is as it was,
/// and the same commands then land where the log left off. A command that
/// asks for the connection itself gets it back once the parts before it are
/// written.
#[test]
fn a_batch_whose_records_fail_on_the_second_thread_leaves_no_trace() {
    use scfledger::ledger::state::WriterState;
    use scfledger::limits::BATCH_PART_COMMANDS;
    let commands = BATCH_PART_COMMANDS + 44;
    let many = || -> Vec<Box<dyn scfledger::ledger::Command>> {
        (0..commands)
            .map(|n| register_invoice(&format!("P-{n}")))
            .collect()
    };
    for backend in backends() {
        let db = TestDb::new(backend);
        // A long window, so that every command sent at once joins one batch.
        let config = scfledger::ledger::SequencerConfig {
            batch_window: std::time::Duration::from_millis(500),
            ..scfledger::ledger::SequencerConfig::default()
        };
        let (ledger, writer) =
            scfledger::services::start_ledger(&db.url, test_key(), config).unwrap();
        let runtime = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        let submit_all = |commands| runtime.block_on(ledger.submit_all(commands));
        let in_memory = || runtime.block_on(ledger.state()).unwrap();
        for outcome in submit_all(invoice_setup()) {
            outcome.unwrap();
        }
        let before = in_memory();
        let (refuse, allow) =
            refused_inserts(backend, "invoices", false, "part refused on purpose");
        db::execute_raw(&mut db.connect(), &refuse).unwrap();
        let counts = ledger.counts();
        let failed = submit_all(many());
        assert_eq!(
            ledger.counts().since(counts).batches,
            1,
            "{backend}: one batch"
        );
        assert_eq!(failed.len(), commands);
        for outcome in &failed {
            assert!(
                matches!(outcome, Err(LedgerError::Inconsistent(message))
                    if message.contains("batch not committed") && message.contains("part refused on purpose")),
                "{backend}: {outcome:?}"
            );
        }
        assert_eq!(in_memory(), before, "{backend}: a failed part");
        db::execute_raw(&mut db.connect(), &allow).unwrap();
        // After the first part and ten more, a command that reads with SQL
        // the invoice the command before it registered (seq 6 + 265).
        let mut batch = many();
        let asks_at = BATCH_PART_COMMANDS + 10;
        let seen = std::sync::Arc::new(std::sync::Mutex::new(None));
        let saw = seen.clone();
        batch.insert(
            asks_at,
            Box::new(move |context: &mut BatchContext<'_>| {
                let before = format!("inv-{}", context.seq - 1);
                let row = scfledger::db::financing::invoice(context.connection()?, &before)?;
                *saw.lock().unwrap() = Some(row.map(|row| row.invoice_number));
                Ok(transfer("asked", "a", "b", "1.00")
                    .draft(&scfledger::domain::PartyId::parse("op-test").unwrap()))
            }),
        );
        let counts = ledger.counts();
        let landed: Vec<u64> = submit_all(batch)
            .into_iter()
            .map(|outcome| outcome.unwrap().seq)
            .collect();
        assert_eq!(
            ledger.counts().since(counts).batches,
            1,
            "{backend}: one batch"
        );
        assert_eq!(
            landed,
            (6..7 + commands as u64).collect::<Vec<_>>(),
            "{backend}"
        );
        assert_eq!(
            *seen.lock().unwrap(),
            Some(Some(format!("P-{}", asks_at - 1))),
            "{backend}: the parts before it were written"
        );
        let after = in_memory();
        assert_eq!(after.records.invoice_count(), commands, "{backend}");
        assert_eq!(
            after,
            WriterState::load(&mut db.connect()).unwrap(),
            "{backend}: memory and projections agree"
        );
        drop(ledger);
        writer.join().unwrap();
        assert_consistent(&db);
    }
}

/// The writer keeps the largest tree its key signed beside the key, outside
/// the database (`ledger::highwater`): a database swapped for an older copy,
/// or truncated and signed again with other entries, is refused at start,
/// and the edited tail of a log is found before the writer loads it.
#[test]
fn a_writer_refuses_a_log_smaller_or_other_than_the_one_its_key_signed() {
    let db = TestDb::new("sqlite");
    let mark = db.folder.path().join("ledger.highwater");
    let key = || test_key().with_highwater(mark.clone());
    let start_with = |key| {
        scfledger::services::start_ledger(
            &db.url,
            key,
            scfledger::ledger::SequencerConfig::default(),
        )
    };
    let (ledger, writer) = start_with(key()).unwrap();
    append_numbered(&ledger, 10);
    drop(ledger);
    writer.join().unwrap();
    // An older copy of the database, kept aside.
    let copy = db.folder.path().join("copy.db");
    db::execute_raw(
        &mut db.connect(),
        &format!("VACUUM INTO '{}'", copy.display()),
    )
    .unwrap();
    let (ledger, writer) = start_with(key()).unwrap();
    let last = append_numbered(&ledger, 10).pop().unwrap();
    drop(ledger);
    writer.join().unwrap();
    assert!(
        std::fs::read_to_string(&mark).unwrap() == last.checkpoint,
        "the mark is the last checkpoint"
    );

    // The older copy in place of the database: refused, naming both sizes.
    let live = db.folder.path().join("test.db");
    let current = db.folder.path().join("current.db");
    db::execute_raw(
        &mut db.connect(),
        &format!("VACUUM INTO '{}'", current.display()),
    )
    .unwrap();
    let swap_in = |from: &std::path::Path| {
        for suffix in ["-wal", "-shm"] {
            let _ = std::fs::remove_file(format!("{}{suffix}", live.display()));
        }
        std::fs::copy(from, &live).unwrap();
    };
    swap_in(&copy);
    let refused = start_with(key())
        .err()
        .expect("an older copy is refused")
        .to_string();
    assert!(
        refused.contains("signed a tree of 20 entries") && refused.contains("holds 10"),
        "{refused}"
    );
    // The copy extended with other entries by the same key, without the
    // mark (as an attacker holding the key file but not its folder would):
    // the tree at size 20 has another root.
    let (ledger, writer) = start_with(test_key()).unwrap();
    for n in 0..12 {
        append(&ledger, transfer(&format!("forged {n}"), "a", "b", "1.00")).unwrap();
    }
    drop(ledger);
    writer.join().unwrap();
    let refused = start_with(key())
        .err()
        .expect("a fork is refused")
        .to_string();
    assert!(
        refused.contains("signed another tree of 20 entries"),
        "{refused}"
    );

    // The real database back: it starts, and it refuses an edited last entry.
    swap_in(&current);
    let (ledger, writer) = start_with(key()).unwrap();
    drop(ledger);
    writer.join().unwrap();
    db.drop_append_only_triggers();
    db::execute_raw(
        &mut db.connect(),
        "UPDATE log_entries SET canonical = replace(canonical, 'entry 9', 'entry X') WHERE seq = 19",
    )
    .unwrap();
    let refused = start_with(key())
        .err()
        .expect("an edited entry is refused")
        .to_string();
    assert!(
        refused.contains("entry 19 does not match the signed tree"),
        "{refused}"
    );
}
