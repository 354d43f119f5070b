// Reading values that came from outside (a D1 answer, a caller's argument, an error) without
// anything being thrown back into wasm: a getter or Proxy trap that throws reads as
// `undefined`.
export function get(object, key) {
  try {
    return object[key];
  } catch {
    return undefined;
  }
}

export function at(list, index) {
  try {
    return list[index];
  } catch {
    return undefined;
  }
}

/** `String(value)`, or `undefined` when that throws. */
export function text(value) {
  try {
    return String(value);
  } catch {
    return undefined;
  }
}
