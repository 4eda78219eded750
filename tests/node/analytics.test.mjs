// Adoption analytics end to end in headless Chromium (Debian's /usr/bin/chromium driven by
// playwright-core). Starts the real binary with the demo company: its ~90 days of generated use
// are labelled as demo data; a person signs in, uses the portal, and the dashboard (reached from
// the main navigation) counts them as today's one active engineer; the team in the chasm is
// marked; every request the pages make stays on the portal's own origin (no third-party script).
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { chromium } from 'playwright-core';
import { freePort, stagedoorBin, waitFor } from './lib/server.mjs';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const CHROMIUM_ARGS = [
  '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
];

describe('adoption analytics with the demo company', () => {
  let base;
  let child;
  let cwd;
  let browser;

  before(async () => {
    const bin = stagedoorBin();
    assert.ok(existsSync(bin), `Stagedoor binary not found at ${bin}: cargo build -p stagedoor, or set STAGEDOOR_BIN`);
    const port = await freePort();
    cwd = mkdtempSync(path.join(os.tmpdir(), 'stagedoor-analytics-'));
    child = spawn(bin, ['serve', '--demo', '--db', 'sqlite::memory:', '--listen', `127.0.0.1:${port}`], {
      cwd,
      stdio: ['ignore', 'ignore', 'pipe'],
      env: { ...process.env, STAGEDOOR_LOG: 'warn' },
    });
    let log = '';
    child.stderr.on('data', d => { log = (log + d).slice(-4000); });
    base = `http://127.0.0.1:${port}`;
    const ready = await waitFor(async () => (await fetch(`${base}/readyz`)).ok, { timeoutMs: 60_000 });
    assert.equal(ready, true, `server not ready: ${log}`);
    // The demo history is written once the catalog is in.
    const seeded = await waitFor(async () => {
      const s = await (await fetch(`${base}/api/analytics/v1/summary`)).json();
      return s.mau > 0;
    }, { timeoutMs: 30_000 });
    assert.equal(seeded, true, 'demo usage history written');
    browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS, headless: true });
  });

  after(async () => {
    await browser?.close();
    child?.kill('SIGTERM');
    await new Promise(r => (child.exitCode !== null ? r() : child.once('exit', r)));
    rmSync(cwd, { recursive: true, force: true });
  });

  test('a signed-in person uses the portal and sees that use on the dashboard', async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    const pageErrors = [];
    const foreign = [];
    page.on('pageerror', e => pageErrors.push(String(e)));
    page.on('request', r => { if (!r.url().startsWith(base) && !r.url().startsWith('data:')) foreign.push(r.url()); });
    try {
      // Before anyone signs in today, no one is active today: the demo history ends yesterday.
      const before = await (await fetch(`${base}/api/analytics/v1/summary`)).json();
      assert.equal(before.dau, 0);

      await page.goto(`${base}/sign-in`);
      await page.locator('button.user-card', { hasText: 'Priya Raman' }).click();
      await page.locator('#my-teams').waitFor();
      await page.goto(`${base}/catalog`);
      await page.locator('#results-summary').waitFor();
      await page.goto(`${base}/catalog/default/component/basket-service`);

      // Through the main navigation; the writer stores within a second, so reload until seen.
      await page.locator('nav.main-nav a', { hasText: 'Adoption' }).click();
      await page.locator('h1', { hasText: 'Adoption' }).waitFor();
      const counted = await waitFor(async () => {
        await page.reload();
        const dd = await page.locator('.stat-row dd').nth(1).textContent();
        return /^\s*1\b/.test(dd);
      }, { timeoutMs: 15_000, intervalMs: 500 });
      assert.equal(counted, true, 'today\'s one active engineer on the dashboard');
      const main = await page.locator('main').textContent();
      assert.match(main, /Demo data: the use from \d{4}-\d{2}-\d{2} to \d{4}-\d{2}-\d{2} was generated/);
      assert.match(main, /groups under 3 engineers are never shown alone/);
      // The chasm team is marked, in the chart and in the table beside it.
      const chasmRow = page.locator('tr.in-chasm');
      assert.ok(await chasmRow.count() >= 1);
      assert.match(await chasmRow.first().textContent(), /Data & Insights/);
      assert.equal(await page.locator('svg.hbars rect.bar.chasm').count() >= 1, true);
      assert.equal(await page.locator('svg.adoption-lines polyline').count(), 3);

      // The API agrees: Priya's team counts her today.
      const team = await (await fetch(`${base}/api/analytics/v1/summary?group=storefront`)).json();
      assert.equal(team.dau, 1);
      assert.ok(team.features.catalog.users >= 1);

      assert.deepEqual(pageErrors, []);
      assert.deepEqual(foreign, [], 'every request stays on the portal');
    } finally {
      await context.close();
    }
  });
});
