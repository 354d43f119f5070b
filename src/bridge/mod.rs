//! Between the core and JS, on wasm only: the D1 store, JS values read without anything
//! thrown back into wasm, the wait protocol that lets JS await D1, and the operation table
//! the npm surface and RPC share.

// The operations under the npm API's names, for the npm surface and the Worker's RPC.
#[cfg(not(feature = "store-suite"))]
pub mod calls;
pub mod d1;
pub mod jsval;
pub mod wait;
