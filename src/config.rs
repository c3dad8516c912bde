//! Settings: command-line flags, each with an SCFLEDGER_* environment variable.

use std::path::PathBuf;
use std::time::Duration;

use clap::Args;

use crate::db::{DatabaseUrl, DbError};
use crate::ledger::SequencerConfig;
use crate::limits;

/// Where the ledger lives; shared by every command.
#[derive(Debug, Clone, Args)]
pub struct StorageArgs {
    /// Database URL: sqlite://path or postgres://…
    #[arg(
        long = "database",
        env = "SCFLEDGER_DATABASE_URL",
        default_value = "sqlite://data/scfledger.db",
        global = true
    )]
    pub database_url: String,
    /// Ledger key file [default: ledger.key beside the SQLite file, or data/ledger.key]
    #[arg(long = "key-file", env = "SCFLEDGER_KEY_FILE", global = true)]
    pub key_file: Option<PathBuf>,
    /// Most commands per sequencer batch.
    #[arg(long, env = "SCFLEDGER_BATCH_SIZE", default_value_t = limits::SEQUENCER_BATCH_SIZE_DEFAULT, global = true)]
    pub batch_size: usize,
    /// Longest wait for more commands before a batch commits, in microseconds.
    #[arg(long, env = "SCFLEDGER_BATCH_WINDOW_US", default_value_t = limits::SEQUENCER_BATCH_WINDOW_US_DEFAULT, global = true)]
    pub batch_window_us: u64,
}

/// Settings resolved from [`StorageArgs`].
#[derive(Debug, Clone)]
pub struct Settings {
    pub database: DatabaseUrl,
    pub key_file: PathBuf,
    pub sequencer: SequencerConfig,
}

impl StorageArgs {
    /// Resolves defaults that depend on the database URL.
    pub fn settings(&self) -> Result<Settings, DbError> {
        let database = DatabaseUrl::parse(&self.database_url)?;
        let key_file = self.key_file.clone().unwrap_or_else(|| {
            database
                .sqlite_folder()
                .unwrap_or_else(|| PathBuf::from("data"))
                .join("ledger.key")
        });
        let sequencer = SequencerConfig {
            batch_size_max: self.batch_size,
            batch_window: Duration::from_micros(self.batch_window_us),
            ..SequencerConfig::default()
        }
        .bounded();
        Ok(Settings {
            database,
            key_file,
            sequencer,
        })
    }
}
