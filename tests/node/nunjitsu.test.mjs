// Nunjucks compatibility of Stagedoor's template expressions, with nunjitsu as the oracle: the
// engine (and version) Backstage's scaffolder 4.2.0 renders step inputs and skeleton files with,
// configured as the scaffolder configures it (regular expressions allowed). Every case in
// expressions/cases.json is rendered by both; a case agrees when both give the same result or
// both refuse the template. The cases we knowingly answer differently are listed, with why, in
// expressions/known-differences.json: the suite fails when any other case disagrees, and when a
// listed case has come to agree (so the list, and the share in docs/compatibility.md, stay true).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { isDeepStrictEqual } from 'node:util';

import { createTemplateRenderer } from 'nunjitsu';

import { HERE, stagedoorBin } from './lib/server.mjs';

const { context, cases } = JSON.parse(readFileSync(path.join(HERE, 'expressions', 'cases.json'), 'utf8'));
const known = JSON.parse(readFileSync(path.join(HERE, 'expressions', 'known-differences.json'), 'utf8'));

// As the scaffolder configures it: one renderer for step inputs and skeletons, one for
// cookiecutter skeletons.
const renderers = [false, true].map(cookiecutterCompat => createTemplateRenderer({ allowRegexExecution: true, cookiecutterCompat }));

function oracle(c) {
  const renderer = renderers[c.cookiecutterCompat ? 1 : 0];
  try {
    const out = c.value ? renderer.renderValue(c.template, context) : renderer.render(c.template, context);
    // A value the scaffolder leaves out (undefined) is null on our side.
    return { ok: out === undefined ? null : JSON.parse(JSON.stringify(out) ?? 'null') };
  } catch (e) {
    return { error: e.message };
  }
}

function ours() {
  const bin = stagedoorBin();
  assert.ok(existsSync(bin), `Stagedoor binary not found at ${bin}: cargo build -p stagedoor, or set STAGEDOOR_BIN`);
  const input = cases.map(c => JSON.stringify({ ...c, context })).join('\n');
  const run = spawnSync(bin, ['render', '--json-lines'], { input, encoding: 'utf8', maxBuffer: 64 << 20 });
  assert.equal(run.status, 0, run.stderr);
  const lines = run.stdout.trim().split('\n').map(l => JSON.parse(l));
  assert.equal(lines.length, cases.length, 'one answer per case');
  return lines;
}

const agree = (a, b) => ('error' in a && 'error' in b) || ('ok' in a && 'ok' in b && isDeepStrictEqual(a.ok, b.ok));
const key = c => `${c.cookiecutterCompat ? 'cookiecutter' : c.value ? 'value' : 'text'}: ${c.template}`;

test('template expressions render as nunjitsu (Backstage scaffolder 4.2.0) renders them', () => {
  const answers = ours();
  const unexpected = [];
  const fixed = [];
  let agreed = 0;
  cases.forEach((c, i) => {
    const expected = oracle(c);
    const same = agree(expected, answers[i]);
    if (same) agreed++;
    const listed = key(c) in known;
    if (!same && !listed) unexpected.push(`${key(c)}\n    nunjitsu:  ${JSON.stringify(expected)}\n    stagedoor: ${JSON.stringify(answers[i])}`);
    if (same && listed) fixed.push(key(c));
  });
  const stale = Object.keys(known).filter(k => !cases.some(c => key(c) === k));
  console.log(`nunjitsu compatibility: ${agreed} of ${cases.length} cases agree (${((100 * agreed) / cases.length).toFixed(1)} %), ${Object.keys(known).length} known differences`);
  assert.deepEqual(stale, [], 'known-differences.json lists cases that are not in cases.json');
  assert.deepEqual(fixed, [], 'these cases agree now: take them out of known-differences.json');
  assert.equal(unexpected.length, 0, `cases that differ from nunjitsu:\n  ${unexpected.join('\n  ')}`);
});
