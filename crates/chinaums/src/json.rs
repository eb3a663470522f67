//! Strict JSON input: serde_json keeps the last of two equal keys, which in
//! a payment request would silently pick one of two amounts. Requests and
//! configs go through [`parse_object`], which refuses a repeated key at any
//! depth and names it. A syntax error is put in plain words by [`syntax`].

pub mod syntax;

use crate::error::{clip, Error, ErrorKind, Result};
use serde::de::{DeserializeSeed, Deserializer, Error as _, MapAccess, SeqAccess, Visitor};
use serde_json::map::Entry;
use serde_json::{Map, Number, Value};
use std::cell::RefCell;

/// Parses `text` as a JSON object, refusing repeated keys. `what` names the
/// document in messages ("the request", "config").
pub fn parse_object(text: &str, what: &str) -> Result<Map<String, Value>> {
    let value = parse_strict(text).map_err(|problem| match problem {
        Problem::Repeated(key) => {
            let key = clip(&key);
            let mut e = Error::new(
                ErrorKind::InvalidJson,
                format!("{what} repeats the key `{key}`"),
            );
            e.field = Some(key);
            e
        }
        Problem::Syntax(e) => Error::new(
            ErrorKind::InvalidJson,
            format!("{what}: {}", syntax::describe(&e, text)),
        ),
    })?;
    match value {
        Value::Object(map) => Ok(map),
        _ => Err(Error::new(
            ErrorKind::InvalidJson,
            format!("{what} must be a JSON object"),
        )),
    }
}

/// Parses any JSON value, refusing repeated keys: `Err(Some(key))` names
/// the repeated key, `Err(None)` is a syntax error.
pub fn parse_value(text: &str) -> std::result::Result<Value, Option<String>> {
    parse_strict(text).map_err(|problem| match problem {
        Problem::Repeated(key) => Some(clip(&key)),
        Problem::Syntax(_) => None,
    })
}

enum Problem {
    /// The first key found twice in one object (in text order).
    Repeated(String),
    Syntax(serde_json::Error),
}

/// One pass: serde_json's parser builds the value through [`Strict`], which
/// notices a repeated key as it inserts it (no second scan of the text).
fn parse_strict(text: &str) -> std::result::Result<Value, Problem> {
    let repeated = RefCell::new(None);
    let mut parser = serde_json::Deserializer::from_str(text);
    let parsed = Strict {
        repeated: &repeated,
    }
    .deserialize(&mut parser)
    .and_then(|value| parser.end().map(|()| value));
    match (parsed, repeated.into_inner()) {
        (_, Some(key)) => Err(Problem::Repeated(key)),
        (Ok(value), None) => Ok(value),
        (Err(e), None) => Err(Problem::Syntax(e)),
    }
}

/// serde_json's `arbitrary_precision` hands a number to the visitor as a
/// one-entry map under this key, holding the number's text.
const NUMBER_TOKEN: &str = "$serde_json::private::Number";

/// Builds a [`Value`] like serde_json's own visitor, except that an object
/// repeating a key is an error; the key is left in `repeated`.
#[derive(Clone, Copy)]
struct Strict<'a> {
    repeated: &'a RefCell<Option<String>>,
}

