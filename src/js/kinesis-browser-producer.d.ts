export * from './kbp_core.js';
import type { Producer } from './kbp_core.js';
/** Resolves once the wasm module is loaded. */
export const ready: Promise<unknown>;
declare global {
  interface Window {
    /** The producer started from the script tag's data-* attributes. */
    kinesisBrowserProducer?: Producer;
    /** Why the script tag's producer could not start (name, code, key, message). */
    kinesisBrowserProducerError?: Error & { code: string; key?: string };
  }
  /** Where to fetch the .wasm from instead of next to the module; set before it loads. */
  var kinesisBrowserProducerWasmUrl: string | undefined;
}
