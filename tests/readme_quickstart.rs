//! The README's Rust quick start runs as written: the block between the
//! markers below is compared with the README's first ```rust block, then
//! run against an in-process simulator listening where the snippet points
//! (127.0.0.1:8765; no other test uses that port).

use ums_sandbox::{Sandbox, SandboxConfig};

const README: &str = include_str!("../README.md");
const THIS_FILE: &str = include_str!("readme_quickstart.rs");
const BEGIN: &str = "// ---- README quick start: begin\n";
const END: &str = "// ---- README quick start: end\n";

// Kept exactly as the README prints it (rustfmt would re-wrap it).
#[rustfmt::skip]
fn quickstart() -> Result<String, Box<dyn std::error::Error>> {
    // ---- README quick start: begin
    let client = chinaums::Client::from_json(r#"{"environment":"http://127.0.0.1:8765",
        "appId":"10037e6f66f2d0f901672aa27d690006","appKey":"47ace12ae3b348fe93ab46cee97c6fde",
        "mid":"898340149000005","tid":"00000001"}"#)?;
    // billDate is filled with today's date in Beijing; amounts are integers in fen.
    let answer = client.update_qrcode(r#"{"qrCodeId":"31942002267733902130410550","billNo":"31940001","totalAmount":26}"#)?;
    println!("{}", answer.text); // the gateway's answer, exactly as received
    // ---- README quick start: end
    Ok(answer.text)
}

/// The README's first ```rust block.
fn readme_block() -> String {
    let start = README
        .find("```rust\n")
        .expect("a ```rust block in README.md")
        + "```rust\n".len();
    let len = README[start..].find("```").expect("the block ends");
    README[start..start + len].to_string()
}

/// The lines between the markers of `quickstart`, without its indentation.
fn test_block() -> String {
    let start = THIS_FILE.find(BEGIN).expect("begin marker") + BEGIN.len();
    let len = THIS_FILE[start..].find(END).expect("end marker");
    THIS_FILE[start..start + len]
        .lines()
        .map(|line| {
            let line = line.strip_prefix("    ").unwrap_or(line);
            format!("{line}\n")
        })
        .collect::<String>()
        .trim_end_matches([' ', '\n'])
        .to_string()
        + "\n"
}

#[test]
fn the_readme_rust_quick_start_is_this_test() {
    assert_eq!(
        readme_block(),
        test_block(),
        "README.md's Rust quick start and tests/readme_quickstart.rs differ"
    );
}

#[test]
fn the_readme_rust_quick_start_runs_as_written() {
    let config = SandboxConfig {
        port: 8765,
        ..SandboxConfig::default()
    };
    let _sandbox = Sandbox::start(config).expect("127.0.0.1:8765 is free for this test");
    let answer = quickstart().expect("the quick start succeeds");
    assert!(answer.contains(r#""errCode":"SUCCESS""#), "{answer}");
    assert!(answer.contains(r#""billNo":"31940001""#), "{answer}");
}
