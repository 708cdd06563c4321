// What every end-to-end test and the benchmark start: headless Chromium as this machine
// needs it (no sandbox as root, no background networking on a closed network), and the
// local stack with the www/ server on free ports.
import { existsSync } from 'node:fs';
import { before, after } from 'node:test';
import { chromium } from 'playwright-core';
import { startStack } from '../stack/stack.mjs';
import { serveWww } from '../stack/www.mjs';

export function launchChromium() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    args: ['--no-sandbox', '--js-flags=--expose-gc', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--disable-quic', '--no-first-run'],
  });
}

/** The stack, the www/ server and a browser; `stop()` ends them all. */
export async function startAll() {
  if (!existsSync(new URL('../../www/pkg/kinesis-browser-producer.js', import.meta.url))) {
    throw new Error('www/pkg is missing: run tests/scripts/build.sh first');
  }
  const stack = await startStack({ ports: { kinesis: 0, auth: 0, store: 0 }, quiet: true });
  const www = await serveWww(0, stack.info);
  const browser = await launchChromium();
  const base = `http://127.0.0.1:${www.address().port}`;
  const stop = async () => {
    await browser.close();
    www.close();
    await stack.stop();
  };
  return { stack, www, browser, base, stop };
}

/**
 * For a test file: starts everything before its tests and stops it after. The returned
 * object gets `stack`, `browser` and `base` (the www/ origin) once the tests run.
 */
export function useEnv() {
  const env = {};
  before(async () => Object.assign(env, await startAll()));
  after(() => env.stop?.());
  return env;
}
