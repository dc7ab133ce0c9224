import { existsSync } from 'node:fs';

/** Debian's Chromium, installed by `.ci/run`; the tests never download a browser of their own. */
export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/**
 * Flags for a headless Chromium on a machine without outside network: background networking, component
 * updates and QUIC would otherwise keep trying to reach Google's servers.
 */
export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/** Throws a message that says what to install, instead of letting the browser tests skip or time out. */
export function requireChromium(): string {
  if (!existsSync(CHROMIUM_PATH)) {
    throw new Error(
      `Chromium not found at ${CHROMIUM_PATH}: the browser tests need a real Chromium. ` +
        'Install it with `apt-get install -y chromium` (.ci/run does), or set CHROMIUM_PATH.',
    );
  }
  return CHROMIUM_PATH;
}
