// Search end to end in headless Chromium (Debian's /usr/bin/chromium driven by playwright-core),
// on the demo company: the header box suggests as you type (htmx) and opens a result through
// /search/open; without JavaScript the same box submits to /search, whose results open the same
// way. An API operation is found by its operationId and opens the API's definition.
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

async function startDemo() {
  const bin = stagedoorBin();
  assert.ok(existsSync(bin), `Stagedoor binary not found at ${bin}: cargo build -p stagedoor, or set STAGEDOOR_BIN`);
  const port = await freePort();
  const cwd = mkdtempSync(path.join(os.tmpdir(), 'stagedoor-search-'));
  const child = spawn(bin, ['serve', '--demo', '--db', 'sqlite::memory:', '--listen', `127.0.0.1:${port}`], {
    cwd,
    stdio: ['ignore', 'ignore', 'pipe'],
    env: { ...process.env, STAGEDOOR_LOG: 'warn' },
  });
  let log = '';
  child.stderr.on('data', d => { log = (log + d).slice(-4000); });
  const base = `http://127.0.0.1:${port}`;
  const ready = await waitFor(async () => (await fetch(`${base}/readyz`)).ok, { timeoutMs: 60_000 });
  assert.equal(ready, true, `server not ready: ${log}`);
  return {
    base,
    stop: async () => {
      child.kill('SIGTERM');
      await new Promise(r => (child.exitCode !== null ? r() : child.once('exit', r)));
      rmSync(cwd, { recursive: true, force: true });
    },
  };
}

describe('search on the demo company', () => {
  let server;
  let browser;
  before(async () => {
    server = await startDemo();
    browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS, headless: true });
  });
  after(async () => {
    await browser?.close();
    await server?.stop();
  });

  test('the API answers in Backstage\'s shape', async () => {
    const res = await fetch(`${server.base}/api/search/query?term=createBasket&types%5B%5D=api-definition`);
    assert.equal(res.status, 200);
    const body = await res.json();
    assert.equal(body.results[0].type, 'api-definition');
    assert.equal(body.results[0].document.title, 'createBasket');
    assert.equal(body.results[0].rank, 1);
    assert.ok(body.numberOfResults >= 1);
    const bad = await fetch(`${server.base}/api/search/query?types%5B%5D=nope`);
    assert.equal(bad.status, 400);
    assert.equal((await bad.json()).error.name, 'InputError');
  });

  test('header box suggests as you type and opens a result — with JavaScript', async () => {
    const page = await browser.newPage();
    try {
      await page.goto(`${server.base}/`);
      await page.locator('#top-q').pressSequentially('baske', { delay: 30 });
      const first = page.locator('#top-suggest .suggest-list a').first();
      await first.waitFor({ timeout: 10_000 });
      assert.match(await page.locator('#top-suggest').textContent(), /Basket/);
      assert.ok(await page.locator('#top-suggest mark').count() > 0, 'matches highlighted');
      const href = await first.getAttribute('href');
      assert.match(href, /^\/search\/open\?q=baske&rank=1&to=%2F/);
      await first.click();
      await page.waitForURL(/\/catalog\/default\/[a-z]+\/basket/);
      // A typo, submitted: the search page, grouped by type.
      await page.locator('#top-q').fill('baskt');
      await page.locator('#top-q').press('Enter');
      await page.waitForURL(/\/search\?q=baskt/);
      await page.locator('.search-result').first().waitFor();
      assert.match(await page.locator('.search-tabs').textContent(), /All/);
      assert.match(await page.locator('.search-result').first().textContent(), /Basket/);
      // On the search page, results follow the box as you type, without submitting.
      await page.locator('#search-q').fill('');
      await page.locator('#search-q').pressSequentially('createBask', { delay: 30 });
      await page.waitForURL(/\/search\?q=createBask/);
      const updated = await waitFor(async () => (await page.locator('.search-result a.search-title').first().textContent()) === 'createBasket', { timeoutMs: 10_000 });
      assert.equal(updated, true, 'results updated while typing');
      assert.equal(await page.locator('header.top').count(), 1, 'one page frame');
    } finally {
      await page.close();
    }
  });

  test('the search page works without JavaScript', async () => {
    const context = await browser.newContext({ javaScriptEnabled: false });
    const page = await context.newPage();
    try {
      await page.goto(`${server.base}/`);
      await page.locator('#top-q').fill('createBasket');
      await page.locator('#top-q').press('Enter');
      await page.waitForURL(/\/search\?q=createBasket/);
      const link = page.locator('.search-result a.search-title').first();
      assert.equal(await link.textContent(), 'createBasket');
      await page.locator('.search-tabs a', { hasText: 'API definitions' }).click();
      await page.waitForURL(/type=api-definition/);
      await page.locator('.search-result a.search-title').first().click();
      await page.waitForURL(/\/catalog\/default\/api\/basket-api#definition$/);
      assert.ok(await page.locator('#definition').isVisible());
    } finally {
      await context.close();
    }
  });
});
