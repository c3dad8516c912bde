//! Witness cosignatures (C2SP tlog-cosignature, `cosignature/v1`): a
//! witness's timestamped Ed25519 signature of a checkpoint it found
//! consistent with every one it cosigned before. Appended to the checkpoint
//! note as one more signature line, so a note carries the log's signature
//! and its witnesses'. The formats are in docs/ledger-format.md.
//!
//! - Signed message: `cosignature/v1\ntime <seconds>\n` then the checkpoint
//!   body (origin, size, root, each line ending in a newline).
//! - Signature line: `— <name> base64(key id[4] ‖ u64be seconds ‖ signature[64])`.
//! - Key id: the first 4 bytes of SHA-256(name ‖ `\n` ‖ 0x04 ‖ public key).
//! - Verifier key: `<name>+<key id hex>+base64(0x04 ‖ public key)`.

use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine as _;
use ed25519_dalek::{Signer as _, SigningKey, Verifier as _, VerifyingKey};
use sha2::{Digest, Sha256};

/// The signature type of cosignature/v1 (C2SP signed-note).
const ALGORITHM_COSIGNATURE_V1: u8 = 0x04;
/// A note signature line starts with an em dash and a space.
const SIGNATURE_PREFIX: &str = "\u{2014} ";

/// Why a witness key or a cosignature is not accepted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CosignatureError {
    #[error("malformed witness key: {0}")]
    MalformedKey(&'static str),
    #[error("malformed cosignature line: {0}")]
    MalformedLine(&'static str),
    #[error("the cosignature of {0} does not verify")]
    BadSignature(String),
}

fn key_id(name: &str, public: &VerifyingKey) -> [u8; 4] {
    let digest = Sha256::new()
        .chain_update(name.as_bytes())
        .chain_update([b'\n', ALGORITHM_COSIGNATURE_V1])
        .chain_update(public.as_bytes())
        .finalize();
    [digest[0], digest[1], digest[2], digest[3]]
}

fn valid_name(name: &str) -> bool {
    !name.is_empty() && !name.contains('+') && !name.chars().any(char::is_whitespace)
}

/// The message a cosignature signs.
fn message(body: &str, timestamp: u64) -> String {
    format!("cosignature/v1\ntime {timestamp}\n{body}")
}

/// A witness's private key.
pub struct WitnessKey {
    name: String,
    signing: SigningKey,
}

impl std::fmt::Debug for WitnessKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never print the private key.
        f.debug_struct("WitnessKey")
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

impl WitnessKey {
    /// A key from a 32-byte Ed25519 seed.
    pub fn from_seed(name: &str, seed: [u8; 32]) -> Result<Self, CosignatureError> {
        if !valid_name(name) {
            return Err(CosignatureError::MalformedKey(
                "the name must be non-empty, without '+' or spaces",
            ));
        }
        Ok(WitnessKey {
            name: name.to_string(),
            signing: SigningKey::from_bytes(&seed),
        })
    }

    /// A fresh key from the operating system's random source.
    pub fn generate(name: &str) -> Result<Self, CosignatureError> {
        let mut seed = [0u8; 32];
        getrandom::fill(&mut seed)
            .map_err(|_| CosignatureError::MalformedKey("no randomness available"))?;
        Self::from_seed(name, seed)
    }

    /// `PRIVATE+KEY+<name>+<key id>+base64(0x04 ‖ seed)`, as the key file holds it.
    pub fn private_text(&self) -> String {
        let mut bytes = vec![ALGORITHM_COSIGNATURE_V1];
        bytes.extend_from_slice(self.signing.as_bytes());
        format!(
            "PRIVATE+KEY+{}+{}+{}",
            self.name,
            hex::encode(key_id(&self.name, &self.signing.verifying_key())),
            BASE64.encode(bytes)
        )
    }

    /// Parses [`WitnessKey::private_text`].
    pub fn parse_private(text: &str) -> Result<Self, CosignatureError> {
        let rest =
            text.trim()
                .strip_prefix("PRIVATE+KEY+")
                .ok_or(CosignatureError::MalformedKey(
                    "a private key starts with PRIVATE+KEY+",
                ))?;
        let mut parts = rest.splitn(3, '+');
        let (Some(name), Some(_), Some(key)) = (parts.next(), parts.next(), parts.next()) else {
            return Err(CosignatureError::MalformedKey(
                "expected PRIVATE+KEY+name+id+key",
            ));
        };
        let bytes = BASE64
            .decode(key)
            .map_err(|_| CosignatureError::MalformedKey("the key is not base64"))?;
        let seed: [u8; 32] = match bytes.split_first() {
            Some((&ALGORITHM_COSIGNATURE_V1, seed)) => seed
                .try_into()
                .map_err(|_| CosignatureError::MalformedKey("an Ed25519 seed is 32 bytes"))?,
            _ => {
                return Err(CosignatureError::MalformedKey(
                    "not a cosignature/v1 (0x04) key",
                ))
            }
        };
        Self::from_seed(name, seed)
    }

    /// The witness's verifier key.
    pub fn verifier(&self) -> WitnessVerifier {
        WitnessVerifier {
            name: self.name.clone(),
            public: self.signing.verifying_key(),
        }
    }

    /// The signature line cosigning the checkpoint `body` at `timestamp`
    /// (seconds since 1970), with its final newline.
    pub fn cosign(&self, body: &str, timestamp: u64) -> String {
        let signature = self.signing.sign(message(body, timestamp).as_bytes());
        let mut blob = key_id(&self.name, &self.signing.verifying_key()).to_vec();
        blob.extend_from_slice(&timestamp.to_be_bytes());
        blob.extend_from_slice(&signature.to_bytes());
        format!("{SIGNATURE_PREFIX}{} {}\n", self.name, BASE64.encode(blob))
    }
}

/// A witness's public key, as a ledger or a verifier is configured with it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WitnessVerifier {
    name: String,
    public: VerifyingKey,
}

