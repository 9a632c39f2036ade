# ruff: noqa: S101
"""In headless Chromium: the header on a phone, and axe-core on every storefront page."""

import pytest

from e2e.test_storefront import log_in
from shop.tests.factories import StaffFactory

pytestmark = [pytest.mark.django_db(transaction=True)]

PHONE_390 = {"width": 390, "height": 844}
HEADER_CHECK = """() => {
  const header = document.querySelector(".site-header");
  const targets = [...header.querySelectorAll("a, button")].map((el) => {
    const box = el.getBoundingClientRect();
    return {text: el.textContent.trim().replace(/\\s+/g, " "), width: box.width,
            height: box.height, right: box.right, top: box.top};
  });
  return {
    pageWidth: document.documentElement.scrollWidth,
    headerHeight: header.getBoundingClientRect().height,
    rows: new Set(targets.map((t) => Math.round(t.top))).size,
    targets,
  };
}"""


def test_the_logged_in_header_fits_a_390_px_phone_with_44_px_tap_targets(new_page):
    staff = StaffFactory()  # the longest header: the Admin link too
    page = new_page(viewport=PHONE_390)
    log_in(page, staff.email)

    header = page.evaluate(HEADER_CHECK)

    assert header["pageWidth"] == 390  # nothing overflows sideways
    # Two deliberate rows: brand and shopping links, then the account's links.
    assert header["rows"] == 2
    assert header["headerHeight"] <= 2 * 44 + 16
    small = [t for t in header["targets"] if t["height"] < 44 or t["width"] < 44]
    assert small == []
    assert max(t["right"] for t in header["targets"]) <= 390
    assert [t["text"] for t in header["targets"]] == [
        "Shop", "Catalog", "Cart 0", "My orders", "Admin", "Password", "Log out",
    ]  # fmt: skip

