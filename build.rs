// Link flags for the shared library (Linux):
//
// - The SONAME changes with every incompatible release, so a program linked
//   against one ABI never loads another: for 0.x every minor release may
//   break the ABI, so 0.1.x is `libums.so.0.1`, 0.2.x `libums.so.0.2`; from
//   1.0 on the major alone, `libums.so.1`. From CARGO_PKG_VERSION_* (the
//   workspace version); the Makefile's `lib` target installs the real file
//   `libums.so.MAJOR.MINOR.PATCH` with the SONAME and `libums.so` links to it,
//   and checks that its SONAME is the one it computes the same way.
// - `-z nodelete`, because Rust thread-local destructors crash after
//   `dlclose` (PHP FFI and ctypes may try to unload it).
fn soname(major: &str, minor: &str) -> String {
    if major == "0" {
        format!("libums.so.0.{minor}")
    } else {
        format!("libums.so.{major}")
    }
}

fn main() {
    let target_os = std::env::var("CARGO_CFG_TARGET_OS").unwrap_or_default();
    if target_os == "linux" {
        let major = std::env::var("CARGO_PKG_VERSION_MAJOR").expect("CARGO_PKG_VERSION_MAJOR");
        let minor = std::env::var("CARGO_PKG_VERSION_MINOR").expect("CARGO_PKG_VERSION_MINOR");
        println!(
            "cargo:rustc-cdylib-link-arg=-Wl,-soname,{}",
            soname(&major, &minor)
        );
        println!("cargo:rustc-cdylib-link-arg=-Wl,-z,nodelete");
    }
    println!("cargo:rerun-if-changed=build.rs");
}
