// Portal pages end to end in headless Chromium (Debian's /usr/bin/chromium driven by
// playwright-core; no browser is downloaded). Starts the real binary twice on free ports:
//   - with the demo company: search → open an entity → follow its owner → filter the catalog by
//     a facet → open an entity with an error and see its file and line → sign in as a user and
//     see their team on the home page; once with JavaScript (htmx) and once without. Then a
//     campaign: a failing check shows how to fix it, the file is fixed, the campaign's count drops.
//   - with fixtures/xss: hostile catalog data on every page; nothing may run.
// With STAGEDOOR_SCREENSHOTS=1 the demo run also writes docs/screenshots/*.png.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { chromium } from 'playwright-core';
import { HERE, freePort, stagedoorBin, waitFor } from './lib/server.mjs';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const CHROMIUM_ARGS = [
  '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
];
const SCREENSHOTS = process.env.STAGEDOOR_SCREENSHOTS === '1';
const SHOT_DIR = path.resolve(HERE, '../../docs/screenshots');
const XSS_FIXTURE = path.join(HERE, 'fixtures', 'xss', 'catalog-info.yaml');

/** Starts `stagedoor serve` with `args` in a fresh temporary directory; resolves once ready. */
async function startStagedoor(args) {
  const bin = stagedoorBin();
  assert.ok(existsSync(bin), `Stagedoor binary not found at ${bin}: cargo build -p stagedoor, or set STAGEDOOR_BIN`);
  const port = await freePort();
  const cwd = mkdtempSync(path.join(os.tmpdir(), 'stagedoor-pages-'));
  const child = spawn(bin, ['serve', '--db', 'sqlite::memory:', '--listen', `127.0.0.1:${port}`, ...args], {
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
    cwd,
    stop: async () => {
      child.kill('SIGTERM');
      await new Promise(r => (child.exitCode !== null ? r() : child.once('exit', r)));
      rmSync(cwd, { recursive: true, force: true });
    },
  };
}

async function launch() {
  return chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS, headless: true });
}

async function shot(page, name) {
  if (!SCREENSHOTS) return;
  mkdirSync(SHOT_DIR, { recursive: true });
  await page.evaluate(() => window.scrollTo(0, 0));
  await page.screenshot({ path: path.join(SHOT_DIR, `${name}.png`) });
}

/** Text of the results summary ("1–25 of 87 entities"). */
async function summary(page) {
  return (await page.locator('#results-summary').textContent()).replace(/\s+/g, ' ').trim();
}

/** Clicks a link and waits until the page shows `selector`. Works for full and htmx navigation. */
async function follow(page, link, selector) {
  await link.click();
  await page.locator(selector).first().waitFor();
  // A page swapped into a fragment's place would show the frame twice.
  assert.equal(await page.locator('header.top').count(), 1, `one page frame after following to ${selector}`);
}

