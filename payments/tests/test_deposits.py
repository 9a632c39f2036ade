"""Wallet deposits: PaymentIntents made, confirmed by the same webhooks and reconciled
the same way as orders'; the wallet is credited exactly once however the success arrives."""

import urllib.request
from datetime import timedelta
from decimal import Decimal

import pytest
import stripe

from core.tests.helpers import api, client_for
from payments import gateway, services
from payments.models import WebhookEvent
from payments.tests.helpers import (
    CLOSED_PORT_URL,
    WEBHOOK_PATH,
    confirm,
    make_event,
    retrieve,
    settle,
    signed,
)
from shop.tests.concurrency import run_concurrently
from shop.tests.factories import StaffFactory, UserFactory
from wallets import services as wallet_services
from wallets.models import Deposit, LedgerEntry
from wallets.selectors import wallet_discrepancies
from wallets.tests.helpers import balance, ledger_of

pytestmark = pytest.mark.django_db
D = Decimal
NOW = timedelta(0)


def _deposit(user, amount="25.00", **kwargs) -> Deposit:
    return services.start_deposit(user=user, amount=D(amount), **kwargs)


def _backdate(deposit, age=Deposit.PAYABLE_FOR + timedelta(seconds=1)):
    Deposit.objects.filter(pk=deposit.pk).update(created_at=deposit.created_at - age)


def _succeeded_event(sim, deposit) -> dict:
    """The payment_intent.succeeded event the simulator made for the deposit."""
    return next(
        e
        for e in sim.events
        if e["type"] == "payment_intent.succeeded"
        and e["data"]["object"]["id"] == deposit.payment_intent_id
    )


# --- the API -----------------------------------------------------------------------------


def test_a_deposit_answers_with_its_payment_intent(stripe_sim):
    user = UserFactory()
    response = client_for(user).post(api("wallet/deposits"), {"amount": "25.00"}, format="json")

    assert response.status_code == 201
    deposit = Deposit.objects.get()
    body = response.json()
    assert body == {
        "id": str(deposit.pk),
        "amount": "25.00",
        "currency": "usd",
        "status": "pending",
        "payment": {
            "payment_intent_id": deposit.payment_intent_id,
            "client_secret": deposit.client_secret,
            "status": "requires_payment_method",
        },
    }
    assert body["payment"]["client_secret"].startswith(deposit.payment_intent_id)
    intent = retrieve(stripe_sim, deposit.payment_intent_id)
    assert (intent["amount"], intent["currency"]) == (2500, "usd")
    assert intent["metadata"] == {"deposit_id": str(deposit.pk)}
    assert balance(user) == D("0.00")  # nothing until it succeeds


def test_the_same_idempotency_key_gives_back_the_same_deposit(stripe_sim):
    client = client_for(UserFactory())
    first = client.post(
        api("wallet/deposits"), {"amount": "10.00"}, format="json", HTTP_IDEMPOTENCY_KEY="top-1"
    )
    again = client.post(
        api("wallet/deposits"), {"amount": "10.00"}, format="json", HTTP_IDEMPOTENCY_KEY="top-1"
    )
    other = client.post(
        api("wallet/deposits"), {"amount": "11.00"}, format="json", HTTP_IDEMPOTENCY_KEY="top-1"
    )
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json() == first.json()
    assert (other.status_code, other.json()["code"]) == (422, "idempotency_conflict")
    without_key = [
        client.post(api("wallet/deposits"), {"amount": "10.00"}, format="json") for _ in range(2)
    ]
    assert [r.status_code for r in without_key] == [201, 201]
    assert Deposit.objects.count() == 3
    assert len({d.payment_intent_id for d in Deposit.objects.all()}) == 3


@pytest.mark.parametrize(
    "body",
    [{"amount": "0.99"}, {"amount": "10000.01"}, {"amount": "5.001"}, {}, {"amount": "5", "x": 1}],
)
def test_deposit_amounts_outside_the_limits_are_400(body):
    response = client_for(UserFactory()).post(api("wallet/deposits"), body, format="json")
    assert response.status_code == 400
    assert Deposit.objects.count() == 0


