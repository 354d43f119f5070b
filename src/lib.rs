//! Server-side sessions on Cloudflare D1.
//!
//! The session rules live in [`manager`], over the [`store::Store`] trait, and know
//! neither D1 nor JS, so they are tested natively. `store::d1` is
//! the D1 store, `npm` the npm package's surface and `http` the Worker's; they exist only
//! on wasm.

// The operations under the npm API's names, for the npm surface and the Worker's RPC.
#[cfg(all(target_arch = "wasm32", not(feature = "store-suite")))]
pub mod calls;
pub mod config;
pub mod error;
pub mod events;
// Each wasm build carries one JS surface: the npm package's, or (feature `http`) the
// Worker's entry points in `http::worker`.
pub mod http;
pub mod json;
#[cfg(target_arch = "wasm32")]
pub mod jsval;
pub mod manager;
#[cfg(all(
    target_arch = "wasm32",
    not(feature = "http"),
    not(feature = "store-suite")
))]
pub mod npm;
pub mod session;
pub mod store;
pub mod token;
#[cfg(target_arch = "wasm32")]
pub mod wait;
