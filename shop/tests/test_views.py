"""The storefront's HTML pages: catalog, product, cart and accounts."""

from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model
from django.core import mail
from django.template.loader import render_to_string
from django.test import Client
from django.urls import reverse

from shop import cart
from shop.models import CartItem, Inventory
from shop.tests.factories import ProductFactory, StaffFactory

pytestmark = pytest.mark.django_db

PASSWORD = "correct-horse-battery"


def messages_of(response) -> list[str]:
    return [str(m) for m in response.context["messages"]]


def session_cart(client) -> dict:
    return dict(client.session.get(cart.SESSION_KEY, {}))


# Catalog


def test_catalog_lists_active_products_with_price_and_stock_state(client):
    ProductFactory(name="Alpha mug", price=Decimal("12.50"), stock=40)
    ProductFactory(name="Brass pen", stock=3)
    ProductFactory(name="Wool cap", stock=0)
    ProductFactory(name="Hidden lamp", is_active=False)

    response = client.get(reverse("shop:catalog"))

    assert response.status_code == 200
    html = response.content.decode()
    assert [p.name for p in response.context["page"]] == ["Alpha mug", "Brass pen", "Wool cap"]
    assert "12.50" in html
    assert 'stock--in-stock">In stock<' in html
    assert 'stock--low">Only 3 left<' in html
    assert 'stock--sold-out">Sold out<' in html
    assert "Hidden lamp" not in html


def test_catalog_searches_by_name_case_insensitively(client):
    ProductFactory(name="Enamel camp mug")
    ProductFactory(name="Canvas tote bag")

    response = client.get(reverse("shop:catalog"), {"q": "MUG"})

    assert [p.name for p in response.context["page"]] == ["Enamel camp mug"]
    assert "Results for “MUG”" in response.content.decode()


def test_catalog_search_without_match_says_so(client):
    ProductFactory(name="Enamel camp mug")

    response = client.get(reverse("shop:catalog"), {"q": "piano"})

    assert list(response.context["page"]) == []
    assert "No products match “piano”" in response.content.decode()


def test_catalog_paginates_and_keeps_the_search_in_page_links(client):
    for i in range(15):
        ProductFactory(name=f"Mug {i:02d}")
    ProductFactory(name="Tote")

    first = client.get(reverse("shop:catalog"), {"q": "mug"})
    second = client.get(reverse("shop:catalog"), {"q": "mug", "page": 2})

    assert len(first.context["page"]) == 12
    assert 'href="?q=mug&amp;page=2"' in first.content.decode()
    assert [p.name for p in second.context["page"]] == ["Mug 12", "Mug 13", "Mug 14"]
    assert "Page 2 of 2" in second.content.decode()


@pytest.mark.parametrize("products", [2, 30])
def test_catalog_query_count_does_not_grow_with_products(
    client, customer, products, django_assert_max_num_queries
):
    for _ in range(products):
        ProductFactory()
    cart.set_quantity(product_id=ProductFactory().pk, quantity=1, user=customer)
    client.force_login(customer)

    # session, user, count, page of products, cart badge
    with django_assert_max_num_queries(5):
        response = client.get(reverse("shop:catalog"))

    assert response.status_code == 200
    assert '"cart-count"' in response.content.decode()


# Product page


def test_product_page_shows_description_and_a_form_bounded_by_stock(client):
    product = ProductFactory(name="Brass pen", description="Ages beautifully.", stock=4)

    response = client.get(product.get_absolute_url())

    html = response.content.decode()
    assert response.status_code == 200
    assert "<h1>Brass pen</h1>" in html
    assert "Ages beautifully." in html
    assert 'max="4"' in html
    assert '<label for="id_quantity">Quantity</label>' in html
    assert reverse("shop:cart-add", args=[product.pk]) in html


def test_sold_out_product_page_has_no_add_to_cart_form(client):
    product = ProductFactory(stock=0)

    html = client.get(product.get_absolute_url()).content.decode()

    assert "Sold out for now" in html
    assert reverse("shop:cart-add", args=[product.pk]) not in html


