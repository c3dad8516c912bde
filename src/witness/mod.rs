//! `scfledger witness`: run by a funder or an auditor, with only the
//! ledger's URL, its verifier key and a witness key of their own. It fetches
//! the ledger's latest checkpoint, checks that it extends the last one it
//! cosigned (kept on disk) by a consistency proof, cosigns it (C2SP
//! tlog-cosignature) and hands the cosignature back to the ledger, which
//! serves it appended to the checkpoint. A checkpoint that does not extend
//! what it cosigned before (a smaller tree, another root at the same size,
//! a failed proof) is refused, and both signed checkpoints are kept as
//! evidence: the operator showed two histories, or rewrote one.
//!
//! The rules are C2SP tlog-witness's for `add-checkpoint`; the witness
//! fetches instead of being sent to, so that it needs no port open to the
//! ledger (docs/verification.md).

use std::path::{Path, PathBuf};
use std::time::Duration;

use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine as _;
use serde::{Deserialize, Serialize};

use crate::ledger::cosignature::WitnessKey;
use crate::ledger::merkle::{self, Hash};
use crate::ledger::note::{Checkpoint, NoteVerifier};

/// What a witness remembers: the last checkpoint it cosigned, and its
/// cosignature (sent again until the ledger has it).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WitnessState {
    /// The checkpoint note as the ledger signed it.
    pub checkpoint: String,
    /// This witness's cosignature line of it.
    pub cosignature: String,
}

/// What one look at the ledger did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Seen {
    /// A new checkpoint, cosigned.
    Cosigned { size: u64 },
    /// The checkpoint this witness cosigned last; nothing new.
    Unchanged { size: u64 },
}

/// Two signed checkpoints that cannot both be honest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Evidence {
    pub reason: String,
    /// The checkpoint this witness cosigned before.
    pub cosigned: String,
    /// The checkpoint the ledger offers now.
    pub offered: String,
}

impl Evidence {
    /// The evidence as a file a person or a court can read: the reason, then
    /// both signed notes as they were received.
    pub fn to_text(&self) -> String {
        format!(
            "scfledger witness evidence\nreason: {}\n\n-- the checkpoint this witness cosigned before --\n{}\n-- the checkpoint the ledger offers now --\n{}",
            self.reason, self.cosigned, self.offered
        )
    }
}

#[derive(Debug, thiserror::Error)]
pub enum WitnessError {
    #[error("reaching the ledger: {0}")]
    Http(String),
    #[error("the ledger's answer: {0}")]
    Ledger(String),
    #[error("the witness state {path}: {reason}")]
    State { path: PathBuf, reason: String },
    /// Refused, with evidence kept at `path`.
    #[error("refused to cosign: {} (evidence in {})", .evidence.reason, .path.display())]
    Refused { evidence: Evidence, path: PathBuf },
}

/// A witness of one ledger.
pub struct Witness {
    ledger_url: String,
    verifier: NoteVerifier,
    key: WitnessKey,
    state_path: PathBuf,
    http: reqwest::blocking::Client,
}

impl Witness {
    pub fn new(
        ledger_url: &str,
        verifier: NoteVerifier,
        key: WitnessKey,
        state_path: &Path,
    ) -> Result<Self, WitnessError> {
        let http = reqwest::blocking::Client::builder()
            .timeout(Duration::from_secs(30))
            .build()
            .map_err(|e| WitnessError::Http(e.to_string()))?;
        Ok(Witness {
            ledger_url: ledger_url.trim_end_matches('/').to_string(),
            verifier,
            key,
            state_path: state_path.into(),
            http,
        })
    }

    /// Looks at the ledger once: cosigns its latest checkpoint if it extends
    /// the last one cosigned, and hands the cosignature to the ledger.
    pub fn step(&self) -> Result<Seen, WitnessError> {
        let offered = self.get_text("/api/v1/log/checkpoint")?;
        let checkpoint = Checkpoint::open_signed(&offered, &self.verifier).map_err(|e| {
            WitnessError::Ledger(format!(
                "the checkpoint does not verify with the ledger's key: {e}"
            ))
        })?;
        let state = self.load()?;
        if let Some(state) = &state {
            let before = Checkpoint::open_signed(&state.checkpoint, &self.verifier)
                .map_err(|e| self.bad_state(format!("its checkpoint does not verify: {e}")))?;
            if let Some(reason) = self.inconsistency(&before, &checkpoint)? {
                return Err(self.refuse(reason, &state.checkpoint, &offered));
            }
            if before.size == checkpoint.size {
                self.hand_over(checkpoint.size, &state.cosignature);
                return Ok(Seen::Unchanged {
                    size: checkpoint.size,
                });
            }
        }
        let body = self
            .verifier
            .open(&offered)
            .map_err(|e| WitnessError::Ledger(e.to_string()))?;
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        let cosignature = self.key.cosign(body, now);
        // Kept before it is handed over: never two different trees cosigned at one size.
        self.save(&WitnessState {
            checkpoint: offered.clone(),
            cosignature: cosignature.clone(),
        })?;
        self.hand_over(checkpoint.size, &cosignature);
        Ok(Seen::Cosigned {
            size: checkpoint.size,
        })
    }

