// For type-checking js/*.js only (never packed): wrangler's CompiledWasm rule makes a .wasm
// import a compiled module.
declare module "*.wasm" {
  const module: WebAssembly.Module;
  export default module;
}
