//! ChinaUMS Open Platform client: signing, tokens, transport, the bills
//! QR-code operations and payment notifications, with a C ABI in [`ffi`] and a
//! local gateway simulator in [`sandbox`].

pub mod clock;
pub mod sign;
pub mod sandbox;
