// The test API_TOKEN, shared by vitest.config.js (which binds it) and helpers.js (which
// sends it). It has to be 32 characters or more: the Worker refuses a shorter secret.
export const TOKEN = "test-token-0123456789abcdefghijkl";
