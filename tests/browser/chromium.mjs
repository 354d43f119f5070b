// Debian's Chromium driven by playwright-core: no browser download (none is possible here).
// CHROMIUM names another binary, for a machine without apt (see the README).
import { chromium } from "playwright-core";

export function launch() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium",
    // This machine's network is closed: background look-ups would only fail, many at once.
    args: [
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
  });
}