    /// Why `offered` cannot follow `before`, if it cannot.
    fn inconsistency(
        &self,
        before: &Checkpoint,
        offered: &Checkpoint,
    ) -> Result<Option<String>, WitnessError> {
        if offered.size < before.size {
            return Ok(Some(format!(
                "the ledger offers a tree of {} entries, smaller than the {} entries this witness cosigned: the log was rolled back",
                offered.size, before.size
            )));
        }
        if offered.size == before.size {
            return Ok((offered.root != before.root).then(|| {
                format!(
                    "two different trees of {} entries: the log forked or was rewritten",
                    offered.size
                )
            }));
        }
        if before.size == 0 {
            return Ok(None);
        }
        let answer: serde_json::Value = serde_json::from_str(&self.get_text(&format!(
            "/api/v1/log/proof/consistency?first={}&second={}",
            before.size, offered.size
        ))?)
        .map_err(|e| WitnessError::Ledger(format!("the consistency proof is not JSON: {e}")))?;
        let proof: Option<Vec<Hash>> = answer["consistency_proof"].as_array().and_then(|hashes| {
            hashes
                .iter()
                .map(|h| {
                    h.as_str()
                        .and_then(|h| BASE64.decode(h).ok())
                        .and_then(|b| b.try_into().ok())
                })
                .collect()
        });
        let Some(proof) = proof else {
            return Err(WitnessError::Ledger(
                "the consistency proof is malformed".into(),
            ));
        };
        Ok(merkle::verify_consistency(before.size, offered.size, &proof, &before.root, &offered.root)
            .err()
            .map(|e| {
                format!(
                    "the tree of {} entries does not extend the tree of {} this witness cosigned ({e}): the log was rewritten",
                    offered.size, before.size
                )
            }))
    }

    /// Sends the cosignature to the ledger. A failure is only logged: the
    /// cosignature is kept and sent again at the next look.
    fn hand_over(&self, size: u64, cosignature: &str) {
        let sent = self
            .http
            .post(format!("{}/api/v1/log/cosignatures", self.ledger_url))
            .json(&serde_json::json!({"tree_size": size, "cosignature": cosignature}))
            .send();
        match sent {
            Ok(answer) if answer.status().is_success() => {}
            Ok(answer) => tracing::warn!(
                status = answer.status().as_u16(),
                body = answer.text().unwrap_or_default(),
                "the ledger did not take the cosignature"
            ),
            Err(error) => {
                tracing::warn!(error = %error, "cannot hand the cosignature to the ledger")
            }
        }
    }

    fn get_text(&self, path: &str) -> Result<String, WitnessError> {
        let answer = self
            .http
            .get(format!("{}{path}", self.ledger_url))
            .send()
            .map_err(|e| WitnessError::Http(e.to_string()))?;
        let status = answer.status();
        let text = answer
            .text()
            .map_err(|e| WitnessError::Http(e.to_string()))?;
        if !status.is_success() {
            return Err(WitnessError::Ledger(format!(
                "GET {path}: {status}: {text}"
            )));
        }
        Ok(text)
    }

    fn load(&self) -> Result<Option<WitnessState>, WitnessError> {
        match std::fs::read_to_string(&self.state_path) {
            Ok(text) => serde_json::from_str(&text)
                .map(Some)
                .map_err(|e| self.bad_state(e.to_string())),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(self.bad_state(e.to_string())),
        }
    }

    /// Writes the state durably (a temporary file, synced, renamed).
    fn save(&self, state: &WitnessState) -> Result<(), WitnessError> {
        use std::io::Write as _;
        let mut name = self.state_path.as_os_str().to_owned();
        name.push(".tmp");
        let temporary = PathBuf::from(name);
        let write = || -> std::io::Result<()> {
            let mut file = std::fs::File::create(&temporary)?;
            file.write_all(serde_json::to_string_pretty(state)?.as_bytes())?;
            file.sync_all()?;
            std::fs::rename(&temporary, &self.state_path)
        };
        write().map_err(|e| self.bad_state(e.to_string()))
    }

    fn bad_state(&self, reason: String) -> WitnessError {
        WitnessError::State {
            path: self.state_path.clone(),
            reason,
        }
    }

    /// Keeps the evidence beside the state and makes the refusal.
    fn refuse(&self, reason: String, cosigned: &str, offered: &str) -> WitnessError {
        let evidence = Evidence {
            reason,
            cosigned: cosigned.to_string(),
            offered: offered.to_string(),
        };
        let at = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        let mut name = self.state_path.as_os_str().to_owned();
        name.push(format!(".evidence-{at}"));
        let path = PathBuf::from(name);
        if let Err(error) = std::fs::write(&path, evidence.to_text()) {
            tracing::error!(error = %error, path = %path.display(), "cannot keep the evidence");
        }
        WitnessError::Refused { evidence, path }
    }
}
pub mod monitor;