def test_inactive_product_page_is_a_styled_404(client):
    product = ProductFactory(is_active=False)

    response = client.get(product.get_absolute_url())

    assert response.status_code == 404
    assert "Page not found" in response.content.decode()
    assert "css/shop.css" in response.content.decode()


# Adding to the cart


def test_anonymous_visitor_adds_to_the_session_cart_and_sees_the_count(client):
    product = ProductFactory(stock=5)

    response = client.post(
        reverse("shop:cart-add", args=[product.pk]), {"quantity": 2}, follow=True
    )

    assert response.redirect_chain == [(reverse("shop:cart"), 302)]
    assert session_cart(client) == {str(product.pk): 2}
    assert f"Added 2 of {product.name} to your cart." in messages_of(response)
    assert 'data-testid="cart-count" aria-label="2 items in cart">2<' in response.content.decode()


def test_adding_more_than_is_available_shows_the_field_error_and_adds_nothing(client):
    product = ProductFactory(stock=3)

    response = client.post(reverse("shop:cart-add", args=[product.pk]), {"quantity": 4})

    assert response.status_code == 400
    assert response.context["form"].errors == {"quantity": ["Only 3 left in stock."]}
    assert "Only 3 left in stock." in response.content.decode()
    assert session_cart(client) == {}


@pytest.mark.parametrize("quantity", ["0", "-1", "abc", ""])
def test_adding_a_bad_quantity_is_a_field_error(client, quantity):
    product = ProductFactory(stock=3)

    response = client.post(reverse("shop:cart-add", args=[product.pk]), {"quantity": quantity})

    assert response.status_code == 400
    assert "quantity" in response.context["form"].errors
    assert session_cart(client) == {}


def test_adding_an_inactive_product_is_404(client):
    product = ProductFactory(is_active=False)

    response = client.post(reverse("shop:cart-add", args=[product.pk]), {"quantity": 1})

    assert response.status_code == 404


def test_cart_changes_need_post(client):
    product = ProductFactory()

    assert client.get(reverse("shop:cart-add", args=[product.pk])).status_code == 405
    assert client.get(reverse("shop:cart-update")).status_code == 405
    assert client.get(reverse("shop:cart-remove")).status_code == 405


def test_cart_changes_need_the_csrf_token():
    product = ProductFactory()
    strict = Client(enforce_csrf_checks=True)

    response = strict.post(reverse("shop:cart-add", args=[product.pk]), {"quantity": 1})

    assert response.status_code == 403
    assert session_cart(strict) == {}


def test_signed_in_customer_adds_to_the_database_cart(customer_client, customer):
    product = ProductFactory(stock=5)

    customer_client.post(reverse("shop:cart-add", args=[product.pk]), {"quantity": 1})
    customer_client.post(reverse("shop:cart-add", args=[product.pk]), {"quantity": 2})

    assert CartItem.objects.get(cart__user=customer, product=product).quantity == 3


def test_add_redirects_to_a_safe_next_only(client):
    product = ProductFactory()
    url = reverse("shop:cart-add", args=[product.pk])

    inside = client.post(url, {"quantity": 1, "next": "/?q=mug"})
    outside = client.post(url, {"quantity": 1, "next": "https://evil.example/"})

    assert inside["Location"] == "/?q=mug"
    assert outside["Location"] == reverse("shop:cart")


# The cart page


def test_cart_shows_lines_and_subtotal(customer_client, customer):
    mug = ProductFactory(name="Mug", price=Decimal("12.50"))
    pen = ProductFactory(name="Pen", price=Decimal("3.00"))
    cart.set_quantity(product_id=mug.pk, quantity=2, user=customer)
    cart.set_quantity(product_id=pen.pk, quantity=1, user=customer)

    response = customer_client.get(reverse("shop:cart"))

    html = response.content.decode()
    assert [(line.product.name, line.quantity) for line in response.context["cart"].lines] == [
        ("Mug", 2),
        ("Pen", 1),
    ]
    assert 'data-testid="subtotal">28.00 USD<' in html
    assert 'aria-label="3 items in cart">3<' in html
    assert '<label for="qty-' in html


