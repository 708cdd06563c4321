// The npm package as web teams get it: `npm pack`, installed into two small apps, one built
// with Vite and one with webpack (both from npm), served, and driven in headless Chromium
// with trusted input through the local stack; what reached the stream is read back. And
// tsc on an app file that uses every documented key and stat, against the packed types.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, writeFileSync, existsSync, rmSync } from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { startAll } from '../e2e/harness.mjs';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const BIN = path.join(ROOT, 'node_modules/.bin');
let env;
let tmp;
let tarball;

before(async () => {
  tarball = path.join(ROOT, execFileSync('bash', ['tests/scripts/package.sh'], { cwd: ROOT, encoding: 'utf8' }).trim());
  tmp = mkdtempSync(path.join(os.tmpdir(), 'kbp-bundlers-'));
  cpSync(path.join(ROOT, 'tests/bundlers'), tmp, { recursive: true });
  writeFileSync(path.join(tmp, 'package.json'), JSON.stringify({ name: 'apps', private: true, type: 'module' }));
  execFileSync('npm', ['install', '--no-audit', '--no-fund', '--loglevel=error', tarball], { cwd: tmp, stdio: 'inherit' });
  env = await startAll();
});

after(async () => {
  await env?.stop();
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

test('the packed package has an ESM entry with exports, the wasm, the types, a README and the license', () => {
  const list = execFileSync('tar', ['-tzf', tarball], { encoding: 'utf8' }).split('\n');
  for (const f of ['package.json', 'kinesis-browser-producer.js', 'kinesis-browser-producer.d.ts', 'kbp_core.d.ts', 'kbp_core_bg.wasm', 'README.md', 'LICENSE']) {
    assert.ok(list.includes(`package/${f}`), `${f} in ${list.join(' ')}`);
  }
  // One ES module: the wasm-bindgen glue and its snippet are bundled into the entry.
  assert.ok(!list.some((f) => f.startsWith('package/snippets/') || f === 'package/kbp_core.js'), `no separate glue in ${list.join(' ')}`);
  const pkg = JSON.parse(readFileSync(path.join(tmp, 'node_modules/kinesis-browser-producer/package.json'), 'utf8'));
  assert.equal(pkg.type, 'module');
  assert.deepEqual(pkg.exports['.'], { types: './kinesis-browser-producer.d.ts', default: './kinesis-browser-producer.js' });
});

function serveDir(dir) {
  const types = { '.html': 'text/html', '.js': 'text/javascript', '.wasm': 'application/wasm' };
  const config = {
    streamName: 'general_stream', region: 'us-east-1', endpoint: env.stack.info.kinesisEndpoint,
    credentials: { url: env.stack.info.credentialsUrl }, capture: ['mousemove', 'mousedown', 'mouseup', 'click'],
  };
  const server = http.createServer((req, res) => {
    const url = new URL(req.url, 'http://x');
    if (url.pathname === '/config.json') return res.writeHead(200, { 'Content-Type': 'application/json' }).end(JSON.stringify(config));
    const file = path.join(dir, url.pathname === '/' ? 'index.html' : url.pathname);
    if (!file.startsWith(dir) || !existsSync(file)) return res.writeHead(404).end();
    res.writeHead(200, { 'Content-Type': types[path.extname(file)] || 'application/octet-stream' }).end(readFileSync(file));
  });
  return new Promise((r) => server.listen(0, '127.0.0.1', () => r(server)));
}

async function deliversThroughTheStack(out, bundler) {
  const server = await serveDir(out);
  const page = await env.browser.newPage({ viewport: { width: 900, height: 600 } });
  const errors = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto(`http://127.0.0.1:${server.address().port}/`);
  await page.waitForFunction(() => window.appReady || window.appError, null, { timeout: 20000 });
  assert.equal(await page.evaluate(() => window.appError || null), null);
  for (let i = 0; i < 30; i++) await page.mouse.move(20 + i * 9, 50 + (i % 7) * 5);
  await page.mouse.click(300, 200);
  const stats = await page.evaluate(() => window.producer.close());
  const sid = await page.evaluate(() => window.producer.sessionId);
  await page.close();
  server.close();
  assert.deepEqual(errors, []);
  assert.equal(stats.recordsDropped, 0, JSON.stringify(stats));
  const back = await env.stack.auth.readBack('general_stream');
  const mine = back.records.map((r) => JSON.parse(Buffer.from(r.data, 'base64').toString('utf8'))).filter((e) => e.sid === sid);
  assert.deepEqual(mine.map((e) => e.seq).sort((a, b) => a - b), [...Array(stats.recordsReceived).keys()], 'every record once');
  assert.ok(mine.some((e) => e.type === 'app' && e.data.app === bundler), 'the app\'s own event');
  assert.ok(mine.some((e) => e.type === 'click') && mine.some((e) => e.type === 'mousemove'), 'trusted mouse events');
}

test('an app built with Vite from the tarball delivers its events through the local stack', async () => {
  const out = path.join(tmp, 'out-vite');
  execFileSync(path.join(BIN, 'vite'), ['build', path.join(tmp, 'vite-app'), '--outDir', out, '--emptyOutDir', '--logLevel', 'warn'], { cwd: tmp, stdio: 'inherit' });
  await deliversThroughTheStack(out, 'vite');
});

test('an app built with webpack from the tarball delivers its events through the local stack', async () => {
  const out = path.join(tmp, 'out-webpack');
  execFileSync(path.join(BIN, 'webpack'), ['--config', path.join(tmp, 'webpack-app/webpack.config.cjs'), '--env', `out=${out}`, '--env', `modules=${path.join(tmp, 'node_modules')}`], { cwd: tmp, stdio: 'inherit' });
  writeFileSync(path.join(out, 'index.html'), '<!doctype html><html><head><meta charset="utf-8"><title>webpack app</title></head><body style="margin:0;height:1500px"><script src="./main.js"></script></body></html>');
  await deliversThroughTheStack(out, 'webpack');
});

test('tsc: an app file using every documented key and stat checks against the packed types', () => {
  cpSync(path.join(ROOT, 'tests/types/every-key.ts'), path.join(tmp, 'every-key.ts'));
  writeFileSync(path.join(tmp, 'tsconfig.json'), JSON.stringify({
    compilerOptions: { target: 'es2022', module: 'es2022', moduleResolution: 'bundler', lib: ['es2022', 'dom', 'esnext.disposable'], strict: true, noEmit: true, skipLibCheck: false },
    files: ['every-key.ts'],
  }));
  execFileSync(path.join(BIN, 'tsc'), ['-p', tmp], { cwd: tmp, stdio: 'inherit' });
});
