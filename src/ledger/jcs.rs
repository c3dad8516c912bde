//! RFC 8785 (JCS) canonical JSON for the log's integer-and-string subset.
//!
//! The log format forbids JSON floats, so the only numbers are integers, which
//! JCS prints in plain decimal exactly as serde_json does when they lie within
//! the I-JSON range (|n| ≤ 2^53 − 1). Strings use the escaping of ECMAScript
//! `JSON.stringify`, which is serde_json's. What remains of JCS is member
//! ordering by UTF-16 code units, done here. See docs/ledger-format.md.

use std::io::Write;

use serde_json::{Map, Value};

use crate::limits;

/// Why a JSON value has no canonical form in this log.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CanonicalError {
    #[error("JSON floats are not allowed in the log; write amounts and rates as decimal strings")]
    Float,
    #[error("integer {0} is outside the I-JSON range ±(2^53 - 1)")]
    IntegerRange(String),
    #[error("JSON nested deeper than {max} levels", max = limits::JSON_DEPTH_MAX)]
    TooDeep,
}

const INTEGER_MAX: i64 = (1 << 53) - 1;

/// Returns the RFC 8785 canonical bytes of `value`.
pub fn canonical_bytes(value: &Value) -> Result<Vec<u8>, CanonicalError> {
    let mut out = Vec::with_capacity(256);
    write_value(value, &mut out, 0)?;
    Ok(out)
}

/// Returns the canonical bytes of the object of `members` and one more
/// member, an object kept apart by its owner (an entry's body), borrowed
/// rather than copied into one value first.
pub fn canonical_bytes_with(
    members: &Map<String, Value>,
    (name, object): (&str, &Map<String, Value>),
) -> Result<Vec<u8>, CanonicalError> {
    let mut out = Vec::with_capacity(512);
    let all = members
        .iter()
        .map(|(name, value)| (name.as_str(), Member::Value(value)))
        .chain([(name, Member::Object(object))]);
    write_object(all, &mut out, 0)?;
    Ok(out)
}

