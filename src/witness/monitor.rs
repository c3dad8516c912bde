//! `scfledger monitor`: follows the whole log from outside, with an auditor's
//! (or the operator's) API key and the ledger's verifier key. Every entry is
//! checked as `verify` checks it (canonical bytes, its seq, balanced postings)
//! and hashed into the monitor's own tree, which must reach the root of the
//! ledger's signed checkpoint; the monitor keeps running balances per
//! account. A gap, a rewrite (entries that do not hash to the signed root,
//! or a tree smaller than one seen before) or an unbalanced posting is an
//! alert: a log line, exit status 2, and optionally a webhook.
//!
//! Actor signatures are not checked here; `scfledger verify --export` checks
//! them over an export.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine as _;
use serde::{Deserialize, Serialize};

use crate::ledger::entry::{entry_leaf_hash, Entry};
use crate::ledger::merkle::{Frontier, MemoryNodes};
use crate::ledger::note::{Checkpoint, NoteVerifier};

/// What the monitor remembers between looks.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct MonitorState {
    /// Entries checked so far.
    pub size: u64,
    /// The perfect subtrees of the monitor's own tree: (level, index, base64 hash).
    pub frontier: Vec<(u32, u64, String)>,
    /// The last checkpoint the monitor's tree matched.
    pub checkpoint: Option<String>,
    /// Running balance per account and currency ("account currency"), in minor units.
    pub balances: BTreeMap<String, i64>,
}

/// What went wrong, as an alert says it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Alert {
    /// `gap`, `rewrite` or `unbalanced`.
    pub kind: &'static str,
    pub detail: String,
}

#[derive(Debug, thiserror::Error)]
pub enum MonitorError {
    #[error("reaching the ledger: {0}")]
    Http(String),
    #[error("the monitor state {path}: {reason}")]
    State { path: PathBuf, reason: String },
    #[error("ALERT {}: {}", .0.kind, .0.detail)]
    Alert(Alert),
}

/// A monitor of one ledger.
pub struct Monitor {
    ledger_url: String,
    verifier: NoteVerifier,
    api_key: String,
    state_path: PathBuf,
    webhook: Option<String>,
    http: reqwest::blocking::Client,
}

impl Monitor {
    pub fn new(
        ledger_url: &str,
        verifier: NoteVerifier,
        api_key: &str,
        state_path: &Path,
        webhook: Option<String>,
    ) -> Result<Self, MonitorError> {
        let http = reqwest::blocking::Client::builder()
            .timeout(Duration::from_secs(60))
            .build()
            .map_err(|e| MonitorError::Http(e.to_string()))?;
        Ok(Monitor {
            ledger_url: ledger_url.trim_end_matches('/').to_string(),
            verifier,
            api_key: api_key.trim().to_string(),
            state_path: state_path.into(),
            webhook,
            http,
        })
    }

    /// Checks every entry up to the ledger's latest checkpoint; returns the
    /// size checked. An alert is also sent to the webhook, if there is one.
    pub fn step(&self) -> Result<u64, MonitorError> {
        let outcome = self.follow();
        if let (Err(MonitorError::Alert(alert)), Some(url)) = (&outcome, &self.webhook) {
            let sent = self
                .http
                .post(url)
                .json(&serde_json::json!({"alert": alert.kind, "detail": alert.detail, "ledger": self.ledger_url}))
                .send();
            if let Err(error) = sent {
                tracing::error!(error = %error, "cannot deliver the alert to the webhook");
            }
        }
        outcome
    }

