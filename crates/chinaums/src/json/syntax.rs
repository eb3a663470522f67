//! Saying what is wrong with a JSON text, and where, in words a person can
//! act on: `invalid JSON at line 2, column 0: unexpected end of input,
//! expected ',' or '}'`.
//!
//! One implementation for the library's errors (so the C ABI's error
//! documents and every binding) and the `ums` tool.
//!
//! The input itself is never quoted (a request or a config may hold the app
//! key): a message holds only a position and a fixed phrase chosen from
//! serde_json's category of the error.
//!
//! Positions: the line is 1-based; the column counts the characters of the
//! line up to and including the one at fault (0: the line ended before any),
//! so a line with Chinese text gives the column an editor shows.

/// `None` when `text` is one well-formed JSON value; otherwise where and
/// what the first syntax error is (see [`describe`]). A repeated key is
/// not a syntax error: [`super::parse_object`] names it.
pub fn check(text: &str) -> Option<String> {
    // The library's own parser, so the same limits (nesting) and positions.
    match super::parse_strict(text) {
        Err(super::Problem::Syntax(e)) => Some(describe(&e, text)),
        Ok(_) | Err(super::Problem::Repeated(_)) => None,
    }
}

/// `None` when `bytes` are UTF-8 text; otherwise where the first byte that
/// is not UTF-8 is, in the same line and column terms as a syntax error.
pub fn check_utf8(bytes: &[u8]) -> Option<String> {
    let valid_up_to = std::str::from_utf8(bytes).err()?.valid_up_to();
    // Everything before the bad byte is UTF-8, so it can be counted in
    // characters like a syntax error's position.
    let before = String::from_utf8_lossy(&bytes[..valid_up_to]);
    let line_start = before.rfind('\n').map_or(0, |newline| newline + 1);
    let line = 1 + before.matches('\n').count();
    let column = before[line_start..].chars().count() + 1;
    Some(format!(
        "invalid UTF-8 at line {line}, column {column}: JSON text must be UTF-8 \
         (a file saved as GBK is not)"
    ))
}

/// A syntax error serde_json found in `text`, in plain words: `invalid JSON
/// at line L, column C: what was expected`.
pub fn describe(e: &serde_json::Error, text: &str) -> String {
    if text.trim_matches(is_json_whitespace).is_empty() {
        let what = if text.is_empty() {
            "the input is empty"
        } else {
            "the input holds only whitespace"
        };
        return format!("invalid JSON: {what}, expected a JSON object");
    }
    let at = byte_offset(text, e.line(), e.column());
    format!(
        "invalid JSON at line {}, column {}: {}",
        e.line(),
        at.map_or(e.column(), |at| char_column(text, at)),
        explain(e, text, at)
    )
}

/// JSON's four whitespace characters (`str::trim` also removes others, such
/// as U+3000, which are errors in JSON).
fn is_json_whitespace(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\n' | '\r')
}

/// serde_json's description without its position, put plainly. Only its
/// fixed phrases are used: a free-form message (a deserializer's) could
/// quote the input, so it is not repeated.
fn explain(e: &serde_json::Error, text: &str, at: Option<usize>) -> String {
    if text.starts_with('\u{feff}') && at.is_some_and(|at| at < '\u{feff}'.len_utf8()) {
        return "a byte-order mark (BOM) before the JSON: save the text as UTF-8 without BOM"
            .to_string();
    }
    let full = e.to_string();
    let what = full
        .rsplit_once(" at line ")
        .map_or(full.as_str(), |(what, _)| what);
    let plain = match what {
        "EOF while parsing a string" => {
            "unexpected end of input inside a string, expected its closing '\"'"
        }
        "EOF while parsing an object" | "EOF while parsing a list" => {
            return format!("unexpected end of input, expected {}", expected_next(text))
        }
        "EOF while parsing a value" if ends_in_a_scalar(text) => {
            "unexpected end of input inside a number, true, false or null"
        }
        "EOF while parsing a value" => {
            return format!("unexpected end of input, expected {}", expected_next(text))
        }
        "expected `:`" => "expected ':' after the key",
        "expected `,` or `}`" => "expected ',' or '}' after the value",
        "expected `,` or `]`" => "expected ',' or ']' after the value",
        "expected `\"`" => "expected '\"'",
        "key must be a string" => "expected a key in double quotes",
        "expected value" => {
            "expected a value (a string in double quotes, a number, an object, an array, \
             true, false or null)"
        }
        "expected ident" => "expected true, false or null",
        "invalid escape" => {
            "an invalid escape in a string: after '\\' write one of \" \\ / b f n r t, \
             or u and four hex digits"
        }
        "lone leading surrogate in hex escape" | "unexpected end of hex escape" => {
            "a \\u escape that is half of a surrogate pair: \\uD800-\\uDBFF must be \
             followed by \\uDC00-\\uDFFF, which never stands alone"
        }
        "invalid unicode code point" => "text that is not UTF-8 inside a string",
        "invalid number" => {
            "a malformed number (no leading zeros; a digit must follow '-', '.' and 'e')"
        }
        "number out of range" => "a number out of range",
        "trailing comma" => "a ',' before '}' or ']' is not allowed (trailing comma)",
        "trailing characters" => "unexpected text after the end of the JSON value",
        "recursion limit exceeded" => "nested more than 128 levels deep",
        w if w.starts_with("control character") => {
            "a control character (line break, tab, ...) inside a string: write it as \\n, \
             \\t, ..."
        }
        _ => "malformed JSON",
    };
    plain.to_string()
}

