"""The account pages: register, log in (merging the session cart), log out, the header's
links by role, password change and reset, and the error pages."""

import re

import pytest
from django.contrib.auth import get_user_model
from django.core import mail
from django.template.loader import render_to_string
from django.urls import reverse

from shop import cart
from shop.models import CartItem
from shop.tests.factories import ProductFactory, StaffFactory

pytestmark = pytest.mark.django_db

PASSWORD = "correct-horse-battery"


def messages_of(response) -> list[str]:
    return [str(m) for m in response.context["messages"]]


def session_cart(client) -> dict:
    return dict(client.session.get(cart.SESSION_KEY, {}))


def test_register_creates_the_account_signs_in_and_keeps_the_anonymous_cart(client):
    mug = ProductFactory()
    client.post(reverse("shop:cart-add", args=[mug.pk]), {"quantity": 2})

    response = client.post(
        reverse("register"),
        {
            "email": "new@example.com",
            "password1": "a-long-passphrase",
            "password2": "a-long-passphrase",
        },
        follow=True,
    )

    user = get_user_model().objects.get(email="new@example.com")
    assert response.context["user"] == user
    assert "Welcome! Your account new@example.com is ready." in messages_of(response)
    assert CartItem.objects.get(cart__user=user, product=mug).quantity == 2
    assert session_cart(client) == {}


def test_register_shows_field_errors(client, customer):
    response = client.post(
        reverse("register"),
        {"email": customer.email, "password1": "short", "password2": "other"},
    )

    form = response.context["form"]
    assert response.status_code == 200
    # One wording for a taken address, whatever its case (the unique Lower("email")).
    assert form.errors["email"] == ["A user with this email address already exists."]
    assert form.errors["password2"] == [form.error_messages["password_mismatch"]]
    assert 'aria-invalid="true"' in response.content.decode()


def test_register_with_a_guests_address_points_to_the_order_email(client):
    get_user_model().objects.create_user(email="guest@example.com", is_guest=True)

    response = client.post(
        reverse("register"),
        {"email": "Guest@example.com", "password1": PASSWORD, "password2": PASSWORD},
    )

    assert response.status_code == 200
    assert response.context["form"].errors["email"] == [
        "This email address was used for a guest checkout: open the link in your order "
        "email and create your account from the order page."
    ]
    assert get_user_model().objects.get().is_guest


def test_login_merges_the_session_cart_taking_the_larger_quantity(client, customer):
    mug, pen, cap = ProductFactory(), ProductFactory(), ProductFactory()
    cart.set_quantity(product_id=mug.pk, quantity=3, user=customer)
    cart.set_quantity(product_id=pen.pk, quantity=1, user=customer)
    client.post(reverse("shop:cart-add", args=[mug.pk]), {"quantity": 1})
    client.post(reverse("shop:cart-add", args=[pen.pk]), {"quantity": 4})
    client.post(reverse("shop:cart-add", args=[cap.pk]), {"quantity": 2})

    response = client.post(
        reverse("login"), {"username": customer.email, "password": PASSWORD}, follow=True
    )

    quantities = dict(
        CartItem.objects.filter(cart__user=customer).values_list("product_id", "quantity")
    )
    assert quantities == {mug.pk: 3, pen.pk: 4, cap.pk: 2}
    assert "The items you added before signing in are in your cart." in messages_of(response)
    assert f"Signed in as {customer.email}." in messages_of(response)


def test_login_goes_to_next(client, customer):
    response = client.post(
        reverse("login"),
        {"username": customer.email, "password": PASSWORD, "next": "/cart/"},
    )

    assert response["Location"] == "/cart/"


def test_login_with_a_wrong_password_shows_the_error(client, customer):
    response = client.post(reverse("login"), {"username": customer.email, "password": "nope"})

    assert response.status_code == 200
    assert "Please enter a correct email address and password." in response.content.decode()
    assert not response.context["user"].is_authenticated


def test_logout_needs_post(customer_client):
    assert customer_client.get(reverse("logout")).status_code == 405

    response = customer_client.post(reverse("logout"), follow=True)

    assert not response.context["user"].is_authenticated
    assert "You are signed out." in messages_of(response)


def test_header_shows_account_links_by_role(client, customer):
    anonymous = client.get(reverse("shop:catalog")).content.decode()
    client.force_login(customer)
    signed_in = client.get(reverse("shop:catalog")).content.decode()
    client.force_login(StaffFactory())
    staff = client.get(reverse("shop:catalog")).content.decode()

    assert reverse("login") in anonymous and reverse("orders:list") not in anonymous
    assert reverse("orders:list") in signed_in and reverse("admin:index") not in signed_in
    # The link's name is its label (on phones only its icon shows).
    admin_link = rf'<a href="{reverse("admin:index")}" class="icon-link"><svg [^<]+<path [^>]+/>'
    assert re.search(admin_link + r'</svg><span class="icon-label">Admin</span></a>', staff)


def test_password_change_needs_login_and_changes_the_password(client, customer):
    url = reverse("password_change")
    assert client.get(url)["Location"] == f"{reverse('login')}?next={url}"

    client.force_login(customer)
    response = client.post(
        url,
        {
            "old_password": PASSWORD,
            "new_password1": "another-long-passphrase",
            "new_password2": "another-long-passphrase",
        },
        follow=True,
    )

    customer.refresh_from_db()
    assert customer.check_password("another-long-passphrase")
    assert "Your password was changed." in messages_of(response)


def test_password_reset_sends_a_link_that_sets_a_new_password(client, customer):
    response = client.post(reverse("password_reset"), {"email": customer.email}, follow=True)

    assert "Check your email" in response.content.decode()
    (message,) = mail.outbox
    assert message.to == [customer.email]
    link = next(line for line in message.body.splitlines() if "/accounts/password/reset/" in line)
    form_page = client.get(link.strip(), follow=True)
    assert form_page.context["validlink"] is True
    done = client.post(
        form_page.redirect_chain[-1][0],
        {"new_password1": "a-fresh-passphrase", "new_password2": "a-fresh-passphrase"},
        follow=True,
    )
    customer.refresh_from_db()
    assert customer.check_password("a-fresh-passphrase")
    assert "Password set" in done.content.decode()


def test_error_pages_render_in_the_shop_style_without_a_request():
    html = render_to_string("500.html")

    assert "Something went wrong" in html
    assert "css/shop.css" in html


def test_login_ignores_the_letter_case_of_the_email(client):
    user = get_user_model().objects.create_user(email="Ann@example.com", password=PASSWORD)

    response = client.post(reverse("login"), {"username": "aNN@EXAMPLE.com", "password": PASSWORD})

    assert response.status_code == 302
    assert str(client.session["_auth_user_id"]) == str(user.pk)
