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