    fn follow(&self) -> Result<u64, MonitorError> {
        let note = self.get("/api/v1/log/checkpoint")?.text().map_err(http)?;
        let checkpoint = Checkpoint::open_signed(&note, &self.verifier)
            .map_err(|e| MonitorError::Http(format!("the checkpoint does not verify: {e}")))?;
        let mut state = self.load()?;
        if checkpoint.size < state.size {
            return Err(alert(
                "rewrite",
                format!(
                    "the ledger's tree has {} entries; this monitor checked {} before: the log was rolled back",
                    checkpoint.size, state.size
                ),
            ));
        }
        let mut frontier = self.frontier(&state)?;
        while state.size < checkpoint.size {
            let page: serde_json::Value = self
                .get(&format!(
                    "/api/v1/log/entries?from={}&limit={}",
                    state.size,
                    (checkpoint.size - state.size).min(crate::limits::LOG_PAGE_ENTRIES_MAX)
                ))?
                .json()
                .map_err(http)?;
            let entries = page["entries"].as_array().cloned().unwrap_or_default();
            if entries.is_empty() {
                return Err(alert(
                    "gap",
                    format!(
                        "the ledger serves no entry {} below its tree of {}",
                        state.size, checkpoint.size
                    ),
                ));
            }
            for value in entries.iter().take((checkpoint.size - state.size) as usize) {
                let seq = state.size;
                let bytes = crate::ledger::jcs::canonical_bytes(value).map_err(|e| {
                    alert("rewrite", format!("entry {seq} is not canonical JSON: {e}"))
                })?;
                let entry = Entry::from_canonical(&bytes).map_err(|e| {
                    use crate::domain::posting::PostingError;
                    use crate::ledger::entry::EntryError;
                    let kind = match e {
                        EntryError::Postings(PostingError::Unbalanced { .. }) => "unbalanced",
                        _ => "rewrite",
                    };
                    alert(kind, format!("entry {seq}: {e}"))
                })?;
                if entry.seq != seq {
                    return Err(alert(
                        "gap",
                        format!("expected entry {seq}, the ledger served {}", entry.seq),
                    ));
                }
                for posting in &entry.postings {
                    *state
                        .balances
                        .entry(format!(
                            "{} {}",
                            posting.account.as_str(),
                            posting.currency.code()
                        ))
                        .or_insert(0) += posting.amount_minor;
                }
                frontier.append(entry_leaf_hash(&bytes), |_| {});
                state.size += 1;
            }
        }
        if frontier.root() != checkpoint.root {
            return Err(alert(
                "rewrite",
                format!(
                    "the entries do not hash to the signed root of the tree of {} entries: the log was rewritten",
                    checkpoint.size
                ),
            ));
        }
        state.frontier = frontier
            .perfect_nodes()
            .map(|node| (node.level, node.index, BASE64.encode(node.hash)))
            .collect();
        state.checkpoint = Some(note);
        self.save(&state)?;
        Ok(state.size)
    }

    /// The running balances per currency of `account`, as of the last look.
    pub fn balances_of(&self, account: &str) -> Result<Vec<(String, i64)>, MonitorError> {
        let prefix = format!("{account} ");
        Ok(self
            .load()?
            .balances
            .into_iter()
            .filter_map(|(key, minor)| key.strip_prefix(&prefix).map(|c| (c.to_string(), minor)))
            .collect())
    }

    fn frontier(&self, state: &MonitorState) -> Result<Frontier, MonitorError> {
        let mut nodes = MemoryNodes::default();
        for (level, index, hash) in &state.frontier {
            let hash = BASE64
                .decode(hash)
                .ok()
                .and_then(|b| b.try_into().ok())
                .ok_or_else(|| {
                    self.bad_state("a frontier hash is not 32 bytes of base64".into())
                })?;
            nodes.insert(crate::ledger::merkle::CompletedNode {
                level: *level,
                index: *index,
                hash,
            });
        }
        Frontier::load(&mut nodes, state.size).map_err(|e| self.bad_state(e.to_string()))
    }

    fn get(&self, path: &str) -> Result<reqwest::blocking::Response, MonitorError> {
        let answer = self
            .http
            .get(format!("{}{path}", self.ledger_url))
            .bearer_auth(&self.api_key)
            .send()
            .map_err(http)?;
        if !answer.status().is_success() {
            let status = answer.status();
            return Err(MonitorError::Http(format!(
                "GET {path}: {status}: {}",
                answer.text().unwrap_or_default()
            )));
        }
        Ok(answer)
    }

    fn load(&self) -> Result<MonitorState, MonitorError> {
        match std::fs::read_to_string(&self.state_path) {
            Ok(text) => serde_json::from_str(&text).map_err(|e| self.bad_state(e.to_string())),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(MonitorState::default()),
            Err(e) => Err(self.bad_state(e.to_string())),
        }
    }

    fn save(&self, state: &MonitorState) -> Result<(), MonitorError> {
        let mut name = self.state_path.as_os_str().to_owned();
        name.push(".tmp");
        let temporary = PathBuf::from(name);
        let text = serde_json::to_string(state).map_err(|e| self.bad_state(e.to_string()))?;
        std::fs::write(&temporary, text)
            .and_then(|()| std::fs::rename(&temporary, &self.state_path))
            .map_err(|e| self.bad_state(e.to_string()))
    }

    fn bad_state(&self, reason: String) -> MonitorError {
        MonitorError::State {
            path: self.state_path.clone(),
            reason,
        }
    }
}

fn alert(kind: &'static str, detail: String) -> MonitorError {
    MonitorError::Alert(Alert { kind, detail })
}

fn http(error: reqwest::Error) -> MonitorError {
    MonitorError::Http(error.to_string())
}
