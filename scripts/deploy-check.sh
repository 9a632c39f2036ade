#!/usr/bin/env bash
# Django's deployment checks (`manage.py check --deploy --fail-level WARNING`) with
# production settings.
#   scripts/deploy-check.sh        this shell's environment (and .env): run it on a server
#   scripts/deploy-check.sh --ci   a made-up production environment and nothing else, as in
#                                  `make test` (CI has no secrets); VAR=value arguments
#                                  change it, e.g. `--ci DEBUG=true` must fail
set -euo pipefail
cd "$(dirname "$0")/.."
PY="${PYTHON:-.venv/bin/python}"
CHECK=(manage.py check --deploy --fail-level WARNING)

if [ "${1:-}" != "--ci" ]; then
    exec "$PY" "${CHECK[@]}"
fi
shift
key() { "$PY" -c 'import secrets; print(secrets.token_urlsafe(50))'; }
# env -i: nothing from this shell (DEBUG, test keys, SECURE_SSL_REDIRECT=false...) and no
# .env (ENV_FILE empty) leaks into the check.
exec env -i PATH="$PATH" HOME="${HOME:-/tmp}" ENV_FILE= \
    DEBUG=false \
    SECRET_KEY="$(key)" \
    JWT_SIGNING_KEY="$(key)" \
    ALLOWED_HOSTS=shop.example.com \
    CSRF_TRUSTED_ORIGINS=https://shop.example.com \
    DATABASE_URL=postgres://shop:secret@db.internal:6432/shop \
    DATABASE_PGBOUNCER=true \
    REDIS_URL=redis://cache.internal:6379/0 \
    NUM_PROXIES=1 \
    STRIPE_SECRET_KEY=sk_live_51Hx0000000000000000000000 \
    STRIPE_PUBLISHABLE_KEY=pk_live_51Hx0000000000000000000000 \
    STRIPE_WEBHOOK_SECRET=whsec_0000000000000000000000000000 \
    EMAIL_URL=smtp+tls://mailer:secret@smtp.example.com:587 \
    SHOP_BASE_URL=https://shop.example.com \
    "$@" "$PY" "${CHECK[@]}"
