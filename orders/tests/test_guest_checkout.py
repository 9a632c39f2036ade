"""Guest checkout in the HTML storefront (orders.guest): the guest form, the steps as a
signed-in guest, the signed order link, completing the account, the throttle, and what
a guest's session may see."""

import re
import time
from decimal import Decimal
from types import SimpleNamespace

import pytest
from django.core import signing
from django.test import Client
from django.urls import reverse

from orders import guest
from orders.emails import build_message
from orders.models import Order
from orders.tests.factories import make_order
from pricing.tests.factories import ShippingMethodFactory
from shop.models import Address, User
from shop.services import complete_guest_account, guest_account
from shop.tests.factories import AddressFactory, ProductFactory, UserFactory

pytestmark = pytest.mark.django_db

PASSWORD = "a-long-passphrase"
GUEST_FORM = {
    "email": "Guest@Example.com",
    "full_name": "Ada Lovelace",
    "line1": "Unter den Linden 1",
    "city": "Berlin",
    "postal_code": "10117",
    "country": "DE",
}


@pytest.fixture
def lamp():
    ShippingMethodFactory(code="dhl", name="DHL Paket", price=Decimal("4.90"), countries=["DE"])
    return ProductFactory(name="Desk lamp", price=Decimal("80.00"), requires_shipping=True, stock=5)


@pytest.fixture
def visitor(client, lamp):
    """An anonymous visitor with the lamp in their (session) cart."""
    client.post(reverse("shop:cart-add", args=[lamp.pk]), {"quantity": 1})
    return client


def messages_of(response) -> list[str]:
    return [str(m) for m in response.context["messages"]]


def check_out_as_guest(client, form=GUEST_FORM) -> Order:
    """The guest form, then the steps every customer takes; the order on its pay page."""
    response = client.post(reverse("shop:checkout-guest"), form)
    assert response["Location"] == reverse("shop:checkout-shipping")
    response = client.post(reverse("shop:checkout-shipping"), {"method": "dhl"})
    assert response["Location"] == reverse("shop:checkout-review")
    review = client.get(reverse("shop:checkout-review"))
    token = review.context["form"]["token"].value()
    placed = client.post(reverse("shop:checkout"), {"token": token})
    order = Order.objects.get(pk=placed["Location"].split("/")[-3])
    assert placed["Location"] == reverse("orders:pay", args=[order.pk])
    assert order.user.email.lower() == form["email"].lower()
    return order


def test_the_cart_offers_log_in_or_guest_checkout_to_a_visitor(visitor):
    html = visitor.get(reverse("shop:cart")).content.decode()

    assert f'href="{reverse("shop:checkout-guest")}"' in html
    assert f'href="{reverse("login")}?next=/checkout/"' in html


def test_a_guest_checks_out_end_to_end(visitor, lamp, stripe_sim):
    order = check_out_as_guest(visitor)

    user = User.objects.get()
    assert (user.email, user.is_guest, user.has_usable_password()) == (
        "Guest@example.com",
        True,
        False,
    )
    assert order.user == user
    assert (order.total, order.shipping_method_code) == (Decimal("84.90"), "dhl")
    assert order.shipping_address["line1"] == "Unter den Linden 1"
    assert Address.objects.get().user == user  # in the guest's book
    pay_page = visitor.get(reverse("orders:pay", args=[order.pk]))
    assert pay_page.status_code == 200
    detail = visitor.get(order.get_absolute_url())
    # The signed link to this order (signed at render time: compare what it opens).
    link = detail.context["guest_link"]
    assert link.startswith("http://testserver/orders/link/")
    assert guest.order_from_token(link.rstrip("/").rsplit("/", 1)[1]) == order
    assert 'data-testid="guest-account"' in detail.content.decode()


def test_a_guest_email_of_a_full_account_is_told_to_log_in(visitor):
    UserFactory(email="guest@example.com")

    response = visitor.post(reverse("shop:checkout-guest"), GUEST_FORM)

    assert response.status_code == 200
    assert response.context["form"].errors == {
        "email": ["An account uses this email: log in to check out."]
    }
    assert "_auth_user_id" not in visitor.session
    assert not Address.objects.exists()


def test_the_guest_form_wants_an_address(visitor):
    response = visitor.post(reverse("shop:checkout-guest"), {"email": "guest@example.com"})

    assert response.status_code == 200
    assert response.context["form"].errors["line1"] == ["This field is required."]
    assert not User.objects.exists()


def test_a_signed_in_customer_skips_the_guest_form(customer_client):
    response = customer_client.get(reverse("shop:checkout-guest"))

    assert response["Location"] == reverse("shop:checkout")


def test_the_signed_link_signs_the_guest_in_and_opens_the_order(client):
    user = guest_account(email="guest@example.com")
    order = make_order(user=user)

    response = client.get(guest.order_link(order))

    assert response["Location"] == order.get_absolute_url()
    assert client.get(order.get_absolute_url()).status_code == 200
    assert client.session["_auth_user_id"] == str(user.pk)


