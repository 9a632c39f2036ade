"""A tiny run of each wallet-payment arm, and the wallet invariant checker catching
broken ledgers. No timing is asserted: payments happen, nothing fails, counts hold."""

from decimal import Decimal

import psycopg
import pytest
from django.db import connection, transaction

from bench import db, invariants, wallet_arm
from bench.common import Scenario
from bench.tests.test_smoke import _database_url
from orders.models import Order
from wallets import ledger
from wallets.models import EntryType, LedgerEntry, Wallet
from wallets.selectors import wallet_discrepancies

pytestmark = pytest.mark.django_db(transaction=True)
D = Decimal


@pytest.fixture(autouse=True)
def _emails_wait_in_the_outbox(settings):
    # As in the benchmark: the paid e-mail waits in the outbox (pytest has no broker).
    settings.EMAIL_SEND_ON_COMMIT = False


@pytest.fixture
def spread():
    return Scenario("spread", tuple(db.seed_products(prefix="WSM", count=20, stock=100_000)))


def _conn():
    return psycopg.connect(db.conninfo(_database_url()), autocommit=True)


def _seed(arm, scenario, users, seconds=0.02):
    # 3000/s (raw) or 1200/s (service) x 0.02 s over two clients, +10 each.
    return wallet_arm.seed(
        arm=arm, scenario=scenario, users=users, concurrency=len(users), seconds=seconds
    )


def _after_the_cell(result, queues, users, before):
    """Exactly the payments the clients saw, the rest still payable and funded."""
    with _conn() as conn:
        checked = invariants.check_wallet(
            conn, use_django=True, orders_before=before, placed=result["placed_total"]
        )
    assert checked["payments"] == result["placed_total"] > 0
    seeded = [pk for queue in queues for pk in queue]
    paid = Order.objects.filter(pk__in=seeded, status=Order.Status.PAID).count()
    pending = Order.objects.filter(pk__in=seeded, status=Order.Status.PAYMENT_PENDING)
    assert paid == result["placed_total"]
    assert pending.count() == len(seeded) - paid
    # Each wallet holds exactly the totals of its customer's orders not yet paid.
    for user in users:
        left = sum((o.total for o in pending.filter(user=user)), D("0.00"))
        assert Wallet.objects.get(user=user).balance == left
    assert wallet_discrepancies() == []


def test_seed_gives_each_client_payable_orders_and_exactly_their_funds(spread):
    users = db.seed_users(prefix="wsd", count=2)

    queues = _seed("wallet_raw", spread, users)

    assert [len(q) for q in queues] == [40, 40]
    for user, queue in zip(users, queues, strict=True):
        orders = Order.objects.filter(pk__in=queue)
        assert {o.user_id for o in orders} == {user.pk}
        assert {o.status for o in orders} == {Order.Status.PAYMENT_PENDING}
        assert Wallet.objects.get(user=user).balance == sum(o.total for o in orders)
    with _conn() as conn:
        assert invariants.sql_discrepancies(conn) == []
        assert invariants.wallet_sql_discrepancies(conn) == []


def test_raw_wallet_arm_pays_orders_that_keep_the_invariants(spread):
    users = db.seed_users(prefix="wrw", count=2)
    queues = _seed("wallet_raw", spread, users, seconds=0.5)
    with _conn() as conn:
        before = invariants.wallet_payments(conn)

    result = wallet_arm.run_raw(
        conninfo=db.conninfo(_database_url()),
        queues=queues,
        user_ids=[u.pk for u in users],
        concurrency=2,
        duration=0.3,
        warmup=0.05,
    )

    assert result["checkouts"] > 0
    assert result["errors"] == {}
    assert result["queries_per_checkout"] == 9  # 8 statements + COMMIT
    _after_the_cell(result, queues, users, before)
    entry = LedgerEntry.objects.filter(type=EntryType.PAYMENT).order_by("id").first()
    order = Order.objects.get(pk=entry.reference)
    assert (entry.amount, entry.balance_after) == (-order.total, entry.balance_before - order.total)


def test_service_wallet_arm_pays_orders_with_a_held_query_count(spread):
    users = db.seed_users(prefix="wsv", count=2)
    queues = _seed("wallet", spread, users, seconds=0.5)
    with _conn() as conn:
        before = invariants.wallet_payments(conn)

    result = wallet_arm.run_service(
        queues=queues, users=users, concurrency=2, duration=0.3, warmup=0.05
    )

    assert result["checkouts"] > 0
    assert result["errors"] == {}
    # pay_order: lock order, lock wallet, ledger entry, wallet, audit; mark_paid (in a
    # savepoint): the order locked again, its items, stock in a savepoint of its own (lock,
    # update, audit), the order saved, audit, e-mail; after the commit, payments' look-up
    # of a PaymentIntent to cancel; the paid units leave the buyer's cart (a savepoint,
    # the cart items, its release); earnings: the order's merchant lines, and the wallets
    # to lock (the buyer's and the merchants', in one id-ordered statement) looked up
    # first. The floor does the same work in 8 statements.
    assert result["queries_per_checkout"] == 24, result["sample_queries"]
    locks = [q for q in result["sample_queries"] if "FOR UPDATE" in q]
    assert [q.split(" FROM ")[1].split()[0] for q in locks] == [
        '"orders_order"',
        '"wallets_wallet"',
        '"orders_order"',
        '"shop_inventory"',
        '"shop_cartitem"',
    ]
    # mark_paid's, the stock movement's, and the cart clean-up's
    assert sum(q.startswith("SAVEPOINT") for q in result["sample_queries"]) == 3
    _after_the_cell(result, queues, users, before)


