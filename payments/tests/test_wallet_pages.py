"""The wallet's pages that payments serves (payments.views): topping up by card through
the same card form as an order's payment page, and paying an order from the wallet
balance on its payment page. Both call the services the API calls."""

from decimal import Decimal

import pytest
import requests
from django.conf import settings
from django.test import Client
from django.urls import reverse

from orders.models import Order
from orders.tests.factories import make_order
from payments import gateway
from payments.services import ensure_payment, refresh_deposit, start_deposit
from payments.tests.helpers import CLOSED_PORT_URL, fresh, retrieve, stock
from shop.tests.factories import ProductFactory, UserFactory
from wallets import services as wallet_services
from wallets.models import Deposit, Wallet
from wallets.tests.helpers import balance, fund, ledger_of, treasurer

pytestmark = pytest.mark.django_db
D = Decimal
S = Order.Status
WALLET = "/wallet/"
TOKEN = "0123456789abcdef0123456789abcdef"


def messages_of(response) -> list[str]:
    return [str(m) for m in response.context["messages"]]


def top_up(client, amount, token=TOKEN, **kwargs):
    return client.post(
        reverse("wallet:top-up"), {"top_up-amount": amount, "top_up-token": token}, **kwargs
    )


def confirm_in_browser(sim, intent_id: str, secret: str, card="4242424242424242"):
    """What the card form's script does: publishable key + client secret, straight to Stripe."""
    return requests.post(
        f"{sim.url}/v1/payment_intents/{intent_id}/confirm",
        data={
            "payment_method_data[type]": "card",
            "payment_method_data[card][number]": card,
            "client_secret": secret,
        },
        headers={"Authorization": f"Bearer {settings.STRIPE_PUBLISHABLE_KEY}"},
        timeout=5,
    )


# --- top-up by card -----------------------------------------------------------------------


def test_the_wallet_page_offers_a_top_up_form_with_a_fresh_token(customer_client):
    first = customer_client.get(WALLET)
    second = customer_client.get(WALLET)

    html = first.content.decode()
    assert f'action="{reverse("wallet:top-up")}"' in html
    assert '<label for="id_top_up-amount">Top-up amount</label>' in html
    tokens = {r.context["top_up_form"]["token"].value() for r in (first, second)}
    assert len(tokens) == 2 and all(len(t) == 32 for t in tokens)


def test_a_top_up_opens_a_deposit_and_shows_its_card_form(customer_client, customer, stripe_sim):
    response = top_up(customer_client, "50.00")

    deposit = Deposit.objects.get()
    assert response.status_code == 302
    assert response.url == reverse("wallet:deposit-pay", args=[deposit.pk])
    assert (deposit.wallet.user, deposit.amount, deposit.status, deposit.idempotency_key) == (
        customer,
        D("50.00"),
        Deposit.Status.PENDING,
        TOKEN,
    )
    assert retrieve(stripe_sim, deposit.payment_intent_id)["amount"] == 5000

    html = customer_client.get(response.url).content.decode()
    # The order payment page's card form, for the deposit's PaymentIntent.
    assert f'data-simulator="{stripe_sim.url}"' in html
    assert f'data-intent="{deposit.payment_intent_id}"' in html
    assert f'data-secret="{deposit.client_secret}"' in html
    back = reverse("wallet:deposit-return", args=[deposit.pk])
    assert f'data-next="http://testserver{back}"' in html
    assert '<label for="card-number">Card number</label>' in html
    assert ">Pay $50.00</button>" in html
    assert "js/pay-simulator.js" in html
    assert balance(customer) == D("0.00")  # nothing until the card is charged


