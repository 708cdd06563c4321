// The demo page: producer #1 is the visitor's mouse. Against the local stack by default
// (config.json, written by the demo server); against real AWS with
// ?region=...&stream=...&identityPoolId=... in the URL.
import init, { Producer } from './pkg/kinesis-browser-producer.js';

const $ = (id) => document.getElementById(id);
const session = crypto.randomUUID();
const counts = { captured: 0, put: 0, failed: 0, requests: 0 };
let pending = [];

async function loadConfig() {
  const q = new URLSearchParams(location.search);
  if (q.get('stream') && q.get('region') && q.get('identityPoolId')) {
    return { streamName: q.get('stream'), region: q.get('region'), credentials: { cognitoIdentityPoolId: q.get('identityPoolId') } };
  }
  const local = await (await fetch('config.json')).json();
  return local.producer;
}

function show(id, v) { $(id).textContent = String(v); }

function capture(e) {
  const r = $('capture').getBoundingClientRect();
  pending.push({ v: 1, type: e.type, x: (e.clientX - r.left) / r.width, y: (e.clientY - r.top) / r.height, t: Date.now(), seq: counts.captured });
  counts.captured++;
  show('captured', counts.captured);
}

async function flush(producer) {
  if (pending.length === 0) return;
  const batch = pending.splice(0, 500);
  const started = performance.now();
  counts.requests++;
  try {
    const out = await producer.putRecords(batch.map((ev) => ({ data: JSON.stringify(ev), partitionKey: session })));
    counts.put += batch.length - out.failedRecordCount;
    counts.failed += out.failedRecordCount;
    show('latency', `${Math.round(performance.now() - started)} ms`);
    $('error').hidden = true;
  } catch (e) {
    counts.failed += batch.length;
    $('error').hidden = false;
    $('error').textContent = `${e.name}: ${e.message}`;
  }
  for (const k of ['put', 'failed', 'requests']) show(k, counts[k]);
}

async function readBack(readbackUrl) {
  const out = await (await fetch(readbackUrl)).json();
  const canvas = $('trail');
  const g = canvas.getContext('2d');
  g.clearRect(0, 0, canvas.width, canvas.height);
  let mine = 0;
  for (const r of out.records) {
    let ev;
    try { ev = JSON.parse(atob(r.data)); } catch { continue; }
    if (typeof ev.x !== 'number' || typeof ev.y !== 'number') continue;
    const own = r.partitionKey === session;
    if (own) mine++;
    g.fillStyle = own ? (ev.type === 'click' ? '#ff9900' : 'rgba(255,153,0,.5)') : 'rgba(120,160,200,.35)';
    g.fillRect(ev.x * canvas.width - 1.5, ev.y * canvas.height - 1.5, ev.type === 'click' ? 5 : 3, ev.type === 'click' ? 5 : 3);
  }
  const lost = Math.max(0, counts.put - mine);
  $('reconcile').textContent = `captured ${counts.captured} · in stream ${mine} · lost ${lost} · pending ${pending.length}`;
}

await init();
const config = await loadConfig();
show('stream', config.streamName);
let producer;
try {
  producer = Producer.start(config);
} catch (e) {
  $('error').hidden = false;
  $('error').textContent = `${e.name}: ${e.message}`;
  throw e;
}
let last = 0;
$('capture').addEventListener('mousemove', (e) => {
  if (e.timeStamp - last < 33) return; // ~30 per second until the producer coalesces by itself
  last = e.timeStamp;
  capture(e);
}, { passive: true });
for (const type of ['mousedown', 'mouseup', 'click']) $('capture').addEventListener(type, capture, { passive: true });
setInterval(() => flush(producer), 1000);
const local = await fetch('config.json').then((r) => r.json()).catch(() => null);
if (local && local.readbackUrl) setInterval(() => readBack(local.readbackUrl).catch(() => {}), 2000);
