// The differential harness: the same catalog (diff/catalog) and the same requests (diff/requests.mjs)
// as the real Backstage catalog backend, whose recorded answers (diff/recorded.json, re-recorded with
// `npm run diff:record`) must equal ours in full once uids, etags, ids and cursors are masked. A
// difference is either a bug to fix or listed, with its reason, in diff/deliberate.mjs (and in
// docs/compatibility.md).
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, test } from 'node:test';
import { startServer } from './lib/server.mjs';
import { CATALOG_ALL, CATALOG_DIR, RECORDED, differences, normalise, send } from './diff/harness.mjs';
import { REQUESTS } from './diff/requests.mjs';
import { DELIBERATE, adjust } from './diff/deliberate.mjs';

const recorded = JSON.parse(readFileSync(RECORDED, 'utf8')).responses;
let server;

before(async () => {
  server = await startServer({ location: CATALOG_ALL });
});
after(async () => server?.stop());

test('every request has a recorded oracle answer, and every recording a request', () => {
  const asked = new Set(REQUESTS.map(r => r.name));
  assert.equal(asked.size, REQUESTS.length, 'request names are unique');
  assert.deepEqual(REQUESTS.map(r => r.name).filter(n => !recorded[n]), [], 'run `npm run diff:record`');
  assert.deepEqual(Object.keys(recorded).filter(n => !asked.has(n)), [], 'stale recordings: re-record');
  for (const name of Object.keys(DELIBERATE)) assert.ok(asked.has(name), `deliberate difference for unknown request ${name}`);
});

for (const req of REQUESTS) {
  test(`${req.method} ${req.name}`, async () => {
    const theirs = recorded[req.name];
    assert.ok(theirs, `no recorded answer for ${req.name}`);
    const ours = normalise(await send(server.base, req), CATALOG_DIR);
    const [a, b] = adjust(req.name, ours, structuredClone(theirs));
    const diff = differences(a, b);
    assert.ok(diff.length === 0, `${req.method} ${req.path}\nours ≠ Backstage's:\n  ${diff.join('\n  ')}`);
  });
}
