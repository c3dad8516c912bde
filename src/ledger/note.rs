//! The ledger key, C2SP signed notes and C2SP tlog checkpoints.
//!
//! Key encodings follow golang.org/x/mod/sumdb/note, so the same key files work
//! with Go's and others' note tooling:
//! - private: `PRIVATE+KEY+<name>+<hex key id>+<base64(0x01 ‖ seed)>`
//! - verifier: `<name>+<hex key id>+<base64(0x01 ‖ public key)>`
//! - key id: the first 4 bytes of SHA-256(name ‖ 0x0A ‖ 0x01 ‖ public key).

use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine as _;
use ed25519_dalek::{Signature, Signer as _, SigningKey, VerifyingKey};
use sha2::{Digest, Sha256};

use super::merkle::Hash;

const ALGORITHM_ED25519: u8 = 0x01;
const SIGNATURE_PREFIX: &str = "\u{2014} ";

/// Why a key, note or checkpoint was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NoteError {
    #[error("malformed key: {0}")]
    MalformedKey(&'static str),
    #[error("malformed note: {0}")]
    MalformedNote(&'static str),
    #[error("no signature by key {0} on the note")]
    NotSigned(String),
    #[error("the signature by key {0} does not verify")]
    BadSignature(String),
    #[error("malformed checkpoint: {0}")]
    MalformedCheckpoint(&'static str),
}

fn key_id(name: &str, public: &VerifyingKey) -> [u8; 4] {
    let mut hasher = Sha256::new();
    hasher.update(name.as_bytes());
    hasher.update([b'\n', ALGORITHM_ED25519]);
    hasher.update(public.as_bytes());
    let digest = hasher.finalize();
    [digest[0], digest[1], digest[2], digest[3]]
}

fn valid_name(name: &str) -> bool {
    !name.is_empty()
        && !name.contains('+')
        && !name.chars().any(char::is_whitespace)
        && name.is_ascii()
}

/// The ledger's signing key with its name (the checkpoint origin).
pub struct LedgerKey {
    name: String,
    signing: SigningKey,
    /// Where the largest tree this key signed is kept (`ledger::highwater`);
    /// `None` for a key that lives in memory only (tests, benchmarks).
    highwater: Option<std::path::PathBuf>,
}

impl std::fmt::Debug for LedgerKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never print the private key.
        f.debug_struct("LedgerKey")
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

impl LedgerKey {
    /// A key from a 32-byte Ed25519 seed.
    pub fn from_seed(name: &str, seed: [u8; 32]) -> Result<Self, NoteError> {
        if !valid_name(name) {
            return Err(NoteError::MalformedKey(
                "the name must be non-empty ASCII without '+' or spaces",
            ));
        }
        Ok(LedgerKey {
            name: name.to_string(),
            signing: SigningKey::from_bytes(&seed),
            highwater: None,
        })
    }

    /// The key, keeping its high-water mark at `path`.
    pub fn with_highwater(mut self, path: std::path::PathBuf) -> Self {
        self.highwater = Some(path);
        self
    }

    /// Where the largest tree this key signed is kept, if anywhere.
    pub fn highwater(&self) -> Option<&std::path::Path> {
        self.highwater.as_deref()
    }

    /// A fresh key from the operating system's random source.
    pub fn generate(name: &str) -> Result<Self, NoteError> {
        let mut seed = [0u8; 32];
        getrandom::fill(&mut seed)
            .map_err(|_| NoteError::MalformedKey("no randomness available"))?;
        Self::from_seed(name, seed)
    }

    /// Parses `PRIVATE+KEY+name+keyid+base64(0x01 ‖ seed)`.
    pub fn parse_private(text: &str) -> Result<Self, NoteError> {
        let rest = text
            .trim_end_matches('\n')
            .strip_prefix("PRIVATE+KEY+")
            .ok_or(NoteError::MalformedKey(
                "a private key starts with PRIVATE+KEY+",
            ))?;
        // The base64 key may itself contain '+': split at the first two only.
        let mut parts = rest.splitn(3, '+');
        let (Some(name), Some(id_hex), Some(key_b64), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(NoteError::MalformedKey(
                "expected PRIVATE+KEY+name+keyid+key",
            ));
        };
        let bytes = BASE64
            .decode(key_b64)
            .map_err(|_| NoteError::MalformedKey("key is not base64"))?;
        let (&[ALGORITHM_ED25519], seed) = bytes.split_at(1.min(bytes.len())) else {
            return Err(NoteError::MalformedKey(
                "only Ed25519 (algorithm 1) keys are supported",
            ));
        };
        let seed: [u8; 32] = seed
            .try_into()
            .map_err(|_| NoteError::MalformedKey("an Ed25519 seed is 32 bytes"))?;
        let key = Self::from_seed(name, seed)?;
        if hex::encode(key.key_id()) != id_hex {
            return Err(NoteError::MalformedKey("the key id does not match the key"));
        }
        Ok(key)
    }

    /// The private key line (secret: written only to the 0600 key file).
    pub fn private_text(&self) -> String {
        let mut bytes = vec![ALGORITHM_ED25519];
        bytes.extend_from_slice(self.signing.as_bytes());
        format!(
            "PRIVATE+KEY+{}+{}+{}",
            self.name,
            hex::encode(self.key_id()),
            BASE64.encode(bytes)
        )
    }

    /// The key name, which is also the checkpoint origin.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The 4-byte key id.
    pub fn key_id(&self) -> [u8; 4] {
        key_id(&self.name, &self.signing.verifying_key())
    }

    /// The verifier for this key.
    pub fn verifier(&self) -> NoteVerifier {
        NoteVerifier {
            name: self.name.clone(),
            public: self.signing.verifying_key(),
        }
    }

    /// A secret derived from the private key for other uses than signing
    /// (SHA-256 of a label and the key), so the key itself is never reused.
    pub fn derivation_secret(&self) -> [u8; 32] {
        let mut hasher = Sha256::new();
        hasher.update(b"scfledger-derivation-secret-v1\n");
        hasher.update(self.signing.as_bytes());
        hasher.finalize().into()
    }

    /// Ed25519 signature of `message`.
    pub fn sign(&self, message: &[u8]) -> Signature {
        self.signing.sign(message)
    }

    /// Signs `text` (which must end in a newline) as a C2SP signed note.
    pub fn sign_note(&self, text: &str) -> Result<String, NoteError> {
        check_note_text(text)?;
        let signature = self.signing.sign(text.as_bytes());
        let mut blob = self.key_id().to_vec();
        blob.extend_from_slice(&signature.to_bytes());
        Ok(format!(
            "{text}\n{SIGNATURE_PREFIX}{} {}\n",
            self.name,
            BASE64.encode(blob)
        ))
    }
}

fn check_note_text(text: &str) -> Result<(), NoteError> {
    if !text.ends_with('\n') {
        return Err(NoteError::MalformedNote("the text must end with a newline"));
    }
    if text.contains("\n\n") || text.starts_with('\n') {
        return Err(NoteError::MalformedNote(
            "the text must not contain blank lines",
        ));
    }
    Ok(())
}

/// A public verifier key for signed notes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NoteVerifier {
    name: String,
    public: VerifyingKey,
}

impl NoteVerifier {
    /// Parses `name+keyid+base64(0x01 ‖ public key)`.
    pub fn parse(text: &str) -> Result<Self, NoteError> {
        let mut parts = text.trim().splitn(3, '+');
        let (Some(name), Some(id_hex), Some(key_b64), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(NoteError::MalformedKey("expected name+keyid+key"));
        };
        if !valid_name(name) {
            return Err(NoteError::MalformedKey("bad key name"));
        }
        let bytes = BASE64
            .decode(key_b64)
            .map_err(|_| NoteError::MalformedKey("key is not base64"))?;
        let (&[ALGORITHM_ED25519], public) = bytes.split_at(1.min(bytes.len())) else {
            return Err(NoteError::MalformedKey(
                "only Ed25519 (algorithm 1) keys are supported",
            ));
        };
        let public: [u8; 32] = public
            .try_into()
            .map_err(|_| NoteError::MalformedKey("an Ed25519 public key is 32 bytes"))?;
        let public = VerifyingKey::from_bytes(&public)
            .map_err(|_| NoteError::MalformedKey("not an Ed25519 point"))?;
        if hex::encode(key_id(name, &public)) != id_hex {
            return Err(NoteError::MalformedKey("the key id does not match the key"));
        }
        Ok(NoteVerifier {
            name: name.to_string(),
            public,
        })
    }

    /// The key name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The Ed25519 public key.
    pub fn public_key(&self) -> &VerifyingKey {
        &self.public
    }

    /// The verifier key line.
    pub fn to_text(&self) -> String {
        let mut bytes = vec![ALGORITHM_ED25519];
        bytes.extend_from_slice(self.public.as_bytes());
        format!(
            "{}+{}+{}",
            self.name,
            hex::encode(key_id(&self.name, &self.public)),
            BASE64.encode(bytes)
        )
    }

    /// Opens a signed note: returns its text once this key's signature verifies.
    /// Signatures by other keys are ignored, as C2SP allows.
    pub fn open<'a>(&self, note: &'a str) -> Result<&'a str, NoteError> {
        let split = note.rfind("\n\n").ok_or(NoteError::MalformedNote(
            "no blank line before the signatures",
        ))?;
        let (text, signatures) = (&note[..split + 1], &note[split + 2..]);
        check_note_text(text)?;
        if signatures.is_empty() || !signatures.ends_with('\n') {
            return Err(NoteError::MalformedNote(
                "signature lines must end with a newline",
            ));
        }
        let id = key_id(&self.name, &self.public);
        let label = format!("{}+{}", self.name, hex::encode(id));
        for line in signatures.lines() {
            let body = line
                .strip_prefix(SIGNATURE_PREFIX)
                .ok_or(NoteError::MalformedNote(
                    "a signature line starts with an em dash and a space",
                ))?;
            let (name, blob) = body.split_once(' ').ok_or(NoteError::MalformedNote(
                "a signature line is name and base64 signature",
            ))?;
            let blob = BASE64
                .decode(blob)
                .map_err(|_| NoteError::MalformedNote("signature is not base64"))?;
            if name != self.name || blob.len() < 4 || blob[..4] != id {
                continue;
            }
            let signature = Signature::from_slice(&blob[4..])
                .map_err(|_| NoteError::BadSignature(label.clone()))?;
            return self
                .public
                .verify_strict(text.as_bytes(), &signature)
                .map(|_| text)
                .map_err(|_| NoteError::BadSignature(label));
        }
        Err(NoteError::NotSigned(label))
    }
}

