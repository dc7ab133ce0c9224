// Debian's Chromium through playwright-core (never a downloaded browser), and a tiny local HTTP server:
// IndexedDB needs a real origin, which `page.setContent` on about:blank does not have.
import { createServer } from 'node:http';
import { chromium } from 'playwright-core';

const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/** Headless on a machine without outside network: nothing in the background should try to reach Google. */
const ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/** A browser for pages that keep nothing (the chart). */
export function launchBrowser() {
  return chromium.launch({ executablePath: CHROMIUM_PATH, args: ARGS });
}

/**
 * A browser whose profile lives on disk in `userDataDir`. A plain `launch()` context is incognito-like,
 * and Chromium keeps an incognito profile's IndexedDB in memory, which would flatter every figure.
 */
export function launchWithProfile(userDataDir) {
  return chromium.launchPersistentContext(userDataDir, { executablePath: CHROMIUM_PATH, args: ARGS });
}

/**
 * Serves `files` (path -> { type, body }) on 127.0.0.1. Cross-origin isolation lets `performance.now()`
 * resolve to 5 µs instead of 100 µs, which matters for sub-millisecond searches.
 */
export async function serveFiles(files) {
  const server = createServer((request, response) => {
    const file = files[new URL(request.url, 'http://localhost').pathname];
    if (!file) {
      response.writeHead(404).end();
      return;
    }
    response
      .writeHead(200, {
        'content-type': file.type,
        'cache-control': 'no-store',
        'cross-origin-opener-policy': 'same-origin',
        'cross-origin-embedder-policy': 'require-corp',
      })
      .end(file.body);
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${server.address().port}/`,
    close: () => new Promise((resolve) => server.close(resolve)),
  };
}
