// The script tag's size, as a page loads it: the product build in www/pkg (the loader with
// the wasm-bindgen glue and its snippet bundled in, and the wasm), gzip level 9. `node tests/scripts/size.mjs`
// prints it and fails when it is over the budget in tests/size-budget.json (as Segment's and
// Snowplow's CI fail when their bundles grow): bytes are not noisy, so the test command
// enforces it. Lower the budget when a change shrinks the module.
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** Every file the script tag makes the page fetch. */
export function scriptTagFiles(dir = path.join(ROOT, 'www/pkg')) {
  const out = [];
  const walk = (d) => {
    for (const name of readdirSync(d)) {
      const p = path.join(d, name);
      if (statSync(p).isDirectory()) walk(p);
      else if (/\.(js|wasm)$/.test(name)) out.push(p);
    }
  };
  walk(dir);
  return out.sort();
}

export const gzipBytes = (file) => gzipSync(readFileSync(file), { level: 9 }).length;

export function scriptTagSize(dir) {
  const files = scriptTagFiles(dir).map((f) => ({ file: path.relative(ROOT, f), raw: statSync(f).size, gzip: gzipBytes(f) }));
  return { files, raw: files.reduce((a, f) => a + f.raw, 0), gzip: files.reduce((a, f) => a + f.gzip, 0) };
}

if (process.argv[1] && fileURLToPath(import.meta.url) === path.resolve(process.argv[1])) {
  const { scriptTagGzipBytes: budget } = JSON.parse(readFileSync(path.join(ROOT, 'tests/size-budget.json'), 'utf8'));
  const size = scriptTagSize();
  for (const f of size.files) console.log(`size: ${f.file.padEnd(72)} ${String(f.raw).padStart(8)} raw ${String(f.gzip).padStart(8)} gzip`);
  console.log(`size: the script tag: ${size.gzip} bytes gzip (budget ${budget})`);
  if (size.gzip > budget) {
    console.error(`size: over the budget by ${size.gzip - budget} bytes: make it smaller, or justify raising tests/size-budget.json`);
    process.exit(1);
  }
}
