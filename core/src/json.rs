//! How the engine reads the JSON of licenses and keys: an object that names a member twice is
//! refused, at any depth. Readers disagree on which of two members counts (the first, the last,
//! both), so no reading of an ambiguous token header, claims set, key set or catalog is trusted;
//! RFC 7515 §4 and RFC 7519 §4 allow refusing.
//! * [`parse`]: a whole document as a `serde_json::Value`;
//! * `members`: an object's members in order without building a map (the token header, whose
//!   members are read in document order).
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
    /// Not JSON at all, or an object naming a member twice at any depth (the parser's words,
    /// with line and column).
    Syntax(serde_json::Error),
    /// Valid JSON, but not an object.
    NotAnObject,
    /// More than [`MAX_MEMBERS`] members.
    TooMany,
}

/// The most members [`members`] reads: each name is compared with those before it, so the work
/// stays bounded (a JWS header has a handful of members, license claims about fifteen).
pub(crate) const MAX_MEMBERS: usize = 64;

/// A member: its name (borrowed from the document unless written with escapes) and its value.
pub(crate) type Member<'a> = (Cow<'a, str>, Value);

/// The members of the JSON object in `json`, in document order, each value read by [`parse`]'s
/// rule (a nested object naming a member twice is refused too).
pub(crate) fn members(json: &[u8]) -> Result<Vec<Member<'_>>, MembersError> {
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

type Read<'a> = Result<Vec<Member<'a>>, MembersError>;

impl<'de> Visitor<'de> for MembersVisitor {
    type Value = Read<'de>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Read<'de>, A::Error> {
        let mut members: Vec<Member<'de>> = Vec::new();
        let mut problem = None;
        // Read to the end even past a problem: serde_json checks the object is closed.
        while let Some(Name(name)) = map.next_key::<Name<'de>>()? {
            let StrictValue(value) = map.next_value()?;
            if problem.is_some() {
                continue;
            } else if members.len() == MAX_MEMBERS {
                problem = Some(MembersError::TooMany);
            } else if members.iter().any(|(seen, _)| *seen == name) {
                // Worded and placed as `parse` words it, so both readers answer alike.
                return Err(twice(&name));
            } else {
                members.push((name, value));
            }
        }
        Ok(match problem {
            Some(problem) => Err(problem),
            None => Ok(members),
        })
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Read<'de>, A::Error> {
        // Consume the array so that the document's end is still checked for trailing text (as
        // values: serde_json's nesting limit then applies as when reading a `Value`).
        while seq.next_element::<StrictValue>()?.is_some() {}
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

/// The error for a member named twice (serde_json adds the line and column).
fn twice<E: de::Error>(name: &str) -> E {
    let shown = crate::error::shown(name, 40, "(a long name)");
    E::custom(format_args!("the member {shown:?} appears twice"))
}

/// For the typed (`fast-json`) readers: `null`, or an object naming each member once, as a map
/// (serde's own map reader keeps the last of two; under this module's rule the typed reader must
/// then fail and leave the document to the general one, which words the refusal).
#[cfg(feature = "fast-json")]
pub(crate) fn unique_members<'de, D, V>(
    deserializer: D,
) -> Result<Option<std::collections::BTreeMap<String, V>>, D::Error>
where
    D: Deserializer<'de>,
    V: de::Deserialize<'de>,
{
    use std::collections::BTreeMap;
    use std::marker::PhantomData;

    struct UniqueMembers<V>(PhantomData<V>);

    impl<'de, V: de::Deserialize<'de>> Visitor<'de> for UniqueMembers<V> {
        type Value = Option<BTreeMap<String, V>>;

        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("null or an object naming each member once")
        }

        fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
            Ok(None)
        }

        fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
            let mut members = BTreeMap::new();
            while let Some((name, value)) = map.next_entry::<String, V>()? {
                if members.contains_key(&name) {
                    return Err(twice(&name));
                }
                members.insert(name, value);
            }
            Ok(Some(members))
        }
    }

    deserializer.deserialize_any(UniqueMembers(PhantomData))
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

/// A JSON object of these members, in this order: what `json!` builds, without `json!`'s trip
/// through serde's `Value` serializer (which the size-budgeted wasm build links only for it).
pub(crate) fn object(members: &mut [(&str, Value)]) -> Value {
    let mut map = serde_json::Map::new();
    for (name, value) in members.iter_mut() {
        map.insert((*name).to_owned(), value.take());
    }
    Value::Object(map)
}

/// Parses `json` into a `Value`, refusing an object that names a member twice at any depth (the
/// error is serde_json's, with the line and column of the repeated member). Otherwise the same
/// as `serde_json::from_slice::<Value>`, nesting limit included.
///
/// ```
/// use dev_health_entitlements::json::parse;
/// assert_eq!(parse(br#"{"a":[1,{"b":null}]}"#).unwrap()["a"][1]["b"], serde_json::Value::Null);
/// let err = parse(br#"{"tier":"community","tier":"enterprise"}"#).unwrap_err();
/// assert!(err.to_string().contains("\"tier\" appears twice"));
/// ```
pub fn parse(json: &[u8]) -> Result<Value, serde_json::Error> {
    serde_json::from_slice::<StrictValue>(json).map(|v| v.0)
}