def test_while_stripe_is_unreachable_a_deposit_is_503_and_the_same_key_retries(
    stripe_sim, settings
):
    user = UserFactory()
    client = client_for(user)
    settings.STRIPE_API_BASE = CLOSED_PORT_URL
    down = client.post(
        api("wallet/deposits"), {"amount": "10.00"}, format="json", HTTP_IDEMPOTENCY_KEY="k"
    )
    assert (down.status_code, down.json()["code"]) == (503, "payment_unavailable")
    deposit = Deposit.objects.get()
    assert (deposit.status, deposit.payment_intent_id) == ("pending", None)
    assert client.get(api(f"wallet/deposits/{deposit.pk}")).json()["payment"] is None

    settings.STRIPE_API_BASE = stripe_sim.url
    retried = client.post(
        api("wallet/deposits"), {"amount": "10.00"}, format="json", HTTP_IDEMPOTENCY_KEY="k"
    )
    assert retried.status_code == 200
    assert retried.json()["id"] == str(deposit.pk)
    assert retried.json()["payment"]["payment_intent_id"].startswith("pi_")


def test_only_its_owner_reads_a_deposit(stripe_sim):
    owner = UserFactory()
    deposit = _deposit(owner)
    url = api(f"wallet/deposits/{deposit.pk}")
    response = client_for(owner).get(url)
    assert response.status_code == 200
    assert response.json()["payment"]["payment_intent_id"] == deposit.payment_intent_id
    for stranger in (UserFactory(), StaffFactory(is_superuser=True)):
        assert client_for(stranger).get(url).status_code == 404
    assert client_for(owner).get(api("wallet/deposits/not-a-uuid")).status_code == 404


# --- credited once, however the success arrives ---------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_a_confirmed_deposit_is_credited_by_the_webhook(stripe_sim_live):
    user = UserFactory()
    deposit = _deposit(user, "40.00")
    confirm(stripe_sim_live, deposit.payment_intent_id)
    settle(stripe_sim_live)

    deposit = Deposit.objects.get(pk=deposit.pk)
    assert (deposit.status, deposit.payment_status) == ("succeeded", "succeeded")
    assert ledger_of(user) == [("deposit", D("40.00"), D("0.00"), D("40.00"))]
    body = client_for(user).get(api(f"wallet/deposits/{deposit.pk}")).json()
    assert (body["status"], body["payment"]["client_secret"]) == ("succeeded", None)
    assert WebhookEvent.objects.exclude(status="processed").count() == 0


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("same_event", [True, False], ids=["one-event", "six-events"])
def test_six_concurrent_deliveries_and_reconciliation_credit_once(
    stripe_sim_live, live_server, same_event
):
    user = UserFactory()
    deposit = _deposit(user, "30.00")
    stripe_sim_live.set_webhooks_enabled(False)  # the deliveries are ours to make
    confirm(stripe_sim_live, deposit.payment_intent_id)
    event = _succeeded_event(stripe_sim_live, deposit)
    url = f"{live_server.url}{WEBHOOK_PATH}"

    def deliver(copy):
        body, signature = signed(
            event if same_event else make_event(event["type"], event["data"]["object"])
        )
        request = urllib.request.Request(  # noqa: S310 - http to the live server
            url,
            data=body.encode(),
            method="POST",
            headers={"Content-Type": "application/json", "Stripe-Signature": signature},
        )
        with urllib.request.urlopen(request, timeout=20) as response:  # noqa: S310
            return response.status

    def reconcile():
        return services.reconcile_payments(older_than=NOW)

    outcomes = run_concurrently(*[lambda i=i: deliver(i) for i in range(6)], reconcile)

    assert outcomes[:6] == [("ok", 200)] * 6
    assert outcomes[6] in [("ok", 0), ("ok", 1)]  # 1 if reconciliation got there first
    assert ledger_of(user) == [("deposit", D("30.00"), D("0.00"), D("30.00"))]
    assert Deposit.objects.get(pk=deposit.pk).status == "succeeded"
    succeeded = WebhookEvent.objects.filter(type="payment_intent.succeeded")
    assert succeeded.count() == (1 if same_event else 6)
    assert WebhookEvent.objects.exclude(status="processed").count() == 0
    assert wallet_discrepancies() == []


