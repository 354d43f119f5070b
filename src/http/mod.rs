//! The Worker's HTTP API over the same manager. Routing, auth, body rules and rendering are
//! plain Rust (tested natively); `worker` holds the workers-rs entry points and JS I/O, and
//! `rpc` the RPC service's one entry.

pub mod auth;
pub mod error;
pub mod render;
pub mod request;
pub mod route;
#[cfg(all(target_arch = "wasm32", feature = "http"))]
pub mod worker;
