// Publishing a real git repository from the browser, against the real binary with the demo
// company: the "New documentation site" template's RepoUrlPicker (host `local`, an owner from
// allowedOwners, a repository name), a wrong part answered at the field, then publish:git —
// the task finishes, the new component opens in the catalog (discovery found the repository),
// and `git` reads the commit back from `.stagedoor/demo-repos`. Once with JavaScript, once without.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { chromium } from 'playwright-core';
import { startDemo } from './lib/server.mjs';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync'];

function git(dir, ...args) {
  const out = spawnSync('git', args, {
    cwd: dir, encoding: 'utf8',
    env: { ...process.env, GIT_CONFIG_GLOBAL: '/dev/null', GIT_CONFIG_NOSYSTEM: '1' },
  });
  assert.equal(out.status, 0, `git ${args.join(' ')}: ${out.stderr}`);
  return out.stdout.trim();
}

describe('Create: the RepoUrlPicker and publish:git make a real repository', () => {
  let server;
  let browser;
  before(async () => {
    server = await startDemo('stagedoor-publish-');
    browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS, headless: true });
  });
  after(async () => {
    await browser?.close();
    await server?.stop();
  });

  for (const javaScript of [true, false]) {
    test(`with JavaScript ${javaScript ? 'on' : 'off'}`, async () => {
      const name = javaScript ? 'oncall-handbook' : 'release-handbook';
      const context = await browser.newContext({ javaScriptEnabled: javaScript });
      const page = await context.newPage();
      await page.goto(`${server.base}/create`);
      const card = page.locator('.template-list li', { hasText: 'New documentation site' });
      await card.getByRole('link', { name: 'Choose' }).click();
      await page.getByLabel('Name').fill(name);
      await page.getByLabel('Title').fill(`The ${name}`);
      await page.getByLabel('Owning team').selectOption({ index: 1 });
      // The picker: only the host this server can publish to, the template's owners.
      const picker = page.getByRole('group', { name: 'Repository location' });
      assert.deepEqual(await picker.getByLabel('Host').locator('option').allTextContents(), ['local']);
      assert.deepEqual(await picker.getByLabel('Owner').locator('option').allTextContents(),
        ['ridgeline', 'handbooks']);
      await picker.getByLabel('Owner').selectOption('handbooks');
      // A name that is not a repository name is answered at the field, the parts kept.
      await picker.getByLabel('Repository').fill('no good');
      await page.getByRole('button', { name: 'Review' }).click();
      assert.match(await page.locator('.field .error').first().textContent(),
        /Repository location Invalid repository name/);
      assert.equal(await picker.getByLabel('Owner').inputValue(), 'handbooks');
      await picker.getByLabel('Repository').fill(name);
      await page.getByRole('button', { name: 'Review' }).click();
      assert.match(await page.locator('dl.review').textContent(),
        new RegExp(`local\\?owner=handbooks&repo=${name}`));
      await page.getByRole('button', { name: 'Create' }).click();
      assert.match(page.url(), /\/create\/tasks\//);
      await page.locator('#task-status', { hasText: 'completed' }).waitFor({ timeout: 30_000 });
      const log = await page.locator('#task-log').textContent();
      assert.match(log, /Initialized a git repository/);
      assert.match(log, new RegExp(`Discovery found ${name} and registered its catalog-info.yaml`));

      // The repository, read back with git: one commit on main, the site's files.
      const repo = path.join(server.cwd, '.stagedoor', 'demo-repos', 'handbooks', `${name}.git`);
      assert.equal(git(repo, 'symbolic-ref', 'HEAD'), 'refs/heads/main');
      assert.equal(git(repo, 'log', '--format=%an <%ae>|%s', 'main'),
        `Scaffolder <scaffolder@backstage.io>|Create The ${name}`);
      const files = git(repo, 'ls-tree', '-r', '--name-only', 'main').split('\n');
      for (const f of ['catalog-info.yaml', 'mkdocs.yml', 'docs/index.md']) assert.ok(files.includes(f), files.join(' '));
      assert.match(git(repo, 'show', 'main:catalog-info.yaml'), new RegExp(`name: ${name}`));

      await page.getByRole('link', { name: 'Open in catalog' }).click();
      await page.waitForURL(new RegExp(`/catalog/default/component/${name}`));
      await page.locator('h1', { hasText: name }).first().waitFor();
      await context.close();
    });
  }
});