def test_the_top_up_page_uses_the_payment_element_with_real_stripe(
    customer_client, customer, stripe_sim, settings
):
    deposit = top_up_deposit(customer, "20.00")
    settings.STRIPE_API_BASE = ""

    html = customer_client.get(reverse("wallet:deposit-pay", args=[deposit.pk])).content.decode()

    assert '<script src="https://js.stripe.com/v3/"></script>' in html
    assert "js/pay-stripe.js" in html and "pay-simulator.js" not in html
    assert f'data-secret="{deposit.client_secret}"' in html


def top_up_deposit(user, amount) -> Deposit:
    return start_deposit(user=user, amount=D(amount))


def test_paying_the_top_up_credits_the_wallet_once_on_return(customer_client, customer, stripe_sim):
    deposit_page = top_up(customer_client, "50.00").url
    deposit = Deposit.objects.get()
    answer = confirm_in_browser(stripe_sim, deposit.payment_intent_id, deposit.client_secret)
    assert answer.json()["status"] == "succeeded"

    back = reverse("wallet:deposit-return", args=[deposit.pk])
    response = customer_client.get(back, follow=True)
    again = customer_client.get(back, follow=True)

    assert response.redirect_chain == [(WALLET, 302)]
    assert messages_of(response) == ["$50.00 was added to your balance."]
    assert messages_of(again) == ["$50.00 was added to your balance."]
    assert ledger_of(customer) == [("deposit", D("50.00"), D("0.00"), D("50.00"))]
    assert Deposit.objects.get().status == Deposit.Status.SUCCEEDED
    html = response.content.decode()
    assert 'data-testid="wallet-balance">$50.00</p>' in html
    assert '<th scope="row" data-label="Type">Deposit</th>' in html
    # A paid top-up has no card form any more.
    paid = customer_client.get(deposit_page, follow=True)
    assert paid.redirect_chain == [(WALLET, 302)]
    assert 'id="payment-form"' not in paid.content.decode()


def test_back_before_the_card_went_through_the_top_up_is_still_being_confirmed(
    customer_client, customer, stripe_sim
):
    top_up(customer_client, "12.00")
    deposit = Deposit.objects.get()

    response = customer_client.get(reverse("wallet:deposit-return", args=[deposit.pk]), follow=True)

    assert messages_of(response) == [
        "We are confirming your top-up of $12.00 with the bank: it shows in your balance as "
        "soon as it is done."
    ]
    assert Deposit.objects.get().status == Deposit.Status.PENDING
    assert balance(customer) == D("0.00")


def test_the_same_form_submitted_twice_opens_one_deposit(customer_client, stripe_sim):
    first = top_up(customer_client, "25.00")
    second = top_up(customer_client, "25.00")

    assert first.url == second.url
    assert Deposit.objects.count() == 1


@pytest.mark.parametrize(
    ("amount", "message"),
    [
        ("", "Top-up amount: This field is required."),
        ("0.99", "Top-up amount: Ensure this value is greater than or equal to 1.00."),
        ("10000.01", "Top-up amount: Ensure this value is less than or equal to 10000.00."),
        ("-5", "Top-up amount: Ensure this value is greater than or equal to 1.00."),
        ("1.001", "Top-up amount: Ensure that there are no more than 2 decimal places."),
        ("Infinity", "Top-up amount: Enter a number."),
    ],
)
def test_bad_top_up_amounts_are_a_message_and_change_nothing(
    customer_client, stripe_sim, amount, message
):
    response = top_up(customer_client, amount, follow=True)

    assert response.redirect_chain == [(WALLET, 302)]
    assert messages_of(response) == [message]
    assert Deposit.objects.count() == 0
    assert Wallet.objects.count() == 0
    assert stripe_sim.events == []  # no PaymentIntent made


def test_a_top_up_without_its_token_changes_nothing(customer_client, stripe_sim):
    response = customer_client.post(
        reverse("wallet:top-up"), {"top_up-amount": "10.00"}, follow=True
    )

    assert messages_of(response) == ["This field is required."]
    assert Deposit.objects.count() == 0


