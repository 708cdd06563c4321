// kinesis-browser-producer: the file a page loads. Two ways in:
//
//   <script type="module" src=".../kinesis-browser-producer.js"
//           data-stream="general_stream" data-region="us-east-1"
//           data-credentials-url="/kinesis-credentials"></script>
//     starts a producer with no other code: it captures mouse events on the document and
//     puts them to the stream. The producer is window.kinesisBrowserProducer; a bad
//     attribute is reported on the console and as window.kinesisBrowserProducerError, and
//     both outcomes fire a "kinesis-producer" event on document (detail: {producer} or {error}).
//
//   import { ready, Producer } from 'kinesis-browser-producer';   // or '.../kinesis-browser-producer.js'
//   await ready;
//   const producer = Producer.start({ streamName, region, credentials: { url } });
import init from './kbp_core.js';

export * from './kbp_core.js';
import { Producer } from './kbp_core.js';

const here = import.meta.url.split(/[?#]/)[0];
const tag = typeof document === 'undefined'
  ? null
  : [...document.querySelectorAll('script[type="module"][src]')].find((s) => s.src.split(/[?#]/)[0] === here);

// The .wasm next to this file by default (bundlers copy it as an asset); elsewhere (a CDN)
// with globalThis.kinesisBrowserProducerWasmUrl or the script tag's data-wasm-url.
const wasmUrl = globalThis.kinesisBrowserProducerWasmUrl || tag?.dataset.wasmUrl;

/** Resolves once the wasm module is loaded. */
export const ready = init(wasmUrl ? { module_or_path: wasmUrl } : undefined);

if (tag && [...tag.attributes].some((a) => a.name.startsWith('data-'))) {
  ready.then(() => {
    let detail;
    try {
      const producer = Producer.fromScriptTag(tag);
      window.kinesisBrowserProducer = producer;
      detail = { producer };
    } catch (error) {
      window.kinesisBrowserProducerError = error;
      console.error(`kinesis-browser-producer: ${error.message}`);
      detail = { error };
    }
    document.dispatchEvent(new CustomEvent('kinesis-producer', { detail }));
  });
}
