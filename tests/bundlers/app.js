// The app both bundler tests build: it imports the package as an app would, starts a
// producer from /config.json (the local stack's endpoints) and records one event of its own.
import { ready, Producer } from 'kinesis-browser-producer';

export async function main(bundler) {
  try {
    const config = await (await fetch('./config.json')).json();
    await ready;
    const producer = Producer.start({ ...config, flushIntervalMs: 200 });
    window.producer = producer;
    producer.record({ app: bundler });
    window.appReady = true;
  } catch (e) {
    window.appError = `${e.name}: ${e.message}`;
  }
}
