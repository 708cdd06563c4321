// Serves www/ on 127.0.0.1 for the demo, plus config.json pointing the page at the local stack.
import http from 'node:http';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import path from 'node:path';

const ROOT = fileURLToPath(new URL('../../www/', import.meta.url));
const TYPES = { '.html': 'text/html', '.js': 'text/javascript', '.css': 'text/css', '.wasm': 'application/wasm', '.json': 'application/json', '.png': 'image/png', '.svg': 'image/svg+xml' };

export function serveWww(port, info) {
  const config = {
    producer: {
      streamName: info.stream, region: info.region, endpoint: info.kinesisEndpoint,
      credentials: { url: info.credentialsUrl },
    },
    consumer: {
      streamName: info.stream, region: info.region, endpoint: info.kinesisEndpoint,
      credentials: { url: `${info.credentialsUrl}?scope=read` },
    },
    cognito: { cognitoIdentityPoolId: info.identityPoolId, cognitoEndpoint: info.authEndpoint, cognitoGuestRoleArn: info.guestRoleArn, stsEndpoint: info.stsEndpoint },
    faultsUrl: `${info.authEndpoint}/__stack/faults`,
    readbackUrl: `${info.authEndpoint}/__stack/readback`,
  };
  const server = http.createServer(async (req, res) => {
    const url = new URL(req.url, 'http://localhost');
    if (url.pathname === '/__test/embed') {
      // A page that only embeds the script tag; each query parameter becomes a data-* attribute.
      const esc = (v) => v.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
      const attrs = [...url.searchParams].filter(([k]) => !k.startsWith('_')).map(([k, v]) => ` data-${esc(k)}="${esc(v)}"`).join('');
      const headers = { 'Content-Type': 'text/html', 'Cache-Control': 'no-store' };
      // _csp=1: the Content Security Policy the README gives for the embed.
      if (url.searchParams.get('_csp')) {
        headers['Content-Security-Policy'] = `script-src 'self' 'wasm-unsafe-eval'; connect-src 'self' ${info.kinesisEndpoint} ${info.authEndpoint}`;
      }
      res.writeHead(200, headers);
      return res.end(`<!doctype html><html><head><meta charset="utf-8"><title>embed</title>
<script type="module" src="/pkg/kinesis-browser-producer.js"${attrs}></script></head>
<body style="margin:0;height:2000px"><p>A page that only embeds the script tag.</p></body></html>`);
    }
    if (url.pathname === '/config.json') {
      res.writeHead(200, { 'Content-Type': 'application/json', 'Cache-Control': 'no-store' });
      return res.end(JSON.stringify(config));
    }
    const file = path.normalize(path.join(ROOT, url.pathname === '/' ? 'index.html' : decodeURIComponent(url.pathname)));
    if (!file.startsWith(ROOT)) return res.writeHead(403).end();
    try {
      const body = await readFile(file);
      res.writeHead(200, { 'Content-Type': TYPES[path.extname(file)] || 'application/octet-stream', 'Cache-Control': 'no-cache' });
      res.end(body);
    } catch {
      res.writeHead(404).end('not found');
    }
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve(server));
  });
}
