//! The ledger key on disk: one line in Go's note private-key form, mode 0600.

use std::fs::OpenOptions;
use std::io::Write;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

use super::note::{LedgerKey, NoteError};

/// Why the key file could not be used.
#[derive(Debug, thiserror::Error)]
pub enum KeyFileError {
    #[error("no ledger key at {0}; run `scfledger init` first")]
    Missing(PathBuf),
    #[error("the ledger key {path} is readable by others (mode {mode:o}); run `chmod 600 {path}`", path = .path.display())]
    TooOpen { path: PathBuf, mode: u32 },
    #[error("a ledger key already exists at {0}; refusing to overwrite it")]
    Exists(PathBuf),
    #[error("the ledger key {path}: {source}", path = .path.display())]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("the ledger key {path}: {source}", path = .path.display())]
    Malformed { path: PathBuf, source: NoteError },
}

/// Loads the key, refusing a file that group or others can read or write.
pub fn load(path: &Path) -> Result<LedgerKey, KeyFileError> {
    let io = |source| KeyFileError::Io {
        path: path.into(),
        source,
    };
    let metadata = match std::fs::metadata(path) {
        Ok(metadata) => metadata,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Err(KeyFileError::Missing(path.into()))
        }
        Err(e) => return Err(io(e)),
    };
    let mode = metadata.permissions().mode() & 0o777;
    if mode & 0o077 != 0 {
        return Err(KeyFileError::TooOpen {
            path: path.into(),
            mode,
        });
    }
    let text = std::fs::read_to_string(path).map_err(io)?;
    let key =
        LedgerKey::parse_private(text.trim_end()).map_err(|source| KeyFileError::Malformed {
            path: path.into(),
            source,
        })?;
    Ok(key.with_highwater(super::highwater::beside(path)))
}

/// Creates a new key file with mode 0600; never overwrites.
pub fn create(path: &Path, name: &str) -> Result<LedgerKey, KeyFileError> {
    let io = |source| KeyFileError::Io {
        path: path.into(),
        source,
    };
    if let Some(folder) = path.parent().filter(|f| !f.as_os_str().is_empty()) {
        std::fs::create_dir_all(folder).map_err(io)?;
    }
    let key = LedgerKey::generate(name).map_err(|source| KeyFileError::Malformed {
        path: path.into(),
        source,
    })?;
    let mut file = match OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
    {
        Ok(file) => file,
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
            return Err(KeyFileError::Exists(path.into()))
        }
        Err(e) => return Err(io(e)),
    };
    file.write_all(format!("{}\n", key.private_text()).as_bytes())
        .map_err(io)?;
    file.sync_all().map_err(io)?;
    Ok(key.with_highwater(super::highwater::beside(path)))
}

/// Loads the key, or creates it when there is none yet.
pub fn load_or_create(path: &Path, name: &str) -> Result<(LedgerKey, bool), KeyFileError> {
    match load(path) {
        Ok(key) => Ok((key, false)),
        Err(KeyFileError::Missing(_)) => create(path, name).map(|key| (key, true)),
        Err(other) => Err(other),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn created_with_mode_0600_and_refused_when_open() {
        let folder = tempfile::tempdir().unwrap();
        let path = folder.path().join("data/ledger.key");
        let key = create(&path, "test.ledger").unwrap();
        assert_eq!(
            std::fs::metadata(&path).unwrap().permissions().mode() & 0o777,
            0o600
        );
        assert_eq!(load(&path).unwrap().private_text(), key.private_text());
        assert!(matches!(
            create(&path, "test.ledger"),
            Err(KeyFileError::Exists(_))
        ));
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
        assert!(matches!(
            load(&path),
            Err(KeyFileError::TooOpen { mode: 0o644, .. })
        ));
    }
}
