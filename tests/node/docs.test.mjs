// Docs end to end in headless Chromium (Debian's /usr/bin/chromium driven by playwright-core):
// the demo company's home page links the onboarding guide; the reader shows the nav and the
// table of contents; a relative link between pages is followed; a service's docs show their
// admonitions, tabs and image; the entity page's Docs card names the deliberately broken link
// with its file and line; a word found only in a docs page is searched for, its page opened from
// the results and a relative link in it followed.
// With STAGEDOOR_SCREENSHOTS=1 it also writes docs/screenshots/docs-*.png.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { chromium } from 'playwright-core';
import { HERE, freePort, stagedoorBin, waitFor } from './lib/server.mjs';

const SHOT_DIR = path.resolve(HERE, '../../docs/screenshots');

async function shot(page, name) {
  if (process.env.STAGEDOOR_SCREENSHOTS !== '1') return;
  mkdirSync(SHOT_DIR, { recursive: true });
  await page.evaluate(() => window.scrollTo(0, 0));
  await page.screenshot({ path: path.join(SHOT_DIR, `${name}.png`) });
}

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync'];

describe('docs with the demo company', () => {
  let child;
  let cwd;
  let base;
  let browser;

  before(async () => {
    const bin = stagedoorBin();
    assert.ok(existsSync(bin), `Stagedoor binary not found at ${bin}: cargo build -p stagedoor`);
    const port = await freePort();
    cwd = mkdtempSync(path.join(os.tmpdir(), 'stagedoor-docs-'));
    child = spawn(bin, ['serve', '--demo', '--db', 'sqlite::memory:', '--listen', `127.0.0.1:${port}`], {
      cwd, stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, STAGEDOOR_LOG: 'warn' },
    });
    let log = '';
    child.stderr.on('data', d => { log = (log + d).slice(-4000); });
    base = `http://127.0.0.1:${port}`;
    // Docs are built right after the catalog is in.
    const built = await waitFor(async () =>
      (await fetch(`${base}/docs/default/component/engineering-handbook/`)).ok, { timeoutMs: 60_000 });
    assert.equal(built, true, `docs not built: ${log}`);
    browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS, headless: true });
  });

  after(async () => {
    await browser?.close();
    if (child) {
      child.kill('SIGTERM');
      await new Promise(r => (child.exitCode !== null ? r() : child.once('exit', r)));
    }
    if (cwd) rmSync(cwd, { recursive: true, force: true });
  });

  test('a new engineer goes from the home page to the onboarding guide and follows its links', async () => {
    const page = await browser.newPage();
    const errors = [];
    page.on('pageerror', e => errors.push(String(e)));
    page.on('console', m => { if (m.type() === 'error') errors.push(m.text()); });
    await page.goto(`${base}/`);
    await page.getByRole('link', { name: 'Engineering handbook' }).click();
    await page.locator('h1', { hasText: 'Welcome to Ridgeline engineering' }).waitFor();
    assert.equal(new URL(page.url()).pathname, '/docs/default/component/engineering-handbook/');
    // The nav, with its section, and the table of contents.
    const nav = page.locator('nav.docs-nav');
    assert.equal(await nav.locator('.docs-section', { hasText: 'Onboarding' }).count(), 1);
    assert.equal(await page.locator('nav.docs-toc a', { hasText: 'Where things are' }).count(), 1);
    // A relative link inside the page (the admonition's), then one between onboarding pages.
    await page.locator('.docs-content .admonition a', { hasText: 'your first day' }).click();
    await page.locator('h1', { hasText: 'Your first day' }).waitFor();
    assert.equal(new URL(page.url()).pathname, '/docs/default/component/engineering-handbook/onboarding/first-day/');
    assert.equal(await nav.locator('a[aria-current="page"]').textContent(), 'Your first day');
    await page.locator('.docs-content a', { hasText: 'how we work' }).click();
    await page.locator('h1', { hasText: 'How we work' }).waitFor();
    assert.equal(new URL(page.url()).pathname, '/docs/default/component/engineering-handbook/how-we-work/');
    // The pager goes back.
    await page.locator('.docs-pager a[rel="prev"]').click();
    await page.locator('h1', { hasText: 'Your first week' }).waitFor();
    assert.deepEqual(errors, []);
    await page.close();
  });

  test('a service\'s docs show admonitions, tabs and images, and its broken link is reported', async () => {
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    await page.goto(`${base}/catalog/default/component/payments-service`);
    const card = page.locator('#docs');
    assert.match(await card.textContent(), /docs\/local-development\.md:\d+\s+broken link: pci-checklist\.md/);
    await card.getByRole('link', { name: 'Read Payments service' }).click();
    await page.locator('nav.docs-nav a', { hasText: 'Architecture' }).click();
    await page.locator('h1', { hasText: 'Architecture' }).waitFor();
    const img = page.locator('.docs-content img').first();
    await img.waitFor();
    const width = await img.evaluate(i => i.complete ? i.naturalWidth : new Promise(r => i.onload = () => r(i.naturalWidth)));
    assert.ok(width > 0, 'the image from the docs folder loads');
    assert.equal(await page.locator('.docs-content .admonition.info .admonition-title').textContent(), 'In one sentence');
    assert.equal(await page.locator('.docs-content pre.mermaid').count(), 1);
    await page.locator('nav.docs-nav a', { hasText: 'Local development' }).click();
    await page.locator('h1', { hasText: 'Local development' }).waitFor();
    const tabs = await page.locator('.docs-content .tabbed-label').allTextContents();
    assert.deepEqual(tabs, ['macOS', 'Linux']);
    // Code is highlighted on the server: the JSON request's strings and numbers are marked.
    const json = page.locator('.docs-content pre code.language-json');
    assert.equal(await json.locator('span.tk-s', { hasText: '"tok_sandbox_visa"' }).count(), 1);
    assert.equal(await json.locator('span.tk-n', { hasText: '4200' }).count(), 1);
    await shot(page, 'docs-reader');
    await page.goto(`${base}/docs`);
    await shot(page, 'docs-home');
    await page.close();
  });

  test('a word found only in a docs page finds it; the result opens the page, whose relative link works', async () => {
    const page = await browser.newPage();
    // Docs pages reach the index after their build: wait for the search to know them.
    const indexed = await waitFor(async () => {
      const r = await (await fetch(`${base}/api/search/query?term=buddy&types[]=techdocs`)).json();
      return r.results.length > 0;
    }, { timeoutMs: 30_000 });
    assert.equal(indexed, true, 'docs pages never reached the search index');
    // "buddy" is written in the onboarding pages only, in no entity's name or description.
    const api = await (await fetch(`${base}/api/search/query?term=buddy`)).json();
    assert.deepEqual([...new Set(api.results.map(r => r.type))], ['techdocs']);
    await page.goto(`${base}/search?q=buddy`);
    const first = page.locator('.search-result').first();
    assert.equal(await first.locator('.search-type').textContent(), 'Docs');
    assert.match(await first.locator('.search-snippet').innerHTML(), /<mark>buddy<\/mark>/i);
    await first.locator('a.search-title').click();
    await page.locator('.docs-content h1').waitFor();
    const opened = new URL(page.url()).pathname;
    assert.match(opened, /^\/docs\/default\/component\/engineering-handbook\/onboarding\/first-(day|week)\/$/);
    // A relative link inside the opened page goes to another page of the same docs.
    const link = page.locator('.docs-content a[href^="/docs/default/component/engineering-handbook/"]').first();
    const target = await link.getAttribute('href');
    await link.click();
    await page.waitForURL(u => u.pathname === new URL(target, base).pathname);
    await page.locator('.docs-content h1').waitFor();
    assert.notEqual(new URL(page.url()).pathname, opened);
    await page.close();
  });
});
