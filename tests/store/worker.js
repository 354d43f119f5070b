// The test-only store-suite build (src/bridge/d1/testing.rs) as a Worker module, so its
// cases run in workerd against a local D1.
import { initSync, runStoreCase, storeSuiteCases } from "../../target/store-suite/pkg/d1_session_manager.js";
import wasmModule from "../../target/store-suite/pkg/d1_session_manager_bg.wasm";

initSync({ module: wasmModule });

export { runStoreCase, storeSuiteCases };

export default {
  fetch() {
    return new Response("the store suite runs from tests/store", { status: 404 });
  },
};
