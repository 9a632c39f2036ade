"""The storefront in two languages: LocaleMiddleware picks German from the switcher's
cookie or the browser's Accept-Language; strings, prices, dates, form errors and API
error details follow it."""

import re
from datetime import datetime
from decimal import Decimal

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse
from django.utils import timezone, translation

from core.tests.helpers import api, client_for
from orders.models import Order
from orders.tests.factories import make_order
from pages.defaults import add_default_pages
from pages.models import Page
from pricing.models import Coupon
from pricing.tests.factories import CouponFactory, ShippingMethodFactory, TaxRateFactory
from shop import cart
from shop.tests.factories import AddressFactory, ProductFactory, UserFactory, make_category
from wallets import services as wallet_services
from wallets.tests.helpers import fund

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _back_to_english():
    # LocaleMiddleware leaves a request's language active in the thread; the next test's
    # code outside a request must see the default again.
    yield
    translation.deactivate()


@pytest.fixture
def german(client):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "de"
    return client


def test_english_is_the_default(client):
    html = client.get("/").content.decode()

    assert '<html lang="en">' in html
    assert ">Catalog</a>" in html and ">Cart\n" in html
    assert 'lang="de" class="link-button" data-testid="language-de">Deutsch</button>' in html


def test_the_header_and_footer_speak_german(german):
    response = german.get("/")

    html = response.content.decode()
    assert response["Content-Language"] == "de"
    assert '<html lang="de">' in html
    assert ">Katalog</a>" in html and ">Warenkorb\n" in html
    assert 'aria-label="0 Artikel im Warenkorb"' in html
    assert ">Anmelden</a>" in html and ">Registrieren</a>" in html
    assert ">Zum Inhalt springen</a>" in html
    assert ">Versand und Rückgabe</a>" in html and ">Datenschutz</a>" in html
    assert "Zahlungen wickelt Stripe ab; Kartendaten erreichen diesen Shop nie." in html
    # The switcher offers the other language, named in itself.
    assert 'lang="en" class="link-button" data-testid="language-en">English</button>' in html


def test_the_browser_language_is_used_without_a_choice(client):
    html = client.get("/accounts/login/", HTTP_ACCEPT_LANGUAGE="de-DE,de;q=0.9").content.decode()

    assert "<h1>Anmelden</h1>" in html
    assert '<label for="id_username">E-Mail-Adresse</label>' in html
    assert ">Passwort vergessen?</a>" in html


def test_the_switcher_posts_with_csrf_and_returns_to_the_page(settings):
    client = Client(enforce_csrf_checks=True)
    page = client.get("/cart/")
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.content.decode())[1]

    refused = client.post("/i18n/setlang/", {"language": "de", "next": "/cart/"})
    switched = client.post(
        "/i18n/setlang/", {"language": "de", "next": "/cart/", "csrfmiddlewaretoken": token}
    )

    assert refused.status_code == 403
    assert (switched.status_code, switched["Location"]) == (302, "/cart/")
    assert switched.cookies[settings.LANGUAGE_COOKIE_NAME].value == "de"
    html = client.get("/cart/").content.decode()
    assert '<html lang="de">' in html and ">Katalog</a>" in html


def test_prices_are_german_on_the_german_product_page(german):
    ProductFactory(slug="lamp", name="Lamp", price=Decimal("1499.90"), stock=3)

    html = german.get("/products/lamp/").content.decode()

    assert 'data-testid="price" data-variant-price>1.499,90\xa0$</p>' in html
    assert '<label for="id_quantity">Menge</label>' in html
    assert 'data-testid="stock" data-variant-stock>Nur noch 3</p>' in html


def test_a_form_error_and_a_message_are_german(german):
    product = ProductFactory(slug="lamp", stock=2)

    response = german.post(f"/cart/add/{product.pk}/", {"quantity": 5})

    html = response.content.decode()
    assert response.status_code == 400
    assert "Nur noch 2 auf Lager." in html
    assert "Das Produkt konnte nicht hinzugefügt werden: siehe das Formular unten." in html


def test_footer_pages_and_their_dates_are_german(german):
    add_default_pages(Page)
    Page.objects.filter(slug="privacy").update(
        updated_at=timezone.make_aware(datetime(2026, 12, 3, 12, 0))
    )

    html = german.get("/pages/privacy/").content.decode()

    assert "<h1>Datenschutz</h1>" in html
    assert "Wir speichern nur, was wir für Ihren Einkauf brauchen" in html
    assert (
        'Zuletzt geändert: <time datetime="2026-12-03T12:00:00+00:00">3. Dezember 2026</time>'
    ) in html