def test_a_top_up_without_the_csrf_token_is_refused(customer, stripe_sim):
    client = Client(enforce_csrf_checks=True)
    client.force_login(customer)

    response = top_up(client, "10.00")

    assert response.status_code == 403
    assert Deposit.objects.count() == 0


def test_while_stripe_is_down_a_top_up_says_so(customer_client, customer, settings):
    settings.STRIPE_API_BASE = CLOSED_PORT_URL

    response = top_up(customer_client, "10.00", follow=True)

    assert response.redirect_chain == [(WALLET, 302)]
    assert messages_of(response) == [
        "The payment provider cannot be reached right now. Please try again."
    ]
    deposit = Deposit.objects.get()  # pending without a PaymentIntent: reconciliation ends it
    assert (deposit.status, deposit.payment_intent_id) == (Deposit.Status.PENDING, None)
    page = customer_client.get(reverse("wallet:deposit-pay", args=[deposit.pk]), follow=True)
    assert messages_of(page) == [
        "We could not reach the payment provider for this top-up. Please start it again."
    ]
    assert balance(customer) == D("0.00")


def test_another_customers_deposit_is_404(customer_client, stripe_sim):
    deposit = top_up_deposit(UserFactory(), "10.00")

    for name in ("wallet:deposit-pay", "wallet:deposit-return"):
        assert customer_client.get(reverse(name, args=[deposit.pk])).status_code == 404
    assert Deposit.objects.get().status == Deposit.Status.PENDING


def test_a_cancelled_top_up_says_nothing_was_charged(customer_client, customer, stripe_sim):
    deposit = top_up_deposit(customer, "10.00")
    gateway.cancel_payment_intent(deposit.payment_intent_id)
    refresh_deposit(deposit=deposit)

    response = customer_client.get(reverse("wallet:deposit-pay", args=[deposit.pk]), follow=True)

    assert messages_of(response) == ["The top-up of $10.00 was cancelled; nothing was charged."]
    assert balance(customer) == D("0.00")


# --- paying an order from the wallet -------------------------------------------------------


@pytest.fixture
def pending(customer, stripe_sim):
    """An order of 25.00 awaiting payment, with its PaymentIntent at the simulator."""
    mug = ProductFactory(name="Enamel mug", price=D("12.50"), stock=5)
    order = make_order(user=customer, lines=[(mug.pk, 2)])
    ensure_payment(order=order)
    return fresh(order.pk)


def pay_page(client, order) -> str:
    return client.get(reverse("orders:pay", args=[order.pk])).content.decode()


def pay_from_wallet(client, order, **kwargs):
    return client.post(reverse("orders:pay-wallet", args=[order.pk]), **kwargs)


def test_the_pay_page_offers_the_wallet_when_the_balance_covers_the_total(
    customer_client, customer, pending
):
    fund(customer, "25.00")

    html = pay_page(customer_client, pending)

    assert 'data-testid="pay-with-wallet"' in html
    assert "Your balance: $25.00." in html
    assert f'action="{reverse("orders:pay-wallet", args=[pending.pk])}"' in html
    assert ">Pay $25.00 from my balance</button>" in html
    assert 'id="payment-form"' in html  # the card stays on offer


@pytest.mark.parametrize("funds", [None, "24.99"])
def test_the_pay_page_offers_no_wallet_payment_short_of_the_total(
    customer_client, customer, pending, funds
):
    if funds:
        fund(customer, funds)

    html = pay_page(customer_client, pending)

    assert 'data-testid="pay-with-wallet"' not in html
    assert 'id="payment-form"' in html


