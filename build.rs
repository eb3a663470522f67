// Link flags for the shared library: a SONAME carrying the major version, so
// a binding can refuse an incompatible library, and `-z nodelete`, because
// Rust thread-local destructors crash after `dlclose` (PHP FFI and ctypes may
// try to unload it).
fn main() {
    let target_os = std::env::var("CARGO_CFG_TARGET_OS").unwrap_or_default();
    if target_os == "linux" {
        let major = std::env::var("CARGO_PKG_VERSION_MAJOR").unwrap_or_else(|_| "0".into());
        println!("cargo:rustc-cdylib-link-arg=-Wl,-soname,libums.so.{major}");
        println!("cargo:rustc-cdylib-link-arg=-Wl,-z,nodelete");
    }
    println!("cargo:rerun-if-changed=build.rs");
}
