// The differential harness's plumbing: send one request, normalise the whole response so two
// servers' answers can be compared, and list where two normalised answers differ.
import path from 'node:path';
import { HERE } from '../lib/server.mjs';

export const DIFF_DIR = path.join(HERE, 'diff');
export const CATALOG_DIR = path.join(DIFF_DIR, 'catalog');
export const CATALOG_ALL = path.join(CATALOG_DIR, 'all.yaml');
export const RECORDED = path.join(DIFF_DIR, 'recorded.json');

/** Sends `req` to `base`; the whole answer as {status, type, body} (body parsed when JSON). */
export async function send(base, req) {
  const headers = { ...(req.headers ?? {}) };
  let body;
  if (req.body !== undefined) {
    body = typeof req.body === 'string' ? req.body : JSON.stringify(req.body);
    headers['content-type'] ??= 'application/json';
  }
  const res = await fetch(base + req.path, { method: req.method, headers, body, redirect: 'manual' });
  const type = (res.headers.get('content-type') ?? '').split(';')[0].trim();
  const text = await res.text();
  let parsed = text;
  if (type === 'application/json' && text) {
    try {
      parsed = JSON.parse(text);
    } catch {
      parsed = { unparsable: text };
    }
  }
  return { status: res.status, type, body: parsed };
}

// Values that identify a row in one server's database, not the entity: masked, never compared.
const MASKED_KEYS = new Set(['uid', 'etag', 'id', 'nextCursor', 'prevCursor', 'stack']);

/**
 * The comparable form of one answer: ids, uids, etags and cursors masked (their presence still
 * counts), the catalog's absolute directory replaced by `<catalog>`, and nothing else changed.
 */
export function normalise(answer, catalogDir) {
  const dirs = [catalogDir, catalogDir.replace(/\/+$/, '')].filter(Boolean);
  const fix = v => {
    if (Array.isArray(v)) return v.map(fix);
    if (v && typeof v === 'object') {
      const out = {};
      for (const [k, x] of Object.entries(v)) {
        out[k] = MASKED_KEYS.has(k) && (typeof x === 'string' || typeof x === 'number') ? '<masked>' : fix(x);
      }
      return out;
    }
    if (typeof v === 'string') {
      let s = v;
      for (const d of dirs) s = s.split(d).join('<catalog>');
      // a location id inside a path, e.g. /locations/<uuid>; the generated Location's name, a
      // hash of the catalog's absolute path
      return s
        .replace(/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/g, '<uuid>')
        .replace(/generated-[0-9a-f]{40}/g, 'generated-<hash>');
    }
    return v;
  };
  return { status: answer.status, type: answer.type, body: fix(answer.body) };
}

/** Where `a` and `b` differ, as "path: a ≠ b" lines (at most `max`). */
export function differences(a, b, max = 12) {
  const out = [];
  const walk = (x, y, at) => {
    if (out.length >= max) return;
    if (Object.is(x, y)) return;
    const bothObjects = x && y && typeof x === 'object' && typeof y === 'object';
    if (bothObjects && Array.isArray(x) === Array.isArray(y)) {
      const keys = new Set([...Object.keys(x), ...Object.keys(y)]);
      for (const k of keys) walk(x[k], y[k], Array.isArray(x) ? `${at}[${k}]` : `${at}.${k}`);
      return;
    }
    out.push(`${at || '.'}: ${show(x)} ≠ ${show(y)}`);
  };
  walk(a, b, '');
  return out;
}

const show = v => {
  const s = v === undefined ? '(absent)' : JSON.stringify(v);
  return s.length > 160 ? `${s.slice(0, 157)}...` : s;
};
