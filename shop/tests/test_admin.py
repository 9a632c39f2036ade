"""The shop admin: login, products created and restocked through the services, no customers."""

from decimal import Decimal

import pytest
from django.urls import reverse

from audit.models import AuditEvent
from shop.models import Inventory, Product, User
from shop.tests.admin_forms import product_form
from shop.tests.factories import ProductFactory, StaffFactory, UserFactory

pytestmark = pytest.mark.django_db

PASSWORD = "correct-horse-battery"  # set by UserFactory


def counters(product) -> tuple[int, int, int]:
    inv = Inventory.objects.get(product=product)
    return inv.available, inv.reserved, inv.received


def messages_of(response) -> list[str]:
    return [str(m) for m in response.context["messages"]]


# --- login and access --------------------------------------------------------------------------


def test_admin_login_page_renders(client):
    response = client.get(reverse("admin:login"))
    assert response.status_code == 200
    assert 'name="username"' in response.content.decode()
    assert 'name="password"' in response.content.decode()


def test_superuser_logs_in_with_email_and_password(client, superuser):
    response = client.post(
        reverse("admin:login") + "?next=/admin/",
        {"username": superuser.email, "password": PASSWORD, "next": "/admin/"},
    )
    assert response.status_code == 302
    assert response["Location"] == "/admin/"
    assert client.get("/admin/").status_code == 200


def test_admin_login_ignores_the_letter_case_of_the_email(client):
    User.objects.create_superuser(email="Boss@Example.com", password=PASSWORD)

    response = client.post(
        reverse("admin:login") + "?next=/admin/",
        {"username": "BOSS@example.COM", "password": PASSWORD, "next": "/admin/"},
    )

    assert response.status_code == 302
    assert client.get("/admin/").status_code == 200


def test_adding_a_user_whose_email_differs_only_in_case_is_refused(staff_client):
    UserFactory(email="ann@example.com")

    response = staff_client.post(
        reverse("admin:shop_user_add"),
        {
            "email": "Ann@Example.com",
            "password1": "a-long-passphrase",
            "password2": "a-long-passphrase",
        },
    )

    assert response.status_code == 200
    assert "A user with this email address already exists." in response.content.decode()
    assert User.objects.filter(email__iexact="ann@example.com").count() == 1


def test_wrong_password_stays_on_the_login_page(client, superuser):
    response = client.post(
        reverse("admin:login"), {"username": superuser.email, "password": "wrong"}
    )
    assert response.status_code == 200
    assert "_auth_user_id" not in client.session


def test_customer_cannot_log_in_to_the_admin(client):
    customer = UserFactory()
    response = client.post(
        reverse("admin:login"), {"username": customer.email, "password": PASSWORD}
    )
    assert response.status_code == 200
    assert "_auth_user_id" not in client.session


def test_customer_is_redirected_from_the_admin_index(client):
    client.force_login(UserFactory())
    response = client.get("/admin/")
    assert response.status_code == 302
    assert response["Location"] == f"{reverse('admin:login')}?next=/admin/"


@pytest.mark.parametrize(
    "url", ["/admin/orders/order/", "/admin/shop/product/", "/admin/audit/auditevent/"]
)
def test_customer_cannot_reach_admin_pages(client, url):
    client.force_login(UserFactory())
    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("admin:login"))


def test_anonymous_is_redirected_to_the_admin_login(client):
    response = client.get("/admin/orders/order/")
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("admin:login"))


# --- products ----------------------------------------------------------------------------------


def add_product(client, **overrides):
    data = product_form(**overrides)
    return client.post(reverse("admin:shop_product_add"), data)


def test_add_form_shows_initial_stock(staff_client):
    response = staff_client.get(reverse("admin:shop_product_add"))
    assert response.status_code == 200
    assert 'name="initial_stock"' in response.content.decode()


def test_adding_a_product_creates_inventory_with_initial_stock_and_audits_it(
    staff_client, superuser
):
    response = add_product(staff_client)

    assert response.status_code == 302
    product = Product.objects.get(sku="LMP-1")
    assert response["Location"] == reverse("admin:shop_product_changelist")
    assert (product.name, product.slug, product.price) == (
        "Desk lamp",
        "desk-lamp",
        Decimal("149.99"),
    )
    assert counters(product) == (12, 0, 12)
    created = AuditEvent.objects.get(action="product.created")
    assert (created.entity_id, created.actor) == (str(product.pk), superuser)
    restocked = AuditEvent.objects.get(action="inventory.restocked")
    assert (restocked.entity_id, restocked.actor) == (str(product.pk), superuser)
    assert restocked.after == {
        "available": 12,
        "reserved": 0,
        "received": 12,
        "reason": "initial stock",
    }


def test_adding_a_product_without_initial_stock(staff_client):
    response = add_product(staff_client, initial_stock="")
    assert response.status_code == 302
    product = Product.objects.get(sku="LMP-1")
    assert counters(product) == (0, 0, 0)
    assert not AuditEvent.objects.filter(action="inventory.restocked").exists()


