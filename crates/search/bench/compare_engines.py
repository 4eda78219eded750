#!/usr/bin/env python3
"""The databases' full text on the search benchmark's documents, for docs/architecture.md.

Loads the TSV that `tests/bench.rs` writes (STAGEDOOR_BENCH_EXPORT) into SQLite FTS5 and into
PostgreSQL (a tsvector column with a GIN index), then times the same typed prefixes as the
in-memory index: a ranked first page of 25 with highlighted snippets, which is what a search
box needs. Prints build time, size and p50/p95 per prefix.

    python3 crates/search/bench/compare_engines.py /tmp/docs.tsv [postgres-url]
"""
import os
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time

PREFIXES = ["p", "pa", "pay", "paym", "payme", "paymen", "payment", "payments", "settlement"]
RUNS = 15


def pct(times, q):
    times = sorted(times)
    return times[min(len(times) - 1, int(len(times) * q))] * 1e3


def sqlite_fts5(rows):
    path = os.path.join(tempfile.mkdtemp(), "fts.sqlite")
    db = sqlite3.connect(path)
    t = time.time()
    db.execute("CREATE VIRTUAL TABLE docs USING fts5(type UNINDEXED, name, title, keywords, owner, text, tokenize='unicode61', prefix='1 2 3')")
    db.executemany("INSERT INTO docs VALUES (?,?,?,?,?,?)", rows)
    db.commit()
    build = time.time() - t
    size = os.path.getsize(path)
    print(f"sqlite fts5: {len(rows)} documents, build {build:.2f} s, file {size / 1048576:.1f} MiB")
    print("| typed | matches | p50 ms | p95 ms |")
    for p in PREFIXES:
        q = f'"{p}"*'
        times = []
        for _ in range(RUNS):
            t = time.time()
            # Ranked by bm25 with names and titles weighted up, as ours; snippet of the text.
            res = db.execute(
                "SELECT title, snippet(docs, 5, '<b>', '</b>', '…', 20) FROM docs WHERE docs MATCH ? "
                "ORDER BY bm25(docs, 10.0, 8.0, 4.0, 2.0, 1.0) LIMIT 25", (q,)).fetchall()
            n = db.execute("SELECT count(*) FROM docs WHERE docs MATCH ?", (q,)).fetchone()[0]
            times.append(time.time() - t)
        print(f"| `{p}` | {n} | {pct(times, .5):.1f} | {pct(times, .95):.1f} |")


def psql(url, sql, stdin=None):
    return subprocess.run(["psql", url, "-X", "-q", "-t", "-A", "-v", "ON_ERROR_STOP=1", "-c", sql],
                          input=stdin, capture_output=True, text=True, check=True).stdout


def postgres(rows, url):
    psql(url, "DROP TABLE IF EXISTS bench_docs")
    t = time.time()
    psql(url, "CREATE TABLE bench_docs (type text, name text, title text, keywords text, owner text, body text)")
    data = "".join("\t".join(r) + "\n" for r in rows)
    subprocess.run(["psql", url, "-X", "-q", "-c", "\\copy bench_docs FROM STDIN"], input=data,
                   text=True, check=True, capture_output=True)
    psql(url, "ALTER TABLE bench_docs ADD COLUMN tsv tsvector GENERATED ALWAYS AS ("
              "setweight(to_tsvector('simple', name || ' ' || title), 'A') || "
              "setweight(to_tsvector('simple', keywords), 'B') || "
              "setweight(to_tsvector('simple', owner), 'C') || "
              "setweight(to_tsvector('simple', body), 'D')) STORED")
    psql(url, "CREATE INDEX bench_docs_tsv ON bench_docs USING gin (tsv)")
    psql(url, "ANALYZE bench_docs")
    build = time.time() - t
    size = psql(url, "SELECT pg_total_relation_size('bench_docs')").strip()
    print(f"postgresql: build {build:.2f} s, table+index {int(size) / 1048576:.1f} MiB")
    print("| typed | matches | p50 ms | p95 ms |")
    for p in PREFIXES:
        sql = ("EXPLAIN (ANALYZE, FORMAT JSON) SELECT title, ts_headline('simple', body, q) FROM "
               f"(SELECT title, body, ts_rank(tsv, q) AS r, q FROM bench_docs, to_tsquery('simple', '{p}:*') q "
               "WHERE tsv @@ q ORDER BY r DESC LIMIT 25) x")
        times = []
        for _ in range(RUNS):
            out = psql(url, sql)
            ms = float(out.split('"Execution Time":')[1].split("}")[0].strip().rstrip(","))
            times.append(ms / 1e3)
        n = psql(url, f"SELECT count(*) FROM bench_docs WHERE tsv @@ to_tsquery('simple', '{p}:*')").strip()
        print(f"| `{p}` | {n} | {pct(times, .5):.1f} | {pct(times, .95):.1f} |")
    psql(url, "DROP TABLE bench_docs")


def main():
    rows = []
    with open(sys.argv[1], encoding="utf-8") as f:
        for line in f:
            parts = line.rstrip("\n").split("\t")
            if len(parts) == 6:
                rows.append(parts)
    sqlite_fts5(rows)
    if len(sys.argv) > 2:
        postgres(rows, sys.argv[2])


if __name__ == "__main__":
    main()
