//! Reading JSON objects member by member, for the documents where a member named twice must be
//! refused rather than resolved to the last (a token header: no reading of an ambiguous header is
//! trusted).
//!
//! The visitor answers every JSON type itself instead of leaving serde to word a type error: a
//! serde type error can name a floating-point value, and that alone links the whole of Rust's
//! float printer into the size-budgeted wasm build.

use std::fmt;

use serde::de::{self, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::Value;

/// Why a document could not be read as [`members`].
#[derive(Debug)]
pub(crate) enum MembersError {
    /// Not JSON at all (the parser's words, with line and column).
    Syntax(serde_json::Error),
    /// Valid JSON, but not an object.
    NotAnObject,
    /// An object naming a member twice (the name).
    Duplicate(String),
}

/// The members of the JSON object in `json`, in document order.
pub(crate) fn members(json: &[u8]) -> Result<Vec<(String, Value)>, MembersError> {
    let mut deserializer = serde_json::Deserializer::from_slice(json);
    let read = deserializer
        .deserialize_any(MembersVisitor)
        .and_then(|members| deserializer.end().map(|()| members));
    match read {
        Ok(Ok(members)) => Ok(members),
        Ok(Err(problem)) => Err(problem),
        Err(e) => Err(MembersError::Syntax(e)),
    }
}

/// Reads an object's members; any other JSON value is [`MembersError::NotAnObject`]. The nested
/// result keeps "valid JSON of the wrong shape" apart from syntax errors without a serde error.
struct MembersVisitor;

type Read = Result<Vec<(String, Value)>, MembersError>;

impl<'de> Visitor<'de> for MembersVisitor {
    type Value = Read;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Read, A::Error> {
        let mut members: Vec<(String, Value)> = Vec::new();
        let mut duplicate = None;
        // Read to the end even past a duplicate: serde_json checks the object is closed.
        while let Some(name) = map.next_key::<String>()? {
            let value = map.next_value::<Value>()?;
            if members.iter().any(|(seen, _)| *seen == name) {
                duplicate.get_or_insert(name);
            } else {
                members.push((name, value));
            }
        }
        Ok(match duplicate {
            Some(name) => Err(MembersError::Duplicate(name)),
            None => Ok(members),
        })
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Read, A::Error> {
        // Consume the array so that the document's end is still checked for trailing text.
        while seq.next_element::<de::IgnoredAny>()?.is_some() {}
        Ok(Err(MembersError::NotAnObject))
    }

    fn visit_bool<E: de::Error>(self, _: bool) -> Result<Read, E> {
        Ok(Err(MembersError::NotAnObject))
    }

    fn visit_i64<E: de::Error>(self, _: i64) -> Result<Read, E> {
        Ok(Err(MembersError::NotAnObject))
    }

    fn visit_u64<E: de::Error>(self, _: u64) -> Result<Read, E> {
        Ok(Err(MembersError::NotAnObject))
    }

    fn visit_f64<E: de::Error>(self, _: f64) -> Result<Read, E> {
        Ok(Err(MembersError::NotAnObject))
    }

    fn visit_str<E: de::Error>(self, _: &str) -> Result<Read, E> {
        Ok(Err(MembersError::NotAnObject))
    }

    fn visit_unit<E: de::Error>(self) -> Result<Read, E> {
        Ok(Err(MembersError::NotAnObject))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_object_reads_in_document_order() {
        let read = members(br#" {"b":1,"a":[true],"c":{"d":null}} "#).unwrap();
        let names: Vec<&str> = read.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(names, ["b", "a", "c"]);
        assert_eq!(read[1].1, serde_json::json!([true]));
    }

    #[test]
    fn a_member_named_twice_is_refused_with_its_name() {
        match members(br#"{"alg":"none","kid":"k","alg":"EdDSA"}"#) {
            Err(MembersError::Duplicate(name)) => assert_eq!(name, "alg"),
            other => panic!("{other:?}"),
        }
        // Only the top level counts: nested objects are values.
        assert!(members(br#"{"a":{"x":1,"x":2}}"#).is_ok());
    }

    #[test]
    fn other_json_is_not_an_object_and_broken_json_is_a_syntax_error() {
        for json in ["[1,2]", "1", "-1", "1.5", "\"s\"", "true", "null"] {
            assert!(
                matches!(members(json.as_bytes()), Err(MembersError::NotAnObject)),
                "{json}"
            );
        }
        for json in ["", "{", "{\"a\":1} x", "[1] x", "{\"a\" 1}", "\u{c}{}"] {
            assert!(
                matches!(members(json.as_bytes()), Err(MembersError::Syntax(_))),
                "{json:?}"
            );
        }
    }
}