/// A member's value, as [`write_object`] takes it.
enum Member<'a> {
    Value(&'a Value),
    Object(&'a Map<String, Value>),
}

fn members_of(object: &Map<String, Value>) -> impl Iterator<Item = (&str, Member<'_>)> {
    object
        .iter()
        .map(|(name, value)| (name.as_str(), Member::Value(value)))
}

/// Writes an object of `members`, in RFC 8785 3.2.3's order: by the UTF-16
/// code units of the names.
fn write_object<'a>(
    members: impl Iterator<Item = (&'a str, Member<'a>)>,
    out: &mut Vec<u8>,
    depth: usize,
) -> Result<(), CanonicalError> {
    if depth > limits::JSON_DEPTH_MAX {
        return Err(CanonicalError::TooDeep);
    }
    let mut sorted: Vec<(&str, Member<'a>)> = members.collect();
    sorted.sort_by(|(a, _), (b, _)| a.encode_utf16().cmp(b.encode_utf16()));
    out.push(b'{');
    for (position, (name, member)) in sorted.into_iter().enumerate() {
        if position > 0 {
            out.push(b',');
        }
        write_string(name, out);
        out.push(b':');
        match member {
            Member::Value(value) => write_value(value, out, depth + 1)?,
            Member::Object(object) => write_object(members_of(object), out, depth + 1)?,
        }
    }
    out.push(b'}');
    Ok(())
}

fn write_value(value: &Value, out: &mut Vec<u8>, depth: usize) -> Result<(), CanonicalError> {
    if depth > limits::JSON_DEPTH_MAX {
        return Err(CanonicalError::TooDeep);
    }
    match value {
        Value::Null => out.extend_from_slice(b"null"),
        Value::Bool(true) => out.extend_from_slice(b"true"),
        Value::Bool(false) => out.extend_from_slice(b"false"),
        Value::Number(number) => {
            let integer = number.as_i64().ok_or_else(|| {
                if number.is_f64() {
                    CanonicalError::Float
                } else {
                    CanonicalError::IntegerRange(number.to_string())
                }
            })?;
            if !(-INTEGER_MAX..=INTEGER_MAX).contains(&integer) {
                return Err(CanonicalError::IntegerRange(integer.to_string()));
            }
            write!(out, "{integer}").expect("writing to a Vec cannot fail");
        }
        Value::String(text) => write_string(text, out),
        Value::Array(items) => {
            out.push(b'[');
            for (position, item) in items.iter().enumerate() {
                if position > 0 {
                    out.push(b',');
                }
                write_value(item, out, depth + 1)?;
            }
            out.push(b']');
        }
        Value::Object(members) => write_object(members_of(members), out, depth)?,
    }
    Ok(())
}

fn write_string(text: &str, out: &mut Vec<u8>) {
    // serde_json escapes exactly as ECMAScript JSON.stringify: \" \\ \b \f \n \r \t,
    // other controls as lower-case \u00xx, everything else literal.
    serde_json::to_writer(&mut *out, text).expect("writing to a Vec cannot fail");
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn canonical(value: Value) -> String {
        String::from_utf8(canonical_bytes(&value).unwrap()).unwrap()
    }

    #[test]
    fn an_object_kept_apart_is_written_as_if_it_were_a_member() {
        let members = json!({"\u{fb33}": 1, "zeta": [1, {"b": 2, "a": "x"}], "\u{1f600}": 3});
        let body = json!({"y": {"\u{20ac}": 1, "\r": 2}, "x": null});
        let mut whole = members.as_object().unwrap().clone();
        whole.insert("body".into(), body.clone());
        assert_eq!(
            canonical_bytes_with(
                members.as_object().unwrap(),
                ("body", body.as_object().unwrap())
            )
            .unwrap(),
            canonical_bytes(&Value::Object(whole)).unwrap()
        );
    }

    #[test]
    fn sorts_members_by_utf16_code_units() {
        // RFC 8785 section 3.2.3's sorting example, with integer values.
        let value: Value = serde_json::from_str(
            r#"{"\u20ac":1,"\r":2,"\ufb33":3,"1":4,"\ud83d\ude00":5,"\u0080":6,"\u00f6":7}"#,
        )
        .unwrap();
        assert_eq!(
            canonical(value),
            "{\"\\r\":2,\"1\":4,\"\u{80}\":6,\"ö\":7,\"€\":1,\"😀\":5,\"\u{fb33}\":3}"
        );
    }

    #[test]
    fn escapes_like_json_stringify() {
        assert_eq!(
            canonical(json!({"s": "\u{1}\u{8}\t\n\u{c}\r\"\\/\u{7f}\u{2028}é"})),
            "{\"s\":\"\\u0001\\b\\t\\n\\f\\r\\\"\\\\/\u{7f}\u{2028}é\"}"
        );
    }

    #[test]
    fn nested_and_literals() {
        assert_eq!(
            canonical(json!({"b": [true, false, null, -7, {"z": 1, "a": []}], "a": {}})),
            r#"{"a":{},"b":[true,false,null,-7,{"a":[],"z":1}]}"#
        );
    }

    #[test]
    fn refuses_floats_and_big_integers() {
        assert_eq!(
            canonical_bytes(&json!({"x": 1.5})),
            Err(CanonicalError::Float)
        );
        assert_eq!(
            canonical_bytes(&json!(9_007_199_254_740_992_i64)),
            Err(CanonicalError::IntegerRange("9007199254740992".into()))
        );
        assert!(canonical_bytes(&json!(u64::MAX)).is_err());
        let mut deep = json!(1);
        for _ in 0..=limits::JSON_DEPTH_MAX {
            deep = json!([deep]);
        }
        assert_eq!(canonical_bytes(&deep), Err(CanonicalError::TooDeep));
    }
}
