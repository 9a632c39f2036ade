"""Order emails are signed with the shop's name from settings (SHOP_NAME)."""

import pytest

from orders.emails import Kind, build_message
from orders.tests.factories import make_order

pytestmark = pytest.mark.django_db


def test_order_emails_carry_the_shop_name(settings):
    settings.SHOP_NAME = "Fjord Goods"
    order = make_order()

    message = build_message(order=order, kind=Kind.PLACED)

    html, _ = message.alternatives[0]
    assert message.body.rstrip().endswith("-- \nFjord Goods")
    assert 'text-decoration: none;">Fjord Goods</a></p>' in html
