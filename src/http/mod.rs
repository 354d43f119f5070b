//! The Worker's HTTP API over the same manager. Routing, auth, body rules and rendering are
//! plain Rust (tested natively); the modules on wasm only are the workers-rs entry points
//! (`entry`), serving a request (`handle`), and the JS I/O around it: `env`, `body`,
//! `reply`, `run`, and the cron run's `purge`. `rpc` uses `env` and `run` too.

pub mod auth;
pub mod error;
pub mod render;
pub mod request;
pub mod route;

#[cfg(all(target_arch = "wasm32", feature = "http"))]
mod body;
#[cfg(all(target_arch = "wasm32", feature = "http"))]
mod entry;
#[cfg(all(target_arch = "wasm32", feature = "http"))]
pub(crate) mod env;
#[cfg(all(target_arch = "wasm32", feature = "http"))]
mod handle;
#[cfg(all(target_arch = "wasm32", feature = "http"))]
mod purge;
#[cfg(all(target_arch = "wasm32", feature = "http"))]
mod reply;
#[cfg(all(target_arch = "wasm32", feature = "http"))]
pub(crate) mod run;