/// A `Value` read without resolving repeated members. Every JSON type has its visit method, so
/// serde never words a type error (see the module docs).
struct StrictValue(Value);

impl<'de> de::Deserialize<'de> for StrictValue {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(StrictVisitor)
    }
}

struct StrictVisitor;

impl<'de> Visitor<'de> for StrictVisitor {
    type Value = StrictValue;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<StrictValue, A::Error> {
        let mut object = serde_json::Map::new();
        while let Some(Name(name)) = map.next_key::<Name<'de>>()? {
            let StrictValue(value) = map.next_value()?;
            if object.contains_key(&*name) {
                return Err(twice(&name));
            }
            object.insert(name.into_owned(), value);
        }
        Ok(StrictValue(Value::Object(object)))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<StrictValue, A::Error> {
        let mut items = Vec::new();
        while let Some(StrictValue(item)) = seq.next_element()? {
            items.push(item);
        }
        Ok(StrictValue(Value::Array(items)))
    }

    fn visit_bool<E: de::Error>(self, b: bool) -> Result<StrictValue, E> {
        Ok(StrictValue(Value::Bool(b)))
    }

    fn visit_i64<E: de::Error>(self, n: i64) -> Result<StrictValue, E> {
        Ok(StrictValue(Value::from(n)))
    }

    fn visit_u64<E: de::Error>(self, n: u64) -> Result<StrictValue, E> {
        Ok(StrictValue(Value::from(n)))
    }

    fn visit_f64<E: de::Error>(self, n: f64) -> Result<StrictValue, E> {
        // JSON has no NaN or infinity, so `from` never turns a parsed number into null.
        Ok(StrictValue(Value::from(n)))
    }

    fn visit_str<E: de::Error>(self, s: &str) -> Result<StrictValue, E> {
        Ok(StrictValue(Value::String(s.to_owned())))
    }

    fn visit_string<E: de::Error>(self, s: String) -> Result<StrictValue, E> {
        Ok(StrictValue(Value::String(s)))
    }

    fn visit_unit<E: de::Error>(self) -> Result<StrictValue, E> {
        Ok(StrictValue(Value::Null))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_object_reads_in_document_order_with_borrowed_names() {
        let read = members(br#" {"b":1,"a":[true],"c":{"d":null},"esc\u0061ped":2} "#).unwrap();
        let names: Vec<&str> = read.iter().map(|(n, _)| n.as_ref()).collect();
        assert_eq!(names, ["b", "a", "c", "escaped"]);
        assert_eq!(read[1].1, serde_json::json!([true]));
        // Names are borrowed from the document unless escapes make a copy necessary.
        assert!(matches!(read[0].0, Cow::Borrowed("b")));
        assert!(matches!(&read[3].0, Cow::Owned(name) if name == "escaped"));
    }

    #[test]
    fn a_member_named_twice_is_refused_at_any_depth() {
        for (json, name) in [
            (&br#"{"alg":"none","kid":"k","alg":"EdDSA"}"#[..], "alg"),
            (br#"{"a":{"x":1,"x":2}}"#, "x"),
        ] {
            match members(json) {
                Err(MembersError::Syntax(e)) => {
                    assert!(
                        e.to_string().contains(&format!("{name:?} appears twice")),
                        "{e}"
                    );
                }
                other => panic!("{other:?}"),
            }
        }
        for json in [
            r#"{"a":1,"a":1}"#,
            r#"{"x":{"min_tier":"team","min_tier":"community"}}"#,
            r#"[{"k":[{"v":1,"w":2,"v":3}]}]"#,
            r#"{"\u0061":1,"a":2}"#,
        ] {
            let err = parse(json.as_bytes()).unwrap_err().to_string();
            assert!(err.contains("appears twice"), "{json}: {err}");
        }
    }

    #[test]
    fn an_object_of_too_many_members_is_refused() {
        let object = |n: usize| {
            let body: Vec<String> = (0..n).map(|i| format!("\"m{i}\":{i}")).collect();
            format!("{{{}}}", body.join(","))
        };
        let (most, over) = (object(MAX_MEMBERS), object(MAX_MEMBERS + 1));
        assert_eq!(members(most.as_bytes()).unwrap().len(), MAX_MEMBERS);
        assert!(matches!(
            members(over.as_bytes()),
            Err(MembersError::TooMany)
        ));
        // `parse` checks with a map: no bound beyond the document's size.
        assert_eq!(
            parse(object(5000).as_bytes())
                .unwrap()
                .as_object()
                .unwrap()
                .len(),
            5000
        );
    }

    #[test]
    fn without_repeated_members_parse_reads_what_serde_json_reads() {
        for json in [
            r#"{"a":[1,-2,3.5,"x\u0041",null,true,{"b":{}}],"c":{"d":[[],{}]}}"#,
            "[]",
            "1e3",
            "\"s\"",
            "null",
            " {} ",
        ] {
            let plain: Value = serde_json::from_str(json).unwrap();
            assert_eq!(parse(json.as_bytes()).unwrap(), plain, "{json}");
        }
        // The same nesting limit and the same refusal of trailing text.
        let deep = format!("{}1{}", "[".repeat(200), "]".repeat(200));
        assert!(parse(deep.as_bytes()).is_err());
        assert!(serde_json::from_str::<Value>(&deep).is_err());
        assert!(parse(b"{\"a\":1} x").is_err());
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
