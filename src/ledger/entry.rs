//! Log entries (DESIGN.md section 2): building them, their canonical bytes, and
//! parsing them back with every rule of the format checked.

use chrono::{DateTime, SecondsFormat, SubsecRound, Utc};
use serde_json::{json, Map, Value};

use super::jcs::{self, CanonicalError};
use super::merkle::{self, Hash};
use crate::domain::{check_balanced, Posting, PostingError};
use crate::limits;

/// The format version written in every entry.
pub const FORMAT_VERSION: i64 = 1;

/// Why an entry was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EntryError {
    #[error("entry is not valid JSON: {0}")]
    Json(String),
    #[error("entry: {0}")]
    Canonical(#[from] CanonicalError),
    #[error("entry bytes are not canonical (RFC 8785)")]
    NotCanonical,
    #[error("entry member {0:?} is missing or has the wrong type")]
    Member(&'static str),
    #[error("entry has unknown member {0:?}")]
    UnknownMember(String),
    #[error("entry version {0} is not supported")]
    Version(i64),
    #[error("entry time {0:?} is not RFC 3339 UTC with microseconds and Z")]
    Time(String),
    #[error("entry kind {0:?} must be 1-{max} characters of a-z, 0-9, '.' and '_'", max = limits::KIND_LENGTH_MAX)]
    Kind(String),
    #[error("entry actor {0:?} must be 1-{max} characters of a-z, 0-9, '_' and '-'", max = limits::ACTOR_LENGTH_MAX)]
    Actor(String),
    #[error("entry postings: {0}")]
    Postings(#[from] PostingError),
    #[error("entry is {0} bytes, more than the {max} allowed", max = limits::ENTRY_BYTES_MAX)]
    TooLarge(usize),
    /// Free text holding a control or invisible formatting character.
    #[error("{member} {reason}")]
    Text { member: String, reason: String },
}

/// A party's signature over its request, kept in the entry (DESIGN.md 2).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ActorSignature {
    /// Hex key id of the party's registered key.
    pub key_id: String,
    /// Base64 Ed25519 signature.
    pub signature: String,
}

/// What a command asks the ledger to record; the sequencer adds `seq` and `at`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EntryDraft {
    pub kind: String,
    pub actor: String,
    pub body: Map<String, Value>,
    pub postings: Vec<Posting>,
    pub actor_sig: Option<ActorSignature>,
}

/// A typed entry body: the kind it is recorded as, and its members. Each
/// aggregate's events implement it (`services::*::events`), and
/// `services::events::Event` reads every kind back.
pub trait EntryBody: serde::Serialize {
    /// The entry kind, as the log spells it.
    const KIND: &'static str;

    /// The entry draft recording this body for `actor`.
    fn draft(&self, actor: impl Into<String>, postings: Vec<Posting>) -> EntryDraft {
        self.signed_draft(actor, postings, None)
    }

    /// The draft with the actor's signature over its request.
    fn signed_draft(
        &self,
        actor: impl Into<String>,
        postings: Vec<Posting>,
        actor_sig: Option<ActorSignature>,
    ) -> EntryDraft {
        let body = match serde_json::to_value(self).expect("entry bodies serialize") {
            Value::Object(body) => body,
            _ => unreachable!("entry bodies serialize as JSON objects"),
        };
        EntryDraft {
            kind: Self::KIND.into(),
            actor: actor.into(),
            body,
            postings,
            actor_sig,
        }
    }
}

impl Entry {
    /// The body read as `T`, when the entry is of `T`'s kind; `None` when it is another kind.
    pub fn body_as<T: EntryBody + serde::de::DeserializeOwned>(
        &self,
    ) -> Result<Option<T>, serde_json::Error> {
        if self.kind != T::KIND {
            return Ok(None);
        }
        serde_json::from_value(Value::Object(self.body.clone())).map(Some)
    }
}

/// One entry of the log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub seq: u64,
    pub at: DateTime<Utc>,
    pub kind: String,
    pub actor: String,
    pub body: Map<String, Value>,
    pub postings: Vec<Posting>,
    pub actor_sig: Option<ActorSignature>,
}

/// An instant truncated to the microsecond, as the log and both databases keep it.
pub fn truncate_to_micros(at: DateTime<Utc>) -> DateTime<Utc> {
    at.trunc_subsecs(6)
}

fn valid_token(text: &str, max: usize, extra: &[u8]) -> bool {
    !text.is_empty()
        && text.len() <= max
        && text
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || extra.contains(&b))
}

impl EntryDraft {
    /// Checks everything that does not depend on the log's state.
    pub fn check(&self) -> Result<(), EntryError> {
        if !valid_token(&self.kind, limits::KIND_LENGTH_MAX, b"._") {
            return Err(EntryError::Kind(self.kind.clone()));
        }
        if !valid_token(&self.actor, limits::ACTOR_LENGTH_MAX, b"_-") {
            return Err(EntryError::Actor(self.actor.clone()));
        }
        check_balanced(&self.postings)?;
        // No control or invisible formatting character enters the log.
        crate::domain::text::check_json(&Value::Object(self.body.clone())).map_err(
            |(member, error)| EntryError::Text {
                member,
                reason: error.to_string(),
            },
        )?;
        Ok(())
    }

