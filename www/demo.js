// The many-producers demo. Producer #1 is the visitor's mouse on the capture area; the tiles
// are simulated producers (iframes: each its own wasm instance, session, credentials and
// batching). The consumer view reads the stream back in this page with the module's Consumer
// (GetShardIterator/GetRecords with read-scoped credentials) and draws what the stream holds.
//
// Local stack by default (config.json, written by the demo server). Real AWS:
//   ?region=us-east-1&stream=<name>&identityPoolId=<write pool>&guestRoleArn=<its guest role>
//   [&readIdentityPoolId=<pool>&readGuestRoleArn=<role>|&readCredentialsUrl=<url>]
// Knobs: ?producers=N&timers=T&messages=M (the article's CRON_JOBS_TO_GENERATE and
// MESSAGES_PER_CRON_JOB).
import { ready, Producer, Consumer } from './pkg-demo/kinesis-browser-producer.js';
import { LineChart } from './charts.js';

const $ = (id) => document.getElementById(id);
const q = new URLSearchParams(location.search);
const knobs = {
  producers: Math.min(50, Math.max(0, Number(q.get('producers') ?? 5))),
  timers: Math.min(50, Math.max(1, Number(q.get('timers') ?? 2))),
  messages: Math.min(100, Math.max(1, Number(q.get('messages') ?? 5))),
};
for (const [k, v] of Object.entries(knobs)) $('knobs').elements[k].value = v;

function showError(e) {
  $('error').hidden = false;
  $('error').textContent = `${e.name}: ${e.message}`;
}

async function loadConfig() {
  if (q.get('stream') && q.get('region') && q.get('identityPoolId')) {
    const base = { streamName: q.get('stream'), region: q.get('region') };
    const read = q.get('readCredentialsUrl')
      ? { url: q.get('readCredentialsUrl') }
      : q.get('readIdentityPoolId') ? { cognitoIdentityPoolId: q.get('readIdentityPoolId'), cognitoGuestRoleArn: q.get('readGuestRoleArn') } : null;
    return {
      producer: { ...base, credentials: { cognitoIdentityPoolId: q.get('identityPoolId'), cognitoGuestRoleArn: q.get('guestRoleArn') } },
      consumer: read && { ...base, credentials: read },
      faultsUrl: null,
    };
  }
  return (await fetch('config.json')).json();
}

const producers = new Map(); // index -> { sid, stats, final }
const inStream = new Map(); // sid -> Set(seq)
const trails = new Map(); // sid -> recent points
let stopped = false;

await ready;
const config = await loadConfig();
$('stream').textContent = config.producer.streamName;
let main;
try {
  main = Producer.start({ ...config.producer, target: '#capture', onError: showError });
} catch (e) {
  showError(e);
  throw e;
}
producers.set(0, { sid: main.sessionId, stats: main.stats() });
setInterval(() => { if (!stopped) producers.set(0, { sid: main.sessionId, stats: main.stats() }); }, 500);

// Simulated producers.
for (let i = 0; i < knobs.producers; i++) {
  const f = document.createElement('iframe');
  const params = new URLSearchParams({ index: String(i), timers: String(knobs.timers), messages: String(knobs.messages) });
  if (q.get('identityPoolId')) params.set('config', JSON.stringify(config.producer));
  f.src = `sim.html?${params}`;
  f.title = `simulated producer ${i + 2}`;
  $('sims').append(f);
}
addEventListener('message', (e) => {
  if (e.origin !== location.origin || e.data?.type !== 'kbp-stats') return;
  producers.set(e.data.index + 1, { sid: e.data.sid, stats: e.data.stats, final: e.data.final });
});

// Knobs and stop.
$('knobs').addEventListener('submit', (e) => {
  e.preventDefault();
  const next = new URLSearchParams(location.search);
  for (const k of Object.keys(knobs)) next.set(k, $('knobs').elements[k].value);
  location.search = next.toString();
});
$('stop').addEventListener('click', async () => {
  stopped = true;
  for (const f of $('sims').querySelectorAll('iframe')) f.contentWindow.postMessage({ type: 'kbp-stop' }, location.origin);
  producers.set(0, { sid: main.sessionId, stats: await main.close(), final: true });
  $('stop').disabled = true;
});

// Fault switch, wired to the local front door.
for (const b of document.querySelectorAll('[data-fault]')) {
  b.disabled = !config.faultsUrl;
  b.addEventListener('click', async () => {
    const faults = { throttle: { throttleEvery: 3 }, partial: { partialFailureRate: 0.3 }, down: { downForMs: 10000 }, none: {} }[b.dataset.fault];
    await fetch(config.faultsUrl, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(faults) });
    document.querySelectorAll('[data-fault]').forEach((x) => x.classList.toggle('active', x === b));
  });
}

// Consumer: read everything back, draw trails, count what arrives per second.
const consumer = config.consumer ? Consumer.start(config.consumer) : null;
const arrivals = []; // [arrival ms, kinesis bytes share]
const charts = {
  records: new LineChart($('chart-records'), [{ label: 'records/s', color: '#ff9900' }]),
  bytes: new LineChart($('chart-bytes'), [{ label: 'bytes/s', color: '#58a6ff' }]),
  latency: new LineChart($('chart-latency'), [{ label: 'p50', color: '#7ee787' }, { label: 'p99', color: '#ff6b6b' }]),
};
const colorOf = (sid) => {
  let h = 0;
  for (const ch of sid) h = (h * 31 + ch.charCodeAt(0)) % 360;
  return h;
};

