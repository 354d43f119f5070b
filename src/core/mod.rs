//! The session rules: expiry, renewal, rotation, versions and which signal fires when, over
//! the [`store::Store`] trait. No wasm-bindgen here: it builds and tests natively, with the
//! memory store and a fake clock.

pub mod config;
pub mod error;
pub mod id;
pub mod json;
pub mod manager;
pub mod session;
pub mod signals;
pub mod store;
pub mod token;