def test_a_lost_deposit_webhook_is_applied_by_reconciliation(stripe_sim):
    user = UserFactory()
    deposit = _deposit(user, "15.00")
    confirm(stripe_sim, deposit.payment_intent_id)  # no webhook reaches the shop

    assert services.reconcile_payments(older_than=timedelta(minutes=10)) == 0  # too young
    assert balance(user) == D("0.00")
    assert services.reconcile_payments(older_than=NOW) == 1
    assert balance(user) == D("15.00")
    assert services.reconcile_payments(older_than=NOW) == 0
    assert LedgerEntry.objects.filter(type="deposit").count() == 1


def test_a_declined_deposit_stays_payable(stripe_sim):
    user = UserFactory()
    deposit = _deposit(user)
    with pytest.raises(stripe.CardError):
        confirm(stripe_sim, deposit.payment_intent_id, "pm_card_chargeDeclined")
    services.apply_payment_intent(
        payment_intent=retrieve(stripe_sim, deposit.payment_intent_id), declined=True
    )
    deposit = Deposit.objects.get(pk=deposit.pk)
    assert (deposit.status, deposit.payment_status) == ("pending", "requires_payment_method")
    confirm(stripe_sim, deposit.payment_intent_id)
    services.apply_payment_intent(payment_intent=retrieve(stripe_sim, deposit.payment_intent_id))
    assert balance(user) == D("25.00")


def test_an_abandoned_deposit_is_cancelled_at_stripe(stripe_sim):
    user = UserFactory()
    deposit = _deposit(user)
    young = _deposit(user)
    _backdate(deposit)

    assert services.reconcile_payments(older_than=NOW) == 1

    assert Deposit.objects.get(pk=deposit.pk).status == "canceled"
    intent = retrieve(stripe_sim, deposit.payment_intent_id)
    assert (intent["status"], intent["cancellation_reason"]) == ("canceled", "abandoned")
    assert Deposit.objects.get(pk=young.pk).status == "pending"
    assert retrieve(stripe_sim, young.payment_intent_id)["status"] == "requires_payment_method"
    assert balance(user) == D("0.00")


def test_an_abandoned_deposit_that_was_paid_after_all_is_credited(stripe_sim):
    user = UserFactory()
    deposit = _deposit(user, "12.00")
    confirm(stripe_sim, deposit.payment_intent_id)  # the webhook is lost
    _backdate(deposit)

    assert services.reconcile_payments(older_than=NOW) == 1

    assert Deposit.objects.get(pk=deposit.pk).status == "succeeded"
    assert retrieve(stripe_sim, deposit.payment_intent_id)["status"] == "succeeded"
    assert balance(user) == D("12.00")


def test_a_payment_intent_the_shop_never_stored_is_found_by_its_deposit(stripe_sim):
    # The database failed right after Stripe made the PaymentIntent: the deposit has none.
    user = UserFactory()
    deposit = wallet_services.open_deposit(user=user, amount=D("20.00"))
    intent = gateway.create_deposit_payment_intent(deposit=deposit)
    confirm(stripe_sim, intent["id"])

    assert services.reconcile_payments(older_than=NOW) == 0  # the customer may still retry
    _backdate(deposit)
    assert services.reconcile_payments(older_than=NOW) == 1

    deposit = Deposit.objects.get(pk=deposit.pk)
    assert (deposit.status, deposit.payment_intent_id) == ("succeeded", intent["id"])
    assert balance(user) == D("20.00")


def test_a_webhook_before_the_shop_stored_the_payment_intent_credits_by_metadata(stripe_sim):
    user = UserFactory()
    deposit = wallet_services.open_deposit(user=user, amount=D("20.00"))
    intent = gateway.create_deposit_payment_intent(deposit=deposit)
    services.apply_payment_intent(payment_intent=confirm(stripe_sim, intent["id"]))

    deposit = Deposit.objects.get(pk=deposit.pk)
    assert (deposit.status, deposit.payment_intent_id) == ("succeeded", intent["id"])
    assert balance(user) == D("20.00")


def test_a_payment_intent_naming_an_unknown_deposit_changes_nothing(stripe_sim):
    intent = {
        **retrieve(stripe_sim, _deposit(UserFactory()).payment_intent_id),
        "id": "pi_not_ours",
        "metadata": {"deposit_id": "00000000-0000-0000-0000-000000000000"},
    }
    services.apply_payment_intent(payment_intent=intent)
    assert LedgerEntry.objects.count() == 0
