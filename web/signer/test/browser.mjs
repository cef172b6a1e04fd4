// What the browser tests share: Debian's Chromium launched headless by Playwright, and a wait
// for an element that fails at once with the page's own error message if it shows one.

import assert from "node:assert/strict";
import { chromium } from "playwright-core";

/** Headless Chromium (MPCW_CHROMIUM, or Debian's /usr/bin/chromium). */
export function launch() {
  return chromium.launch({
    executablePath: process.env.MPCW_CHROMIUM ?? "/usr/bin/chromium",
    args: [
      "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
      "--disable-background-networking", "--disable-component-update", "--disable-sync",
    ],
  });
}

/** `visible(selector, timeout)` for `page`: waits until the element shows, or `#error` does. */
export function visibleIn(page) {
  return async (selector, timeout = 30_000) => {
    await page.waitForFunction(
      (s) => (document.querySelector(s) && !document.querySelector(s).hidden) || document.querySelector("#error").textContent,
      selector,
      { timeout },
    );
    assert.equal(await page.locator("#error").textContent(), "", `waiting for ${selector}`);
  };
}
