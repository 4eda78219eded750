// Discovery end to end in headless Chromium: `stagedoor serve --demo` generates its git
// repositories at first start and scans them; the completeness page shows the counts, the SVG
// trend and a team's Uncatalogued list; a signed-in member of the team edits a proposal's name
// and accepts it, and the repository then has the file on a new branch (read with git).
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { chromium } from 'playwright-core';
import { freePort, stagedoorBin, waitFor } from './lib/server.mjs';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

describe('discovery with the demo repositories', () => {
  let child;
  let cwd;
  let base;
  let browser;
  before(async () => {
    const bin = stagedoorBin();
    assert.ok(existsSync(bin), `Stagedoor binary not found at ${bin}`);
    const port = await freePort();
    cwd = mkdtempSync(path.join(os.tmpdir(), 'stagedoor-discovery-'));
    child = spawn(bin, ['serve', '--demo', '--db', 'sqlite::memory:', '--listen', `127.0.0.1:${port}`], {
      cwd, stdio: ['ignore', 'ignore', 'ignore'], env: { ...process.env, STAGEDOOR_LOG: 'warn' },
    });
    base = `http://127.0.0.1:${port}`;
    // The first scan runs beside start-up: wait until it has counted something.
    const scanned = await waitFor(async () => {
      const r = await fetch(`${base}/api/discovery/v1/completeness`);
      return r.ok && (await r.json()).org.found > 0;
    }, { timeoutMs: 60_000 });
    assert.equal(scanned, true, 'discovery scanned the demo repositories');
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--headless', '--no-sandbox', '--disable-gpu'], headless: true });
  });
  after(async () => {
    await browser?.close();
    if (child) {
      child.kill('SIGTERM');
      await new Promise(r => (child.exitCode !== null ? r() : child.once('exit', r)));
    }
    if (cwd) rmSync(cwd, { recursive: true, force: true });
  });

  test('completeness below 100 %, and a proposal accepted from the page', async () => {
    const api = await (await fetch(`${base}/api/discovery/v1/completeness`)).json();
    assert.deepEqual(api.org, { found: 8, cataloged: 3, percent: 37 });

    const page = await browser.newPage();
    await page.goto(`${base}/completeness`);
    assert.equal(await page.locator('svg.completeness-trend').count(), 1);
    assert.match(await page.locator('ul.stats').textContent(), /37%/);
    const fulfilment = page.locator('table.completeness-table tr', { hasText: 'Fulfilment' });
    assert.match(await fulfilment.textContent(), /0%/);

    // Sign in as a member of Fulfilment, open the team's Uncatalogued list, edit and accept.
    await page.goto(`${base}/sign-in`);
    await page.locator('button.user-card', { hasText: 'Mei Lin' }).click();
    await page.waitForURL(`${base}/`);
    await page.goto(`${base}/completeness?team=group:default/fulfilment`);
    const proposal = page.locator('article.proposal', { hasText: 'label-printer-agent' });
    assert.match(await proposal.textContent(), /group:default\/fulfilment/);
    assert.match(await proposal.textContent(), /CODEOWNERS/);
    await proposal.locator('input[name=name]').fill('label-printer');
    await proposal.locator('button[type=submit]').click();
    await page.locator('p.notice.ok').waitFor();
    assert.match(await page.locator('p.notice.ok').textContent(), /on branch stagedoor\/catalog-info/);

    const repo = path.join(cwd, '.stagedoor', 'demo-repos', 'label-printer-agent.git');
    const file = execFileSync('git', ['--git-dir', repo, 'show', 'stagedoor/catalog-info:catalog-info.yaml'], { encoding: 'utf8' });
    assert.match(file, /name: "label-printer"/);
    assert.match(file, /owner: "group:default\/fulfilment"/);
    const main = execFileSync('git', ['--git-dir', repo, 'ls-tree', '--name-only', 'main'], { encoding: 'utf8' });
    assert.doesNotMatch(main, /catalog-info/, 'the default branch is untouched');
  });
});