@pytest.mark.parametrize(
    "token",
    [
        "nonsense",
        signing.dumps("00000000-0000-0000-0000-000000000000", salt="another-salt"),
    ],
)
def test_a_tampered_link_is_not_found(client, token):
    response = client.get(reverse("orders:link", args=[token]))

    assert response.status_code == 404
    assert "_auth_user_id" not in client.session


def test_a_link_with_its_signature_changed_is_not_found(client):
    order = make_order(user=guest_account(email="guest@example.com"))
    link = guest.order_link(order)
    tampered = link[:-2] + ("A/" if link[-2] != "A" else "B/")

    assert client.get(tampered).status_code == 404


def test_a_link_older_than_its_age_is_not_found(client, monkeypatch):
    order = make_order(user=guest_account(email="guest@example.com"))
    link = guest.order_link(order)

    later = time.time() + guest.LINK_MAX_AGE.total_seconds() + 1
    monkeypatch.setattr(signing, "time", SimpleNamespace(time=lambda: later))

    assert client.get(link).status_code == 404


def test_after_completing_the_account_the_link_asks_to_log_in(client):
    user = guest_account(email="guest@example.com")
    order = make_order(user=user)
    complete_guest_account(user=user, password=PASSWORD)

    response = client.get(guest.order_link(order))

    assert response["Location"] == f"{reverse('login')}?next=/orders/{order.pk}/"
    assert "_auth_user_id" not in client.session


def test_the_guest_creates_an_account_from_the_order_page(visitor, lamp, stripe_sim):
    order = check_out_as_guest(visitor)

    response = visitor.post(
        reverse("orders:complete-account", args=[order.pk]),
        {"new_password1": PASSWORD, "new_password2": PASSWORD},
        follow=True,
    )

    assert messages_of(response)[-1] == (
        "Your account Guest@example.com is ready: log in with it and your password."
    )
    user = User.objects.get()
    assert (user.is_guest, user.check_password(PASSWORD)) == (False, True)
    # Still signed in (the session follows the new password) and now sees the header's
    # wallet link; the order is the account's.
    html = visitor.get(reverse("orders:list")).content.decode()
    assert 'data-testid="wallet-link"' in html
    assert order.short_id in html
    assert 'data-testid="guest-account"' not in response.content.decode()


def test_a_weak_password_creates_no_account(visitor, lamp, stripe_sim):
    order = check_out_as_guest(visitor)

    response = visitor.post(
        reverse("orders:complete-account", args=[order.pk]),
        {"new_password1": "123", "new_password2": "123"},
    )

    assert response.status_code == 400
    assert "This password is too short." in " ".join(
        response.context["account_form"].errors["new_password2"]
    )
    assert User.objects.get().is_guest


def test_someone_typing_a_guests_address_sees_none_of_their_orders(client, lamp, stripe_sim):
    """The guest form signs in anyone who types the address: what the real guest made
    before stays hidden, and the account cannot be taken over."""
    owner = guest_account(email="guest@example.com")
    earlier = make_order(user=owner)
    AddressFactory(user=owner, line1="Secret street 1")
    client.post(reverse("shop:cart-add", args=[lamp.pk]), {"quantity": 1})

    order = check_out_as_guest(client)

    assert client.get(earlier.get_absolute_url()).status_code == 404
    listing = client.get(reverse("orders:list")).content.decode()
    assert order.short_id in listing and earlier.short_id not in listing
    book = client.get(reverse("shop:checkout-address")).content.decode()
    assert "Secret street 1" not in book
    response = client.post(
        reverse("orders:complete-account", args=[order.pk]),
        {"new_password1": PASSWORD, "new_password2": PASSWORD},
        follow=True,
    )
    assert messages_of(response)[-1] == (
        "This email address has earlier guest orders: ask for the link that shows them all "
        "(Email me the link), then create your account."
    )
    owner.refresh_from_db()
    assert (owner.is_guest, owner.has_usable_password()) == (True, False)
    # The page offers the emailed link instead of the password form; the link goes to
    # the owner's mailbox, never to whoever typed the address.
    page = client.get(order.get_absolute_url()).content.decode()
    assert 'data-testid="earlier-orders"' in page and "new_password1" not in page


