// The statistics the benches report.

export const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
};

/** The nearest-rank percentile: a value that was measured, never one between two. */
export const percentile = (xs, p) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)];
};

export const fmt = (x, digits = 2) => x.toFixed(digits);

/** mulberry32: a seeded PRNG, so the same samples give the same interval every time. */
function seeded(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * The median of `xs` and its 95% interval by the percentile bootstrap (2,000 resamples).
 * A budget is broken only when the whole interval is past it: one noisy median on a shared
 * machine is not a slowdown.
 */
export function medianInterval(xs, resamples = 2000) {
  const random = seeded(xs.length * 7919 + 17);
  const medians = [];
  for (let r = 0; r < resamples; r++) {
    medians.push(median(Array.from(xs, () => xs[Math.floor(random() * xs.length)])));
  }
  medians.sort((a, b) => a - b);
  return { median: median(xs), low: medians[Math.floor(0.025 * resamples)], high: medians[Math.ceil(0.975 * resamples) - 1] };
}

/** `a[i] / b[i]` for samples taken in pairs (the same round), so drifts in load cancel. */
export const pairedRatios = (a, b) => a.map((x, i) => x / b[i]);
