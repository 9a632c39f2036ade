"""The storefront's HTML pages: catalog, product and cart."""

from decimal import Decimal

import pytest
from django.test import Client
from django.urls import reverse

from merchants.tests.factories import make_merchant
from shop import cart
from shop.models import CartItem, Inventory
from shop.tests.factories import ProductFactory

pytestmark = pytest.mark.django_db


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

    # session, user, count, page of products, their images, their variants, top
    # categories, cart badge
    with django_assert_max_num_queries(8):
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


def test_product_page_names_the_merchant_who_sells_it(client):
    sold = ProductFactory(merchant=make_merchant(display_name="Ann's Pottery"))
    own = ProductFactory()

    html = client.get(sold.get_absolute_url()).content.decode()

    assert '<p class="seller" data-testid="seller">Sold by Ann&#x27;s Pottery</p>' in html
    assert 'class="seller"' not in client.get(own.get_absolute_url()).content.decode()


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
    assert 'data-testid="subtotal">$28.00<' in html
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
