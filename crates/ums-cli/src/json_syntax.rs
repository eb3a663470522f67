//! Saying what is wrong with a JSON input file, and where: the library's
//! words (`chinaums::json::syntax`), so the tool, the C ABI and every
//! binding say the same thing, `invalid JSON at line 2, column 0:
//! unexpected end of input, expected ',' or '}'`. The callers put the file's
//! name in front. The input itself is never quoted.

pub use chinaums::json::syntax::{check, check_utf8};
