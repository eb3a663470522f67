//! The checked-in `include/ums.h` must be exactly what the pinned cbindgen
//! generates from `cbindgen.toml`; its version macros must match Cargo.toml.
//! `make header` (UMS_UPDATE_HEADER=1) rewrites it.

use std::path::PathBuf;

fn generate() -> String {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let config = cbindgen::Config::from_file(root.join("cbindgen.toml")).expect("cbindgen.toml");
    // Only the ABI layer: src/ffi/ and the modules it declares. Parsing the
    // whole crate would export every public constant of the core.
    let bindings = cbindgen::Builder::new()
        .with_src(root.join("src/ffi/mod.rs"))
        .with_config(config)
        .generate()
        .expect("cbindgen generates the header");
    let mut out = Vec::new();
    bindings.write(&mut out);
    String::from_utf8(out).expect("header is UTF-8")
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
        assert!(header.contains(&line), "header lacks `{line}`");
    }
    let version = unsafe { std::ffi::CStr::from_ptr(ums::ffi::ums_version()) };
    assert_eq!(version.to_str().unwrap(), env!("CARGO_PKG_VERSION"));
}

#[test]
fn header_defines_only_ums_names() {
    let header = generate();
    for line in header.lines().filter(|l| l.starts_with("#define ")) {
        let name = line.split_whitespace().nth(1).unwrap();
        assert!(
            name.starts_with("UMS_"),
            "the header leaks a crate constant: {line}"
        );
    }
    let code = header.lines().filter(|l| {
        !l.trim_start().starts_with("//") && !l.trim_start().starts_with('*') && !l.starts_with('#')
    });
    for line in code.filter(|l| l.contains('(') && !l.starts_with("typedef ")) {
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
    }
}
