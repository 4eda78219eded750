#!/usr/bin/env python3
"""Measure Stagedoor on generated catalogs, optionally next to the real
Backstage catalog backend on the same catalog in the same run.

For each N (number of Components; default 1000 10000 50000):

  1. generate the catalog once with gen-catalog.py --seed 1 --components N
     (cached under ~/.cache/stagedoor/bench/N);
  2. start-up: spawn `stagedoor serve` on an empty, fresh database with no
     location and time spawn -> first 200 on /healthz (median of --startup-repeat);
  3. ready: spawn it on a fresh database with --location DIR/all.yaml; time
     spawn -> first 200 on /readyz; check at that moment that by-query counts N
     components and the manifest's sample group owns the expected number of
     components (ownerOf relations); peak RSS up to ready (VmHWM) and idle RSS
     (VmRSS 5 s after ready);
  4. queries: the five read queries of the anchor's bench.py, each for
     --seconds over one keep-alive connection (p50/p99 of raw per-request
     latency) and, when wrk is installed, `wrk -t1 -c16 -d5s` throughput.

--anchor also runs ../shared/anchors/backstage/bench.py (ingest and
startup) on the same catalog for N <= 10000 and prints Backstage/Stagedoor
ratios. --base-url skips 2 and 3 and runs only the checks and queries against
a server that is already running with catalog N loaded (a dry run of this
script against any catalog server, e.g. the anchor).

Python 3 standard library only (wrk and psql are used when present). Every
server is started by this script, listens on 127.0.0.1 and is stopped by its
own PID.
"""

import argparse
import http.client
import json
import os
import platform
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request

HOST = "127.0.0.1"
REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# shared/ sits beside the repository (../shared), or two levels up from a git worktree under
# wt/<name>; STAGEDOOR_SHARED overrides both.
SHARED = os.environ.get("STAGEDOOR_SHARED") or next(
    (d for d in (os.path.join(REPO, "..", "shared"), os.path.join(REPO, "..", "..", "shared"))
     if os.path.isdir(d)), os.path.join(REPO, "..", "shared"))
DEFAULT_GEN = os.path.join(SHARED, "tools", "gen-catalog.py")
DEFAULT_ANCHOR = os.path.join(SHARED, "anchors", "backstage", "bench.py")
ANCHOR_MAX_N = 10000  # Backstage needs minutes per 10k; beyond that it is not worth a run


# --------------------------------------------------------------------------
# processes
# --------------------------------------------------------------------------

def proc_status(pid):
    """(VmRSS, VmHWM) in KiB, or (None, None) once the process is gone."""
    try:
        with open("/proc/%d/status" % pid) as f:
            text = f.read()
    except OSError:
        return None, None
    rss = hwm = None
    for line in text.splitlines():
        if line.startswith("VmRSS:"):
            rss = int(line.split()[1])
        elif line.startswith("VmHWM:"):
            hwm = int(line.split()[1])
    return rss, hwm


def proc_cpu_seconds(pid):
    try:
        with open("/proc/%d/stat" % pid) as f:
            fields = f.read().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def free_port():
    s = socket.socket()
    s.bind((HOST, 0))
    port = s.getsockname()[1]
    s.close()
    return port