describe('portal pages with the demo company', () => {
  let server;
  let browser;
  before(async () => {
    server = await startStagedoor(['--demo']);
    browser = await launch();
  });
  after(async () => {
    await browser?.close();
    await server?.stop();
  });

  for (const js of [true, false]) {
    const label = js ? 'with JavaScript (htmx)' : 'without JavaScript';

    test(`search, entity, owner, facet, errors, sign-in — ${label}`, async () => {
      const context = await browser.newContext({ javaScriptEnabled: js, viewport: { width: 1280, height: 900 } });
      const page = await context.newPage();
      const pageErrors = [];
      page.on('pageerror', e => pageErrors.push(String(e)));
      try {
        // Search from the home page.
        await page.goto(`${server.base}/`);
        await page.locator('#home-q').fill('basket');
        await page.locator('#home-q').press('Enter');
        await page.waitForURL(/\/catalog\?q=basket/);
        await page.locator('#results-summary').waitFor();
        assert.match(await summary(page), /of \d+ entities for “basket”/);

        // Open an entity from the results.
        await follow(page, page.locator('table.entities a', { hasText: 'Basket service' }), 'h1:text("Basket service")');
        assert.match(page.url(), /\/catalog\/default\/component\/basket-service$/);
        assert.ok(await page.locator('svg.relations').isVisible(), 'relations graph shown');
        if (js) await shot(page, 'entity');

        // Follow its owner to the team page.
        await follow(page, page.locator('a[data-test=owner]'), 'h1:text("Checkout & Payments")');
        assert.match(page.url(), /\/catalog\/default\/group\/checkout$/);
        assert.ok(await page.locator('#members').textContent().then(t => t.includes('Team lead') || t.length > 20));
        if (js) await shot(page, 'group');

        // Filter the catalog by a facet.
        await page.goto(`${server.base}/catalog`);
        if (js) await shot(page, 'catalog');
        // 90 from the demo catalog (with the engineering handbook and its templates), and 6 from the demo's git repositories (3 components found by
        // discovery and the 3 Location entities their registered files generate).
        assert.match(await summary(page), /of 96 entities/);
        await page.locator('input[name=kind][value=api]').check();
        if (!js) await page.locator('button', { hasText: 'Apply filters' }).click();
        await page.waitForURL(/kind=api/);
        await waitFor(async () => /of 8 entities/.test(await summary(page)), { timeoutMs: 10_000 });
        assert.match(await summary(page), /of 8 entities/);
        assert.equal(await page.locator('table.entities tbody tr').count(), 8);
        // The state is in the URL: loading it afresh gives the same view.
        await page.goto(page.url());
        assert.match(await summary(page), /of 8 entities/);
        assert.ok(await page.locator('input[name=kind][value=api]').isChecked());

        // An API's definition as operations.
        await follow(page, page.locator('table.entities a', { hasText: /^Payments API$/ }), '#definition');
        assert.ok(await page.locator('.operation .method').count() > 0, 'OpenAPI operations listed');
        if (js) await shot(page, 'api');

        // Entities with processing errors, and one error's file and line.
        await page.goto(`${server.base}/catalog`);
        await page.locator('#f-errors-yes').check();
        if (!js) await page.locator('button', { hasText: 'Apply filters' }).click();
        await page.waitForURL(/errors=yes/);
        await waitFor(async () => /of 1 entity\b/.test(await summary(page)), { timeoutMs: 10_000 });
        await follow(page, page.locator('table.entities td.name a').first(), '#problems');
        const problems = await page.locator('#problems').textContent();
        assert.match(problems, /mistakes\/invalid-name\.yaml:10:3/);
        assert.match(problems, /mistakes\/yaml-syntax-error\.yaml:16:9/);
        if (js) await shot(page, 'errors');

        // Ownership report: the unknown owner is listed.
        await page.goto(`${server.base}/ownership`);
        assert.match(await page.locator('main').textContent(), /group:default\/loyalty/);
        if (js) await shot(page, 'ownership');

        // Guest sign-in, then the home page knows the team.
        await page.goto(`${server.base}/sign-in`);
        if (js) await shot(page, 'sign-in');
        await page.locator('button.user-card', { hasText: 'Priya Raman' }).click();
        await page.locator('#my-teams').waitFor();
        assert.equal(new URL(page.url()).pathname, '/');
        assert.match(await page.locator('#my-teams').textContent(), /Storefront/);
        assert.match(await page.locator('#my-owned').textContent(), /My Account pages|account-web/);
        assert.match(await page.locator('#recent').textContent(), /Basket service/);
        if (js) await shot(page, 'home');

        // The user page lists her team.
        await follow(page, page.locator('.me-link'), '#teams');
        assert.match(await page.locator('#teams').textContent(), /Storefront/);
        if (js) await shot(page, 'user');

        assert.deepEqual(pageErrors, []);
      } finally {
        await context.close();
      }
    });
  }

  test('keyboard: skip link and focusable graph nodes', async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    try {
      await page.goto(`${server.base}/catalog/default/component/account-web`);
      await page.keyboard.press('Tab');
      assert.equal(await page.evaluate(() => document.activeElement.textContent), 'Skip to content');
      // Graph nodes are real links a keyboard can reach.
      const hrefs = await page.locator('svg.relations a').evaluateAll(as => as.map(a => a.getAttribute('href')));
      assert.ok(hrefs.includes('/catalog/default/group/storefront'), hrefs.join());
      await page.locator('svg.relations a[href="/catalog/default/group/storefront"]').focus();
      await page.keyboard.press('Enter');
      await page.locator('h1', { hasText: 'Storefront' }).waitFor();
    } finally {
      await context.close();
    }
  });

  test('a campaign: the fix shown on the entity page, made in the file, counted on the campaign page', async () => {
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    const page = await context.newPage();
    const pageErrors = [];
    page.on('pageerror', e => pageErrors.push(String(e)));
    const failingOnCampaign = async () => {
      await page.goto(`${server.base}/campaigns/pagerduty-on-call`);
      return Number(await page.locator('#campaign-failing').textContent());
    };
    try {
      // The navigation leads to the campaign, whose page lists account-web as still failing.
      await page.goto(`${server.base}/`);
      await follow(page, page.locator('nav.main-nav a', { hasText: 'Scorecards' }), 'h1:text("Scorecards and campaigns")');
      await follow(page, page.locator('a', { hasText: 'Every production service on call' }), '#campaign-failing');
      const before = Number(await page.locator('#campaign-failing').textContent());
      assert.ok(before > 0, `the demo campaign has failing entities (${before})`);
      assert.ok(await page.locator('svg.burndown polyline.actual').count() >= 1, 'the burndown draws the measured line');
      assert.match(await page.locator('.failing-entities').textContent(), /account-web/);
      await shot(page, 'campaign');

      // The entity page says which check fails and how to fix it.
      await page.goto(`${server.base}/catalog/default/component/account-web`);
      const section = page.locator('section.scorecard');
      assert.match(await section.textContent(), /Paged through PagerDuty[\s\S]*How to fix: Add the pagerduty.com\/service-id annotation/);

      // The owner fixes the file; the campaign's count drops within the watch interval.
      const file = path.join(server.cwd, '.stagedoor', 'demo', 'mistakes', 'missing-api.yaml');
      const text = readFileSync(file, 'utf8');
      const fixed = text.replace('    backstage.io/kubernetes-id: account-web\n',
        '    backstage.io/kubernetes-id: account-web\n    pagerduty.com/service-id: PACCT01\n');
      assert.notEqual(fixed, text, 'the demo file has the line the fix goes after');
      writeFileSync(file, fixed);
      const dropped = await waitFor(async () => (await failingOnCampaign()) === before - 1, { timeoutMs: 20_000 });
      assert.equal(dropped, true, `the campaign's failing count drops from ${before} to ${before - 1}`);
      assert.doesNotMatch(await page.locator('.failing-entities').textContent(), /account-web/);
      await page.goto(`${server.base}/catalog/default/component/account-web`);
      assert.doesNotMatch(await page.locator('section.scorecard').textContent(), /Paged through PagerDuty/);

      // The scorecard's heat map is one click from the list.
      await page.goto(`${server.base}/scorecards`);
      await follow(page, page.locator('a', { hasText: 'Production readiness' }), 'table.heat');
      assert.ok(await page.locator('table.heat tbody tr').count() > 2, 'a row per team and one for everything');
      await shot(page, 'scorecard');
      assert.deepEqual(pageErrors, []);
    } finally {
      await context.close();
    }
  });

  test('dark mode screenshot', { skip: !SCREENSHOTS }, async () => {
    const context = await browser.newContext({ colorScheme: 'dark', viewport: { width: 1280, height: 900 } });
    const page = await context.newPage();
    try {
      await page.goto(`${server.base}/catalog/default/component/account-web`);
      await shot(page, 'entity-dark');
    } finally {
      await context.close();
    }
  });
});