@pytest.mark.parametrize(
    "overrides", [{"initial_stock": "-1"}, {"price": "-5.00"}, {"sku": ""}], ids=str
)
def test_invalid_add_form_creates_nothing(staff_client, overrides):
    response = add_product(staff_client, **overrides)
    assert response.status_code == 200
    assert response.context["adminform"].form.errors
    assert not Product.objects.exists()
    assert not AuditEvent.objects.exists()


def test_duplicate_sku_is_a_form_error(staff_client):
    ProductFactory(sku="LMP-1")
    response = add_product(staff_client)
    assert response.status_code == 200
    assert "sku" in response.context["adminform"].form.errors
    assert Product.objects.count() == 1


def test_editing_a_product_goes_through_update_product(staff_client, superuser):
    product = ProductFactory(sku="MUG-1", name="Mug", price=Decimal("10.00"), stock=5)

    response = staff_client.post(
        reverse("admin:shop_product_change", args=[product.pk]),
        product_form(product, name="Camp mug", description="", price="12.50"),
    )

    assert response.status_code == 302
    stored = Product.objects.get(pk=product.pk)
    assert (stored.sku, stored.name, stored.price) == ("MUG-1", "Camp mug", Decimal("12.50"))
    event = AuditEvent.objects.get(action="product.updated")
    assert event.actor == superuser
    assert (event.before["price"], event.after["price"]) == ("10.00", "12.50")
    assert (event.before["name"], event.after["name"]) == ("Mug", "Camp mug")
    assert counters(product) == (5, 0, 5)  # the inline cannot change stock


def run_restock(client, products, quantity):
    return client.post(
        reverse("admin:shop_product_changelist"),
        {
            "action": "restock",
            "index": "0",
            "quantity": quantity,
            "_selected_action": [str(p.pk) for p in products],
        },
        follow=True,
    )


def test_restock_action_adds_stock_audited_with_the_staff_member(staff_client, superuser):
    a = ProductFactory(stock=3)
    b = ProductFactory(stock=0)
    untouched = ProductFactory(stock=7)

    response = run_restock(staff_client, [a, b], "5")

    assert response.status_code == 200
    assert counters(a) == (8, 0, 8)
    assert counters(b) == (5, 0, 5)
    assert counters(untouched) == (7, 0, 7)
    events = AuditEvent.objects.filter(action="inventory.restocked")
    assert {e.entity_id for e in events} == {str(a.pk), str(b.pk)}
    assert {e.actor for e in events} == {superuser}
    assert {e.after["reason"] for e in events} == {"restock from admin"}
    assert f"{a}: 5 unit(s) added." in messages_of(response)


def test_restock_needs_the_inventory_change_permission(client):
    # Issue 13: a member who may view (even change) products could restock them.
    product = ProductFactory(stock=3)
    client.force_login(StaffFactory(permissions=["shop.view_product", "shop.change_product"]))

    response = run_restock(client, [product], "5")

    assert response.status_code == 200
    assert response.context["action_form"] is None  # no action offered, none run
    assert counters(product) == (3, 0, 3)
    assert not AuditEvent.objects.exists()

    client.force_login(StaffFactory(permissions=["shop.view_product", "shop.change_inventory"]))
    run_restock(client, [product], "5")
    assert counters(product) == (8, 0, 8)


@pytest.mark.parametrize("quantity", ["", "0", "-3", "abc"])
def test_restock_action_without_a_positive_quantity_changes_nothing(staff_client, quantity):
    product = ProductFactory(stock=3)

    response = run_restock(staff_client, [product], quantity)

    assert response.status_code == 200
    assert counters(product) == (3, 0, 3)
    assert not AuditEvent.objects.exists()
    assert messages_of(response)  # the form error or "Enter a positive quantity"


def test_products_cannot_be_deleted(staff_client):
    product = ProductFactory()
    url = reverse("admin:shop_product_delete", args=[product.pk])
    assert staff_client.post(url, {"post": "yes"}).status_code == 403
    assert Product.objects.filter(pk=product.pk).exists()


def test_product_changelist_shows_stock(staff_client):
    product = ProductFactory(sku="PEN-4", stock=8)
    response = staff_client.get(reverse("admin:shop_product_changelist"))
    assert response.status_code == 200
    assert [p.pk for p in response.context["cl"].result_list] == [product.pk]
    page = response.content.decode()
    assert "PEN-4" in page
    assert '<td class="field-stock_available">8</td>' in page


def test_the_product_admin_shows_who_sells_each_product(staff_client):
    from merchants.tests.factories import make_merchant

    merchant = make_merchant(display_name="Ann's Pottery")
    theirs = ProductFactory(merchant=merchant, name="Teapot")
    ProductFactory(name="Lamp")

    listing = staff_client.get(reverse("admin:shop_product_changelist")).content.decode()
    assert "Ann&#x27;s Pottery" in listing
    assert "the shop" in listing
    change = staff_client.get(reverse("admin:shop_product_change", args=[theirs.pk]))
    assert change.status_code == 200
    assert "Ann&#x27;s Pottery" in change.content.decode()
    # Read-only there: a posted merchant changes nothing.
    assert 'name="merchant"' not in change.content.decode()
