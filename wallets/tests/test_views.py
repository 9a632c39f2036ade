"""The wallet page (wallets.views): the balance, the ledger, withdrawals. Only the
signed-in customer's own wallet; bad input changes nothing."""

from decimal import Decimal

import pytest
from django.test import Client
from django.urls import reverse

from shop.tests.factories import UserFactory
from wallets import services
from wallets.models import LedgerEntry, Wallet, Withdrawal
from wallets.tests.helpers import balance, fund, ledger_of, treasurer

pytestmark = pytest.mark.django_db
D = Decimal
WALLET = "/wallet/"


def messages_of(response) -> list[str]:
    return [str(m) for m in response.context["messages"]]


def withdraw(client, amount, **kwargs):
    return client.post(reverse("wallet:withdraw"), {"withdraw-amount": amount}, **kwargs)


def test_the_wallet_page_is_at_wallet_and_in_the_header(customer_client):
    assert reverse("wallet:overview") == WALLET
    html = customer_client.get(reverse("orders:list")).content.decode()

    assert f'<a href="{WALLET}" data-testid="wallet-link">Wallet</a>' in html


@pytest.mark.parametrize(
    ("method", "name"),
    [("get", "wallet:overview"), ("post", "wallet:withdraw"), ("post", "wallet:top-up")],
)
def test_anonymous_visitors_are_sent_to_log_in(client, method, name):
    url = reverse(name)

    response = getattr(client, method)(url)

    assert response.status_code == 302
    assert response.url == f"{reverse('login')}?next={url}"


def test_a_customer_without_a_wallet_sees_zero_and_no_wallet_is_created(customer_client):
    response = customer_client.get(WALLET)

    html = response.content.decode()
    assert response.status_code == 200
    assert '<p class="price price--large" data-testid="wallet-balance">$0.00</p>' in html
    assert "No transactions yet." in html
    assert "No withdrawals yet." in html
    assert Wallet.objects.count() == 0


def test_the_page_shows_the_balance_and_the_ledger_newest_first(customer_client, customer):
    fund(customer, "100.00")
    services.request_withdrawal(user=customer, amount=D("30.00"))
    withdrawal = Withdrawal.objects.get()

    response = customer_client.get(WALLET)

    html = response.content.decode()
    assert 'data-testid="wallet-balance">$70.00</p>' in html
    rows = list(response.context["page"])
    assert [(e.type, e.amount, e.balance_before, e.balance_after) for e in rows] == [
        ("withdrawal", D("-30.00"), D("100.00"), D("70.00")),
        ("adjustment", D("100.00"), D("0.00"), D("100.00")),
    ]
    withdrawal_row = html[html.index('data-testid="ledger-entry"') :]
    withdrawal_row = withdrawal_row[: withdrawal_row.index("</tr>")]
    assert '<th scope="row" data-label="Type">Withdrawal</th>' in withdrawal_row
    assert f'<span class="sku">{str(withdrawal.pk)[:8]}</span>' in withdrawal_row
    # Amount, balance before, balance after, in that order.
    amounts = withdrawal_row[withdrawal_row.index('data-label="Amount"') :]
    assert amounts.index("-$30.00") < amounts.index("$100.00") < amounts.index("$70.00")
    # The adjustment shows its reason.
    assert '<span class="ledger-note">test funds</span>' in html


def test_the_ledger_is_paginated_with_bounded_queries(
    customer_client, customer, django_assert_max_num_queries
):
    actor = treasurer()
    wallet = fund(customer, "1.00", actor=actor)
    for _ in range(24):
        services.adjust_balance(wallet=wallet, amount=D("1.00"), reason="bonus", actor=actor)
    for _ in range(12):
        services.request_withdrawal(user=customer, amount=D("0.50"))

    # Session, user, header cart count, wallet, ledger count, ledger page, withdrawals.
    with django_assert_max_num_queries(7):
        first = customer_client.get(WALLET)
    second = customer_client.get(WALLET, {"page": 2})

    assert [e.sequence for e in first.context["page"]] == list(range(37, 17, -1))
    assert [e.sequence for e in second.context["page"]] == list(range(17, 0, -1))
    assert 'rel="next" href="?page=2"' in first.content.decode()
    # The newest ten withdrawals.
    assert len(first.context["withdrawals"]) == 10
    assert first.content.decode().count('data-testid="withdrawal"') == 10


def test_the_page_shows_only_the_customers_own_wallet(customer_client, customer):
    fund(customer, "5.00")
    other = UserFactory()
    fund(other, "999.00")
    services.request_withdrawal(user=other, amount=D("9.00"))

    response = customer_client.get(WALLET)

    html = response.content.decode()
    assert 'data-testid="wallet-balance">$5.00</p>' in html
    assert [e.wallet.user for e in response.context["page"]] == [customer]
    assert "$999.00" not in html and "$9.00" not in html
    assert "No withdrawals yet." in html