async function pollStream() {
  if (!consumer) return;
  let records;
  try {
    records = await consumer.poll();
  } catch (e) {
    showError(e);
    return;
  }
  for (const r of records) {
    let ev;
    try { ev = JSON.parse(r.text); } catch { continue; }
    if (typeof ev.sid !== 'string' || typeof ev.seq !== 'number') continue;
    if (!inStream.has(ev.sid)) inStream.set(ev.sid, new Set());
    inStream.get(ev.sid).add(ev.seq);
    arrivals.push([r.arrival, r.bytes + r.partitionKey.length]);
    if (typeof ev.x === 'number' && typeof ev.y === 'number') {
      if (!trails.has(ev.sid)) trails.set(ev.sid, []);
      const t = trails.get(ev.sid);
      t.push([ev.x / Math.max(1, ev.vw), ev.y / Math.max(1, ev.vh), ev.type]);
      if (t.length > 400) t.shift();
    }
  }
}

function drawTrails() {
  const c = $('trails');
  const g = c.getContext('2d');
  g.clearRect(0, 0, c.width, c.height);
  for (const [sid, pts] of trails) {
    const own = sid === main.sessionId;
    g.strokeStyle = own ? 'rgba(255,153,0,.9)' : `hsla(${colorOf(sid)}, 70%, 60%, .55)`;
    g.lineWidth = own ? 2 : 1.2;
    g.beginPath();
    pts.forEach(([x, y], i) => (i ? g.lineTo(x * c.width, y * c.height) : g.moveTo(x * c.width, y * c.height)));
    g.stroke();
    for (const [x, y, type] of pts) {
      if (type === 'click') {
        g.fillStyle = '#ff9900';
        g.fillRect(x * c.width - 3, y * c.height - 3, 6, 6);
      }
    }
  }
}

function cell(row, value) {
  const td = document.createElement('td');
  td.textContent = String(value);
  row.append(td);
}

function report() {
  const rows = [];
  let total = { received: 0, put: 0, pending: 0, throttled: 0, failed: 0, retries: 0, dropped: 0, inStream: 0 };
  for (const [index, { sid, stats: s }] of [...producers].sort((a, b) => a[0] - b[0])) {
    const throttled = s.errorsByCode.ProvisionedThroughputExceededException || 0;
    const failed = Object.entries(s.errorsByCode).filter(([k]) => k !== 'ProvisionedThroughputExceededException').reduce((a, [, n]) => a + n, 0);
    const seen = inStream.get(sid)?.size || 0;
    rows.push({ index, sid, s, throttled, failed, seen });
    // A page that starts while another is live sends that page's localStorage copy too
    // (README, "Nothing lost"): those records are in its recordsReceived and recordsPut as
    // recordsRestored, but they are the other page's, counted there under its sid. The
    // totals count each page's own.
    const restored = s.recordsRestored || 0;
    total = {
      received: total.received + s.recordsReceived - restored, put: total.put + s.recordsPut - restored, pending: total.pending + s.recordsPending,
      throttled: total.throttled + throttled, failed: total.failed + failed, retries: total.retries + s.retries,
      dropped: total.dropped + s.recordsDropped, inStream: total.inStream + seen,
    };
  }
  const body = $('producers');
  body.replaceChildren(...rows.map(({ index, sid, s, throttled, failed }) => {
    const tr = document.createElement('tr');
    for (const v of [index + 1, sid.slice(0, 8), s.recordsReceived, s.recordsPut, s.recordsPending, throttled, failed, s.retries, s.recordsDropped, s.requestLatencyMs.p50, s.requestLatencyMs.p99]) cell(tr, v);
    return tr;
  }));
  const foot = $('total');
  foot.replaceChildren();
  for (const v of ['', 'total', total.received, total.put, total.pending, total.throttled, total.failed, total.retries, total.dropped, '', '']) cell(foot, v);
  // Put but not read back yet is the consumer's lag, not loss; lost is what is captured and
  // neither in the stream (or on its way to the reader), nor pending, nor counted as dropped.
  const reading = Math.max(0, total.put - total.inStream);
  const lost = total.received - total.inStream - reading - total.pending - total.dropped;
  const line = $('reconcile');
  line.textContent = consumer
    ? `captured ${total.received} · in stream ${total.inStream}${reading ? ` (+${reading} being read)` : ''} · pending ${total.pending} · dropped ${total.dropped} · lost ${lost}`
    : `captured ${total.received} · put ${total.put} (no read credentials for the consumer view)`;
  line.classList.toggle('ok', lost === 0);
  // Latency across producers: the worst p50/p99 of the moment.
  const now = Date.now();
  charts.latency.push(now, [Math.max(0, ...rows.map((r) => r.s.requestLatencyMs.p50)), Math.max(0, ...rows.map((r) => r.s.requestLatencyMs.p99))]);
  window.demo = { producers: rows.map(({ sid, s, seen }) => ({ sid, received: s.recordsReceived, restored: s.recordsRestored || 0, put: s.recordsPut, pending: s.recordsPending, dropped: s.recordsDropped, inStream: seen })), total, lost, reading, stopped, final: stopped && producers.size === knobs.producers + 1 && [...producers.values()].every((p) => p.final) };
}

function rates() {
  const now = Date.now();
  const second = now - 1000;
  let n = 0;
  let bytes = 0;
  while (arrivals.length && arrivals[0][0] < now - 60000) arrivals.shift();
  for (const [t, b] of arrivals) if (t >= second - 1000 && t < second) { n++; bytes += b; }
  charts.records.push(now, [n]);
  charts.bytes.push(now, [bytes]);
  for (const c of Object.values(charts)) c.draw(now);
}

setInterval(pollStream, 1000);
setInterval(() => { report(); drawTrails(); }, 500);
setInterval(rates, 1000);
