// The README's main command, as a visitor runs it: it sets up, builds, starts the stack and
// the page, prints the URL; the page and the stack answer; Ctrl-C stops everything.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../..', import.meta.url));

test('npm start prints the URL, serves the demo, and stops cleanly on Ctrl-C', { timeout: 600_000 }, async () => {
  const ports = { KBP_KINESIS_PORT: '24566', KBP_AUTH_PORT: '24577', KBP_STORE_PORT: '24567', KBP_WWW_PORT: '28080' };
  const child = spawn('npm', ['start'], { cwd: root, env: { ...process.env, ...ports }, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  let out = '';
  child.stdout.on('data', (d) => { out += d; });
  child.stderr.on('data', (d) => { out += d; });
  const url = await new Promise((resolve, reject) => {
    const t = setInterval(() => {
      const m = /demo: (http:\/\/127\.0\.0\.1:\d+\/)/.exec(out);
      if (m && /^ready$/m.test(out)) { clearInterval(t); resolve(m[1]); }
    }, 200);
    child.on('exit', (code) => { clearInterval(t); reject(new Error(`npm start exited ${code}:\n${out.slice(-2000)}`)); });
  });
  assert.equal(url, 'http://127.0.0.1:28080/');
  const page = await fetch(url);
  assert.equal(page.status, 200);
  assert.match(await page.text(), /many producers, one stream/);
  const config = await (await fetch(`${url}config.json`)).json();
  assert.equal(config.producer.streamName, 'general_stream');
  const creds = await (await fetch(config.producer.credentials.url)).json();
  assert.match(creds.AccessKeyId, /^ASIA/);

  const exited = new Promise((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
  process.kill(-child.pid, 'SIGINT');
  const how = await exited;
  assert.ok(how.code === 0 || how.signal === 'SIGINT', JSON.stringify(how));
  // Everything it started is gone: the ports are closed.
  for (const port of Object.values(ports)) {
    await assert.rejects(fetch(`http://127.0.0.1:${port}/`), undefined, `port ${port} still answers`);
  }
});