describe('hostile catalog data', () => {
  let server;
  let browser;
  before(async () => {
    server = await startStagedoor(['--location', XSS_FIXTURE]);
    browser = await launch();
  });
  after(async () => {
    await browser?.close();
    await server?.stop();
  });

  test('script tags and javascript: links in a catalog file never run', async () => {
    const entities = await (await fetch(`${server.base}/api/catalog/entities`)).json();
    assert.ok(entities.some(e => e.metadata.name === 'xss-probe'), 'fixture loaded');
    const paths = ['/', '/catalog', '/catalog?q=script', '/ownership', '/sign-in'];
    for (const e of entities) {
      const ns = e.metadata.namespace ?? 'default';
      paths.push(`/catalog/${encodeURIComponent(ns)}/${encodeURIComponent(e.kind.toLowerCase())}/${encodeURIComponent(e.metadata.name)}`);
    }
    for (const js of [true, false]) {
      const context = await browser.newContext({ javaScriptEnabled: js });
      const page = await context.newPage();
      const alarms = [];
      page.on('dialog', d => { alarms.push(`dialog: ${d.message()}`); d.dismiss(); });
      page.on('console', m => {
        // A blocked inline script means markup got through escaping; fail on it too.
        if (/Content Security Policy|Refused to/i.test(m.text())) alarms.push(`csp: ${m.text()}`);
      });
      page.on('pageerror', e => alarms.push(`error: ${e}`));
      try {
        // Sign in as the hostile user so the home page shows their data too.
        await page.goto(`${server.base}/sign-in`);
        await page.locator('button.user-card').first().click();
        await page.waitForURL(u => new URL(u).pathname === '/');
        for (const p of paths) {
          await page.goto(`${server.base}${p}`);
          // Open every <details> so hidden parts (raw YAML, operations) are in the DOM's live view.
          await page.locator('details').evaluateAll(ds => ds.forEach(d => { d.open = true; }));
          const state = await page.evaluate(() => ({
            xss: window.__xss ?? null,
            scripts: [...document.scripts].map(s => s.src || 'inline'),
            jsLinks: [...document.querySelectorAll('[href]')]
              .map(a => a.getAttribute('href'))
              .filter(h => /^\s*(javascript|data|vbscript):/i.test(h)),
            handlers: [...document.querySelectorAll('*')]
              .flatMap(el => [...el.attributes].map(a => a.name))
              .filter(n => n.startsWith('on')),
            injected: document.querySelectorAll('main img, main iframe, main svg[onload], main b').length,
          })).catch(() => null);
          if (js) {
            assert.ok(state, p);
            assert.equal(state.xss, null, `${p}: a script ran`);
            assert.deepEqual(state.scripts.filter(s => !s.includes('/assets/htmx.min.js')), [], `${p}: extra scripts`);
            assert.deepEqual(state.jsLinks, [], `${p}: script links`);
            assert.deepEqual(state.handlers, [], `${p}: event handler attributes`);
            assert.equal(state.injected, 0, `${p}: injected elements`);
          }
          // Click every link whose text the fixture controls; none may run anything.
          const probe = page.locator('main a', { hasText: /Click me|spaced|data link/ });
          assert.equal(await probe.count(), 0, `${p}: unsafe links are text, not links`);
          // The escaped text is visible as text.
          if (p.endsWith('/xss-probe')) {
            assert.match(await page.locator('h1').textContent(), /<script>window.__xss = 'title'<\/script>Probe/);
            if (SCREENSHOTS && js) await shot(page, 'xss-escaped');
          }
        }
        assert.deepEqual(alarms, []);
      } finally {
        await context.close();
      }
    }
  });
});
