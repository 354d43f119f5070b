//! Server-side sessions on Cloudflare D1.
//!
//! The session rules live in [`manager`], over the [`store::Store`] trait and a
//! [`clock::Clock`], and know neither D1 nor JS, so they are tested natively. `store::d1` is
//! the D1 store and `js` the npm package's surface; both exist only on wasm.

pub mod clock;
pub mod config;
pub mod error;
pub mod events;
#[cfg(target_arch = "wasm32")]
pub mod js;
pub mod manager;
pub mod session;
pub mod store;
