#!/usr/bin/env bash
# Runs the real Backstage web app against a Stagedoor demo server and fails on any failed API call
# or console error on its catalog, entity, group and API pages: a Backstage client that no one here
# wrote, used as its users use it. Uses ../shared/anchors/backstage-app/frontend-against.sh, which
# installs the app on first use (about 3 minutes, cached in ~/.cache/stagedoor-anchor/app).
#
#   scripts/frontend-against.sh [STAGEDOOR_BIN]      (default target/debug/stagedoor)
#
# Settings: ANCHORS (default ../shared/anchors relative to the repository root),
# STAGEDOOR_TEST_DB (the database the demo server uses; default a fresh SQLite file),
# FRONTEND_PORT (Stagedoor's port, default 7107). Needs curl, python3, make and g++ (the app builds
# better-sqlite3), Debian's chromium and npm; scripts/test installs them.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${1:-target/debug/stagedoor}
ANCHORS=${ANCHORS:-../shared/anchors}
PORT=${FRONTEND_PORT:-7107}
PW=${PW_DIR:-$HOME/.cache/stagedoor-anchor/pw/node_modules}
log() { printf '== frontend-against: %s\n' "$*" >&2; }

[ -x "$ANCHORS/backstage-app/frontend-against.sh" ] || { log "no anchor at $ANCHORS/backstage-app"; exit 1; }
if [ ! -d "$PW/playwright-core" ]; then
  log "installing playwright-core into $PW"
  mkdir -p "$(dirname "$PW")"
  (cd "$(dirname "$PW")" && npm i --no-audit --no-fund --loglevel=error playwright-core@1.64.1 >/dev/null)
fi

work=$(mktemp -d)
db=${STAGEDOOR_TEST_DB:-sqlite://$work/demo.db}
"$BIN" serve --demo --db "$db" --listen "127.0.0.1:$PORT" >"$work/server.log" 2>&1 &
pid=$!
trap 'kill $pid 2>/dev/null || true; wait $pid 2>/dev/null || true; rm -rf "$work"' EXIT
for _ in $(seq 1 120); do
  curl -sf -o /dev/null "http://127.0.0.1:$PORT/readyz" && break
  kill -0 $pid 2>/dev/null || { cat "$work/server.log" >&2; exit 1; }
  sleep 0.5
done
log "Stagedoor demo ready on 127.0.0.1:$PORT; starting the Backstage app against it"
# The anchor's page walk signs in as guest first; when the app is slow to render, it can miss the
# sign-in button and then walk the sign-in screen, which shows no error. So each page must also
# show what it is about, and a walk that ended on the sign-in screen is tried again.
walk() {
  PW_DIR=$PW "$ANCHORS/backstage-app/frontend-against.sh" "http://127.0.0.1:$PORT" \
    /catalog \
    '/catalog?filters%5Bkind%5D=component&filters%5Buser%5D=all' \
    /catalog/default/component/account-web \
    /catalog/default/group/checkout \
    /api-docs >"$work/pages.jsonl" || { cat "$work/pages.jsonl"; return 1; }
  python3 - "$work/pages.jsonl" <<'PY'
import json, sys
expect = {"/catalog": "All Components", "/catalog/default/component/account-web": "My Account pages",
          "/catalog/default/group/checkout": "Checkout", "/api-docs": "All APIS"}
pages = [json.loads(l) for l in open(sys.argv[1]) if l.startswith("{")]
for p in pages:
    print(json.dumps({k: p.get(k) for k in ("path", "failed", "errors")}))
if len(pages) != 5 or any("Enter as a Guest" in p["text"] for p in pages):
    sys.exit(2)
bad = [p["path"] for p in pages if expect.get(p["path"], "Catalog") not in p["text"]]
if bad:
    print("pages without their content:", bad)
    sys.exit(1)
PY
}
# On a loaded machine the app can take the click before it is ready several times in a row (seen
# three times running while other builds used both cores); a pause lets it settle.
for attempt in 1 2 3 4 5 6; do
  rc=0; walk || rc=$?
  [ $rc -ne 2 ] && exit $rc
  log "the walk ended on the sign-in screen; again ($attempt)"
  sleep 5
done
exit 1
