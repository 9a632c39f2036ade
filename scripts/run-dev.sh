#!/usr/bin/env bash
# `make run`: migrate, load demo data, and serve the shop on http://127.0.0.1:8000.
# Without real Stripe keys it also starts the offline Stripe simulator on :12111 and
# points the shop at it; with STRIPE_SECRET_KEY set (and no STRIPE_API_BASE) it talks
# to Stripe itself, and `stripe listen` forwards the webhooks.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=.venv/bin/python
export DEBUG="${DEBUG:-true}"

if [ -z "${STRIPE_SECRET_KEY:-}" ] || [ -n "${STRIPE_API_BASE:-}" ]; then
    export STRIPE_API_BASE="${STRIPE_API_BASE:-http://127.0.0.1:${SIMULATOR_PORT:-12111}}"
    export STRIPE_SECRET_KEY="${STRIPE_SECRET_KEY:-sk_test_simulator}"
    export STRIPE_PUBLISHABLE_KEY="${STRIPE_PUBLISHABLE_KEY:-pk_test_simulator}"
    export STRIPE_WEBHOOK_SECRET="${STRIPE_WEBHOOK_SECRET:-whsec_simulator}"
    $PY manage.py stripe_simulator --port "${SIMULATOR_PORT:-12111}" \
        --webhook-url http://127.0.0.1:8000/webhooks/stripe/ &
    SIMULATOR_PID=$!
    trap 'kill $SIMULATOR_PID 2>/dev/null || true' EXIT
    echo "Offline Stripe simulator on $STRIPE_API_BASE"
fi

$PY manage.py migrate --noinput
$PY manage.py seed_demo
$PY manage.py runserver 127.0.0.1:8000
