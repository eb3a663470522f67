//! ChinaUMS Open Platform client: configuration, signing, access tokens,
//! the HTTPS transport, the bills QR-code operations and payment
//! notifications. It knows nothing of C (the C ABI is the `ums` crate at the
//! root of the workspace) nor of the simulator (`ums-sandbox`), and it opens
//! no socket except to the gateway its configuration names.

pub mod client;
pub mod clock;
pub mod config;
pub mod error;
pub mod ids;
pub mod journal;
pub mod json;
pub mod log;
pub mod notify;
pub mod ops;
pub mod resolve;
pub mod secret;
pub mod sign;
pub mod store;
pub mod token;
pub mod transport;

pub use client::{Answer, Client, Parts, PreparedRequest};
pub use config::Config;
pub use error::{Error, ErrorKind, Result};
pub use store::{SharedToken, StoreError, TokenStore};
