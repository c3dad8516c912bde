//! `scfledger export`: the log as JSON Lines of canonical bytes plus the latest
//! checkpoint note beside it (DESIGN.md section 2).

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use crate::db::log as log_db;
use crate::db::{DbConnection, DbError};
use crate::limits;

/// Why an export failed.
#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    #[error("{0}")]
    Storage(#[from] DbError),
    #[error("writing {path}: {source}", path = .path.display())]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("the log is empty; nothing to export")]
    Empty,
}

/// The checkpoint file written beside an export.
pub fn checkpoint_path(out: &Path) -> PathBuf {
    let mut name = out.as_os_str().to_owned();
    name.push(".checkpoint");
    PathBuf::from(name)
}

/// Writes the export; returns the number of entries.
pub fn export(connection: &mut DbConnection, out: &Path) -> Result<u64, ExportError> {
    // The checkpoint is read first: the entries it covers are final.
    let checkpoint = log_db::latest_checkpoint(connection)?.ok_or(ExportError::Empty)?;
    let size = checkpoint.tree_size;
    let io = |path: &Path| {
        let path = path.to_path_buf();
        move |source| ExportError::Io { path, source }
    };
    let mut writer = BufWriter::new(File::create(out).map_err(io(out))?);
    let mut next = 0i64;
    while next < size {
        let rows = log_db::entries_from(
            connection,
            next,
            limits::SCAN_CHUNK_ENTRIES.min(size - next),
        )?;
        if rows.is_empty() {
            return Err(ExportError::Storage(DbError::Corrupt(format!(
                "entry {next} is missing"
            ))));
        }
        for row in rows {
            writer
                .write_all(row.canonical.as_bytes())
                .map_err(io(out))?;
            writer.write_all(b"\n").map_err(io(out))?;
            next = row.seq + 1;
        }
    }
    writer
        .into_inner()
        .map_err(|e| ExportError::Io {
            path: out.into(),
            source: e.into_error(),
        })?
        .sync_all()
        .map_err(io(out))?;
    let checkpoint_file = checkpoint_path(out);
    std::fs::write(&checkpoint_file, checkpoint.note).map_err(io(&checkpoint_file))?;
    Ok(size as u64)
}