def test_the_emailed_account_link_shows_every_order_and_completes_the_account(
    client, lamp, stripe_sim, mailoutbox
):
    owner = guest_account(email="guest@example.com")
    earlier = make_order(user=owner)
    AddressFactory(user=owner, line1="Earlier street 1")
    client.post(reverse("shop:cart-add", args=[lamp.pk]), {"quantity": 1})
    order = check_out_as_guest(client)
    mailoutbox.clear()

    response = client.post(reverse("orders:account-link", args=[order.pk]), follow=True)

    assert messages_of(response)[-1] == (
        "We emailed a link to guest@example.com: open it to see all your orders here."
    )
    (email,) = mailoutbox
    assert email.to == ["guest@example.com"]
    path = re.search(r"http://testserver(/orders/account/\S+/)", email.body)[1]

    reader = Client()  # the owner, from their mailbox, in another browser
    opened = reader.get(path, follow=True)
    assert opened.redirect_chain[-1][0] == order.get_absolute_url()
    assert reader.get(earlier.get_absolute_url()).status_code == 200
    assert "new_password1" in reader.get(order.get_absolute_url()).content.decode()
    reader.post(
        reverse("orders:complete-account", args=[order.pk]),
        {"new_password1": PASSWORD, "new_password2": PASSWORD},
    )
    owner.refresh_from_db()
    assert owner.is_guest is False
    # The mailbox was proven: the earlier address stays with the account.
    assert "Earlier street 1" in Address.objects.values_list("line1", flat=True)
    # Completed: the link is spent.
    assert Client().get(path).status_code == 404


@pytest.mark.parametrize("token", ["nonsense", signing.dumps(1, salt="orders.guest-link")])
def test_a_tampered_account_link_is_not_found(client, token):
    assert client.get(reverse("orders:guest-account", args=[token])).status_code == 404


def test_an_account_link_older_than_its_age_is_not_found(client, monkeypatch):
    owner = guest_account(email="guest@example.com")
    path = guest.account_link(owner)
    later = time.time() + guest.ACCOUNT_LINK_MAX_AGE.total_seconds() + 1
    monkeypatch.setattr(time, "time", lambda: later)
    assert client.get(path).status_code == 404


def test_the_earlier_orders_link_lets_the_guest_complete_the_account(client, lamp, stripe_sim):
    owner = guest_account(email="guest@example.com")
    earlier = make_order(user=owner)
    AddressFactory(user=owner, line1="Earlier street 1")  # no link opens an address
    client.post(reverse("shop:cart-add", args=[lamp.pk]), {"quantity": 1})
    order = check_out_as_guest(client)

    client.get(guest.order_link(earlier))  # the link from that order's email
    response = client.post(
        reverse("orders:complete-account", args=[order.pk]),
        {"new_password1": PASSWORD, "new_password2": PASSWORD},
    )

    assert response["Location"] == order.get_absolute_url()
    owner.refresh_from_db()
    assert owner.is_guest is False
    assert client.get(earlier.get_absolute_url()).status_code == 200
    # The address entered in this session stays; the one from before is forgotten.
    assert list(Address.objects.values_list("line1", flat=True)) == ["Unter den Linden 1"]


def test_the_guest_form_and_links_are_throttled_per_address(visitor, settings):
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {"auth": "10/min", "guest": "2/min", "checkout": "30/min"},
    }
    bad = {"email": "not-an-email"}
    assert visitor.post(reverse("shop:checkout-guest"), bad).status_code == 200
    assert visitor.get(reverse("orders:link", args=["nonsense"])).status_code == 404

    blocked = visitor.post(reverse("shop:checkout-guest"), GUEST_FORM)

    assert blocked.status_code == 429
    assert int(blocked["Retry-After"]) > 0
    assert 'data-testid="throttled"' in blocked.content.decode()
    assert not User.objects.exists()
    assert visitor.get(reverse("orders:link", args=["nonsense"])).status_code == 429
    # Another address is not affected.
    other = visitor.post(reverse("shop:checkout-guest"), GUEST_FORM, REMOTE_ADDR="198.51.100.7")
    assert other.status_code == 302


def test_a_guests_emails_link_to_the_signed_link(client):
    order = make_order(user=guest_account(email="guest@example.com"))

    message = build_message(order=order, kind="placed")

    (token,) = set(re.findall(r"/orders/link/([^/\s]+)/", message.body))
    assert guest.order_from_token(token) == order
    assert order.get_absolute_url() not in message.body


def test_a_full_accounts_emails_link_to_the_order_page(customer):
    order = make_order(user=customer)

    message = build_message(order=order, kind="placed")

    assert f"/orders/{order.pk}/" in message.body
    assert "/orders/link/" not in message.body


@pytest.mark.parametrize("url", ["/wallet/", "/merchant/"])
def test_a_guest_is_sent_from_wallet_and_merchant_pages_to_create_an_account(client, url):
    client.force_login(guest_account(email="guest@example.com"))

    response = client.get(url, follow=True)

    assert response.redirect_chain == [(reverse("orders:list"), 302)]
    assert messages_of(response) == ["Create an account from your order page first."]
    html = response.content.decode()
    assert 'data-testid="wallet-link"' not in html
    assert 'data-testid="merchant-link"' not in html