impl WitnessVerifier {
    /// Parses `<name>+<key id>+base64(0x04 ‖ public key)`.
    pub fn parse(text: &str) -> Result<Self, CosignatureError> {
        let mut parts = text.trim().splitn(3, '+');
        let (Some(name), Some(id_hex), Some(key), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(CosignatureError::MalformedKey("expected name+keyid+key"));
        };
        if !valid_name(name) {
            return Err(CosignatureError::MalformedKey("bad key name"));
        }
        let bytes = BASE64
            .decode(key)
            .map_err(|_| CosignatureError::MalformedKey("the key is not base64"))?;
        let public: [u8; 32] = match bytes.split_first() {
            Some((&ALGORITHM_COSIGNATURE_V1, public)) => public
                .try_into()
                .map_err(|_| CosignatureError::MalformedKey("an Ed25519 key is 32 bytes"))?,
            _ => {
                return Err(CosignatureError::MalformedKey(
                    "not a cosignature/v1 (0x04) key",
                ))
            }
        };
        let public = VerifyingKey::from_bytes(&public)
            .map_err(|_| CosignatureError::MalformedKey("not an Ed25519 point"))?;
        if hex::encode(key_id(name, &public)) != id_hex {
            return Err(CosignatureError::MalformedKey(
                "the key id does not match the key",
            ));
        }
        Ok(WitnessVerifier {
            name: name.to_string(),
            public,
        })
    }

    /// `<name>+<key id>+base64(0x04 ‖ public key)`.
    pub fn to_text(&self) -> String {
        let mut bytes = vec![ALGORITHM_COSIGNATURE_V1];
        bytes.extend_from_slice(self.public.as_bytes());
        format!(
            "{}+{}+{}",
            self.name,
            hex::encode(key_id(&self.name, &self.public)),
            BASE64.encode(bytes)
        )
    }

    /// The witness's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Whether `line` is a signature line of this witness (its name and key
    /// id): other lines are not its business.
    pub fn signed(&self, line: &str) -> bool {
        self.decode(line)
            .is_ok_and(|blob| blob[..4] == key_id(&self.name, &self.public))
    }

    fn decode(&self, line: &str) -> Result<Vec<u8>, CosignatureError> {
        let rest = line
            .trim_end_matches('\n')
            .strip_prefix(SIGNATURE_PREFIX)
            .ok_or(CosignatureError::MalformedLine(
                "a signature line starts with \"— \"",
            ))?;
        let (name, blob) = rest.split_once(' ').ok_or(CosignatureError::MalformedLine(
            "expected a name and a signature",
        ))?;
        if name != self.name {
            return Err(CosignatureError::MalformedLine("another key's name"));
        }
        let blob = BASE64
            .decode(blob)
            .map_err(|_| CosignatureError::MalformedLine("the signature is not base64"))?;
        if blob.len() != 4 + 8 + 64 {
            return Err(CosignatureError::MalformedLine(
                "a cosignature is a key id, a timestamp and a signature (76 bytes)",
            ));
        }
        Ok(blob)
    }

    /// Checks `line` as this witness's cosignature of the checkpoint `body`;
    /// returns its timestamp.
    pub fn verify(&self, body: &str, line: &str) -> Result<u64, CosignatureError> {
        let blob = self.decode(line)?;
        if blob[..4] != key_id(&self.name, &self.public) {
            return Err(CosignatureError::MalformedLine("another key's id"));
        }
        let timestamp = u64::from_be_bytes(blob[4..12].try_into().expect("8 bytes"));
        let signature = ed25519_dalek::Signature::from_slice(&blob[12..])
            .map_err(|_| CosignatureError::MalformedLine("not an Ed25519 signature"))?;
        if timestamp > i64::MAX as u64 {
            return Err(CosignatureError::MalformedLine(
                "the timestamp is past 2^63 - 1",
            ));
        }
        self.public
            .verify(message(body, timestamp).as_bytes(), &signature)
            .map_err(|_| CosignatureError::BadSignature(self.name.clone()))?;
        Ok(timestamp)
    }
}

