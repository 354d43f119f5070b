//! Server-side sessions on Cloudflare D1: one core and its surfaces.
//!
//! - [`core`]: the session rules over the [`core::store::Store`] trait, knowing neither D1
//!   nor JS; builds and tests natively.
//! - [`bridge`]: the core's way to JS on wasm: the D1 store, reading JS values, the wait
//!   protocol, and the operation table both JS surfaces share.
//! - the surfaces: [`npm`] (the package's `SessionManager`), [`http`] (the Worker's HTTP
//!   API) and [`rpc`] (its RPC service). Each wasm build carries the npm surface or (feature
//!   `http`) the Worker's two.

#[cfg(target_arch = "wasm32")]
pub mod bridge;
pub mod core;
pub mod http;
#[cfg(all(
    target_arch = "wasm32",
    not(feature = "http"),
    not(feature = "store-suite")
))]
pub mod npm;
#[cfg(all(target_arch = "wasm32", feature = "http"))]
pub mod rpc;
