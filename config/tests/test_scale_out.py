"""Beyond one machine, proven on this one: two gunicorn nodes behind one nginx, both
reaching PostgreSQL through PgBouncer in transaction mode, and the exact counts of the
race tests still hold when the racing requests are spread over both nodes.

scripts/scale_check.py (`make scale-check`, part of `make test`) starts PgBouncer and runs
this module through it; the plain test run does not collect it (conftest.py).
"""

import re
import threading
from concurrent.futures import ThreadPoolExecutor
from types import SimpleNamespace

import httpx
import psycopg
import pytest
from django.conf import settings
from django.db import connection
from rest_framework_simplejwt.tokens import AccessToken

from config.tests import stack
from orders.models import Order
from orders.selectors import stock_discrepancies
from payments.models import Payment
from payments.simulator import StripeSimulator
from payments.tests.helpers import confirm, wait_until
from shop.models import Inventory
from shop.tests.factories import ProductFactory, UserFactory

pytestmark = pytest.mark.django_db(transaction=True)

CHECKOUT = "/api/v1/orders/checkout"


@pytest.fixture(scope="module")
def web(django_db_setup):
    """nginx (deploy/nginx.conf) -> two gunicorn nodes -> PgBouncer -> the test database."""
    sim = StripeSimulator(webhook_secret=settings.STRIPE_WEBHOOK_SECRET).start()
    env = stack.production_env(
        DATABASE_URL=stack.database_url(connection.settings_dict),
        DATABASE_PGBOUNCER="true",
        SECRET_KEY=settings.SECRET_KEY,
        JWT_SIGNING_KEY=settings.JWT_SIGNING_KEY,  # tokens made here are valid there
        STRIPE_SECRET_KEY=settings.STRIPE_SECRET_KEY,
        STRIPE_PUBLISHABLE_KEY=settings.STRIPE_PUBLISHABLE_KEY,
        STRIPE_WEBHOOK_SECRET=settings.STRIPE_WEBHOOK_SECRET,
        STRIPE_API_BASE=sim.url,
        THROTTLE_CHECKOUT="100000/min",
    )
    try:
        with (
            stack.gunicorn(env) as node_a,
            stack.gunicorn(env) as node_b,
            stack.nginx([node_a, node_b]) as (url, access_log),
        ):
            sim.webhook_url = f"{url}/webhooks/stripe/"
            yield SimpleNamespace(url=url, log=access_log, nodes={node_a, node_b}, sim=sim)
    finally:
        sim.stop()


def served_by(web, path: str, since: int) -> dict[str, int]:
    """Requests for `path` per upstream node in nginx's access log after offset `since`."""
    counts: dict[str, int] = {}
    for line in web.log.read_text()[since:].splitlines():
        match = re.search(rf'"\w+ {re.escape(path)}" .* upstream=(\S+)', line)
        if match:
            counts[match[1]] = counts.get(match[1], 0) + 1
    return counts


def race(requests: list) -> list[httpx.Response]:
    """Send the requests at the same moment, one thread and connection each."""
    barrier = threading.Barrier(len(requests))

    def send(request):
        with httpx.Client(timeout=60) as client:
            barrier.wait(timeout=30)
            return request(client)

    with ThreadPoolExecutor(len(requests)) as pool:
        return list(pool.map(send, requests))


def checkout(web, token: str, product_id: int, quantity: int = 1, key: str | None = None):
    headers = {"Authorization": f"Bearer {token}"}
    if key:
        headers["Idempotency-Key"] = key
    body = {"items": [{"product_id": product_id, "quantity": quantity}]}
    return lambda client: client.post(f"{web.url}{CHECKOUT}", json=body, headers=headers)


def token_for(user) -> str:
    return str(AccessToken.for_user(user))


def test_this_run_goes_through_pgbouncer_in_transaction_mode():
    db = connection.settings_dict
    assert db["DISABLE_SERVER_SIDE_CURSORS"] is True
    assert db["OPTIONS"]["prepare_threshold"] is None
    admin = f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/pgbouncer"
    with psycopg.connect(admin, autocommit=True) as conn:
        config = {row[0]: row[1] for row in conn.execute("SHOW CONFIG").fetchall()}
    assert config["pool_mode"] == "transaction"


def test_twenty_buyers_for_five_units_over_two_nodes_make_exactly_five_orders(web):
    product = ProductFactory(stock=5)
    tokens = [token_for(UserFactory()) for _ in range(20)]
    since = web.log.stat().st_size

    responses = race([checkout(web, token, product.pk) for token in tokens])

    codes = sorted(r.status_code for r in responses)
    assert codes == [201] * 5 + [409] * 15, [r.text[:200] for r in responses]
    assert {r.json()["code"] for r in responses if r.status_code == 409} == {"insufficient_stock"}
    assert Order.objects.count() == 5
    inventory = Inventory.objects.get(pk=product.pk)
    assert (inventory.available, inventory.reserved) == (0, 5)
    assert stock_discrepancies() == []
    # Both nodes took part in the race.
    assert set(served_by(web, CHECKOUT, since)) == web.nodes


def test_one_idempotency_key_raced_over_two_nodes_makes_one_order(web):
    product = ProductFactory(stock=10)
    token = token_for(UserFactory())
    since = web.log.stat().st_size

    responses = race([checkout(web, token, product.pk, 2, key="scale-key") for _ in range(8)])

    assert sorted(r.status_code for r in responses) == [200] * 7 + [201]
    assert len({r.json()["id"] for r in responses}) == 1
    assert Order.objects.count() == 1
    inventory = Inventory.objects.get(pk=product.pk)
    assert (inventory.available, inventory.reserved) == (8, 2)
    assert set(served_by(web, CHECKOUT, since)) == web.nodes


def test_payments_confirmed_over_two_nodes_pay_each_order_once(web):
    product = ProductFactory(stock=6)
    tokens = [token_for(UserFactory()) for _ in range(6)]
    since = web.log.stat().st_size
    responses = race([checkout(web, token, product.pk) for token in tokens])
    assert [r.status_code for r in responses] == [201] * 6

    # The customers pay; Stripe's webhooks come back through nginx to either node.
    for response in responses:
        confirm(web.sim, response.json()["payment"]["payment_intent_id"])
    assert web.sim.wait_for_deliveries(timeout=30)

    wait_until(lambda: Order.objects.filter(status=Order.Status.PAID).count() == 6, timeout=10)
    assert Payment.objects.filter(status="succeeded").count() == 6
    inventory = Inventory.objects.get(pk=product.pk)
    assert (inventory.available, inventory.reserved) == (0, 0)
    assert stock_discrepancies() == []
    assert set(served_by(web, "/webhooks/stripe/", since)) == web.nodes
