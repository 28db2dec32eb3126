#!/usr/bin/env bash
# `make demo`: migrate the SQLite database, start the local Stripe server when no Stripe key is set,
# load the demo data and serve on 127.0.0.1. Everything listens on 127.0.0.1 only.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=.venv/bin
PORT=${PORT:-5000}
STRIPE_PORT=${STRIPE_PORT:-8421}
export CAREPOOL_ENV=${CAREPOOL_ENV:-development}
# The links in the demo's mail (the outbox page, /admin/outbox) point at the port it is served on.
export PUBLIC_URL=${PUBLIC_URL:-http://127.0.0.1:$PORT}
mkdir -p instance
# A demo served on another port is a second demo: it keeps its own database and local Stripe state, so the two never
# write each other's files (the Stripe server saves its state when it stops, and the last one to stop would win).
suffix=""
if [ "$PORT" != 5000 ]; then suffix="-$PORT"; fi
export DATABASE_URL=${DATABASE_URL:-sqlite:///$PWD/instance/carepool$suffix.sqlite}
# Is something listening on 127.0.0.1:$1? (bash opens the connection itself; nothing is sent.)
listening() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
# Stop with one line if a port is taken. Something already listening on the local Stripe server's port (another
# demo's) would answer for ours, and its events would name transfers this demo never made: every payment would stay
# "waiting for Stripe to confirm".
refuse_if_taken() {
  if listening "$1"; then
    echo "Port $1 is already in use (another demo?): stop it, or use other ports: PORT=5001 STRIPE_PORT=8422 make demo" >&2
    exit 1
  fi
}
refuse_if_taken "$PORT"
if [ -z "${STRIPE_SECRET_KEY:-}" ]; then refuse_if_taken "$STRIPE_PORT"; fi

"$BIN/brokerage" db upgrade
# The demo's helpers stop with it: the local Stripe server and the sealer below.
pids=""
trap 'kill $pids 2>/dev/null || true' EXIT INT TERM

if [ -z "${STRIPE_SECRET_KEY:-}" ]; then
  # No Stripe account needed: the local Stripe-compatible server (docs/local-stripe.md) keeps its
  # accounts and transfers in instance/, so a second `make demo` finds the ones the demo made.
  export STRIPE_SECRET_KEY=sk_test_local
  export STRIPE_API_BASE="http://127.0.0.1:$STRIPE_PORT"
  export STRIPE_WEBHOOK_SECRET=${STRIPE_WEBHOOK_SECRET:-whsec_local_demo_only}
  "$BIN/brokerage" payments local-stripe --port "$STRIPE_PORT" --keep "instance/local-stripe$suffix.pickle" \
    --webhook "http://127.0.0.1:$PORT/stripe/webhook" &
  stripe_pid=$!
  pids="$stripe_pid"
  for _ in $(seq 1 100); do
    if listening "$STRIPE_PORT"; then break; fi
    if ! kill -0 "$stripe_pid" 2>/dev/null; then echo "The local Stripe server did not start (is port $STRIPE_PORT free? STRIPE_PORT=... make demo)" >&2; exit 1; fi
    sleep 0.1
  done
fi

"$BIN/brokerage" demo
# Events Stripe sent while nothing was listening (a restart of the demo) are fetched and processed.
"$BIN/brokerage" payments catch-up >/dev/null
# The ledger is sealed every SEAL_EVERY_MINUTES (default 10), as cron does in production: the seals page expects it.
seal_minutes=${SEAL_EVERY_MINUTES:-10}
(
  trap 'kill $! 2>/dev/null; exit 0' TERM  # stop the sleep too (waiting on it lets the trap run at once)
  while :; do
    sleep $((seal_minutes * 60)) & wait $!
    "$BIN/brokerage" ledger seal >/dev/null 2>&1 || true
  done
) &
pids="$pids $!"
echo "Serving carepool on http://127.0.0.1:$PORT (Ctrl+C to stop)"
"$BIN/gunicorn" --bind "127.0.0.1:$PORT" --workers 2 --access-logfile - wsgi:app
