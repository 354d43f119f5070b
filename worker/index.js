// The deployed Worker: routes requests and cron runs into the wasm core (src/http).
import { initSync, handleFetch, handleScheduled } from "./pkg/d1_session_manager.js";
import wasmModule from "./pkg/d1_session_manager_bg.wasm";

initSync({ module: wasmModule });

export default {
  fetch(request, env) {
    return handleFetch(request, env);
  },
  scheduled(controller, env, ctx) {
    ctx.waitUntil(handleScheduled(env));
  },
};