impl<'de> DeserializeSeed<'de> for Strict<'_> {
    type Value = Value;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> std::result::Result<Value, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Strict<'_> {
    type Value = Value;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_bool<E>(self, b: bool) -> std::result::Result<Value, E> {
        Ok(Value::Bool(b))
    }

    fn visit_i64<E>(self, n: i64) -> std::result::Result<Value, E> {
        Ok(Value::from(n))
    }

    fn visit_u64<E>(self, n: u64) -> std::result::Result<Value, E> {
        Ok(Value::from(n))
    }

    fn visit_f64<E>(self, n: f64) -> std::result::Result<Value, E> {
        Ok(Number::from_f64(n).map_or(Value::Null, Value::Number))
    }

    fn visit_str<E>(self, s: &str) -> std::result::Result<Value, E> {
        Ok(Value::String(s.to_owned()))
    }

    fn visit_string<E>(self, s: String) -> std::result::Result<Value, E> {
        Ok(Value::String(s))
    }

    fn visit_unit<E>(self) -> std::result::Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> std::result::Result<Value, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element_seed(self)? {
            items.push(item);
        }
        Ok(Value::Array(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> std::result::Result<Value, A::Error> {
        let mut object = Map::new();
        let Some(mut key) = map.next_key::<String>()? else {
            return Ok(Value::Object(object));
        };
        if key == NUMBER_TOKEN {
            let digits: String = map.next_value()?;
            return digits
                .parse::<Number>()
                .map(Value::Number)
                .map_err(A::Error::custom);
        }
        loop {
            match object.entry(key) {
                Entry::Vacant(slot) => {
                    slot.insert(map.next_value_seed(self)?);
                }
                Entry::Occupied(seen) => {
                    *self.repeated.borrow_mut() = Some(seen.key().clone());
                    return Err(A::Error::custom("repeated key"));
                }
            }
            match map.next_key::<String>()? {
                Some(next) => key = next,
                None => return Ok(Value::Object(object)),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repeated_keys_are_refused_at_any_depth() {
        let e = parse_object(r#"{"totalAmount":1,"totalAmount":"26"}"#, "the request").unwrap_err();
        assert_eq!(
            (e.kind, e.field.as_deref()),
            (ErrorKind::InvalidJson, Some("totalAmount"))
        );
        let e =
            parse_object(r#"{"goods":[{"price":"1","price":"2"}]}"#, "the request").unwrap_err();
        assert_eq!(e.field.as_deref(), Some("price"));
        let e = parse_object(r#"{"a":1,"\u0061":2}"#, "the request").unwrap_err();
        assert_eq!(e.field.as_deref(), Some("a"));
    }

    #[test]
    fn the_first_repeat_in_text_order_is_named() {
        assert_eq!(
            parse_value(r#"{"a":{"x":1,"x":2},"a":3}"#).unwrap_err(),
            Some("x".into())
        );
        assert_eq!(
            parse_value(r#"[1,{"k":[{"b":1}],"b":2,"k":3}]"#).unwrap_err(),
            Some("k".into())
        );
        // Syntax errors and trailing text are not repeats.
        assert_eq!(parse_value(r#"{"a":1,"b":}"#).unwrap_err(), None);
        assert_eq!(parse_value(r#"{"a":1} {"a":1}"#).unwrap_err(), None);
        let e = parse_object("[1]", "the request").unwrap_err();
        assert!(e.message.contains("must be a JSON object"), "{}", e.message);
    }

    #[test]
    fn equal_keys_in_different_objects_and_strings_are_fine() {
        let ok = r#"{"a":{"x":1},"b":{"x":2},"c":[{"x":1},{"x":2}],"d":"\"a\":1,\"a\":2","e":["a","a"]}"#;
        assert!(parse_object(ok, "the request").is_ok());
    }

    #[test]
    fn numbers_keep_their_value_exactly() {
        // No float rounding: big integers stay exact; exponents are written
        // in serde_json's normal form.
        let map = parse_object(r#"{"n":123456789012345678901234567890,"f":1e2}"#, "x").unwrap();
        assert_eq!(
            serde_json::to_string(&map).unwrap(),
            r#"{"n":123456789012345678901234567890,"f":1e+2}"#
        );
    }

    #[test]
    fn deep_nesting_is_named() {
        let deep = format!("{{\"a\":{}{}}}", "[".repeat(200), "]".repeat(200));
        let e = parse_object(&deep, "the request").unwrap_err();
        assert_eq!(
            e.message,
            "the request: invalid JSON at line 1, column 132: nested more than 128 levels deep"
        );
    }

    #[test]
    fn syntax_errors_say_what_was_expected_and_where() {
        // The words of `syntax`, named by document; the kind is unchanged.
        let cases = [
            (
                "{\"billNo\":\"31940001\"\n",
                "the request: invalid JSON at line 2, column 0: unexpected end of input, expected ',' or '}'",
            ),
            (
                "{\"a\":1}\n}",
                "the request: invalid JSON at line 2, column 1: unexpected text after the end of the JSON value",
            ),
            (
                "{\"a\":\"\\q\"}",
                "the request: invalid JSON at line 1, column 8: an invalid escape in a string: after '\\' write one of \" \\ / b f n r t, or u and four hex digits",
            ),
            (
                "{\"a\":1,}",
                "the request: invalid JSON at line 1, column 8: a ',' before '}' or ']' is not allowed (trailing comma)",
            ),
            (
                "",
                "the request: invalid JSON: the input is empty, expected a JSON object",
            ),
        ];
        for (text, expected) in cases {
            let e = parse_object(text, "the request").unwrap_err();
            assert_eq!(
                (e.kind, e.message.as_str()),
                (ErrorKind::InvalidJson, expected)
            );
            assert_eq!(e.field, None);
        }
    }
}