    /// The entry this draft becomes at `seq` and `at`.
    pub fn into_entry(self, seq: u64, at: DateTime<Utc>) -> Entry {
        Entry {
            seq,
            at: truncate_to_micros(at),
            kind: self.kind,
            actor: self.actor,
            body: self.body,
            postings: self.postings,
            actor_sig: self.actor_sig,
        }
    }
}

impl Entry {
    /// The entry's members as DESIGN.md section 2 names them, all but its
    /// body (which the canonical form borrows rather than copies).
    fn members_but_body(&self) -> Map<String, Value> {
        let mut object = Map::new();
        object.insert("v".into(), json!(FORMAT_VERSION));
        object.insert("seq".into(), json!(self.seq));
        object.insert("at".into(), json!(format_time(&self.at)));
        object.insert("kind".into(), json!(self.kind));
        object.insert("actor".into(), json!(self.actor));
        if !self.postings.is_empty() {
            let postings = self
                .postings
                .iter()
                .map(|p| {
                    json!({
                        "account": p.account.as_str(),
                        "currency": p.currency.code(),
                        "amount": p.currency.format_amount(p.amount_minor),
                    })
                })
                .collect();
            object.insert("postings".into(), Value::Array(postings));
        }
        if let Some(signature) = &self.actor_sig {
            object.insert(
                "actor_sig".into(),
                json!({"key_id": signature.key_id, "sig": signature.signature}),
            );
        }
        object
    }

    /// RFC 8785 canonical bytes: what is hashed, stored and exported.
    pub fn canonical_bytes(&self) -> Result<Vec<u8>, EntryError> {
        let bytes = jcs::canonical_bytes_with(&self.members_but_body(), ("body", &self.body))?;
        if bytes.len() > limits::ENTRY_BYTES_MAX {
            return Err(EntryError::TooLarge(bytes.len()));
        }
        Ok(bytes)
    }

    /// Parses canonical bytes back into an entry, checking that they are
    /// canonical, well-formed and balanced.
    pub fn from_canonical(bytes: &[u8]) -> Result<Entry, EntryError> {
        if bytes.len() > limits::ENTRY_BYTES_MAX {
            return Err(EntryError::TooLarge(bytes.len()));
        }
        let value: Value =
            serde_json::from_slice(bytes).map_err(|e| EntryError::Json(e.to_string()))?;
        if jcs::canonical_bytes(&value)? != bytes {
            return Err(EntryError::NotCanonical);
        }
        let Value::Object(mut object) = value else {
            return Err(EntryError::Member("entry object"));
        };
        let version = object
            .remove("v")
            .and_then(|v| v.as_i64())
            .ok_or(EntryError::Member("v"))?;
        if version != FORMAT_VERSION {
            return Err(EntryError::Version(version));
        }
        let seq = object
            .remove("seq")
            .and_then(|v| v.as_u64())
            .ok_or(EntryError::Member("seq"))?;
        let at_text = take_string(&mut object, "at")?;
        let at = parse_time(&at_text)?;
        let kind = take_string(&mut object, "kind")?;
        let actor = take_string(&mut object, "actor")?;
        let body = match object.remove("body") {
            Some(Value::Object(body)) => body,
            _ => return Err(EntryError::Member("body")),
        };
        let postings = parse_postings(object.remove("postings"))?;
        let actor_sig = parse_actor_sig(object.remove("actor_sig"))?;
        if let Some(name) = object.keys().next() {
            return Err(EntryError::UnknownMember(name.clone()));
        }
        let draft = EntryDraft {
            kind,
            actor,
            body,
            postings,
            actor_sig,
        };
        draft.check()?;
        Ok(draft.into_entry(seq, at))
    }
}

/// The `postings` member: absent, or a non-empty array of exactly
/// `{account, currency, amount}` objects.
fn parse_postings(value: Option<Value>) -> Result<Vec<Posting>, EntryError> {
    match value {
        None => Ok(Vec::new()),
        Some(Value::Array(items)) if !items.is_empty() => items
            .iter()
            .enumerate()
            .map(|(index, item)| {
                let field = |name: &'static str| {
                    item.get(name)
                        .and_then(Value::as_str)
                        .ok_or(EntryError::Member("postings"))
                };
                if item.as_object().map_or(0, Map::len) != 3 {
                    return Err(EntryError::Member("postings"));
                }
                Ok(Posting::parse(
                    index,
                    field("account")?,
                    field("currency")?,
                    field("amount")?,
                )?)
            })
            .collect(),
        Some(_) => Err(EntryError::Member("postings")),
    }
}