def test_empty_cart_says_so(client):
    response = client.get(reverse("shop:cart"))

    assert "Your cart is empty." in response.content.decode()


def test_cart_warns_about_a_line_above_the_stock_now_available(customer_client, customer):
    mug = ProductFactory(name="Mug", stock=5)
    cap = ProductFactory(name="Cap", stock=5)
    cart.set_quantity(product_id=mug.pk, quantity=4, user=customer)
    cart.set_quantity(product_id=cap.pk, quantity=1, user=customer)
    Inventory.objects.filter(product=mug).update(available=2)
    Inventory.objects.filter(product=cap).update(available=0)

    response = customer_client.get(reverse("shop:cart"))

    html = response.content.decode()
    assert [line.product.name for line in response.context["short_lines"]] == ["Cap", "Mug"]
    assert "Mug: only 2 left (you have 4)." in html
    assert "Cap: sold out (you have 1)." in html


def test_changing_a_quantity(customer_client, customer):
    mug = ProductFactory()
    cart.set_quantity(product_id=mug.pk, quantity=1, user=customer)

    response = customer_client.post(
        reverse("shop:cart-update"), {"product_id": mug.pk, "quantity": 3}, follow=True
    )

    assert CartItem.objects.get(cart__user=customer, product=mug).quantity == 3
    assert "Quantity updated." in messages_of(response)


def test_quantity_zero_and_remove_both_drop_the_line(client):
    mug, pen = ProductFactory(), ProductFactory()
    client.post(reverse("shop:cart-add", args=[mug.pk]), {"quantity": 1})
    client.post(reverse("shop:cart-add", args=[pen.pk]), {"quantity": 1})

    client.post(reverse("shop:cart-update"), {"product_id": mug.pk, "quantity": 0})
    response = client.post(reverse("shop:cart-remove"), {"product_id": pen.pk}, follow=True)

    assert session_cart(client) == {}
    assert "Removed from your cart." in messages_of(response)


@pytest.mark.parametrize("quantity", ["-1", "1001", "x"])
def test_an_invalid_quantity_update_is_an_error_message(client, quantity):
    mug = ProductFactory()
    client.post(reverse("shop:cart-add", args=[mug.pk]), {"quantity": 2})

    response = client.post(
        reverse("shop:cart-update"), {"product_id": mug.pk, "quantity": quantity}, follow=True
    )

    assert "Enter a quantity between 0 and 1000." in messages_of(response)
    assert session_cart(client) == {str(mug.pk): 2}


def test_updating_an_unknown_product_maps_the_service_error_to_a_message(client):
    response = client.post(
        reverse("shop:cart-update"), {"product_id": 999999, "quantity": 1}, follow=True
    )

    assert "Product 999999 does not exist or is not for sale." in messages_of(response)


@pytest.mark.parametrize("lines", [2, 15])
def test_cart_query_count_does_not_grow_with_lines(
    customer_client, customer, lines, django_assert_max_num_queries
):
    for _ in range(lines):
        cart.set_quantity(product_id=ProductFactory().pk, quantity=1, user=customer)

    # session, user, cart quantities, products with stock, cart badge
    with django_assert_max_num_queries(5):
        response = customer_client.get(reverse("shop:cart"))

    assert len(response.context["cart"].lines) == lines


# Accounts


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
    assert form.errors["email"] == ["User with this Email address already exists."]
    assert form.errors["password2"] == [form.error_messages["password_mismatch"]]
    assert 'aria-invalid="true"' in response.content.decode()


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
    assert f'href="{reverse("admin:index")}">Admin<' in staff


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