/// The byte offset in `text` of serde_json's position: its line is 1-based
/// and its column the 1-based byte of the line where the error is (0: the
/// line's start). `None` if the position is not in `text`.
fn byte_offset(text: &str, line: usize, column: usize) -> Option<usize> {
    let line_start = text
        .split_inclusive('\n')
        .take(line.checked_sub(1)?)
        .map(str::len)
        .try_fold(0usize, |sum, len| sum.checked_add(len))?;
    let end = line_start.checked_add(column)?;
    (end <= text.len()).then_some(end)
}

/// The column in characters of the byte just before `end` (`end` is one
/// past the byte at fault, which may be inside a character: serde_json
/// reads bytes).
fn char_column(text: &str, end: usize) -> usize {
    let bytes = &text.as_bytes()[..end];
    let line_start = bytes
        .iter()
        .rposition(|&b| b == b'\n')
        .map_or(0, |newline| newline + 1);
    // A character starts at every byte that is not a continuation byte.
    bytes[line_start..]
        .iter()
        .filter(|&&b| b & 0xC0 != 0x80)
        .count()
}

/// Where a JSON text cut short stands: what it needs next.
#[derive(Clone, Copy)]
enum Next {
    KeyOrClose,
    Key,
    Colon,
    Value,
    ValueOrClose,
    CommaOrClose,
}

/// What the text, valid JSON so far but cut short, needed next. serde_json
/// checked every character before the end, so a scan of its structure is
/// enough (strings are skipped, escapes included).
fn expected_next(text: &str) -> String {
    // The closing bracket of each open object or array, with its state.
    let mut open: Vec<(char, Next)> = Vec::new();
    let mut chars = text.chars();
    let mut in_scalar = false;
    while let Some(c) = chars.next() {
        // A number, true, false or null: any other character.
        let scalar_char = !is_json_whitespace(c) && !"{}[]:,\"".contains(c);
        let starts_scalar = scalar_char && !in_scalar;
        in_scalar = scalar_char;
        match c {
            '{' => open.push(('}', Next::KeyOrClose)),
            '[' => open.push((']', Next::ValueOrClose)),
            '}' | ']' => {
                open.pop();
                value_done(&mut open);
            }
            ':' => set_next(&mut open, Next::Value),
            ',' => match open.last() {
                Some(('}', _)) => set_next(&mut open, Next::Key),
                _ => set_next(&mut open, Next::Value),
            },
            '"' => {
                skip_string(&mut chars);
                match open.last() {
                    Some(('}', Next::KeyOrClose | Next::Key)) => set_next(&mut open, Next::Colon),
                    _ => value_done(&mut open),
                }
            }
            _ if starts_scalar => value_done(&mut open),
            _ => {}
        }
    }
    let Some(&(close, next)) = open.last() else {
        return "a value".to_string();
    };
    match next {
        Next::KeyOrClose => "a key in double quotes or '}'".to_string(),
        Next::Key => "a key in double quotes".to_string(),
        Next::Colon => "':' after the key".to_string(),
        Next::Value => "a value".to_string(),
        Next::ValueOrClose => "a value or ']'".to_string(),
        Next::CommaOrClose => format!("',' or '{close}'"),
    }
}

