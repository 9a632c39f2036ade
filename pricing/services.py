"""Staff's pricing rules: shipping methods, tax rates and coupons, created through the API
or the admin and edited or deleted in the admin. Each change is audited in its
transaction with what the rule was before and after, so that who made a coupon or changed
a rate can be traced. Coupon uses are pricing.coupons'."""

from collections.abc import Collection, Iterable
from datetime import datetime
from decimal import Decimal
from typing import NamedTuple

from django.db import IntegrityError, transaction

from audit.actions import Action, Entity
from audit.services import record
from pricing.models import Coupon, ShippingMethod, TaxRate

PricingRule = ShippingMethod | TaxRate | Coupon


class _Audit(NamedTuple):
    entity: Entity
    created: Action
    updated: Action
    deleted: Action


_AUDIT = {
    ShippingMethod: _Audit(
        Entity.SHIPPING_METHOD,
        Action.SHIPPING_METHOD_CREATED,
        Action.SHIPPING_METHOD_UPDATED,
        Action.SHIPPING_METHOD_DELETED,
    ),
    TaxRate: _Audit(
        Entity.TAX_RATE, Action.TAX_RATE_CREATED, Action.TAX_RATE_UPDATED, Action.TAX_RATE_DELETED
    ),
    Coupon: _Audit(
        Entity.COUPON, Action.COUPON_CREATED, Action.COUPON_UPDATED, Action.COUPON_DELETED
    ),
}
# Kept by the system, not set by staff: a coupon's use count has its own audit events.
_NOT_STAFF_SET = {"id", "uses", "created_at"}


def create_pricing_rule(*, rule: PricingRule, actor) -> PricingRule:
    """Insert `rule`, a new ShippingMethod, TaxRate or Coupon, and audit it. Raises
    ValidationError on invalid fields or a value already taken (a code; a country and
    region already rated), also when another request took it a moment ago."""
    rule.full_clean()
    try:
        with transaction.atomic():
            rule.save(force_insert=True)
            _record(rule, _AUDIT[type(rule)].created, actor=actor, after=_state(rule))
    except IntegrityError:  # the same code, created a moment ago
        rule.full_clean()  # now names the taken value as a ValidationError
        raise
    return rule


@transaction.atomic
def update_pricing_rule(*, rule: PricingRule, actor, fields: Collection[str]) -> PricingRule:
    """Save the staff-set `fields` of `rule` (the values already assigned on it) and audit
    them before and after. Only those columns (and a coupon's count, taken under its
    lock) are written: a checkout counting a use of the coupon meanwhile keeps it.
    Raises ValidationError on invalid values (a `max_uses` below the uses there are)."""
    fields = [name for name in _staff_set(rule) if name in fields]
    if not fields:
        return rule
    current = type(rule).objects.select_for_update().get(pk=rule.pk)
    saved = fields
    if isinstance(rule, Coupon):
        # Under this lock no checkout holds the coupon: a limited coupon's count is
        # taken afresh (an unlimited one's checkouts did not keep it; pricing.coupons).
        rule.uses = rule.use_rows.count() if rule.is_limited else current.uses
        saved = [*fields, "uses"]
    rule.full_clean()
    rule.save(update_fields=saved)
    _record(
        rule,
        _AUDIT[type(rule)].updated,
        actor=actor,
        before=_state(current, fields),
        after=_state(rule, fields),
    )
    return rule


@transaction.atomic
def delete_pricing_rule(*, rule: PricingRule, actor) -> None:
    """Delete `rule`, auditing what it was. A coupon that orders hold uses of is protected
    (ProtectedError): deactivate it instead."""
    _record(rule, _AUDIT[type(rule)].deleted, actor=actor, before=_state(rule))
    rule.delete()


def _record(rule: PricingRule, action: Action, *, actor, before=None, after=None) -> None:
    record(
        action=action,
        entity_type=_AUDIT[type(rule)].entity,
        entity_id=rule.pk,
        actor=actor,
        before=before,
        after=after,
    )


def _staff_set(rule: PricingRule) -> list[str]:
    return [f.name for f in rule._meta.concrete_fields if f.name not in _NOT_STAFF_SET]


def _state(rule: PricingRule, fields: Collection[str] | None = None) -> dict:
    names = _staff_set(rule) if fields is None else fields
    return {name: _plain(getattr(rule, name)) for name in names}


def _plain(value):
    """`value` as the audit log's JSON keeps it: money exact, countries as their codes."""
    if isinstance(value, Iterable) and not isinstance(value, str):  # several countries
        return [_plain(item) for item in value]
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime):
        return value.isoformat()
    return getattr(value, "code", value)  # a django-countries Country
