// Software templates end to end in headless Chromium against the real binary with the demo
// company: choose the local Rust service template on the Create page, fill the form, review,
// create, watch the live log finish, open the new component in the catalog, and see the
// template's usage count go up. Once with JavaScript (live log over server-sent events) and once
// without (the task page refreshes itself).
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { chromium } from 'playwright-core';
import { startDemo } from './lib/server.mjs';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync'];

describe('Create: a demo template from form to catalog entity', () => {
  let server;
  let browser;
  before(async () => {
    server = await startDemo('stagedoor-create-');
    browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS, headless: true });
  });
  after(async () => {
    await browser?.close();
    await server?.stop();
  });

  for (const javaScript of [true, false]) {
    test(`with JavaScript ${javaScript ? 'on' : 'off'}`, async () => {
      const name = javaScript ? 'returns-service' : 'refunds-service';
      const context = await browser.newContext({ javaScriptEnabled: javaScript });
      const page = await context.newPage();
      await page.goto(`${server.base}/create`);
      const card = page.locator('.template-list li', { hasText: 'New Rust service (local)' });
      const before = Number((await card.locator('.usage').textContent()).match(/^(\d+) runs/)[1]);
      await card.getByRole('link', { name: 'Choose' }).click();
      await page.getByLabel('Name').fill(name);
      // Server-side validation first: the owner is required.
      await page.getByRole('button', { name: 'Review' }).click();
      assert.match(await page.locator('.field .error').first().textContent(), /Owning team is required/);
      await page.getByLabel('Owning team').selectOption({ index: 1 });
      await page.getByRole('button', { name: 'Review' }).click();
      await page.getByRole('button', { name: 'Create' }).click();
      assert.match(page.url(), /\/create\/tasks\//);
      await page.locator('#task-status', { hasText: 'completed' }).waitFor({ timeout: 20_000 });
      assert.match(await page.locator('#task-log').textContent(), /Finished step Check it is in the catalog/);
      await page.getByRole('link', { name: 'Open in catalog' }).click();
      await page.waitForURL(/\/catalog\/default\/component\//);
      await page.locator('h1', { hasText: name }).first().waitFor();
      assert.match(await page.locator('h1').first().textContent(), new RegExp(name));
      await page.goto(`${server.base}/create`);
      const after = Number((await card.locator('.usage').textContent()).match(/^(\d+) runs/)[1]);
      assert.equal(after, before + 1);
      await context.close();
    });
  }
});

// Conditional fields (JSON Schema `dependencies`) on the demo's "Describe a workload" template: a
// service asks for its port, a library for its registry, "Expose publicly" for a hostname. The
// task's parameters must hold only what applies, with or without the form's script.
describe('Create: conditional fields', () => {
  let server;
  let browser;
  before(async () => {
    server = await startDemo('stagedoor-create-deps-');
    browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS, headless: true });
  });
  after(async () => {
    await browser?.close();
    await server?.stop();
  });

  async function open(javaScript) {
    const context = await browser.newContext({ javaScriptEnabled: javaScript });
    const page = await context.newPage();
    await page.goto(`${server.base}/create/templates/default/workload-choices`);
    return { context, page };
  }

  /** The created task's parameters, read through the scaffolder API. */
  async function parameters(page) {
    const id = page.url().match(/\/create\/tasks\/([^/?#]+)/)[1];
    const res = await page.request.get(`${server.base}/api/scaffolder/v2/tasks/${id}`);
    assert.equal(res.status(), 200);
    return (await res.json()).spec.parameters;
  }

  test('with JavaScript the fields follow the choices and only those are posted', async () => {
    const { context, page } = await open(true);
    const port = page.getByLabel('Port');
    const registry = page.getByLabel('Registry');
    const hostname = page.getByLabel('Hostname');
    // The default kind is a service: its port shows, the library's registry does not.
    await port.waitFor();
    assert.equal(await registry.isVisible(), false);
    assert.equal(await hostname.isVisible(), false);
    await page.getByLabel(/^Name/).fill('ledger-kit');
    await page.getByLabel('Kind').selectOption('library');
    await registry.waitFor();
    assert.equal(await port.isVisible(), false);
    await page.getByLabel('Expose publicly').check();
    await hostname.waitFor();
    // The applying branch's `required`, on its own field.
    await page.getByRole('button', { name: 'Review' }).click();
    await page.locator('.field .error').first().waitFor();
    const errors = await page.locator('.field .error').allTextContents();
    assert.deepEqual(errors, ['Registry is required', 'Hostname is required']);
    await page.getByLabel('Registry').selectOption('internal');
    await page.getByLabel('Hostname').fill('ledger.example.com');
    await page.getByRole('button', { name: 'Review' }).click();
    await page.locator('dl.review').waitFor();
    const review = await page.locator('dl.review').textContent();
    assert.match(review, /Registry\s*internal/);
    assert.doesNotMatch(review, /Port/);
    await page.getByRole('button', { name: 'Create' }).click();
    await page.waitForURL(/\/create\/tasks\//);
    assert.deepEqual(await parameters(page), {
      name: 'ledger-kit', kind: 'library', expose: true, registry: 'internal', hostname: 'ledger.example.com',
    });
    await context.close();
  });

  test('without JavaScript every condition is written out and what does not apply is dropped', async () => {
    const { context, page } = await open(false);
    // All groups show, each with its condition; the service's port keeps its default.
    assert.deepEqual(await page.locator('.when-label').allTextContents(), [
      'Only when Kind is Service', 'Only when Kind is Library', 'Only when Expose publicly is ticked',
    ]);
    assert.equal(await page.getByLabel('Port').inputValue(), '8080');
    await page.getByLabel(/^Name/).fill('ledger-svc');
    // A library would need a registry and an exposed service a hostname: neither applies.
    await page.getByLabel('Registry').selectOption('crates.io');
    await page.getByLabel('Hostname').fill('ignored.example.com');
    await page.getByRole('button', { name: 'Review' }).click();
    await page.locator('dl.review').waitFor();
    const review = await page.locator('dl.review').textContent();
    assert.match(review, /Port\s*8080/);
    assert.doesNotMatch(review, /Registry|Hostname/);
    await page.getByRole('button', { name: 'Create' }).click();
    await page.waitForURL(/\/create\/tasks\//);
    assert.deepEqual(await parameters(page), { name: 'ledger-svc', kind: 'service', port: 8080 });
    await context.close();
  });
});