def test_api_error_details_follow_the_accept_language():
    owner = UserFactory()
    order = make_order(user=owner, status=Order.Status.PAID)

    response = client_for(owner).post(api(f"orders/{order.pk}/cancel"), HTTP_ACCEPT_LANGUAGE="de")

    assert response.status_code == 409
    assert response.json() == {
        "detail": f"Bestellung {order.short_id} kann nicht storniert werden: sie ist bezahlt.",
        "code": "invalid_transition",
    }


def test_an_order_message_is_german(german):
    owner = UserFactory()
    order = make_order(user=owner, status=Order.Status.PAYMENT_PENDING)
    german.force_login(owner)

    response = german.post(f"/orders/{order.pk}/cancel/", follow=True)

    assert [str(m) for m in response.context["messages"]] == [
        f"Bestellung {order.short_id} ist storniert; es wurde nichts berechnet."
    ]


def test_the_wallet_page_is_german(german):
    owner = UserFactory()
    fund(owner, "100.00")
    wallet_services.request_withdrawal(user=owner, amount=Decimal("30.00"))
    german.force_login(owner)

    html = german.get("/wallet/").content.decode()

    assert "<h1>Mein Guthaben</h1>" in html
    assert 'data-testid="wallet-balance">70,00\xa0$</p>' in html
    assert "<h2>Mit Karte aufladen</h2>" in html and "<h2>Auszahlen</h2>" in html
    assert '<label for="id_top_up-amount">Aufladebetrag</label>' in html
    assert '<label for="id_withdraw-amount">Auszahlungsbetrag</label>' in html
    assert ">Auszahlung beantragen</button>" in html
    assert '<h2 id="ledger-heading">Buchungen</h2>' in html
    assert '<th scope="col" class="num">Saldo danach</th>' in html
    # The entry types and the withdrawal's status are the models' labels, in German.
    assert '<th scope="row" data-label="Art">Korrektur</th>' in html
    assert '<th scope="row" data-label="Art">Auszahlung</th>' in html
    assert ">Ausstehend</span>" in html


def test_a_category_page_and_its_filters_are_german(german):
    kitchen = make_category("Kitchen")
    make_category("Mugs", kitchen)
    ProductFactory(name="Enamel mug", price=Decimal("12.50"), stock=4).categories.add(kitchen)

    html = german.get(
        "/categories/kitchen/", {"min_price": "cheap", "in_stock": "true", "ordering": "price"}
    ).content.decode()

    assert '<nav class="breadcrumbs" aria-label="Brotkrümelnavigation">' in html
    assert '<a href="/">Katalog</a>' in html
    assert 'aria-label="Filtern und sortieren"' in html
    assert '<label for="id_min_price">Mindestpreis</label>' in html
    assert "Geben Sie einen Betrag wie 12 oder 12.50 ein." in html
    assert '<label for="id_in_stock">Nur vorrätige Artikel</label>' in html
    assert '<label for="id_ordering">Sortieren nach</label>' in html
    assert '<option value="">Relevanz</option>' in html
    assert '<option value="price" selected>Preis aufsteigend</option>' in html
    assert ">Anwenden</button>" in html and ">Filter zurücksetzen</a>" in html
    assert 'placeholder="Name, Artikelnummer oder Beschreibung"' in html
    assert 'aria-label="Unterkategorien"' in html


