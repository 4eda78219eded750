// Re-records the oracle's answers: starts the real Backstage catalog backend (../shared/anchors/backstage,
// installed under $HOME/.cache/stagedoor-anchor/backstage by its run.sh) on the differential catalog,
// waits until every entity is stitched, sends every request in requests.mjs and writes recorded.json.
//   npm run diff:record                       # starts the oracle itself
//   ORACLE_URL=http://127.0.0.1:7007 npm run diff:record   # an oracle you started on this catalog
import { spawn } from 'node:child_process';
import { existsSync, writeFileSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { freePort, waitFor, HERE } from '../lib/server.mjs';
import { CATALOG_ALL, CATALOG_DIR, RECORDED, normalise, send } from './harness.mjs';
import { REQUESTS } from './requests.mjs';

const anchorDir = process.env.ANCHOR_DIR ?? path.join(os.homedir(), '.cache/stagedoor-anchor/backstage');

async function startOracle() {
  if (process.env.ORACLE_URL) return { base: process.env.ORACLE_URL.replace(/\/+$/, ''), stop() {} };
  const start = path.join(anchorDir, 'start.sh');
  if (!existsSync(path.join(anchorDir, 'node_modules'))) {
    throw new Error(`the Backstage oracle is not installed in ${anchorDir}: run ../shared/anchors/backstage/run.sh once (or set ANCHOR_DIR)`);
  }
  const port = await freePort();
  const child = spawn(start, [], {
    env: { ...process.env, CATALOG_FILE: CATALOG_ALL, BACKSTAGE_PORT: String(port), PROCESSING_INTERVAL: '3600' },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let err = '';
  child.stderr.on('data', d => (err = (err + d).slice(-4000)));
  return { base: `http://127.0.0.1:${port}`, stop: () => child.kill('SIGTERM'), err: () => err };
}

const oracle = await startOracle();
try {
  // Ready when the oracle serves entities, all stitched (relations present), and the count has
  // not changed for 10 s: Backstage ingests in the background, a few at a time.
  let last = -1;
  let since = Date.now();
  const settled = await waitFor(
    async () => {
      const res = await fetch(`${oracle.base}/api/catalog/entities?fields=kind,relations`);
      if (!res.ok) return false;
      const items = await res.json();
      if (!items.every(e => Array.isArray(e.relations))) return false;
      if (items.length !== last) [last, since] = [items.length, Date.now()];
      return last > 0 && Date.now() - since > 10_000;
    },
    { timeoutMs: 300_000, intervalMs: 1000 },
  );
  if (settled !== true) throw new Error(`the oracle's catalog did not settle in 5 minutes\n${oracle.err?.() ?? ''}`);
  const versions = JSON.parse(readFileSync(path.join(anchorDir, 'package.json'), 'utf8')).dependencies;
  const responses = {};
  for (const req of REQUESTS) {
    responses[req.name] = normalise(await send(oracle.base, req), CATALOG_DIR);
  }
  writeFileSync(RECORDED, JSON.stringify({ oracle: versions, responses }, null, 1) + '\n');
  console.log(`recorded ${REQUESTS.length} answers from ${oracle.base} into ${path.relative(HERE, RECORDED)}`);
} finally {
  oracle.stop();
}