/// A C2SP tlog checkpoint: origin, tree size and root hash.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checkpoint {
    pub origin: String,
    pub size: u64,
    pub root: Hash,
}

impl Checkpoint {
    /// The checkpoint body: three lines, each ending in a newline.
    pub fn to_text(&self) -> String {
        format!(
            "{}\n{}\n{}\n",
            self.origin,
            self.size,
            BASE64.encode(self.root)
        )
    }

    /// Parses a checkpoint body (extension lines after the third are allowed and ignored).
    pub fn parse(text: &str) -> Result<Self, NoteError> {
        let mut lines = text.split('\n');
        let (Some(origin), Some(size), Some(root)) = (lines.next(), lines.next(), lines.next())
        else {
            return Err(NoteError::MalformedCheckpoint(
                "expected origin, size and root lines",
            ));
        };
        if origin.is_empty() {
            return Err(NoteError::MalformedCheckpoint("empty origin"));
        }
        if size.is_empty()
            || !size.bytes().all(|b| b.is_ascii_digit())
            || (size.len() > 1 && size.starts_with('0'))
        {
            return Err(NoteError::MalformedCheckpoint(
                "the tree size is not a decimal number",
            ));
        }
        let size = size
            .parse()
            .map_err(|_| NoteError::MalformedCheckpoint("the tree size is too large"))?;
        let root = BASE64
            .decode(root)
            .ok()
            .and_then(|bytes| bytes.try_into().ok())
            .ok_or(NoteError::MalformedCheckpoint(
                "the root is not a base64 SHA-256 hash",
            ))?;
        Ok(Checkpoint {
            origin: origin.to_string(),
            size,
            root,
        })
    }

