"""The footer pages: seeded in two languages, shown in the visitor's, edited by staff
who hold the permission."""

import pytest
from django.contrib.auth import get_user_model

from core.tests.helpers import grant
from pages.defaults import add_default_pages
from pages.models import Page
from pages.selectors import page_for

pytestmark = pytest.mark.django_db


def staff_with(*permissions, email):
    user = get_user_model().objects.create_user(email=email, password="x", is_staff=True)
    return grant(user, *permissions)


@pytest.fixture(autouse=True)
def _default_pages():
    # Migration 0002 adds them; a transactional test run before this one emptied the table.
    add_default_pages(Page)


def test_the_three_pages_are_seeded_in_english_and_german_once():
    add_default_pages(Page)

    assert sorted(Page.objects.values_list("slug", "language")) == [
        ("contact", "de"), ("contact", "en"),
        ("privacy", "de"), ("privacy", "en"),
        ("shipping-returns", "de"), ("shipping-returns", "en"),
    ]  # fmt: skip


def test_every_page_links_the_footer_pages(client):
    html = client.get("/").content.decode()

    assert '<a href="/pages/contact/">Contact</a>' in html
    assert '<a href="/pages/shipping-returns/">Shipping and returns</a>' in html
    assert '<a href="/pages/privacy/">Privacy</a>' in html


def test_a_page_shows_its_text_in_paragraphs(client):
    response = client.get("/pages/shipping-returns/")

    html = response.content.decode()
    assert response.status_code == 200
    assert "<h1>Shipping and returns</h1>" in html
    assert "<p>We ship paid orders within two working days" in html
    assert "<p>Changed your mind? Return unused items within 30 days" in html


def test_the_contact_page_shows_the_contact_address_from_settings(client, settings):
    settings.SHOP_CONTACT_EMAIL = "help@fjord.example"

    html = client.get("/pages/contact/").content.decode()

    assert 'Email: <a href="mailto:help@fjord.example">help@fjord.example</a>' in html


def test_a_page_not_yet_translated_falls_back_to_english_in_one_query(
    django_assert_num_queries,
):
    Page.objects.filter(slug="privacy", language="de").delete()

    with django_assert_num_queries(1):
        page = page_for(slug="privacy", language="de")

    assert (page.language, page.title) == ("en", "Privacy")
    assert page_for(slug="contact", language="de").title == "Kontakt"


def test_an_unknown_page_is_a_404(client):
    assert client.get("/pages/terms/").status_code == 404


def test_staff_edit_a_page_only_with_the_change_permission(client):
    page = Page.objects.get(slug="privacy", language="en")
    url = f"/admin/pages/page/{page.pk}/change/"
    data = {"slug": "privacy", "language": "en", "title": "Your data", "body": "New text."}

    client.force_login(staff_with("pages.view_page", email="viewer@example.com"))
    refused = client.post(url, data)
    client.force_login(
        staff_with("pages.view_page", "pages.change_page", email="editor@example.com")
    )
    saved = client.post(url, data)

    assert refused.status_code == 403
    assert saved.status_code == 302
    page.refresh_from_db()
    assert (page.title, page.body) == ("Your data", "New text.")
    assert "<h1>Your data</h1>" in client.get("/pages/privacy/").content.decode()
