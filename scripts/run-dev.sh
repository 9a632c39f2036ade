#!/usr/bin/env bash
# `make run`: migrate, load demo data, and serve the shop on http://127.0.0.1:8000.
# Without real Stripe keys it also starts the offline Stripe simulator on :12111 and
# points the shop at it; with STRIPE_SECRET_KEY set (and no STRIPE_API_BASE) it talks
# to Stripe itself, and `stripe listen` forwards the webhooks.
# PORT and SIMULATOR_PORT choose other ports.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=.venv/bin/python
export DEBUG="${DEBUG:-true}"
PORT="${PORT:-8000}"
SIMULATOR_PORT="${SIMULATOR_PORT:-12111}"

# A busy port is nearly always another `make run` still up. Stop rather than serve a shop
# whose payments go to someone else's simulator, or to none (checkouts would stay
# `created` with no payment); the README's address must be this shop.
require_free_port() {  # port, what, variable
    if ! "$PY" -c 'import socket, sys
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1])))' "$1" 2>/dev/null; then
        echo "make run: port $1 ($2) is already in use on 127.0.0.1." >&2
        echo "Stop what listens there (another make run?), or pick another port: $3=<port> make run" >&2
        exit 1
    fi
}

require_free_port "$PORT" "the shop" PORT
if [ -z "${STRIPE_SECRET_KEY:-}" ] || [ -n "${STRIPE_API_BASE:-}" ]; then
    export STRIPE_API_BASE="${STRIPE_API_BASE:-http://127.0.0.1:$SIMULATOR_PORT}"
    export STRIPE_SECRET_KEY="${STRIPE_SECRET_KEY:-sk_test_simulator}"
    export STRIPE_PUBLISHABLE_KEY="${STRIPE_PUBLISHABLE_KEY:-pk_test_simulator}"
    export STRIPE_WEBHOOK_SECRET="${STRIPE_WEBHOOK_SECRET:-whsec_simulator}"
    require_free_port "$SIMULATOR_PORT" "the Stripe simulator" SIMULATOR_PORT
    $PY manage.py stripe_simulator --port "$SIMULATOR_PORT" \
        --webhook-url "http://127.0.0.1:$PORT/webhooks/stripe/" &
    SIMULATOR_PID=$!
    trap 'kill $SIMULATOR_PID 2>/dev/null || true' EXIT
    # It must answer before the shop starts: a shop without it cannot take payments.
    for _ in $(seq 100); do
        kill -0 "$SIMULATOR_PID" 2>/dev/null || { echo "make run: the Stripe simulator exited" >&2; exit 1; }
        (exec 3<>"/dev/tcp/127.0.0.1/$SIMULATOR_PORT") 2>/dev/null && break
        sleep 0.1
    done
    echo "Offline Stripe simulator on $STRIPE_API_BASE"
fi

$PY manage.py migrate --noinput
$PY manage.py seed_demo
$PY manage.py seed_pricing
$PY manage.py runserver "127.0.0.1:$PORT"
