"""A customer's address book: the one place that writes addresses (the API, the
checkout pages). Orders copy an address at checkout, so nothing here touches an order."""

from django.db import transaction

from shop.models import Address

FIELDS = ("full_name", "line1", "line2", "city", "region", "postal_code", "country", "phone")


def add_address(*, user, **fields) -> Address:
    """Add an address to `user`'s book. Raises ValidationError on a missing field or an
    unknown country."""
    address = Address(user=user, **_known(fields))
    address.full_clean()
    address.save()
    return address


@transaction.atomic
def update_address(*, address: Address, **changes) -> Address:
    """Change some of an address's fields (its owner's request; orders keep their copy)."""
    address = Address.objects.select_for_update().get(pk=address.pk)
    for field, value in _known(changes).items():
        setattr(address, field, value)
    address.full_clean()
    address.save()
    return address


def delete_address(*, address: Address) -> None:
    address.delete()


def _known(fields: dict) -> dict:
    unknown = set(fields) - set(FIELDS)
    if unknown:
        raise ValueError(f"Not address fields: {', '.join(sorted(unknown))}")
    return fields
