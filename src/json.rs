//! Strict JSON input: serde_json keeps the last of two equal keys, which in
//! a payment request would silently pick one of two amounts. Requests and
//! configs go through [`parse_object`], which refuses a repeated key at any
//! depth and names it.

use crate::error::{clip, Error, ErrorKind, Result};
use serde_json::{Map, Value};
use std::borrow::Cow;
use std::collections::HashSet;

/// Parses `text` as a JSON object, refusing repeated keys. `what` names the
/// document in messages ("the request", "config").
pub fn parse_object(text: &str, what: &str) -> Result<Map<String, Value>> {
    let value: Value = serde_json::from_str(text).map_err(|e| {
        Error::new(
            ErrorKind::InvalidJson,
            format!("{what} is not valid JSON: {}", describe(&e)),
        )
    })?;
    let Value::Object(map) = value else {
        return Err(Error::new(
            ErrorKind::InvalidJson,
            format!("{what} must be a JSON object"),
        ));
    };
    if let Some(key) = first_repeated_key(text) {
        let key = clip(&key);
        let mut e = Error::new(
            ErrorKind::InvalidJson,
            format!("{what} repeats the key `{key}`"),
        );
        e.field = Some(key);
        return Err(e);
    }
    Ok(map)
}

/// Parses any JSON value, refusing repeated keys: `Err(Some(key))` names
/// the repeated key, `Err(None)` is a syntax error.
pub fn parse_value(text: &str) -> std::result::Result<Value, Option<String>> {
    let value: Value = serde_json::from_str(text).map_err(|_| None)?;
    match first_repeated_key(text) {
        Some(key) => Err(Some(clip(&key))),
        None => Ok(value),
    }
}

/// A parse error without quoting the input (it may hold secrets).
pub fn describe(e: &serde_json::Error) -> String {
    let what = if e.to_string().starts_with("recursion limit exceeded") {
        "nested more than 128 levels deep".to_string()
    } else {
        format!("{:?} error", e.classify())
    };
    format!("{what} at line {} column {}", e.line(), e.column())
}

/// The first key that appears twice in one object of `text`, which must
/// already be valid JSON.
fn first_repeated_key(text: &str) -> Option<String> {
    let bytes = text.as_bytes();
    // One entry per open container: the keys seen so far for an object.
    // Keys are borrowed from `text` unless they hold escapes.
    let mut stack: Vec<Option<HashSet<Cow<'_, str>>>> = Vec::new();
    let mut expect_key = false;
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'{' => {
                stack.push(Some(HashSet::new()));
                expect_key = true;
            }
            b'[' => {
                stack.push(None);
                expect_key = false;
            }
            b'}' | b']' => {
                stack.pop();
                expect_key = false;
            }
            b',' => expect_key = matches!(stack.last(), Some(Some(_))),
            b'"' => {
                let start = i;
                i += 1;
                while bytes[i] != b'"' {
                    i += if bytes[i] == b'\\' { 2 } else { 1 };
                }
                if expect_key {
                    // Decode escapes, so "a" and "\u0061" are the same key;
                    // a key without any (nearly all) is used as it stands.
                    let raw = &text[start + 1..i];
                    let key: Cow<'_, str> = if raw.contains('\\') {
                        Cow::Owned(serde_json::from_str(&text[start..=i]).ok()?)
                    } else {
                        Cow::Borrowed(raw)
                    };
                    if let Some(Some(keys)) = stack.last_mut() {
                        if keys.contains(&key) {
                            return Some(key.into_owned());
                        }
                        keys.insert(key);
                    }
                    expect_key = false;
                }
            }
            _ => {}
        }
        i += 1;
    }
    None
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
        assert!(
            e.message.contains("nested more than 128 levels"),
            "{}",
            e.message
        );
    }
}