/// The `actor_sig` member: absent, or exactly `{key_id, sig}`.
fn parse_actor_sig(value: Option<Value>) -> Result<Option<ActorSignature>, EntryError> {
    let text = |sig: &Map<String, Value>, name: &str| {
        sig.get(name)
            .and_then(Value::as_str)
            .map(str::to_string)
            .ok_or(EntryError::Member("actor_sig"))
    };
    match value {
        None => Ok(None),
        Some(Value::Object(sig)) if sig.len() == 2 => Ok(Some(ActorSignature {
            key_id: text(&sig, "key_id")?,
            signature: text(&sig, "sig")?,
        })),
        Some(_) => Err(EntryError::Member("actor_sig")),
    }
}

fn take_string(object: &mut Map<String, Value>, name: &'static str) -> Result<String, EntryError> {
    match object.remove(name) {
        Some(Value::String(text)) => Ok(text),
        _ => Err(EntryError::Member(name)),
    }
}

/// `2026-11-22T18:48:55.123456Z`
pub fn format_time(at: &DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Micros, true)
}

fn parse_time(text: &str) -> Result<DateTime<Utc>, EntryError> {
    let at = DateTime::parse_from_rfc3339(text)
        .map_err(|_| EntryError::Time(text.to_string()))?
        .with_timezone(&Utc);
    if format_time(&at) != text {
        return Err(EntryError::Time(text.to_string()));
    }
    Ok(at)
}

/// Leaf hash of canonical entry bytes.
pub fn entry_leaf_hash(canonical: &[u8]) -> Hash {
    merkle::leaf_hash(canonical)
}

/// The bytes a party signs for a request (DESIGN.md section 2, actor
/// signatures): `scfledger-request-v1\n` ‖ kind ‖ `\n` ‖ JCS(request body).
pub fn request_signing_bytes(kind: &str, request_body: &Value) -> Vec<u8> {
    let mut bytes = format!("scfledger-request-v1\n{kind}\n").into_bytes();
    bytes.extend(jcs::canonical_bytes(request_body).expect("request bodies are canonical JSON"));
    bytes
}

/// The request an entry's `actor_sig` signs, rebuilt from the entry: for
/// `invoice.confirmed`, `{"invoice_id": body.invoice_id}`. Other kinds carry no
/// actor signature.
pub fn signed_request(entry: &Entry) -> Option<Value> {
    match entry.kind.as_str() {
        "invoice.confirmed" => entry
            .body
            .get("invoice_id")
            .map(|id| serde_json::json!({ "invoice_id": id })),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn sample() -> Entry {
        let postings = vec![
            Posting::parse(0, "supplier:s1:bank", "EUR", "8820.00").unwrap(),
            Posting::parse(1, "funder:f1:cash", "EUR", "-8820.00").unwrap(),
        ];
        let mut body = Map::new();
        body.insert("memo".into(), json!("advance A"));
        EntryDraft {
            kind: "journal.posted".into(),
            actor: "op-treasury".into(),
            body,
            postings,
            actor_sig: None,
        }
        .into_entry(
            7,
            Utc.with_ymd_and_hms(2026, 11, 22, 18, 48, 55).unwrap()
                + chrono::Duration::nanoseconds(123_456_789),
        )
    }

    #[test]
    fn canonical_bytes_are_exact() {
        let bytes = sample().canonical_bytes().unwrap();
        assert_eq!(
            String::from_utf8(bytes.clone()).unwrap(),
            r#"{"actor":"op-treasury","at":"2026-11-22T18:48:55.123456Z","body":{"memo":"advance A"},"kind":"journal.posted","postings":[{"account":"supplier:s1:bank","amount":"8820.00","currency":"EUR"},{"account":"funder:f1:cash","amount":"-8820.00","currency":"EUR"}],"seq":7,"v":1}"#
        );
        assert_eq!(Entry::from_canonical(&bytes).unwrap(), sample());
    }

    #[test]
    fn refuses_non_canonical_and_malformed_entries() {
        let good = String::from_utf8(sample().canonical_bytes().unwrap()).unwrap();
        let spaced = good.replacen(":", ": ", 1);
        assert_eq!(
            Entry::from_canonical(spaced.as_bytes()),
            Err(EntryError::NotCanonical)
        );
        let unbalanced = good.replace("-8820.00", "-8820.01");
        assert!(matches!(
            Entry::from_canonical(unbalanced.as_bytes()),
            Err(EntryError::Postings(_))
        ));
        let float = good.replace("\"seq\":7", "\"seq\":7.5");
        assert!(Entry::from_canonical(float.as_bytes()).is_err());
        let no_micros = good.replace(".123456Z", "Z");
        assert_eq!(
            Entry::from_canonical(no_micros.as_bytes()),
            Err(EntryError::Time("2026-11-22T18:48:55Z".into()))
        );
        let extra = good.replace("\"v\":1", "\"v\":1,\"w\":2");
        assert_eq!(
            Entry::from_canonical(extra.as_bytes()),
            Err(EntryError::UnknownMember("w".into()))
        );
    }
}
