// The real Backstage web app, used as its users use it, against a Stagedoor server behind it.
//
//   node frontend-walk.mjs APP_BASE 'PATH=TEXT' ...
//
// Signs in as guest, then opens each PATH and waits until the page shows TEXT (what the page is
// about). Prints one JSON line per page ({path, failed, errors, text}) and exits 1 if a page never
// showed its text, had a failed /api/ call (status >= 400) or logged a console error.
//
// Every step waits for what it needs to see instead of for the network to go quiet: the app
// renders after its bundle is parsed, which on a loaded two-core machine comes well after
// `networkidle`, and a walker that looks for the sign-in button too early believes it is signed
// in and then walks the sign-in screen (the anchor's check-pages.mjs does that under load).
import { chromium } from 'playwright-core';

const [base, ...specs] = process.argv.slice(2);
if (!base || specs.length === 0) {
  console.error("usage: node frontend-walk.mjs APP_BASE 'PATH=TEXT' ...");
  process.exit(2);
}
const pages = specs.map((s) => {
  const at = s.lastIndexOf('=');
  return { path: s.slice(0, at), expect: s.slice(at + 1) };
});
const PATIENCE_MS = Number(process.env.WALK_TIMEOUT_MS ?? 60000);

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking',
    '--disable-component-update', '--no-first-run', '--disable-sync'],
});
const page = await (await browser.newContext({ viewport: { width: 1366, height: 900 } })).newPage();
page.setDefaultTimeout(PATIENCE_MS);
let errors = [];
let failed = [];
page.on('console', (m) => { if (m.type() === 'error') errors.push(m.text().slice(0, 200)); });
page.on('pageerror', (e) => errors.push(`pageerror: ${String(e).slice(0, 200)}`));
page.on('response', (r) => {
  if (r.status() >= 400 && r.url().includes('/api/')) failed.push(`${r.status()} ${r.url().slice(0, 200)}`);
});

const enter = page.getByRole('button', { name: /enter/i }).first();
const signedIn = page.getByText(pages[0].expect).first();

// Sign in: open the first page, wait until the app shows either the guest button or the page's
// own content, and click the button while it is there. The backend may still be starting its
// auth plugin, so a click that leaves the button in place is tried again.
async function signIn() {
  for (let attempt = 1; attempt <= 10; attempt++) {
    await page.goto(base + pages[0].path);
    await enter.or(signedIn).first().waitFor({ state: 'visible' });
    if (!(await enter.isVisible())) return;
    await enter.click();
    try {
      await signedIn.waitFor({ state: 'visible', timeout: PATIENCE_MS / 2 });
      return;
    } catch {
      console.error(`frontend-walk: still on the sign-in screen after click ${attempt}`);
      await page.waitForTimeout(2000);
    }
  }
  throw new Error('the guest sign-in never completed');
}

let bad = false;
try {
  await signIn();
} catch (e) {
  console.log(JSON.stringify({ path: 'sign-in', failed, errors, text: String(e) }));
  await browser.close();
  process.exit(1);
}
for (const { path, expect } of pages) {
  errors = [];
  failed = [];
  await page.goto(base + path);
  let shown = true;
  try {
    await page.getByText(expect).first().waitFor({ state: 'visible' });
    // the counts and tables load after the heading: let those calls finish before judging
    await page.waitForLoadState('networkidle');
  } catch {
    shown = false;
  }
  const text = (await page.innerText('body')).replace(/\s+/g, ' ').slice(0, 300);
  // a console error that only repeats a failed request is counted once, as the request
  const own = errors.filter((e) => !e.startsWith('Failed to load resource'));
  const problems = [];
  if (!shown) problems.push(`never showed "${expect}"`);
  if (/enter as a guest/i.test(text)) problems.push('sign-in screen');
  if (failed.length || own.length || problems.length) bad = true;
  console.log(JSON.stringify({ path, problems, failed: failed.slice(0, 8), errors: own.slice(0, 8), text }));
}
await browser.close();
process.exit(bad ? 1 : 0);
