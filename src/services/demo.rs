//! Demo data for `scfledger serve --demo`: an operator key and a few believable
//! treasury journal entries, written only into an empty ledger.

use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

use crate::db::{log as log_db, DbConnection};
use crate::domain::{PartyId, Role};
use crate::ledger::{Ledger, LedgerError};
use crate::services::api_keys;
use crate::services::journal::{JournalEntry, PostingText};

/// What the demo seed did.
pub struct DemoSeed {
    /// Where the operator's API key was written (mode 0600), when a new one was made.
    pub api_key_file: Option<PathBuf>,
    pub entries_written: usize,
}

/// (account, currency, amount)
type DemoPosting = (&'static str, &'static str, &'static str);

const DEMO_JOURNAL: &[(&str, &[DemoPosting])] = &[
    (
        "Nordbank Capital commits funding to the Hansa Retail EU programme",
        &[
            ("bank:eur:operating", "EUR", "500000.00"),
            ("funder:nordbank:capital", "EUR", "-500000.00"),
        ],
    ),
    (
        "Monthly bank account fee",
        &[
            ("expense:bank-fees", "EUR", "25.00"),
            ("bank:eur:operating", "EUR", "-25.00"),
        ],
    ),
    (
        "Nordbank Capital tops up the programme",
        &[
            ("bank:eur:operating", "EUR", "125000.00"),
            ("funder:nordbank:capital", "EUR", "-125000.00"),
        ],
    ),
];

/// Seeds the demo into an empty ledger; does nothing to a ledger with entries.
pub fn seed(
    connection: &mut DbConnection,
    ledger: &Ledger,
    key_folder: &Path,
) -> Result<DemoSeed, LedgerError> {
    if log_db::entry_count(connection)? > 0 {
        return Ok(DemoSeed {
            api_key_file: None,
            entries_written: 0,
        });
    }
    let operator = PartyId::parse("op-treasury").expect("a valid party id");
    let key = api_keys::create(connection, &operator, Role::Operator, "demo operator key")?;
    let api_key_file = key_folder.join("demo-operator-api-key");
    write_secret(&api_key_file, &key.token).map_err(|e| {
        LedgerError::Inconsistent(format!("writing {}: {e}", api_key_file.display()))
    })?;
    let mut entries_written = 0;
    for (memo, lines) in DEMO_JOURNAL {
        let postings: Vec<PostingText<'_>> = lines
            .iter()
            .map(|(account, currency, amount)| PostingText {
                account,
                currency,
                amount,
            })
            .collect();
        let entry = JournalEntry::parse(memo, &postings).expect("demo entries are valid");
        let draft = entry.draft(&operator);
        ledger.submit_blocking(move |_: &mut crate::ledger::BatchContext<'_>| Ok(draft.clone()))?;
        entries_written += 1;
    }
    Ok(DemoSeed {
        api_key_file: Some(api_key_file),
        entries_written,
    })
}

fn write_secret(path: &Path, secret: &str) -> std::io::Result<()> {
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(path)?;
    file.write_all(secret.as_bytes())?;
    file.write_all(b"\n")
}
