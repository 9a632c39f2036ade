"""Every way an order gets paid takes its lines out of the customer's cart, and a declined
card leaves them there (orders.services._after_payment): the simulator's webhooks, a
webhook that arrives before the shop stored the PaymentIntent, the wallet."""

from decimal import Decimal

import pytest
import stripe

from core.tests.helpers import api, client_for, committed
from orders.checkout import checkout_cart
from orders.models import Order
from payments.tests.helpers import confirm, fresh, intent_dict, make_event, payment_of, post_event
from payments.tests.helpers import settle as settle_deliveries
from shop import cart
from shop.tests.factories import ProductFactory, UserFactory
from wallets.tests.helpers import fund

pytestmark = pytest.mark.django_db
S = Order.Status


def cart_of(user) -> dict[int, int]:
    return {line.product.pk: line.quantity for line in cart.get_cart(user=user).lines}


def placed_from_cart(user, product, quantity) -> Order:
    cart.set_quantity(product_id=product.pk, quantity=quantity, user=user)
    with committed():  # the PaymentIntent is made after the commit
        order = checkout_cart(user=user)
    return fresh(order.pk)


def test_a_declined_card_leaves_the_cart_and_the_retry_that_pays_empties_it(stripe_sim_live):
    buyer, product = UserFactory(), ProductFactory(stock=5)
    order = placed_from_cart(buyer, product, 2)
    intent_id = payment_of(order).stripe_payment_intent_id

    with pytest.raises(stripe.CardError):
        confirm(stripe_sim_live, intent_id, "pm_card_chargeDeclined")
    settle_deliveries(stripe_sim_live)
    assert fresh(order.pk).status == S.PAYMENT_PENDING
    assert cart_of(buyer) == {product.pk: 2}

    confirm(stripe_sim_live, intent_id, "pm_card_visa")
    settle_deliveries(stripe_sim_live)

    assert fresh(order.pk).status == S.PAID
    assert cart_of(buyer) == {}


def test_a_success_webhook_empties_the_cart(client):
    buyer, product = UserFactory(), ProductFactory(stock=5)
    cart.set_quantity(product_id=product.pk, quantity=3, user=buyer)
    order = checkout_cart(user=buyer)  # no commit, so no PaymentIntent stored yet
    assert cart_of(buyer) == {product.pk: 3}

    response = post_event(client, make_event("payment_intent.succeeded", intent_dict(order)))

    assert response.status_code == 200
    assert fresh(order.pk).status == S.PAID
    assert cart_of(buyer) == {}


def test_paying_from_the_wallet_empties_the_cart():
    buyer, product = UserFactory(), ProductFactory(stock=5, price=Decimal("10.00"))
    fund(buyer, "50.00")
    cart.set_quantity(product_id=product.pk, quantity=2, user=buyer)
    order = checkout_cart(user=buyer)

    response = client_for(buyer).post(
        api(f"orders/{order.pk}/pay"), {"method": "wallet"}, format="json"
    )

    assert response.json()["status"] == "paid"
    assert cart_of(buyer) == {}


def test_a_refused_wallet_payment_leaves_the_cart():
    buyer, product = UserFactory(), ProductFactory(stock=5, price=Decimal("10.00"))
    fund(buyer, "5.00")
    cart.set_quantity(product_id=product.pk, quantity=2, user=buyer)
    order = checkout_cart(user=buyer)

    response = client_for(buyer).post(
        api(f"orders/{order.pk}/pay"), {"method": "wallet"}, format="json"
    )

    assert response.json()["code"] == "insufficient_funds"
    assert cart_of(buyer) == {product.pk: 2}
