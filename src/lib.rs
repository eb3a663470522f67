//! ChinaUMS Open Platform client: signing, tokens, transport, the bills
//! QR-code operations and payment notifications, with a C ABI in [`ffi`] and a
//! local gateway simulator in [`sandbox`].

// `Error` carries the gateway's errCode, errMsg, HTTP status and answer so a
// caller can act without a second call; it is returned only on the rare
// failure path, so its size costs nothing that matters.
#![allow(clippy::result_large_err)]

pub mod client;
pub mod clock;
pub mod config;
pub mod error;
pub mod ffi;
pub mod ids;
pub mod json;
pub mod log;
pub mod notify;
pub mod ops;
pub mod sandbox;
pub mod secret;
pub mod sign;
pub mod token;
pub mod transport;

pub use client::{Answer, Client, PreparedRequest};
pub use config::Config;
pub use error::{Error, ErrorKind, Result};
