// Shared plumbing for the node suites: where the catalog server under test
// is, how to start and stop Stagedoor when the suite owns it, and a small
// HTTP server for fixtures that must be registered as `url` locations.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const HERE = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const FIXTURE_DIR = path.join(HERE, 'fixtures', 'catalog');
export const FIXTURE_ALL = path.join(FIXTURE_DIR, 'all.yaml');
export const EXTRA_DIR = path.join(HERE, 'fixtures', 'extra');

/** The Stagedoor binary: STAGEDOOR_BIN, else the workspace's debug build. */
export function stagedoorBin() {
  return path.resolve(HERE, process.env.STAGEDOOR_BIN ?? '../../target/debug/stagedoor');
}

export async function freePort() {
  return await new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

export const sleep = ms => new Promise(r => setTimeout(r, ms));

/**
 * Polls `fn` until it returns a truthy value or `timeoutMs` passes; returns
 * the last value (so the caller's assertion shows what was seen last).
 */
export async function waitFor(fn, { timeoutMs = 60_000, intervalMs = 250 } = {}) {
  const deadline = Date.now() + timeoutMs;
  let last;
  for (;;) {
    try {
      last = await fn();
      if (last) return last;
    } catch (e) {
      last = e;
    }
    if (Date.now() > deadline) return last;
    await sleep(intervalMs);
  }
}

let databases = 0;

/**
 * The database a started Stagedoor uses: SQLite in memory, or with STAGEDOOR_NODE_DB=postgres a
 * fresh database on the PostgreSQL server at STAGEDOOR_TEST_PG (as scripts/test starts it), so the
 * suites run on both backends. A missing server is an error, never a skip.
 */
function databaseUrl() {
  if (process.env.STAGEDOOR_NODE_DB !== 'postgres') return 'sqlite::memory:';
  const server = process.env.STAGEDOOR_TEST_PG;
  if (!server) throw new Error('STAGEDOOR_NODE_DB=postgres needs STAGEDOOR_TEST_PG (scripts/pg-test.sh prints it)');
  const name = `stagedoor_node_${process.pid}_${databases++}`;
  const made = spawnSync('psql', [server, '-q', '-c', `CREATE DATABASE ${name}`], { encoding: 'utf8' });
  if (made.status !== 0) throw new Error(`could not create database ${name}: ${made.stderr}`);
  const url = new URL(server);
  url.pathname = `/${name}`;
  return url.toString();
}

/** Drops a database databaseUrl() made (nothing for SQLite). */
function dropDatabase(url) {
  if (!url.startsWith('postgres')) return;
  const name = new URL(url).pathname.slice(1);
  spawnSync('psql', [process.env.STAGEDOOR_TEST_PG, '-q', '-c', `DROP DATABASE IF EXISTS ${name}`]);
}

/**
 * Resolves the server under test. With CATALOG_BASE_URL the server is
 * somebody else's (e.g. the Backstage anchor) and is left alone; otherwise
 * Stagedoor is started on a free port with an in-memory database and the
 * fixture catalog, and `stop()` kills it. `allowHosts` ("host:port") go to
 * backend.reading.allow of a Backstage-style app-config given with --config:
 * like Backstage, Stagedoor reads URL locations only from allowed hosts.
 */
/**
 * `stagedoor serve --demo` in a fresh directory named after `prefix`, on a free
 * port with an in-memory database, ready; `stop()` kills it and removes the
 * directory (demo data, and whatever the demo templates published there).
 */
export async function startDemo(prefix) {
  const bin = stagedoorBin();
  assert.ok(existsSync(bin), `Stagedoor binary not found at ${bin}: cargo build -p stagedoor`);
  const port = await freePort();
  const cwd = mkdtempSync(path.join(os.tmpdir(), prefix));
  const child = spawn(bin, ['serve', '--demo', '--db', 'sqlite::memory:', '--listen', `127.0.0.1:${port}`], {
    cwd, stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, STAGEDOOR_LOG: 'warn' },
  });
  let log = '';
  child.stderr.on('data', d => { log = (log + d).slice(-4000); });
  const base = `http://127.0.0.1:${port}`;
  const ready = await waitFor(async () => (await fetch(`${base}/readyz`)).ok, { timeoutMs: 60_000 });
  assert.equal(ready, true, `server not ready: ${log}`);
  return {
    base, cwd,
    stop: async () => {
      child.kill('SIGTERM');
      await new Promise(r => (child.exitCode !== null ? r() : child.once('exit', r)));
      rmSync(cwd, { recursive: true, force: true });
    },
  };
}

export async function startServer({ allowHosts = [], location = FIXTURE_ALL } = {}) {
  if (process.env.CATALOG_BASE_URL) {
    return {
      base: process.env.CATALOG_BASE_URL.replace(/\/+$/, ''),
      external: true,
      stop: async () => {},
    };
  }
  const bin = stagedoorBin();
  if (!existsSync(bin)) {
    throw new Error(
      `Stagedoor binary not found at ${bin}: build it (cargo build -p stagedoor) ` +
        'or set STAGEDOOR_BIN, or point CATALOG_BASE_URL at a running server',
    );
  }
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const db = databaseUrl();
  const args = ['serve', '--db', db, '--listen', `127.0.0.1:${port}`, '--location', location];
  if (allowHosts.length) {
    const config = path.join(mkdtempSync(path.join(os.tmpdir(), 'stagedoor-suite-')), 'app-config.yaml');
    writeFileSync(
      config,
      `backend:\n  reading:\n    allow:\n${allowHosts.map(h => `      - host: '${h}'\n`).join('')}`,
    );
    args.push('--config', config);
  }
  const child = spawn(bin, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  // Keep the server's output so a failure to become ready can show why.
  let output = '';
  const keep = d => {
    output = (output + d.toString()).slice(-8000);
  };
  child.stdout.on('data', keep);
  child.stderr.on('data', keep);
  let exited = null;
  child.on('exit', (code, signal) => {
    exited = { code, signal };
  });
  const ready = await waitFor(
    async () => {
      if (exited) return false;
      const res = await fetch(`${base}/readyz`);
      return res.status === 200;
    },
    { timeoutMs: 60_000, intervalMs: 100 },
  );
  if (ready !== true) {
    child.kill('SIGKILL');
    throw new Error(
      `stagedoor did not answer 200 on /readyz within 60 s ` +
        `(exit: ${JSON.stringify(exited)}); last output:\n${output}`,
    );
  }
  return {
    base,
    external: false,
    stop: async () => {
      if (exited) return;
      const gone = new Promise(r => child.once('exit', r));
      child.kill('SIGTERM');
      const t = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await gone;
      clearTimeout(t);
      dropDatabase(db);
    },
  };
}

/**
 * Serves the files of `dir` on 127.0.0.1 (a free port). Backstage only lets
 * clients register `url` locations, so a fixture added through addLocation
 * must be reachable over HTTP.
 */
export async function serveDir(dir) {
  const srv = createServer((req, res) => {
    const rel = decodeURIComponent(new URL(req.url, 'http://x').pathname);
    const file = path.join(dir, path.normalize(rel));
    if (!file.startsWith(dir + path.sep) || !existsSync(file)) {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { 'content-type': 'text/yaml' }).end(readFileSync(file));
  });
  await new Promise(r => srv.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${srv.address().port}`,
    close: () =>
      new Promise(r => {
        // a catalog server may hold keep-alive sockets open
        srv.close(r);
        srv.closeAllConnections();
      }),
  };
}