def test_paying_from_the_wallet_shows_the_thank_you_page(
    customer_client, customer, pending, stripe_sim, django_capture_on_commit_callbacks
):
    fund(customer, "40.00")

    with django_capture_on_commit_callbacks(execute=True):
        response = pay_from_wallet(customer_client, pending, follow=True)

    assert response.redirect_chain == [(f"{pending.get_absolute_url()}thank-you/", 302)]
    assert messages_of(response) == ["Paid from your wallet balance."]
    assert 'data-testid="confirmation"' in response.content.decode()
    assert response.context["order"].status == S.PAID
    assert fresh(pending.pk).status == S.PAID
    assert ledger_of(customer)[-1] == ("payment", D("-25.00"), D("40.00"), D("15.00"))
    assert stock(pending.items.get().product) == (3, 0)
    # The card's PaymentIntent can no longer take money (payments reacts to OrderPaid).
    assert retrieve(stripe_sim, pending.payment.stripe_payment_intent_id)["status"] == "canceled"


def test_insufficient_funds_is_a_message_on_the_pay_page(customer_client, customer, pending):
    fund(customer, "25.00")
    wallet_services.request_withdrawal(user=customer, amount=D("0.01"))  # meanwhile, elsewhere
    before = ledger_of(customer)

    response = pay_from_wallet(customer_client, pending, follow=True)

    assert response.redirect_chain == [(reverse("orders:pay", args=[pending.pk]), 302)]
    assert messages_of(response) == [
        "Your balance of $24.99 does not cover the order total of $25.00."
    ]
    assert fresh(pending.pk).status == S.PAYMENT_PENDING
    assert ledger_of(customer) == before
    assert stock(pending.items.get().product) == (3, 2)


def test_a_locked_wallet_is_a_message_on_the_pay_page(customer_client, customer, pending):
    wallet = fund(customer, "30.00")
    wallet_services.set_wallet_lock(wallet=wallet, locked=True, actor=treasurer(), reason="x")
    before = ledger_of(customer)

    response = pay_from_wallet(customer_client, pending, follow=True)

    assert messages_of(response) == ["This wallet is locked. Please contact us."]
    assert fresh(pending.pk).status == S.PAYMENT_PENDING
    assert ledger_of(customer) == before


def test_a_paid_order_cannot_be_paid_from_the_wallet_again(customer_client, customer, pending):
    fund(customer, "60.00")
    wallet_services.pay_order(order=pending, user=customer)

    response = pay_from_wallet(customer_client, pending, follow=True)

    assert messages_of(response) == [
        f"Order {pending.short_id} is not awaiting payment.",
        "This order's status: Paid.",  # the payment page sends a paid order's customer to it
    ]
    assert balance(customer) == D("35.00")


def test_another_customers_order_is_404_and_nothing_is_paid(client, pending):
    intruder = UserFactory()
    fund(intruder, "100.00")
    client.force_login(intruder)

    response = pay_from_wallet(client, pending)

    assert response.status_code == 404
    assert fresh(pending.pk).status == S.PAYMENT_PENDING
    assert balance(intruder) == D("100.00")


def test_paying_from_the_wallet_needs_the_csrf_token(customer, pending):
    fund(customer, "30.00")
    client = Client(enforce_csrf_checks=True)
    client.force_login(customer)

    assert pay_from_wallet(client, pending).status_code == 403
    assert client.get(reverse("orders:pay-wallet", args=[pending.pk])).status_code == 405
    assert fresh(pending.pk).status == S.PAYMENT_PENDING
    assert balance(customer) == D("30.00")


def test_refreshing_a_settled_deposit_asks_stripe_nothing(customer, stripe_sim, settings):
    deposit = top_up_deposit(customer, "10.00")
    confirm_in_browser(stripe_sim, deposit.payment_intent_id, deposit.client_secret)
    assert refresh_deposit(deposit=deposit).status == Deposit.Status.SUCCEEDED
    settings.STRIPE_API_BASE = CLOSED_PORT_URL  # any call to Stripe would fail now

    again = refresh_deposit(deposit=Deposit.objects.get(pk=deposit.pk))

    assert again.status == Deposit.Status.SUCCEEDED
    assert ledger_of(customer) == [("deposit", D("10.00"), D("0.00"), D("10.00"))]