def test_a_client_that_runs_out_of_orders_stops_and_says_so(spread):
    users = db.seed_users(prefix="wex", count=1)
    (queue,) = _seed("wallet_raw", spread, users)

    result = wallet_arm.run_raw(
        conninfo=db.conninfo(_database_url()),
        queues=[queue[:3]],
        user_ids=[users[0].pk],
        concurrency=1,
        duration=0.5,
        warmup=0,
    )

    assert result["checkouts"] == 3
    assert result["errors"] == {"exhausted": 1}


def test_the_floor_refuses_what_the_service_refuses(spread):
    users = db.seed_users(prefix="wrf", count=2)
    (queue, other) = _seed("wallet_raw", spread, users)
    with psycopg.connect(db.conninfo(_database_url())) as conn:
        with pytest.raises(wallet_arm.Refused, match="not_permitted"):
            wallet_arm.pay(conn, order_id=other[0], user_id=users[0].pk)
        wallet_arm.pay(conn, order_id=queue[0], user_id=users[0].pk)
        with pytest.raises(wallet_arm.Refused, match="invalid_transition"):
            wallet_arm.pay(conn, order_id=queue[0], user_id=users[0].pk)
        conn.execute(
            "UPDATE wallets_wallet SET is_locked = true WHERE user_id = %s", (users[0].pk,)
        )
        conn.commit()
        with pytest.raises(wallet_arm.Refused, match="wallet_locked"):
            wallet_arm.pay(conn, order_id=queue[1], user_id=users[0].pk)
    assert Order.objects.get(pk=queue[1]).status == Order.Status.PAYMENT_PENDING


# --- the wallet invariant checker ---------------------------------------------------------


@pytest.fixture
def paid(spread):
    """Two customers' wallets, each order of theirs paid by the floor."""
    users = db.seed_users(prefix="wiv", count=2)
    queues = _seed("wallet_raw", spread, users, seconds=0.001)
    with psycopg.connect(db.conninfo(_database_url())) as conn:
        for user, queue in zip(users, queues, strict=True):
            for order_id in queue[:2]:
                wallet_arm.pay(conn, order_id=order_id, user_id=user.pk)
    return users, queues


def test_consistent_wallets_pass(paid):
    with _conn() as conn:
        assert invariants.wallet_sql_discrepancies(conn) == []
        before = invariants.wallet_payments(conn)
        checked = invariants.check_wallet(conn, use_django=True, orders_before=before, placed=0)
    assert checked == {
        "stock_ok": True,
        "wallets_ok": True,
        "checked_by": "sql+django",
        "payments": 0,
    }


def test_a_balance_changed_behind_the_ledgers_back_is_caught(paid):
    users, _ = paid
    wallet = Wallet.objects.get(user=users[1])
    with connection.cursor() as cur:
        cur.execute("UPDATE wallets_wallet SET balance = balance + 1 WHERE id = %s", [wallet.pk])
    with _conn() as conn:
        assert invariants.wallet_sql_discrepancies(conn) == [
            {"wallet_id": wallet.pk, "broken": ["balance != entries (sum, count or sign)"]}
        ]
        with pytest.raises(invariants.InvariantBroken, match="wallet invariants broken"):
            invariants.check_wallet(
                conn, use_django=False, orders_before=invariants.wallet_payments(conn), placed=0
            )


def test_a_payment_that_is_not_its_orders_total_is_caught(paid):
    users, queues = paid
    order = Order.objects.get(pk=queues[0][2])
    with transaction.atomic():
        (wallet,) = ledger.lock(wallet_ids=[Wallet.objects.get(user=users[0]).pk]).values()
        ledger.post(wallet=wallet, type=EntryType.PAYMENT, amount=D("-0.01"), reference=order.pk)
    with _conn() as conn:
        (problem,) = invariants.wallet_sql_discrepancies(conn)
    assert problem == {
        "wallet_id": wallet.pk,
        "broken": [f"payment {order.pk} != its order's total"],
    }


def test_an_order_paid_without_a_wallet_payment_is_caught(paid):
    _, queues = paid
    with _conn() as conn:
        before = invariants.wallet_payments(conn)
        # Paid, its stock committed, but no ledger entry took the money.
        order = Order.objects.get(pk=queues[1][2])
        conn.execute("UPDATE orders_order SET status = 'paid' WHERE id = %s", (order.pk,))
        conn.execute(
            "UPDATE shop_inventory SET reserved = reserved - i.quantity"
            " FROM orders_orderitem i WHERE i.order_id = %s"
            " AND shop_inventory.product_id = i.product_id",
            (order.pk,),
        )
        assert invariants.sql_discrepancies(conn) == []
        with pytest.raises(invariants.InvariantBroken, match="0 payment entries and 1 newly paid"):
            invariants.check_wallet(conn, use_django=True, orders_before=before, placed=0)