def http_get(port, path, timeout=10.0):
    """(status, body); HTTP errors are answers too, connection errors raise."""
    req = urllib.request.Request("http://%s:%d%s" % (HOST, port, path),
                                 headers={"Accept": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            return resp.status, resp.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()


def wait_for_200(proc, port, path, deadline, interval=0.01):
    """True once `path` answers 200; None if the process exits or the deadline passes."""
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            return None
        try:
            status, _ = http_get(port, path, timeout=5)
            if status == 200:
                return True
        except (urllib.error.URLError, ConnectionError, OSError):
            pass
        time.sleep(interval)
    return None


class Server:
    """One `stagedoor serve` process with its log file."""

    def __init__(self, binary, db, port, locations, log_path):
        cmd = [binary, "serve", "--db", db, "--listen", "%s:%d" % (HOST, port)]
        for loc in locations:
            cmd += ["--location", loc]
        self.cmd = cmd
        self.port = port
        self.log_path = log_path
        self.log = open(log_path, "w")
        env = dict(os.environ)
        env.setdefault("STAGEDOOR_LOG", "warn")
        self.t0 = time.monotonic()
        self.proc = subprocess.Popen(cmd, stdout=self.log, stderr=subprocess.STDOUT,
                                     env=env, start_new_session=True)

    @property
    def pid(self):
        return self.proc.pid

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()

    def tail(self, n=20):
        try:
            with open(self.log_path) as f:
                return "".join(f.readlines()[-n:])
        except OSError:
            return ""


class FreshDb:
    """A database nobody has used: a new SQLite file, or with --pg a new
    PostgreSQL database created (and dropped afterwards) with psql on the
    server the URL names. Without psql the URL is used as it is."""

    counter = 0

    def __init__(self, args, workdir):
        self.args = args
        self.dropme = None
        FreshDb.counter += 1
        if not args.pg:
            self.path = os.path.join(workdir, "bench-%d.db" % FreshDb.counter)
            for suffix in ("", "-wal", "-shm"):
                if os.path.exists(self.path + suffix):
                    os.remove(self.path + suffix)
            self.url = "sqlite://%s" % self.path
            return
        self.path = None
        if not shutil.which("psql"):
            print("warning: psql not found, using %s as is (it should be empty)" % redact(args.pg),
                  file=sys.stderr)
            self.url = args.pg
            return
        name = "stagedoor_bench_%d_%d" % (os.getpid(), FreshDb.counter)
        subprocess.run(["psql", "-q", "-d", args.pg, "-c", "CREATE DATABASE %s" % name], check=True)
        u = urllib.parse.urlsplit(args.pg)
        self.url = urllib.parse.urlunsplit((u.scheme, u.netloc, "/" + name, u.query, u.fragment))
        self.dropme = name

    def size_mib(self):
        files = [self.path + s for s in ("", "-wal", "-shm")] if self.path else []
        files = [f for f in files if os.path.exists(f)]
        if not files:
            return None
        return round(sum(os.path.getsize(f) for f in files) / 1048576, 1)

    def drop(self):
        if self.path:
            for suffix in ("", "-wal", "-shm"):
                if os.path.exists(self.path + suffix):
                    os.remove(self.path + suffix)
        if self.dropme:
            subprocess.run(["psql", "-q", "-d", self.args.pg, "-c",
                            "DROP DATABASE IF EXISTS %s" % self.dropme], check=False)


def redact(url):
    u = urllib.parse.urlsplit(url)
    if u.password:
        netloc = u.netloc.replace(":" + u.password + "@", ":***@")
        return urllib.parse.urlunsplit((u.scheme, netloc, u.path, u.query, u.fragment))
    return url


# --------------------------------------------------------------------------
# load
# --------------------------------------------------------------------------

def queries(manifest):
    """The anchor's five read queries, same paths, so the figures compare; then ours.

    full_text_default is full text with neither fields nor order, which searches
    metadata.uid as Backstage does (kept because reading uids entity by entity once
    made it 80x slower than the full_text row)."""
    names = manifest["sample_components"]
    return [
        ("by_name", ["/api/catalog/entities/by-name/component/default/%s" % x for x in names]),
        ("list_filter", ["/api/catalog/entities?filter=kind=component,spec.type=service&limit=50"]),
        ("by_query_filter", ["/api/catalog/entities/by-query?filter=kind=component,spec.type=service&limit=50"]),
        ("facets", ["/api/catalog/entity-facets?facet=spec.type&filter=kind=component"]),
        ("full_text", ["/api/catalog/entities/by-query?filter=kind=component&fullTextFilterTerm=payments"
                       "&fullTextFilterFields=metadata.name,metadata.title&orderField=metadata.name,asc&limit=20"]),
        ("full_text_default", ["/api/catalog/entities/by-query?fullTextFilterTerm=payments&limit=20"]),
    ]


def seq_latency(port, paths, seconds):
    """One keep-alive connection, one request at a time, rotating over
    `paths`: raw latency per request, with nothing queued behind it."""
    conn = http.client.HTTPConnection(HOST, port, timeout=30)
    lat, bad, i = [], 0, 0
    start = time.monotonic()
    while time.monotonic() - start < seconds:
        t = time.perf_counter()
        conn.request("GET", paths[i % len(paths)], headers={"Accept": "application/json"})
        resp = conn.getresponse()
        resp.read()
        lat.append((time.perf_counter() - t) * 1000.0)
        bad += resp.status != 200
        i += 1
    elapsed = time.monotonic() - start
    conn.close()
    lat.sort()

    def pct(p):
        return round(lat[min(len(lat) - 1, int(len(lat) * p / 100.0))], 3)

    return {"requests": len(lat), "rps": round(len(lat) / elapsed, 1), "p50": pct(50),
            "p99": pct(99), "max": round(lat[-1], 3), "non_200": bad}


WRK_ROTATE = """
local paths = {}
for line in io.lines("%s") do paths[#paths + 1] = line end
local i = 0
request = function()
  i = (i %% #paths) + 1
  return wrk.format("GET", paths[i])
end
"""


def wrk_throughput(port, paths, conns, seconds, workdir, label):
    cmd = ["wrk", "-t1", "-c%d" % conns, "-d%ds" % seconds, "--latency", "--timeout", "10s"]
    if len(paths) > 1:
        plist = os.path.join(workdir, "%s.paths" % label)
        with open(plist, "w") as f:
            f.write("\n".join(paths) + "\n")
        lua = os.path.join(workdir, "%s.lua" % label)
        with open(lua, "w") as f:
            f.write(WRK_ROTATE % plist)
        cmd += ["-s", lua]
    cmd.append("http://%s:%d%s" % (HOST, port, paths[0]))
    res = subprocess.run(cmd, capture_output=True, text=True, timeout=seconds + 60)
    with open(os.path.join(workdir, "wrk-%s-c%d.txt" % (label, conns)), "w") as f:
        f.write(" ".join(cmd) + "\n" + res.stdout + res.stderr)
    out = {}
    m = re.search(r"Requests/sec:\s+([\d.]+)", res.stdout)
    out["rps"] = float(m.group(1)) if m else None
    m = re.search(r"Non-2xx or 3xx responses: (\d+)", res.stdout)
    out["non_2xx"] = int(m.group(1)) if m else 0
    m = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", res.stdout)
    out["socket_errors"] = sum(int(x) for x in m.groups()) if m else 0
    return out


def run_queries(port, manifest, args, workdir):
    have_wrk = shutil.which("wrk") is not None
    out = {}
    for label, paths in queries(manifest):
        status, body = http_get(port, paths[0], timeout=60)
        entry = {"path": paths[0], "status": status, "response_bytes": len(body)}
        if status != 200:
            entry["error"] = body[:300].decode("utf8", "replace")
            out[label] = entry
            continue
        seq_latency(port, paths, min(1.0, args.seconds))  # warm caches and the connection path
        entry["seq"] = seq_latency(port, paths, args.seconds)
        if have_wrk:
            entry["wrk_c16"] = wrk_throughput(port, paths, 16, args.wrk_seconds, workdir, label)
        out[label] = entry
    return out


# --------------------------------------------------------------------------
# checks
# --------------------------------------------------------------------------

def catalog_counts(port, manifest):
    """(components by by-query totalItems, components the sample group owns)."""
    status, body = http_get(port, "/api/catalog/entities/by-query?filter=kind=component&limit=1", 30)
    comps = json.loads(body)["totalItems"] if status == 200 else None
    kind, rest = manifest["sample_group"]["ref"].split(":", 1)
    ns, name = rest.split("/", 1)
    status, body = http_get(port, "/api/catalog/entities/by-name/%s/%s/%s" % (kind, ns, name), 30)
    owned = None
    if status == 200:
        owned = sum(1 for r in json.loads(body).get("relations", [])
                    if r.get("type") == "ownerOf" and r.get("targetRef", "").startswith("component:"))
    return comps, owned


def check_catalog(port, manifest, wait_s):
    """Counts at once; if wrong, keep polling up to wait_s to say how late."""
    want = (manifest["components"], manifest["sample_group"]["owned_components"])
    t0 = time.monotonic()
    got = catalog_counts(port, manifest)
    res = {"components": got[0], "sample_group_owned_components": got[1],
           "expected": list(want), "correct_at_ready": got == want}
    while got != want and time.monotonic() - t0 < wait_s:
        time.sleep(0.25)
        got = catalog_counts(port, manifest)
    if not res["correct_at_ready"]:
        res["correct_after_s"] = round(time.monotonic() - t0, 2) if got == want else None
        res["components"], res["sample_group_owned_components"] = got
    return res


# --------------------------------------------------------------------------
# Stagedoor
# --------------------------------------------------------------------------

def stagedoor_startup(args, workdir):
    times, rss = [], []
    for i in range(args.startup_repeat):
        db = FreshDb(args, workdir)
        port = free_port()
        srv = Server(args.bin, db.url, port, [], os.path.join(workdir, "startup-%d.log" % i))
        try:
            ok = wait_for_200(srv.proc, port, "/healthz", srv.t0 + 60, interval=0.005)
            t = time.monotonic() - srv.t0
            if not ok:
                raise RuntimeError("no 200 on /healthz within 60 s:\n" + srv.tail())
            times.append(t)
            time.sleep(1)
            rss.append(proc_status(srv.pid)[0])
        finally:
            srv.stop()
            db.drop()
    return {"startup_s": [round(t, 3) for t in times],
            "startup_median_s": round(statistics.median(times), 3),
            "empty_rss_mib": round(statistics.median(rss) / 1024, 1)}


def stagedoor_ready(args, catalog_dir, manifest, workdir):
    db = FreshDb(args, workdir)
    port = free_port()
    srv = Server(args.bin, db.url, port, [os.path.join(catalog_dir, "all.yaml")],
                 os.path.join(workdir, "serve.log"))
    res = {"db": "postgres" if args.pg else "sqlite"}
    try:
        ok = wait_for_200(srv.proc, port, "/readyz", srv.t0 + args.max_wait, interval=0.05)
        t_ready = time.monotonic() - srv.t0
        _, hwm = proc_status(srv.pid)
        cpu = proc_cpu_seconds(srv.pid)
        if not ok:
            res["error"] = "not ready within %ss (exit %s):\n%s" % (
                args.max_wait, srv.proc.poll(), srv.tail())
            return res
        res.update({"ready_s": round(t_ready, 2), "peak_rss_to_ready_mib": round(hwm / 1024, 1),
                    "cpu_s_to_ready": cpu})
        res["check"] = check_catalog(port, manifest, 120)
        # idle: 5 s after ready, whatever background work is left included
        time.sleep(max(0.0, 5.0 - (time.monotonic() - srv.t0 - t_ready)))
        res["idle_rss_mib"] = round(proc_status(srv.pid)[0] / 1024, 1)
        res["db_size_mib"] = db.size_mib()
        if not args.skip_queries:
            cpu0 = proc_cpu_seconds(srv.pid)
            res["queries"] = run_queries(port, manifest, args, workdir)
            res["cpu_s_during_queries"] = round(proc_cpu_seconds(srv.pid) - cpu0, 1)
        rss, hwm = proc_status(srv.pid)
        res["rss_after_queries_mib"] = round(rss / 1024, 1)
        res["peak_rss_overall_mib"] = round(hwm / 1024, 1)
        return res
    finally:
        srv.stop()
        db.drop()


def external(args, manifest, workdir):
    """--base-url: checks and queries only, against a server already running."""
    u = urllib.parse.urlsplit(args.base_url)
    if u.hostname not in ("127.0.0.1", "localhost"):
        sys.exit("--base-url must be on 127.0.0.1")
    port = u.port or 80
    res = {"base_url": args.base_url, "check": check_catalog(port, manifest, 0)}
    if not args.skip_queries:
        res["queries"] = run_queries(port, manifest, args, workdir)
    return res


# --------------------------------------------------------------------------
# Backstage (the anchor's own bench.py, unchanged)
# --------------------------------------------------------------------------

def backstage(args, catalog_dir, workdir):
    common = [sys.executable, args.anchor_bench, "--port", str(free_port()), "--workdir", workdir]
    if args.pg:
        u = urllib.parse.urlsplit(args.pg)
        common += ["--db", "postgres", "--pg-port", str(u.port or 5432),
                   "--pg-user", urllib.parse.unquote(u.username or "postgres"),
                   "--pg-password", urllib.parse.unquote(u.password or "")]
    # the anchor takes whole seconds; it uses one duration for both its raw and its wrk runs
    load_s = int(max(args.seconds, args.wrk_seconds) + 0.999)
    ingest = common + ["ingest", "--catalog", catalog_dir, "--processing-interval", "3600",
                       "--settle", "5", "--idle-cpu-seconds", "0", "--connections", "16",
                       "--load-seconds", str(load_s)]
    if args.skip_queries:
        ingest.append("--skip-load")
    startup = common + ["startup", "--repeat", str(args.startup_repeat)]
    res = {}
    for label, cmd, result in (("startup", startup, "startup.json"), ("ingest", ingest, "result.json")):
        print("  backstage %s: %s" % (label, " ".join(cmd[1:])), file=sys.stderr)
        p = subprocess.run(cmd, capture_output=True, text=True)
        if p.returncode != 0:
            res["error"] = "%s failed (exit %d): %s" % (label, p.returncode, p.stderr.strip()[-1500:])
            return res
        with open(os.path.join(workdir, result)) as f:
            r = json.load(f)
        if label == "startup":
            res["startup_median_s"] = r["startup_median_s"]
            res["empty_rss_mib"] = r["empty_rss_mib_median"]
    res.update({
        "ready_s": r.get("t_ready_s"), "peak_rss_to_ready_mib": r.get("peak_rss_until_ready_mib"),
        "idle_rss_mib": r.get("idle_rss_mib"), "cpu_s_to_ready": r.get("cpu_s_until_ready"),
        "error": r.get("error"),
    })
    qs = {}
    for label, entry in (r.get("load") or {}).items():
        seq = entry.get("seq", {})
        qs[label] = {"path": entry.get("path"),
                     "seq": {"p50": seq.get("p50"), "p99": seq.get("p99"), "rps": seq.get("rps"),
                             "non_200": seq.get("non_2xx")},
                     "wrk_c16": {"rps": entry.get("c16", {}).get("rps"),
                                 "non_2xx": entry.get("c16", {}).get("non_2xx")}}
    res["queries"] = qs
    return {k: v for k, v in res.items() if v is not None}


# --------------------------------------------------------------------------
# report
# --------------------------------------------------------------------------

def fmt(v, nd=1):
    if v is None:
        return "-"
    if isinstance(v, bool):
        return "yes" if v else "no"
    if isinstance(v, float):
        return ("%%.%df" % nd) % v
    return str(v)


def ratio(a, b):
    """a / b as '12.3x' (two decimals below 1x, so a loss never reads 0.0x), or '-'."""
    if not a or not b:
        return "-"
    r = a / b
    return ("%.1fx" if r >= 1 else "%.2fx") % r


def checked(s):
    c = s.get("check")
    if not c:
        return "-"
    if c["correct_at_ready"]:
        return "yes"
    if c.get("correct_after_s") is not None:
        return "after +%.1f s" % c["correct_after_s"]
    return "NO (%s/%s components, %s/%s owned)" % (c["components"], c["expected"][0],
                                                   c["sample_group_owned_components"], c["expected"][1])


def report(runs):
    lines = ["| N | server | db | start-up s | ready s | counts right at ready | peak RSS to ready MiB | idle RSS MiB | DB MiB |",
             "|---|---|---|---|---|---|---|---|---|"]
    for run in runs:
        s, b = run.get("stagedoor") or {}, run.get("backstage")
        if s:
            lines.append("| %s | Stagedoor | %s | %s | %s | %s | %s | %s | %s |" % (
                run["n"], run["db"], fmt(s.get("startup_median_s"), 3), fmt(s.get("ready_s"), 2),
                checked(s), fmt(s.get("peak_rss_to_ready_mib")), fmt(s.get("idle_rss_mib")),
                fmt(s.get("db_size_mib"))))
            if s.get("error"):
                lines.append("| %s | Stagedoor | error: %s |" % (run["n"], " ".join(s["error"].split())[:300]))
        if b:
            lines.append("| %s | Backstage | %s | %s | %s | %s | %s | %s | - |" % (
                run["n"], run["db"], fmt(b.get("startup_median_s"), 3), fmt(b.get("ready_s"), 2),
                "yes (its own poll)" if b.get("ready_s") else "-",
                fmt(b.get("peak_rss_to_ready_mib")), fmt(b.get("idle_rss_mib"))))
            if b.get("error"):
                lines.append("| %s | Backstage | error: %s |" % (run["n"], " ".join(b["error"].split())[:300]))
            if s:
                lines.append("| %s | **Backstage / Stagedoor** | | %s | %s | | %s | %s | |" % (
                    run["n"], ratio(b.get("startup_median_s"), s.get("startup_median_s")),
                    ratio(b.get("ready_s"), s.get("ready_s")),
                    ratio(b.get("peak_rss_to_ready_mib"), s.get("peak_rss_to_ready_mib")),
                    ratio(b.get("idle_rss_mib"), s.get("idle_rss_mib"))))
        if run.get("external"):
            lines.append("| %s | %s | - | - | - | %s | - | - | - |" % (
                run["n"], run["external"]["base_url"], checked(run["external"])))
    lines += ["", "| N | query | server | p50 ms | p99 ms | req/s, 1 conn | req/s, wrk 16 conns | non-2xx |",
              "|---|---|---|---|---|---|---|---|"]
    for run in runs:
        servers = [("Stagedoor", run.get("stagedoor")), ("Backstage", run.get("backstage")),
                   ("external", run.get("external"))]
        labels = []
        for _, s in servers:
            for q in (s or {}).get("queries", {}):
                if q not in labels:
                    labels.append(q)
        for q in labels:
            row = {}
            for name, s in servers:
                e = ((s or {}).get("queries") or {}).get(q)
                if not e:
                    continue
                if "seq" not in e:
                    lines.append("| %s | %s | %s | HTTP %s: %s |" % (run["n"], q, name, e.get("status"),
                                                                  e.get("error", "")[:80]))
                    continue
                seq, w = e["seq"], e.get("wrk_c16") or {}
                row[name] = (seq, w)
                lines.append("| %s | %s | %s | %s | %s | %s | %s | %s |" % (
                    run["n"], q, name, fmt(seq.get("p50"), 2), fmt(seq.get("p99"), 2),
                    fmt(seq.get("rps"), 0), fmt(w.get("rps"), 0),
                    (seq.get("non_200") or 0) + (w.get("non_2xx") or 0)))
            if "Stagedoor" in row and "Backstage" in row:
                (ss, sw), (bs, bw) = row["Stagedoor"], row["Backstage"]
                lines.append("| %s | %s | **Backstage / Stagedoor** | %s | %s | %s | %s | |" % (
                    run["n"], q, ratio(bs.get("p50"), ss.get("p50")), ratio(bs.get("p99"), ss.get("p99")),
                    ratio(ss.get("rps"), bs.get("rps")), ratio(sw.get("rps"), bw.get("rps"))))
    lines.append("")
    lines.append("Ratios are Backstage's figure over Stagedoor's for times and memory, Stagedoor's over "
                 "Backstage's for requests per second: above 1x, Stagedoor is better.")
    return "\n".join(lines)


# --------------------------------------------------------------------------
# main
# --------------------------------------------------------------------------

def ensure_catalog(args, n):
    out = os.path.join(args.cache_dir, str(n))
    manifest = os.path.join(out, "manifest.json")
    if not os.path.exists(manifest):
        print("generating N=%d into %s" % (n, out), file=sys.stderr)
        subprocess.run([sys.executable, args.gen, "--seed", "1", "--components", str(n),
                        "--out", out, "--force"], check=True, stdout=subprocess.DEVNULL)
    with open(manifest) as f:
        m = json.load(f)
    if m.get("components") != n or m.get("seed") != 1:
        sys.exit("%s is not the seed-1 N=%d catalog; delete it" % (out, n))
    return out, m


def machine():
    cpu = None
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    mem = None
    try:
        with open("/proc/meminfo") as f:
            mem = round(int(f.readline().split()[1]) / 1048576, 1)
    except OSError:
        pass
    return {"cpu": cpu, "cores": os.cpu_count(), "mem_gib": mem, "kernel": platform.release(),
            "wrk": shutil.which("wrk") is not None, "when": time.strftime("%Y-%m-%d %H:%M:%S %z")}


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("n", nargs="*", type=int, default=[1000, 10000, 50000], help="component counts")
    p.add_argument("--seconds", type=float, default=5, help="per query, one-connection latency run (default 5)")
    p.add_argument("--wrk-seconds", type=int, default=5, help="per query, wrk -c16 run (default 5)")
    p.add_argument("--pg", metavar="URL", help="PostgreSQL server URL; each run gets a fresh database on it")
    p.add_argument("--anchor", action="store_true",
                   help="also run the Backstage anchor on the same catalog (N <= %d)" % ANCHOR_MAX_N)
    p.add_argument("--json", metavar="OUT", help="write every figure here")
    p.add_argument("--bin", default=os.path.join(REPO, "target/release/stagedoor"))
    p.add_argument("--base-url", help="measure this running server instead of starting Stagedoor "
                   "(checks and queries only; it must hold the seed-1 catalog of the single N given)")
    p.add_argument("--startup-repeat", type=int, default=3)
    p.add_argument("--max-wait", type=float, default=1800, help="seconds to wait for /readyz")
    p.add_argument("--skip-queries", action="store_true")
    p.add_argument("--gen", default=DEFAULT_GEN)
    p.add_argument("--anchor-bench", default=DEFAULT_ANCHOR)
    p.add_argument("--cache-dir", default=os.path.expanduser("~/.cache/stagedoor/bench"))
    p.add_argument("--workdir", help="logs and raw outputs (default: a new directory under --cache-dir/runs)")
    args = p.parse_args()

    if args.base_url and len(args.n) != 1:
        sys.exit("--base-url takes exactly one N")
    have_bin = os.access(args.bin, os.X_OK)
    if not args.base_url and not have_bin:
        hint = "build it with `cargo build --release -p stagedoor` or pass --bin"
        if not args.anchor:
            sys.exit("no executable at %s: %s" % (args.bin, hint))
        # Backstage alone is still worth measuring (and tests this script)
        print("warning: no executable at %s (%s); measuring Backstage only" % (args.bin, hint),
              file=sys.stderr)
    workroot = args.workdir or tempfile.mkdtemp(prefix=time.strftime("%Y%m%d-%H%M%S-"),
                                                dir=_mkdir(os.path.join(args.cache_dir, "runs")))
    os.makedirs(workroot, exist_ok=True)
    out = {"machine": machine(), "args": {k: (redact(v) if k == "pg" and v else v)
                                          for k, v in vars(args).items()}, "runs": []}
    for n in args.n:
        catalog_dir, manifest = ensure_catalog(args, n)
        run = {"n": n, "db": "postgres" if args.pg else "sqlite", "catalog": catalog_dir,
               "entities": manifest["total_entities"]}
        if args.base_url:
            print("N=%d: queries against %s" % (n, args.base_url), file=sys.stderr)
            run["external"] = external(args, manifest, _mkdir(os.path.join(workroot, "external-%d" % n)))
        else:
            if have_bin:
                wd = _mkdir(os.path.join(workroot, "stagedoor-%d" % n))
                print("N=%d: Stagedoor start-up" % n, file=sys.stderr)
                s = stagedoor_startup(args, wd)
                print("N=%d: Stagedoor ready and queries" % n, file=sys.stderr)
                s.update(stagedoor_ready(args, catalog_dir, manifest, wd))
                run["stagedoor"] = s
            if args.anchor and n <= ANCHOR_MAX_N:
                print("N=%d: Backstage (takes minutes)" % n, file=sys.stderr)
                run["backstage"] = backstage(args, catalog_dir, _mkdir(os.path.join(workroot, "backstage-%d" % n)))
        out["runs"].append(run)
        if args.json:  # after every N, so a long run that dies keeps what it measured
            with open(args.json, "w") as f:
                json.dump(out, f, indent=2)
    print(report(out["runs"]))
    print("\nlogs and raw outputs: %s" % workroot)
    failed = any((r.get("stagedoor") or {}).get("error") or
                 not ((r.get("stagedoor") or r.get("external") or {}).get("check") or {}).get("correct_at_ready", True)
                 for r in out["runs"])
    sys.exit(1 if failed else 0)


def _mkdir(path):
    os.makedirs(path, exist_ok=True)
    return path


if __name__ == "__main__":
    main()
