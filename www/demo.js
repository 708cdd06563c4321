// The demo page: producer #1 is the visitor's mouse, captured by the module itself on the
// capture area. Against the local stack by default (config.json, written by the demo
// server); against real AWS with ?region=...&stream=...&identityPoolId=... in the URL.
import { ready, Producer } from './pkg/kinesis-browser-producer.js';

const $ = (id) => document.getElementById(id);
const show = (id, v) => { $(id).textContent = String(v); };
let latest = null;

async function loadConfig() {
  const q = new URLSearchParams(location.search);
  if (q.get('stream') && q.get('region') && q.get('identityPoolId')) {
    return { config: { streamName: q.get('stream'), region: q.get('region'), credentials: { cognitoIdentityPoolId: q.get('identityPoolId') } } };
  }
  const local = await (await fetch('config.json')).json();
  return { config: local.producer, readbackUrl: local.readbackUrl };
}

function showError(e) {
  $('error').hidden = false;
  $('error').textContent = `${e.name}: ${e.message}`;
}

function showStats(s) {
  latest = s;
  show('captured', s.recordsReceived);
  show('put', s.recordsPut);
  show('failed', s.recordsDropped);
  show('requests', s.putRecordsRequests);
  show('latency', s.putRecordsRequests ? `${s.requestLatencyMs.last} ms` : '–');
}

async function readBack(url, session) {
  const out = await (await fetch(url)).json();
  const canvas = $('trail');
  const g = canvas.getContext('2d');
  g.clearRect(0, 0, canvas.width, canvas.height);
  const area = $('capture').getBoundingClientRect();
  let mine = 0;
  for (const r of out.records) {
    let ev;
    try { ev = JSON.parse(atob(r.data)); } catch { continue; }
    if (typeof ev.x !== 'number' || typeof ev.y !== 'number') continue;
    const own = ev.sid === session;
    if (own) mine++;
    const x = ((ev.x - area.left) / area.width) * canvas.width;
    const y = ((ev.y - area.top) / area.height) * canvas.height;
    const size = ev.type === 'click' ? 6 : 3;
    g.fillStyle = own ? (ev.type === 'click' ? '#ff9900' : 'rgba(255,153,0,.55)') : 'rgba(120,160,200,.35)';
    g.fillRect(x - size / 2, y - size / 2, size, size);
  }
  const s = latest;
  if (s) {
    const lost = s.recordsReceived - mine - s.recordsPending - s.recordsDropped;
    show('reconcile', `captured ${s.recordsReceived} · in stream ${mine} · pending ${s.recordsPending} · dropped ${s.recordsDropped} · lost ${lost}`);
  }
}

await ready;
const { config, readbackUrl } = await loadConfig();
show('stream', config.streamName);
let producer;
try {
  producer = Producer.start({
    ...config,
    target: '#capture',
    onStats: showStats,
    onError: showError,
    onDrop: (d) => showError({ name: 'Dropped', message: `${d.count} ${d.type} record(s): ${d.reason}${d.code ? ` (${d.code})` : ''}` }),
  });
} catch (e) {
  showError(e);
  throw e;
}
setInterval(() => showStats(producer.stats()), 500);
if (readbackUrl) setInterval(() => readBack(readbackUrl, producer.sessionId).catch(() => {}), 2000);
