"""Every staff change to a pricing rule is audited with who made it and what the rule was
before and after, through the API and the admin alike (pricing.services)."""

from decimal import Decimal
from uuid import uuid4

import pytest
from django.core.exceptions import ValidationError
from django.db import transaction
from django.urls import reverse

from audit.models import AuditEvent
from core.tests.helpers import api, client_for
from pricing import coupons, services
from pricing.exceptions import CouponExhausted
from pricing.models import Coupon, ShippingMethod, TaxRate
from pricing.tests.factories import (
    CouponFactory,
    ShippingMethodFactory,
    TaxRateFactory,
    coupon_admin_form,
)
from shop.tests.factories import StaffFactory, UserFactory

pytestmark = pytest.mark.django_db


def events() -> list[tuple]:
    return list(
        AuditEvent.objects.order_by("id").values_list(
            "action", "entity_type", "entity_id", "actor_id", "before", "after"
        )
    )


def test_creating_each_kind_over_the_api_is_audited():
    staff = StaffFactory(
        permissions=["pricing.add_shippingmethod", "pricing.add_taxrate", "pricing.add_coupon"]
    )
    client = client_for(staff)
    for path, body in [
        ("shipping-methods", {"code": "ups", "name": "UPS", "price": "7", "countries": ["FR"]}),
        ("tax-rates", {"country": "US", "region": "CA", "rate": "7.25"}),
        ("coupons", {"code": "TEN", "kind": "percent", "value": "10", "max_uses": 5}),
    ]:
        assert client.post(api(path), body, format="json").status_code == 201

    method, rate, coupon = ShippingMethod.objects.get(), TaxRate.objects.get(), Coupon.objects.get()
    assert events() == [
        (
            "shipping_method.created",
            "shipping_method",
            str(method.pk),
            staff.pk,
            None,
            {
                "code": "ups",
                "name": "UPS",
                "price": "7.00",
                "free_over": None,
                "countries": ["FR"],
                "is_active": True,
            },
        ),
        (
            "tax_rate.created",
            "tax_rate",
            str(rate.pk),
            staff.pk,
            None,
            {"country": "US", "region": "CA", "rate": "7.25"},
        ),
        (
            "coupon.created",
            "coupon",
            str(coupon.pk),
            staff.pk,
            None,
            {
                "code": "TEN",
                "kind": "percent",
                "value": "10.00",
                "min_subtotal": "0.00",
                "starts_at": None,
                "ends_at": None,
                "max_uses": 5,
                "max_uses_per_customer": None,
                "is_active": True,
            },
        ),
    ]


def test_a_refused_rule_is_neither_saved_nor_audited():
    staff = StaffFactory(permissions=["pricing.add_coupon"])
    body = {"code": "X", "kind": "percent", "value": "101"}
    assert client_for(staff).post(api("coupons"), body, format="json").status_code == 400
    assert (Coupon.objects.count(), events()) == (0, [])


def test_admin_edits_record_the_changed_fields_before_and_after(admin_client, admin_user):
    coupon = CouponFactory(code="SPRING", kind=Coupon.Kind.FIXED, value=Decimal("5.00"))
    page = reverse("admin:pricing_coupon_change", args=[coupon.pk])

    response = admin_client.post(page, coupon_admin_form(value="6.00", max_uses="3"))

    assert response.status_code == 302
    assert events() == [
        (
            "coupon.updated",
            "coupon",
            str(coupon.pk),
            admin_user.pk,
            {"value": "5.00", "max_uses": None},
            {"value": "6.00", "max_uses": 3},
        )
    ]


def test_an_edit_keeps_a_use_counted_meanwhile():
    """The admin's form holds the coupon as read before the POST; a checkout may count a
    use before it saves. Only the edited columns are written."""
    coupon = CouponFactory(code="TEN", max_uses=10)
    take_uses("TEN", 1)  # a checkout, meanwhile
    coupon.value = Decimal("20.00")

    services.update_pricing_rule(rule=coupon, actor=StaffFactory(), fields=["value"])

    coupon.refresh_from_db()
    assert (coupon.value, coupon.uses) == (Decimal("20.00"), 1)


def test_lowering_max_uses_below_the_uses_counted_meanwhile_is_refused():
    coupon = CouponFactory(code="TEN", max_uses=10)
    take_uses("TEN", 3)
    before = events()
    coupon.max_uses = 2

    with pytest.raises(ValidationError):
        services.update_pricing_rule(rule=coupon, actor=StaffFactory(), fields=["max_uses"])

    coupon.refresh_from_db()
    assert (coupon.max_uses, coupon.uses, events()) == (10, 3, before)


def test_limiting_an_unlimited_coupon_counts_its_uses():
    """An unlimited coupon keeps no count (pricing.coupons); limiting it counts them."""
    coupon = CouponFactory(code="ALL")
    take_uses("ALL", 3)
    assert Coupon.objects.get(pk=coupon.pk).uses == 0
    coupon.max_uses = 3

    services.update_pricing_rule(rule=coupon, actor=StaffFactory(), fields=["max_uses"])

    coupon.refresh_from_db()
    assert (coupon.max_uses, coupon.uses) == (3, 3)
    with pytest.raises(CouponExhausted):
        take_uses("ALL", 1)


def take_uses(code: str, count: int) -> None:
    """`count` checkouts' uses of the coupon, each in its own transaction."""
    for _ in range(count):
        with transaction.atomic():
            coupons.redeem(
                coupon=Coupon.objects.get(code=code), user=UserFactory(), order_id=uuid4()
            )


def test_admin_deletions_one_or_selected_are_audited(admin_client, admin_user):
    method = ShippingMethodFactory(code="dhl", countries=["DE"])
    rates = [TaxRateFactory(country="DE"), TaxRateFactory(country="AT", rate=Decimal("20.00"))]

    delete_one = reverse("admin:pricing_shippingmethod_delete", args=[method.pk])
    assert admin_client.post(delete_one, {"post": "yes"}).status_code == 302
    selected = {
        "action": "delete_selected",
        "_selected_action": [rate.pk for rate in rates],
        "post": "yes",
    }
    assert (
        admin_client.post(reverse("admin:pricing_taxrate_changelist"), selected).status_code == 302
    )

    assert not (ShippingMethod.objects.exists() or TaxRate.objects.exists())
    deleted = [
        (action, entity_id, actor, before) for action, _, entity_id, actor, before, _ in events()
    ]
    assert sorted(deleted) == sorted(
        [
            (
                "shipping_method.deleted",
                str(method.pk),
                admin_user.pk,
                {
                    "code": "dhl",
                    "name": method.name,
                    "price": "4.90",
                    "free_over": None,
                    "countries": ["DE"],
                    "is_active": True,
                },
            ),
            (
                "tax_rate.deleted",
                str(rates[0].pk),
                admin_user.pk,
                {"country": "DE", "region": "", "rate": "19.00"},
            ),
            (
                "tax_rate.deleted",
                str(rates[1].pk),
                admin_user.pk,
                {"country": "AT", "region": "", "rate": "20.00"},
            ),
        ]
    )