/// Skips the rest of a string whose opening quote was just read.
fn skip_string(chars: &mut std::str::Chars) {
    while let Some(c) = chars.next() {
        match c {
            '\\' => {
                chars.next();
            }
            '"' => return,
            _ => {}
        }
    }
}

fn set_next(open: &mut [(char, Next)], next: Next) {
    if let Some(top) = open.last_mut() {
        top.1 = next;
    }
}

/// A value ended (or a number, true, false or null began): the enclosing
/// object or array needs a ',' or its end next.
fn value_done(open: &mut [(char, Next)]) {
    set_next(open, Next::CommaOrClose);
}

/// Whether the text ends in the middle of a number, true, false or null
/// (no whitespace or structure after its last character).
fn ends_in_a_scalar(text: &str) -> bool {
    text.chars()
        .last()
        .is_some_and(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '+' | '.'))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message(text: &str) -> String {
        check(text).unwrap_or_else(|| panic!("{text:?} passes"))
    }

    #[test]
    fn says_what_was_expected_and_where() {
        let cases = [
            (
                "{\"a\":1\n",
                "invalid JSON at line 2, column 0: unexpected end of input, expected ',' or '}'",
            ),
            (
                "{\"a\":1,\n",
                "invalid JSON at line 2, column 0: unexpected end of input, expected a key in double quotes",
            ),
            (
                "{\"a\":",
                "invalid JSON at line 1, column 5: unexpected end of input, expected a value",
            ),
            (
                "{",
                "invalid JSON at line 1, column 1: unexpected end of input, expected a key in double quotes or '}'",
            ),
            (
                "[1,",
                "invalid JSON at line 1, column 3: unexpected end of input, expected a value",
            ),
            (
                "[1",
                "invalid JSON at line 1, column 2: unexpected end of input, expected ',' or ']'",
            ),
            (
                "{\"a\" 1}",
                "invalid JSON at line 1, column 6: expected ':' after the key",
            ),
            (
                "{\"a\":1 \"b\":2}",
                "invalid JSON at line 1, column 8: expected ',' or '}' after the value",
            ),
            (
                "{\"a\":1,}",
                "invalid JSON at line 1, column 8: a ',' before '}' or ']' is not allowed (trailing comma)",
            ),
            (
                "[1,\n ]",
                "invalid JSON at line 2, column 2: a ',' before '}' or ']' is not allowed (trailing comma)",
            ),
            (
                "{\"a\":tru}",
                "invalid JSON at line 1, column 9: expected true, false or null",
            ),
            ("{\"a\":\"x", "unexpected end of input inside a string"),
            ("{a:1}", "line 1, column 2: expected a key in double quotes"),
            ("{\"a\":'x'}", "line 1, column 6: expected a value"),
            ("{\"a\":\"x\ty\"}", "line 1, column 8: a control character"),
            ("{\"a\":01}", "line 1, column 7: a malformed number"),
            ("{\"a\":1.}", "a malformed number"),
            ("{\"a\":\"\\ud800\"}", "half of a surrogate pair"),
            ("{\"a\":\"\\u12\"}", "line 1, column 12: an invalid escape"),
            ("{\"a\":\"\\udc00\"}", "half of a surrogate pair"),
            ("{\"a\":\"\\ud800\\n\"}", "half of a surrogate pair"),
        ];
        for (text, expected) in cases {
            let message = message(text);
            assert!(message.contains(expected), "{text:?}: {message}");
            assert!(!message.contains("Eof"), "{message}");
        }
        assert_eq!(check("{\"a\":[1,{}],\"b\":\"\\u00e9\"}"), None);
    }

    #[test]
    fn truncated_input_names_the_end() {
        let text = "{\n  \"billNo\": \"31940001\",\n  \"goods\": [{\"price\": 1}\n";
        assert_eq!(
            message(text),
            "invalid JSON at line 4, column 0: unexpected end of input, expected ',' or ']'"
        );
        assert_eq!(
            message(""),
            "invalid JSON: the input is empty, expected a JSON object"
        );
        assert_eq!(
            message(" \r\n\t"),
            "invalid JSON: the input holds only whitespace, expected a JSON object"
        );
    }

    #[test]
    fn a_cut_names_what_was_needed_next() {
        let cases = [
            ("{\"a\"", "expected ':' after the key"),
            ("{\"a\" ", "expected ':' after the key"),
            ("{\"a\":", "expected a value"),
            ("{\"a\":\"}\\\"\"", "expected ',' or '}'"),
            ("{\"a\":12", "expected ',' or '}'"),
            ("{\"a\":[", "expected a value or ']'"),
            ("{\"a\":[{\"b\":1}, ", "expected a value"),
            ("{\"a\":[{\"b\":1}]", "expected ',' or '}'"),
            ("{\"a\":[{\"b\":1}],", "expected a key in double quotes"),
            ("{\"a\":tr", "inside a number, true, false or null"),
            ("{\"a\":-", "inside a number, true, false or null"),
            ("[\"x\",\"y\"", "expected ',' or ']'"),
        ];
        for (text, expected) in cases {
            let got = message(text);
            assert!(
                got.ends_with(&format!("unexpected end of input, {expected}"))
                    || got.ends_with(&format!("unexpected end of input {expected}")),
                "{text:?}: {got}"
            );
        }
    }

    #[test]
    fn trailing_garbage_is_named_after_the_value() {
        assert_eq!(
            message("{\"a\":1}\n}"),
            "invalid JSON at line 2, column 1: unexpected text after the end of the JSON value"
        );
        assert!(message("{} x").contains("line 1, column 4: unexpected text after"));
        // An ideographic space is no JSON whitespace.
        assert!(message("{}\u{3000}").contains("line 1, column 3: unexpected text after"));
    }

    #[test]
    fn a_bad_escape_is_named_with_the_escapes_allowed() {
        let message = message("{\"a\":\n\"C:\\temp\\x\"}");
        assert_eq!(
            message,
            "invalid JSON at line 2, column 10: an invalid escape in a string: after '\\' \
             write one of \" \\ / b f n r t, or u and four hex digits"
        );
    }

    #[test]
    fn columns_count_characters_not_bytes() {
        // serde_json reports byte 18 of the line; an editor shows column 14.
        let got = message("{\"name\":\"苹果\" 1}");
        assert!(
            got.starts_with("invalid JSON at line 1, column 14:"),
            "{got}"
        );
        let got = message("{\"商品\":\"苹果\"\n,\"价格\" 1}");
        assert!(
            got.starts_with("invalid JSON at line 2, column 7:"),
            "{got}"
        );
    }

    #[test]
    fn a_byte_order_mark_is_named() {
        assert_eq!(
            message("\u{feff}{}"),
            "invalid JSON at line 1, column 1: a byte-order mark (BOM) before the JSON: \
             save the text as UTF-8 without BOM"
        );
    }

    #[test]
    fn deep_nesting_is_named() {
        let deep = format!("{{\"a\":{}{}}}", "[".repeat(200), "]".repeat(200));
        assert_eq!(
            message(&deep),
            "invalid JSON at line 1, column 132: nested more than 128 levels deep"
        );
    }

    #[test]
    fn invalid_utf8_is_placed_in_characters() {
        assert_eq!(check_utf8(b"{\"a\":1}"), None);
        assert_eq!(
            check_utf8(b"{\"a\":\"\xff\"}").unwrap(),
            "invalid UTF-8 at line 1, column 7: JSON text must be UTF-8 (a file saved as GBK is not)"
        );
        // "中文" in GBK on line 2, after UTF-8 "é" on the same line.
        let mut text = "{\"a\":1,\n\"é\":\"".as_bytes().to_vec();
        text.extend_from_slice(b"\xd6\xd0\xce\xc4\"}");
        assert!(check_utf8(&text)
            .unwrap()
            .starts_with("invalid UTF-8 at line 2, column 6:"));
        // A character cut short at the end.
        assert!(check_utf8("{\"a\":\"苹".as_bytes().split_last().unwrap().1)
            .unwrap()
            .starts_with("invalid UTF-8 at line 1, column 7:"));
    }

    #[test]
    fn never_quotes_the_input() {
        let secret = "s3cr3t-app-key-value";
        for text in [
            format!("{{\"appKey\":\"{secret}\""),
            format!("{{\"appKey\":{secret}}}"),
            format!("{{\"appKey\":\"{secret}\"}} {secret}"),
            format!("{{\"appKey\":\"{secret}\\q\"}}"),
            format!("{{\"appKey\":\"{secret}\n\"}}"),
            format!("{{\"{secret}\" 1}}"),
        ] {
            let message = message(&text);
            assert!(!message.contains(secret), "{message}");
            assert!(!message.contains("s3cr3t"), "{message}");
        }
    }
}
