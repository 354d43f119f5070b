// Reading values that came from outside (a D1 answer, a caller's argument, an error) without
// anything being thrown back into wasm: a getter or Proxy trap that throws reads as
// `undefined`. The built-ins used are taken when this module loads, so a caller that
// patches `String.prototype` later changes nothing here.
const { apply } = Reflect;
const { slice, isWellFormed } = String.prototype;
export function get(object, key) {
  try {
    return object[key];
  } catch {
    return undefined;
  }
}

/** `[object[key]]`, or `undefined` when reading it throws: a throw told from a value. */
export function boxed(object, key) {
  try {
    return [object[key]];
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

/** `text`, cut to `max` UTF-16 units; `undefined` if that throws (a patched `slice`). */
export function cut(text, max) {
  try {
    return text.length > max ? apply(slice, text, [0, max]) : text;
  } catch {
    return undefined;
  }
}

/** Whether `text` has no lone surrogate; false if asking throws. */
export function wellFormed(text) {
  try {
    return apply(isWellFormed, text, []) === true;
  } catch {
    return false;
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