def test_a_locked_wallet_says_so(customer_client, customer):
    wallet = fund(customer, "5.00")
    services.set_wallet_lock(wallet=wallet, locked=True, actor=treasurer(), reason="review")

    html = customer_client.get(WALLET).content.decode()

    assert 'data-testid="wallet-locked"' in html
    assert "Your wallet is locked" in html


# --- withdrawals --------------------------------------------------------------------------


def test_a_withdrawal_takes_the_amount_and_is_listed_as_pending(customer_client, customer):
    fund(customer, "50.00")

    response = withdraw(customer_client, "20.00", follow=True)

    assert response.redirect_chain == [(WALLET, 302)]
    assert messages_of(response) == [
        "Withdrawal of $20.00 requested: we pay it out once it is approved."
    ]
    withdrawal = Withdrawal.objects.get()
    assert (withdrawal.wallet.user, withdrawal.amount, withdrawal.status) == (
        customer,
        D("20.00"),
        Withdrawal.Status.PENDING,
    )
    assert balance(customer) == D("30.00")
    html = response.content.decode()
    row = html[html.index('data-testid="withdrawal"') :]
    row = row[: row.index("</tr>")]
    assert '<span class="status status--withdrawal-pending">Pending</span>' in row
    assert "$20.00" in row


def test_decided_withdrawals_show_their_status(customer_client, customer):
    fund(customer, "50.00")
    paid = services.request_withdrawal(user=customer, amount=D("10.00"))
    rejected = services.request_withdrawal(user=customer, amount=D("5.00"))
    services.approve_withdrawal(withdrawal=paid, actor=treasurer())
    services.reject_withdrawal(withdrawal=rejected, actor=treasurer(), reason="wrong account")

    html = customer_client.get(WALLET).content.decode()

    assert '<span class="status status--withdrawal-rejected">Rejected</span> ' in html
    assert '<span class="note">wrong account</span>' in html
    assert '<span class="status status--withdrawal-paid">Paid</span>' in html
    assert 'data-testid="wallet-balance">$40.00</p>' in html


def _unchanged(customer, before):
    assert ledger_of(customer) == before
    assert Withdrawal.objects.count() == 0


def test_insufficient_funds_is_a_message_and_changes_nothing(customer_client, customer):
    fund(customer, "10.00")
    before = ledger_of(customer)

    response = withdraw(customer_client, "10.01", follow=True)

    assert messages_of(response) == ["Your balance of $10.00 does not cover $10.01."]
    _unchanged(customer, before)


def test_without_a_wallet_a_withdrawal_is_insufficient_funds(customer_client, customer):
    response = withdraw(customer_client, "1.00", follow=True)

    assert messages_of(response) == ["Your balance of $0.00 does not cover $1.00."]
    assert Wallet.objects.count() == 0 and Withdrawal.objects.count() == 0


def test_a_locked_wallet_cannot_withdraw(customer_client, customer):
    wallet = fund(customer, "10.00")
    services.set_wallet_lock(wallet=wallet, locked=True, actor=treasurer(), reason="review")
    before = ledger_of(customer)

    response = withdraw(customer_client, "5.00", follow=True)

    assert messages_of(response) == ["This wallet is locked. Please contact us."]
    _unchanged(customer, before)
    assert balance(customer) == D("10.00")


@pytest.mark.parametrize(
    ("amount", "message"),
    [
        ("", "Withdrawal amount: This field is required."),
        ("0", "Withdrawal amount: Ensure this value is greater than or equal to 0.01."),
        ("-5.00", "Withdrawal amount: Ensure this value is greater than or equal to 0.01."),
        ("1.005", "Withdrawal amount: Ensure that there are no more than 2 decimal places."),
        ("ten", "Withdrawal amount: Enter a number."),
        ("NaN", "Withdrawal amount: Enter a number."),
    ],
)
def test_bad_amounts_are_a_message_and_change_nothing(customer_client, customer, amount, message):
    fund(customer, "10.00")
    before = ledger_of(customer)

    response = withdraw(customer_client, amount, follow=True)

    assert response.redirect_chain == [(WALLET, 302)]
    assert messages_of(response) == [message]
    _unchanged(customer, before)


def test_a_withdrawal_without_the_csrf_token_is_refused(customer):
    fund(customer, "10.00")
    client = Client(enforce_csrf_checks=True)
    client.force_login(customer)

    response = withdraw(client, "5.00")

    assert response.status_code == 403
    assert balance(customer) == D("10.00")
    assert Withdrawal.objects.count() == 0


def test_the_forms_carry_the_csrf_token(customer_client):
    html = customer_client.get(WALLET).content.decode()

    for action in (reverse("wallet:withdraw"), reverse("wallet:top-up")):
        form = html[html.index(f'action="{action}"') :]
        form = form[: form.index("</form>")]
        assert 'name="csrfmiddlewaretoken"' in form


def test_withdraw_answers_only_post(customer_client):
    assert customer_client.get(reverse("wallet:withdraw")).status_code == 405


def test_ledger_entries_are_not_touched_by_reading(customer_client, customer):
    fund(customer, "3.00")
    count = LedgerEntry.objects.count()

    customer_client.get(WALLET)

    assert LedgerEntry.objects.count() == count