    /// Verifies a signed checkpoint note and returns the checkpoint.
    pub fn open_signed(note: &str, verifier: &NoteVerifier) -> Result<Self, NoteError> {
        let checkpoint = Self::parse(verifier.open(note)?)?;
        if checkpoint.origin != verifier.name() {
            return Err(NoteError::MalformedCheckpoint(
                "the origin is not the key name",
            ));
        }
        Ok(checkpoint)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // Known answer from golang.org/x/mod/sumdb/note's tests.
    const PRIVATE: &str =
        "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz";
    const VERIFIER: &str = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW";
    const TEXT: &str = "If you think cryptography is the answer to your problem,\nthen you don't know what your problem is.\n";
    const SIGNED: &str = "If you think cryptography is the answer to your problem,\nthen you don't know what your problem is.\n\n\u{2014} PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n";

    #[test]
    fn signed_note_matches_known_answer_byte_for_byte() {
        let key = LedgerKey::parse_private(PRIVATE).unwrap();
        assert_eq!(key.private_text(), PRIVATE);
        assert_eq!(key.verifier().to_text(), VERIFIER);
        assert_eq!(key.sign_note(TEXT).unwrap(), SIGNED);
        let verifier = NoteVerifier::parse(VERIFIER).unwrap();
        assert_eq!(verifier.open(SIGNED), Ok(TEXT));
    }

    #[test]
    fn tampered_notes_are_refused() {
        let verifier = NoteVerifier::parse(VERIFIER).unwrap();
        let altered = SIGNED.replace("cryptography", "Cryptography");
        assert_eq!(
            verifier.open(&altered),
            Err(NoteError::BadSignature("PeterNeumann+c74f20a3".into()))
        );
        let other = LedgerKey::from_seed("PeterNeumann", [7; 32]).unwrap();
        let forged = other.sign_note(TEXT).unwrap();
        assert_eq!(
            verifier.open(&forged),
            Err(NoteError::NotSigned("PeterNeumann+c74f20a3".into()))
        );
        assert!(NoteVerifier::parse(
            "PeterNeumann+c74f20a4+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"
        )
        .is_err());
        assert!(LedgerKey::parse_private("PRIVATE+KEY+PeterNeumann+c74f20a3+AYEK").is_err());
    }

    #[test]
    fn checkpoint_round_trip() {
        let key = LedgerKey::from_seed("scfledger.test/ledger", [1; 32]).unwrap();
        let checkpoint = Checkpoint {
            origin: key.name().into(),
            size: 8,
            root: [0xab; 32],
        };
        let text = checkpoint.to_text();
        assert_eq!(
            text,
            "scfledger.test/ledger\n8\nq6urq6urq6urq6urq6urq6urq6urq6urq6urq6urq6s=\n"
        );
        let note = key.sign_note(&text).unwrap();
        assert_eq!(
            Checkpoint::open_signed(&note, &key.verifier()),
            Ok(checkpoint)
        );
        assert!(
            Checkpoint::parse("o\n08\nq6urq6urq6urq6urq6urq6urq6urq6urq6urq6urq6s=\n").is_err()
        );
    }
}
