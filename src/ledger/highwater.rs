//! The largest tree a ledger key signed, kept beside the key file and
//! outside the database (issue 16): the latest checkpoint note the writer
//! published, written after its batch commits and before any caller hears of
//! it. A writer refuses to load a database whose tree is smaller than that,
//! or has another root at that size: a log truncated and signed again, or a
//! database swapped for an older copy. The file holds a signed note, so it
//! cannot be forged without the key either.
//!
//! It is written with a rename and without a sync: a crash of the process
//! keeps it, a power cut may leave it one batch or so behind, which is safe
//! (a smaller high-water mark only checks less).

use std::path::{Path, PathBuf};

use super::merkle::{Hash, ProofError};
use super::note::{Checkpoint, NoteVerifier};

/// The file beside the key file `key`: `ledger.key` keeps `ledger.highwater`.
pub fn beside(key: &Path) -> PathBuf {
    key.with_extension("highwater")
}

/// Why a database does not reach the high-water mark.
#[derive(Debug, thiserror::Error)]
pub enum HighWaterError {
    #[error(
        "this ledger key signed a tree of {signed} entries ({path}) but the database holds {held}: \
         the log was truncated or replaced by an older copy; restore the database, or move {path} \
         aside only if this database is meant to replace the ledger"
    )]
    Smaller {
        path: String,
        signed: u64,
        held: u64,
    },
    #[error(
        "this ledger key signed another tree of {size} entries ({path}) than the database holds: \
         the log was rewritten; restore the database"
    )]
    OtherRoot { path: String, size: u64 },
    #[error("the high-water mark {path} cannot be read: {reason}")]
    Unreadable { path: String, reason: String },
    #[error("the database's tree: {0}")]
    Proof(#[from] ProofError),
}

/// Records `note`, a checkpoint the key just published.
pub fn record(path: &Path, note: &str) -> std::io::Result<()> {
    let mut name = path.as_os_str().to_owned();
    name.push(format!(".{}.tmp", std::process::id()));
    let temporary = PathBuf::from(name);
    std::fs::write(&temporary, note)?;
    std::fs::rename(&temporary, path)
}

/// Checks that a tree of `size` entries, whose root at any size `root_at`
/// gives, extends the checkpoint recorded at `path` (if any).
pub fn check(
    path: &Path,
    verifier: &NoteVerifier,
    size: u64,
    mut root_at: impl FnMut(u64) -> Result<Hash, ProofError>,
) -> Result<(), HighWaterError> {
    let shown = path.display().to_string();
    let note = match std::fs::read_to_string(path) {
        Ok(note) => note,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(error) => {
            return Err(HighWaterError::Unreadable {
                path: shown,
                reason: error.to_string(),
            })
        }
    };
    let signed =
        Checkpoint::open_signed(&note, verifier).map_err(|e| HighWaterError::Unreadable {
            path: shown.clone(),
            reason: e.to_string(),
        })?;
    if size < signed.size {
        return Err(HighWaterError::Smaller {
            path: shown,
            signed: signed.size,
            held: size,
        });
    }
    if signed.size > 0 && root_at(signed.size)? != signed.root {
        return Err(HighWaterError::OtherRoot {
            path: shown,
            size: signed.size,
        });
    }
    Ok(())
}