def test_the_checkout_review_shows_a_german_breakdown(german):
    owner = UserFactory()
    lamp = ProductFactory(name="Desk lamp", price=Decimal("80.00"), requires_shipping=True, stock=5)
    cart.set_quantity(product_id=lamp.pk, quantity=1, user=owner)
    address = AddressFactory(user=owner)
    ShippingMethodFactory(code="dhl", name="DHL Paket", price=Decimal("4.90"), countries=["DE"])
    TaxRateFactory(country="DE", rate=Decimal("19.00"))
    CouponFactory(code="LAMP10", kind=Coupon.Kind.FIXED, value=Decimal("10.00"))
    german.force_login(owner)
    german.post("/checkout/address/", {"address": address.pk})
    german.post("/checkout/shipping/", {"method": "dhl"})

    response = german.post("/checkout/coupon/", {"coupon": "lamp10"}, follow=True)

    html = response.content.decode()
    assert [str(m) for m in response.context["messages"]] == ["Gutschein LAMP10 eingelöst."]
    assert "<h2>Ihre Bestellung prüfen</h2>" in html
    # 80.00 - 10.00 + 4.90 = 74.90; 19 % tax 14.23; total 89.13, in German notation.
    breakdown = re.search(r'<tfoot data-testid="breakdown">(.*?)</tfoot>', html, re.S).group(1)
    rows = re.findall(
        r'colspan="3">(.*?)</th><td class="num" data-testid="[\w-]+">(.*?)</td>', breakdown
    )
    assert rows == [
        ("Zwischensumme", "80,00\xa0$"),
        ("Rabatt (LAMP10)", "&minus;10,00\xa0$"),
        ("Versand (DHL Paket)", "4,90\xa0$"),
        ("Steuer", "14,23\xa0$"),
        ("Gesamt", "89,13\xa0$"),
    ]
    assert ">Bestellung aufgeben</button>" in html


def test_the_order_page_and_its_timeline_are_german(german):
    owner = UserFactory()
    mug = ProductFactory(name="Enamel mug", price=Decimal("12.50"), stock=10)
    order = make_order(user=owner, lines=[(mug.pk, 2)], status=Order.Status.FULFILLED)
    german.force_login(owner)

    html = german.get(order.get_absolute_url()).content.decode()

    assert f"<h1>Bestellung {order.short_id}</h1>" in html
    assert '<h2 id="items-heading">Artikel</h2>' in html
    assert '<td class="num" data-label="Preis">12,50\xa0$</td>' in html
    assert '<h2 id="timeline-heading">Verlauf</h2>' in html
    timeline = re.search(r'data-testid="timeline">(.*?)</ol>', html, re.S).group(1)
    assert re.findall(r"<span>(.*?)</span>", timeline) == [
        "Bestellung aufgegeben, Artikel reserviert",
        "Wartet auf Ihre Zahlung",
        "Zahlung erhalten",
        "Bestellung versandt und unterwegs",
    ]
    # Dates as Germans write them: day first, 24-hour clock (Babel, core/templatetags/when).
    times = re.findall(r'<time datetime="[^"]+">(.*?)</time>', timeline)
    assert times and all(re.fullmatch(r"\d\d\.\d\d\.\d{4}, \d\d:\d\d:\d\d", t) for t in times)


def test_emails_speak_the_language_the_customer_shopped_in():
    from orders.checkout import place_order
    from orders.emails import Kind, build_message

    product = ProductFactory(name="Lamp", price=Decimal("1499.90"), stock=3)
    with translation.override("de"):
        german_order = place_order(user=UserFactory(), lines=[(product.pk, 1)])
    english_order = place_order(user=UserFactory(), lines=[(product.pk, 1)])

    german = build_message(order=german_order, kind=Kind.PLACED)
    english = build_message(order=english_order, kind=Kind.PLACED)

    assert german_order.language == "de"
    assert german.subject == f"Wir haben Ihre Bestellung {german_order.short_id} erhalten"
    assert f"Hallo {german_order.user.email}," in german.body
    assert "1.499,90\xa0$" in german.body
    assert english.subject == f"We received your order {english_order.short_id}"
    assert f"Hello {english_order.user.email}," in english.body
    assert english_order.language == translation.get_language()  # outside a request: default
    assert translation.get_language() != "de"  # building emails leaves the worker's alone


def test_sign_up_and_a_wallet_refusal_are_german_with_german_amounts(german):
    UserFactory(email="taken@example.com")

    taken = german.post(
        reverse("register"),
        {"email": "taken@example.com", "password1": "x", "password2": "x"},
    ).content.decode()
    assert '<label for="id_email">E-Mail-Adresse</label>' in taken
    assert "Es gibt schon ein Konto mit dieser E-Mail-Adresse." in taken

    owner = UserFactory()
    fund(owner, "10.00")
    german.force_login(owner)
    response = german.post(reverse("wallet:withdraw"), {"withdraw-amount": "10.01"}, follow=True)
    assert "Ihr Guthaben von 10,00\xa0$ deckt 10,01\xa0$ nicht." in [
        str(m) for m in response.context["messages"]
    ]
