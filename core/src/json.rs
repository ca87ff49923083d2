//! Reading JSON objects member by member, without building a map: the token header (where a
//! member named twice is refused: no reading of an ambiguous header is trusted) and the claims
//! (read straight into their fields).
//!
//! The visitor answers every JSON type itself instead of leaving serde to word a type error: a
//! serde type error can name a floating-point value, and that alone links the whole of Rust's
//! float printer into the size-budgeted wasm build.

use std::borrow::Cow;
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

/// What to do with a member named twice.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Duplicates {
    /// [`MembersError::Duplicate`].
    Refuse,
    /// Keep every occurrence, in order (a reader taking the last one agrees with a map).
    Keep,
}

/// A member: its name (borrowed from the document unless written with escapes) and its value.
pub(crate) type Member<'a> = (Cow<'a, str>, Value);

/// The members of the JSON object in `json`, in document order.
pub(crate) fn members(
    json: &[u8],
    duplicates: Duplicates,
) -> Result<Vec<Member<'_>>, MembersError> {
    let mut deserializer = serde_json::Deserializer::from_slice(json);
    let read = deserializer
        .deserialize_any(MembersVisitor(duplicates))
        .and_then(|members| deserializer.end().map(|()| members));
    match read {
        Ok(Ok(members)) => Ok(members),
        Ok(Err(problem)) => Err(problem),
        Err(e) => Err(MembersError::Syntax(e)),
    }
}

/// Reads an object's members; any other JSON value is [`MembersError::NotAnObject`]. The nested
/// result keeps "valid JSON of the wrong shape" apart from syntax errors without a serde error.
struct MembersVisitor(Duplicates);

type Read<'a> = Result<Vec<Member<'a>>, MembersError>;

impl<'de> Visitor<'de> for MembersVisitor {
    type Value = Read<'de>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Read<'de>, A::Error> {
        let mut members: Vec<Member<'de>> = Vec::new();
        let mut duplicate = None;
        // Read to the end even past a duplicate: serde_json checks the object is closed.
        while let Some(Name(name)) = map.next_key::<Name<'de>>()? {
            let value = map.next_value::<Value>()?;
            if self.0 == Duplicates::Refuse && members.iter().any(|(seen, _)| *seen == name) {
                duplicate.get_or_insert(name);
            } else {
                members.push((name, value));
            }
        }
        Ok(match duplicate {
            Some(name) => Err(MembersError::Duplicate(name.into_owned())),
            None => Ok(members),
        })
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Read<'de>, A::Error> {
        // Consume the array so that the document's end is still checked for trailing text (as
        // values: serde_json's nesting limit then applies as when reading a `Value`).
        while seq.next_element::<Value>()?.is_some() {}
        Ok(Err(MembersError::NotAnObject))
    }

    fn visit_bool<E: de::Error>(self, _: bool) -> Result<Read<'de>, E> {
        Ok(Err(MembersError::NotAnObject))
    }

    fn visit_i64<E: de::Error>(self, _: i64) -> Result<Read<'de>, E> {
        Ok(Err(MembersError::NotAnObject))
    }

    fn visit_u64<E: de::Error>(self, _: u64) -> Result<Read<'de>, E> {
        Ok(Err(MembersError::NotAnObject))
    }

    fn visit_f64<E: de::Error>(self, _: f64) -> Result<Read<'de>, E> {
        Ok(Err(MembersError::NotAnObject))
    }

    fn visit_str<E: de::Error>(self, _: &str) -> Result<Read<'de>, E> {
        Ok(Err(MembersError::NotAnObject))
    }

    fn visit_unit<E: de::Error>(self) -> Result<Read<'de>, E> {
        Ok(Err(MembersError::NotAnObject))
    }
}

/// A member name, borrowed from the document when it holds no escapes (no allocation).
struct Name<'de>(Cow<'de, str>);

impl<'de> de::Deserialize<'de> for Name<'de> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_str(NameVisitor)
    }
}

struct NameVisitor;

impl<'de> Visitor<'de> for NameVisitor {
    type Value = Name<'de>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a member name")
    }

    fn visit_borrowed_str<E: de::Error>(self, name: &'de str) -> Result<Name<'de>, E> {
        Ok(Name(Cow::Borrowed(name)))
    }

    fn visit_str<E: de::Error>(self, name: &str) -> Result<Name<'de>, E> {
        Ok(Name(Cow::Owned(name.to_owned())))
    }

    fn visit_string<E: de::Error>(self, name: String) -> Result<Name<'de>, E> {
        Ok(Name(Cow::Owned(name)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_object_reads_in_document_order() {
        let read = members(
            br#" {"b":1,"a":[true],"c":{"d":null}} "#,
            Duplicates::Refuse,
        )
        .unwrap();
        let names: Vec<&str> = read.iter().map(|(n, _)| n.as_ref()).collect();
        assert_eq!(names, ["b", "a", "c"]);
        assert_eq!(read[1].1, serde_json::json!([true]));
    }

    #[test]
    fn a_member_named_twice_is_refused_with_its_name() {
        match members(
            br#"{"alg":"none","kid":"k","alg":"EdDSA"}"#,
            Duplicates::Refuse,
        ) {
            Err(MembersError::Duplicate(name)) => assert_eq!(name, "alg"),
            other => panic!("{other:?}"),
        }
        // Only the top level counts: nested objects are values.
        assert!(members(br#"{"a":{"x":1,"x":2}}"#, Duplicates::Refuse).is_ok());
        let kept = members(br#"{"a":1,"a":2}"#, Duplicates::Keep).unwrap();
        assert_eq!(kept, [("a".into(), 1.into()), ("a".into(), 2.into())]);
        // Names are borrowed from the document unless escapes make a copy necessary.
        let read = members(br#"{"plain":1,"esc\u0061ped":2}"#, Duplicates::Keep).unwrap();
        assert!(matches!(read[0].0, Cow::Borrowed("plain")));
        assert!(matches!(&read[1].0, Cow::Owned(name) if name == "escaped"));
    }

    #[test]
    fn other_json_is_not_an_object_and_broken_json_is_a_syntax_error() {
        for json in ["[1,2]", "1", "-1", "1.5", "\"s\"", "true", "null"] {
            assert!(
                matches!(
                    members(json.as_bytes(), Duplicates::Keep),
                    Err(MembersError::NotAnObject)
                ),
                "{json}"
            );
        }
        for json in ["", "{", "{\"a\":1} x", "[1] x", "{\"a\" 1}", "\u{c}{}"] {
            assert!(
                matches!(
                    members(json.as_bytes(), Duplicates::Keep),
                    Err(MembersError::Syntax(_))
                ),
                "{json:?}"
            );
        }
    }
}
