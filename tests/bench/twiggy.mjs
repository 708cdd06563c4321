// Where the module's bytes come from: twiggy's per-item sizes (`twiggy top -f csv`, names
// kept: wasm-bindgen --keep-debug, before wasm-opt) summed per crate, or per module of
// core/alloc/std. Returns the BENCHMARKS.md section.
import { readFileSync, statSync } from 'node:fs';

const PRIMITIVES = { char: 'core::char', str: 'core::str', bool: 'core::bool', f32: 'core::num', f64: 'core::num' };
for (const t of ['u8', 'u16', 'u32', 'u64', 'u128', 'usize', 'i8', 'i16', 'i32', 'i64', 'i128', 'isize']) PRIMITIVES[t] = 'core::num';
const GLUE = /^(__wbg_|__wbindgen_|__externref_|producer_)|shim$/;

function parseCsv(text) {
  const rows = [];
  let row = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') { field += '"'; i++; } else if (c === '"') quoted = false; else field += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') { row.push(field); field = ''; } else if (c === '\n') { row.push(field); rows.push(row); row = []; field = ''; } else if (c !== '\r') field += c;
  }
  if (field || row.length) rows.push([...row, field]);
  const [head, ...body] = rows;
  return body.map((r) => Object.fromEntries(head.map((h, k) => [h, r[k]])));
}

/** The crate of a path: its first segment; for core, alloc and std the module too (core::fmt). */
function ofPath(p) {
  const segs = p.split('::');
  const first = segs[0].replace(/<.*$/, '');
  if (first === '__rustc') return 'std::alloc'; // the default allocator's shims (__rdl_alloc, ...)
  if (['core', 'alloc', 'std'].includes(first) && /^[a-z_][a-z0-9_]*$/.test(segs[1] || '')) return `${first}::${segs[1]}`;
  return first;
}

/** `<Self as Trait>::f` and `<Self>::f`: the crate of Self, or of the trait when Self is generic or primitive. */
function ofImpl(name) {
  let depth = 0;
  let end = -1;
  for (let i = 0; i < name.length; i++) {
    if (name[i] === '<') depth++;
    else if (name[i] === '>' && name[i - 1] !== '-' && --depth === 0) { end = i; break; }
  }
  const inner = name.slice(1, end);
  let asAt = -1;
  depth = 0;
  for (let i = 0; i < inner.length; i++) {
    if ('<[('.includes(inner[i])) depth++;
    else if ('>])'.includes(inner[i]) && inner[i - 1] !== '-') depth--;
    else if (depth === 0 && inner.startsWith(' as ', i)) { asAt = i; break; }
  }
  const self = (asAt < 0 ? inner : inner.slice(0, asAt)).replace(/^(&|\*const |\*mut |mut |dyn |'\w+ )+/, '');
  const trait = asAt < 0 ? null : inner.slice(asAt + 4).replace(/^dyn /, '');
  if (self.startsWith('<')) return ofImpl(self); // an item inside another impl's method
  const head = self.split(/::|</)[0];
  const generic = /^[A-Z]\w*$/.test(head) && !self.includes('::');
  if (self.startsWith('[') || self.startsWith('(') || PRIMITIVES[head] || generic) {
    if (trait) return ofPath(trait);
    return self.startsWith('[') ? 'core::slice' : PRIMITIVES[head] || 'core';
  }
  return ofPath(self);
}

function unit(rawName) {
  const name = rawName.replace(/\[[0-9a-f]{16}\]/g, '').replace(/::h[0-9a-f]{16}$/, '');
  if (/^data segment /.test(name)) return 'data segments (.rodata, .data)';
  if (/^(type|elem|global|table|memory)\[\d+\]/.test(name) || /^(import|export) /.test(name)) return 'module structure (types, imports, exports, tables)';
  if (GLUE.test(name) || /^(Closure|Ref)\(/.test(name)) return 'wasm-bindgen exports and shims';
  if (name.startsWith('<')) return ofImpl(name);
  if (!name.includes('::')) return 'compiler_builtins (memcmp, __multi3, …)';
  return ofPath(name);
}

/** The section for BENCHMARKS.md, from the twiggy CSV and the names-kept module it measured. */
export function crateTable(csvFile, wasmFile, shippedFile, top = 20) {
  const rows = parseCsv(readFileSync(csvFile, 'utf8'));
  const skipped = { bytes: 0, names: 0 };
  const by = new Map();
  for (const r of rows) {
    const bytes = Number(r.ShallowSize);
    // Custom sections (the names themselves, producers, target features) are not shipped.
    if (/subsection$/.test(r.Name) || /^custom section/.test(r.Name) || r.Name.startsWith('__wbindgen_describe')) {
      skipped.bytes += bytes;
      continue;
    }
    const u = unit(r.Name);
    by.set(u, (by.get(u) || 0) + bytes);
  }
  const sorted = [...by].sort((a, b) => b[1] - a[1]);
  const total = sorted.reduce((a, [, b]) => a + b, 0);
  const rest = sorted.slice(top);
  const pct = (b) => `${((b * 100) / total).toFixed(1)} %`;
  const lines = sorted.slice(0, top).map(([u, b]) => `| ${u} | ${b.toLocaleString('en-US')} | ${pct(b)} |`);
  if (rest.length) lines.push(`| everything else (${rest.length} crates and modules) | ${rest.reduce((a, [, b]) => a + b, 0).toLocaleString('en-US')} | ${pct(rest.reduce((a, [, b]) => a + b, 0))} |`);
  lines.push(`| **total** | **${total.toLocaleString('en-US')}** | 100 % |`);
  const n = (f) => statSync(f).size.toLocaleString('en-US');
  return `## Module size by crate

\`twiggy top\` on the product module built with names kept (\`cargo build --release --lib\`,
\`wasm-bindgen --keep-debug\`): shallow bytes of every function and data segment, summed per
crate, the symbol's first path segment (core, alloc and std per module; a trait method counts
for the crate of the type it is implemented for, or of the trait for a primitive or generic
type). These are bytes before wasm-opt: the module the script tag ships is
wasm-opt -Oz'd, ${n(shippedFile)} bytes against ${n(wasmFile)} here, of which ${skipped.bytes.toLocaleString('en-US')} are names and other
custom sections (left out below).

| crate or module | bytes (pre wasm-opt) | share |
|---|---:|---:|
${lines.join('\n')}
`;
}
