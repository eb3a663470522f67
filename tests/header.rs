//! The checked-in `include/ums.h` must be exactly what the pinned cbindgen
//! generates from `cbindgen.toml` plus the version macros made here from
//! Cargo.toml; it must be C89-clean (`/* */` comments only) and declare
//! only `UMS_*` macros and `ums_*` functions. `make header`
//! (UMS_UPDATE_HEADER=1) rewrites it; `make check-header-std` compiles it as
//! C89, C11 and C++11.

use std::path::PathBuf;

/// The version macros, from the workspace version (not from hand-written
/// constants): they go before the rest of `after_includes`.
fn version_macros() -> String {
    format!(
        "\n/*\n * The version of this header, from the workspace version in Cargo.toml\n \
         * (the loaded library's is ums_version()).\n */\n\
         #define UMS_VERSION_MAJOR {}\n\
         #define UMS_VERSION_MINOR {}\n\
         #define UMS_VERSION_PATCH {}\n\n",
        env!("CARGO_PKG_VERSION_MAJOR"),
        env!("CARGO_PKG_VERSION_MINOR"),
        env!("CARGO_PKG_VERSION_PATCH"),
    )
}

fn generate() -> String {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let mut config =
        cbindgen::Config::from_file(root.join("cbindgen.toml")).expect("cbindgen.toml");
    config.after_includes = Some(format!(
        "{}{}",
        version_macros(),
        config.after_includes.as_deref().unwrap_or("")
    ));
    // The C-ABI crate only (src/): the core is another crate, so none of its
    // public items can leak into the header.
    let bindings = cbindgen::Builder::new()
        .with_src(root.join("src/lib.rs"))
        .with_config(config)
        .generate()
        .expect("cbindgen generates the header");
    let mut out = Vec::new();
    bindings.write(&mut out);
    String::from_utf8(out).expect("header is UTF-8")
}

/// The header's text with every `/* ... */` comment replaced by a space.
fn without_comments(header: &str) -> String {
    let mut code = String::new();
    let mut rest = header;
    while let Some(start) = rest.find("/*") {
        code.push_str(&rest[..start]);
        code.push(' ');
        let end = rest[start + 2..]
            .find("*/")
            .expect("every /* comment is closed");
        rest = &rest[start + 2 + end + 2..];
    }
    code.push_str(rest);
    code
}

#[test]
fn checked_in_header_is_current() {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("include/ums.h");
    let fresh = generate();
    if std::env::var_os("UMS_UPDATE_HEADER").is_some() {
        std::fs::write(&path, &fresh).expect("write include/ums.h");
    }
    let checked_in = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        checked_in == fresh,
        "include/ums.h is stale: run `make header` and commit it"
    );
}

#[test]
fn header_version_macros_match_cargo_toml() {
    let header =
        std::fs::read_to_string(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("include/ums.h"))
            .unwrap();
    for (name, value) in [
        ("UMS_VERSION_MAJOR", env!("CARGO_PKG_VERSION_MAJOR")),
        ("UMS_VERSION_MINOR", env!("CARGO_PKG_VERSION_MINOR")),
        ("UMS_VERSION_PATCH", env!("CARGO_PKG_VERSION_PATCH")),
    ] {
        let line = format!("#define {name} {value}");
        assert_eq!(
            header.matches(&line).count(),
            1,
            "header must define `{line}` exactly once"
        );
        assert_eq!(
            header.matches(&format!("#define {name} ")).count(),
            1,
            "{name} is defined more than once"
        );
    }
    // The crate's Rust constants (src/lib.rs) agree with Cargo.toml too.
    assert_eq!(
        ums::UMS_VERSION_MAJOR.to_string(),
        env!("CARGO_PKG_VERSION_MAJOR")
    );
    assert_eq!(
        ums::UMS_VERSION_MINOR.to_string(),
        env!("CARGO_PKG_VERSION_MINOR")
    );
    assert_eq!(
        ums::UMS_VERSION_PATCH.to_string(),
        env!("CARGO_PKG_VERSION_PATCH")
    );
    let version = unsafe { std::ffi::CStr::from_ptr(ums::ums_version()) };
    assert_eq!(version.to_str().unwrap(), env!("CARGO_PKG_VERSION"));
}

#[test]
fn header_has_only_c89_comments() {
    let header = generate();
    let code = without_comments(&header);
    for line in code.lines() {
        assert!(
            !line.contains("//"),
            "a // comment (or text) outside /* */ in the header: {line}"
        );
    }
    // No comment opens inside another one (gcc -Wcomment).
    let mut rest = header.as_str();
    while let Some(start) = rest.find("/*") {
        let end = rest[start + 2..].find("*/").expect("closed comment") + start + 2;
        let inside = &rest[start + 2..end];
        assert!(
            !inside.contains("/*"),
            "a /* inside a comment of the header: {inside}"
        );
        rest = &rest[end + 2..];
    }
}

#[test]
fn header_defines_only_ums_names() {
    let header = generate();
    let code = without_comments(&header);
    for line in code.lines().filter(|l| l.starts_with("#define ")) {
        let name = line.split_whitespace().nth(1).unwrap();
        assert!(
            name.starts_with("UMS_"),
            "the header leaks a crate constant: {line}"
        );
    }
    let mut functions = 0;
    for line in code
        .lines()
        .filter(|l| l.contains('(') && !l.starts_with('#') && !l.starts_with("typedef "))
    {
        let before = line.split('(').next().unwrap();
        let name = before
            .split_whitespace()
            .last()
            .unwrap_or("")
            .trim_start_matches('*');
        assert!(
            name.starts_with("ums_"),
            "unexpected declaration in the header: {line}"
        );
        functions += 1;
    }
    assert!(functions > 20, "only {functions} functions found");
}
