//! Starting a simulator process (`ums-sandbox` or `ums sandbox`) from a test
//! (included with `#[path]`).
#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};

/// A simulator process, killed on drop, even when an assertion fails first.
pub struct SandboxProcess {
    child: Child,
    /// Where it listens, from its first line.
    pub url: String,
    /// The eight lines after the first (the console's address, the demo app
    /// and merchant).
    pub banner: String,
}

impl Drop for SandboxProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts `program args…`, which must print `ums-sandbox listening on URL`
/// first, then the eight banner lines.
pub fn start_sandbox_process(program: &str, args: &[&str]) -> SandboxProcess {
    let mut child = Command::new(program)
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("the simulator starts");
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut first = String::new();
    stdout.read_line(&mut first).unwrap();
    let mut banner = String::new();
    for _ in 0..8 {
        stdout.read_line(&mut banner).unwrap();
    }
    let url = first
        .trim_end()
        .strip_prefix("ums-sandbox listening on ")
        .map(str::to_string);
    let process = SandboxProcess {
        child,
        url: url.clone().unwrap_or_default(),
        banner,
    };
    assert!(url.is_some(), "unexpected first line {first:?}");
    process
}
