// One simulated producer: its own wasm instance, session, credentials and batching. Like the
// article's kinesis-streamer, `timers` timers fire every second and each sends `messages`
// messages — here as synthetic mouse moves dispatched on this document, so they go through
// the same capture path as a real mouse.
import { ready, Producer } from './pkg/kinesis-browser-producer.js';

const q = new URLSearchParams(location.search);
const index = Number(q.get('index') || 0);
const timers = Math.max(1, Number(q.get('timers') || 1));
const messages = Math.max(1, Number(q.get('messages') || 1));
const pad = document.getElementById('pad');
const g = pad.getContext('2d');
const hue = (index * 47) % 360;
document.getElementById('label').textContent = `#${index + 2}`;

const config = q.get('config') ? JSON.parse(q.get('config')) : (await (await fetch('config.json')).json()).producer;
await ready;
const producer = Producer.start({ ...config, mousemoveMaxPerSecond: 1000, flushIntervalMs: 500 });

let t = index * 0.7;
function move() {
  t += 0.02;
  const x = pad.width * (0.5 + 0.42 * Math.sin(t * (1 + index * 0.13)));
  const y = pad.height * (0.5 + 0.4 * Math.sin(t * 1.7 + index));
  document.dispatchEvent(new MouseEvent('mousemove', { clientX: x, clientY: y, bubbles: true }));
  g.fillStyle = `hsla(${hue}, 80%, 60%, .8)`;
  g.fillRect(x - 1, y - 1, 2, 2);
}
const spacing = 1000 / (timers * messages);
const handles = [];
for (let j = 0; j < timers; j++) {
  // Each timer fires every second; its messages spread over the second so none coalesce.
  const fire = () => { for (let k = 0; k < messages; k++) setTimeout(move, (j + k * timers) * spacing); };
  handles.push(setTimeout(() => { fire(); handles.push(setInterval(fire, 1000)); }, j * spacing));
}
setInterval(() => { g.fillStyle = 'rgba(11,16,21,.08)'; g.fillRect(0, 0, pad.width, pad.height); }, 200);

const report = (final = false) => parent.postMessage({ type: 'kbp-stats', index, sid: producer.sessionId, stats: producer.stats(), final }, location.origin);
const ticker = setInterval(report, 500);
addEventListener('message', async (e) => {
  if (e.origin !== location.origin || e.data?.type !== 'kbp-stop') return;
  handles.forEach((h) => { clearTimeout(h); clearInterval(h); });
  await producer.close();
  clearInterval(ticker);
  report(true);
});
report();