/// The witnesses among `witnesses` whose valid cosignature of `body` is in
/// `note` (each counted once): a verifier requiring N of M counts these.
pub fn cosigned_by<'a>(
    note: &str,
    body: &str,
    witnesses: &'a [WitnessVerifier],
) -> Vec<&'a WitnessVerifier> {
    witnesses
        .iter()
        .filter(|witness| {
            note.lines()
                .any(|line| witness.signed(line) && witness.verify(body, line).is_ok())
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn seed(hex_text: &str) -> [u8; 32] {
        hex::decode(hex_text).unwrap().try_into().unwrap()
    }

    /// Known answers (Ed25519 signing is deterministic): the "witness" key of
    /// transparency-dev/witness's tests over its size-5 checkpoint, and the
    /// golang/mod note test's PeterNeumann seed under a witness name over the
    /// C2SP example checkpoint, both at time 1679315147. Worked out by an
    /// independent implementation (Python `cryptography`) from the C2SP text.
    #[test]
    fn cosignatures_match_the_known_answers() {
        let witness = WitnessKey::from_seed(
            "witness",
            seed("a2dafdd7f2061ca8fe6d19ed60a2f7c10d5595adacff29c6044daf1eed216880"),
        )
        .unwrap();
        assert_eq!(
            witness.verifier().to_text(),
            "witness+24b37851+BNYV1Ztajd9BvyjP2HgpwrqYL6TjOwIjGMOq8Bu42xbN"
        );
        let body = "Log Checkpoint v0\n5\n41smjBUiAU70EtKlT6lIOIYtRTYxYXsDB+XHfcvu/BE=\n";
        assert_eq!(
            witness.cosign(body, 1679315147),
            "— witness JLN4UQAAAABkGFDLYKZWXcTnOfOyexwWdBMk5UXlDrg6e1NN7lqyLdS1nJyYuYFh/brA+woASM5U8uK7MKyVuPKCNQdmPeGHjOY5Dw==\n"
        );
        let w1 = WitnessKey::from_seed(
            "witness.example.com/w1",
            seed("810a1402d5146c8d84f2443330f54080ebf98ee17d9c74f6252fc5d5c7283173"),
        )
        .unwrap();
        let body =
            "example.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n";
        let line = w1.cosign(body, 1679315147);
        assert_eq!(
            line,
            "— witness.example.com/w1 1GorGwAAAABkGFDLJeR//pqzhnEKVvEm2wWbh2RJ6oru5+cUUfm5X9NnlaGr8aSH9QE5RVZD4QGlxl2F5UpVIIi94p178KLfqPPsAA==\n"
        );
        assert_eq!(w1.verifier().verify(body, &line), Ok(1679315147));
        // The timestamp is signed: the same signature at another time fails.
        let mut blob = BASE64
            .decode(line.trim_end().rsplit(' ').next().unwrap())
            .unwrap();
        blob[11] ^= 1;
        let forged = format!("— witness.example.com/w1 {}", BASE64.encode(&blob));
        assert!(matches!(
            w1.verifier().verify(body, &forged),
            Err(CosignatureError::BadSignature(_))
        ));
        assert!(w1
            .verifier()
            .verify(&body.replace("20852163", "20852164"), &line)
            .is_err());
        // A plain note signature (type 0x01, 68 bytes) is no cosignature.
        let plain = "— witness.example.com/w1 eQjRQm6eSKzFoiYalgwCPXu2y3ijtg68is9M46JKxuZB+dRfTmeQeDBoXnvxZx2ugnkyV+MUMLXpWs1hPb/W/4xkNQY=";
        assert!(matches!(
            w1.verifier().verify(body, plain),
            Err(CosignatureError::MalformedLine(_))
        ));
    }

    #[test]
    fn keys_round_trip_and_bad_keys_are_named() {
        let key = WitnessKey::generate("auditor.example/w").unwrap();
        let again = WitnessKey::parse_private(&key.private_text()).unwrap();
        assert_eq!(again.verifier(), key.verifier());
        let text = key.verifier().to_text();
        assert_eq!(WitnessVerifier::parse(&text).unwrap(), key.verifier());
        let wrong_id = format!(
            "auditor.example/w+00000000+{}",
            text.rsplit('+').next().unwrap()
        );
        assert!(WitnessVerifier::parse(&wrong_id).is_err());
        // A ledger's (0x01) verifier key is not a witness key.
        assert!(WitnessVerifier::parse(
            "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"
        )
        .is_err());
    }
}
