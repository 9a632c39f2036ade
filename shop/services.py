"""Sign-up and sign-in, and catalog changes made by staff (admin, API, demo data).

Stock moves go through shop.inventory.
"""

from decimal import Decimal

from axes.utils import reset as reset_login_failures
from django.contrib.auth import password_validation
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Min
from django.utils.text import slugify
from django.utils.translation import gettext_lazy as _

from audit.actions import Action, Entity
from audit.services import record
from shop import catalog_cache, inventory
from shop.models import Inventory, Product, User, login_key

EDITABLE_FIELDS = ("name", "description", "price", "is_active", "requires_shipping")
EMAIL_TAKEN = _("A user with this email address already exists.")
# A guest's orders go to whoever holds its mailbox (the signed link in the order emails),
# never to whoever types its address.
GUEST_EMAIL_TAKEN = _(
    "This email address was used for a guest checkout: open the link in your order email "
    "and create your account from the order page."
)
ACCOUNT_EXISTS = _("An account uses this email: log in to check out.")


def register_customer(*, email: str, password: str) -> User:
    """Open a customer account: the one place that signs people up (the register page
    and `POST auth/register` both call it).

    The address is normalised and must be free; the password must pass Django's
    validators (AUTH_PASSWORD_VALIDATORS). Raises ValidationError: `{"email": [...]}`
    for an address already taken (also when another sign-up wins a race for it), a
    list of messages for a weak password. Audited as `user.registered`.
    """
    email = User.objects.normalize_email(email)
    existing = User.objects.filter(email__iexact=email).first()
    if existing is not None:
        message = GUEST_EMAIL_TAKEN if existing.is_guest else EMAIL_TAKEN
        raise ValidationError({"email": [message]}, code="email_taken")
    password_validation.validate_password(password, User(email=email))
    try:
        with transaction.atomic():
            user = User.objects.create_user(email=email, password=password)
            record(
                action=Action.USER_REGISTERED,
                entity_type=Entity.USER,
                entity_id=user.pk,
                actor=user,
                after={"email": user.email},
            )
    except IntegrityError:  # the same address, registered a moment ago
        raise ValidationError({"email": [EMAIL_TAKEN]}, code="email_taken") from None
    return user


def guest_account(*, email: str) -> User:
    """The guest account a checkout without sign-up runs as: the one of this address if
    it is still a guest, else a new one (no usable password, `is_guest`).

    Raises ValidationError `{"email": [...]}` (code `account_exists`) when a full
    account holds the address: its owner logs in instead. A new guest is audited as
    `user.registered` with `guest: true`.
    """
    email = User.objects.normalize_email(email)
    for _attempt in range(2):  # a second look when another checkout created it meanwhile
        existing = User.objects.filter(email__iexact=email).first()
        if existing is not None:
            if not existing.is_guest:
                raise ValidationError({"email": [ACCOUNT_EXISTS]}, code="account_exists")
            return existing
        try:
            with transaction.atomic():
                user = User.objects.create_user(email=email, password=None, is_guest=True)
                record(
                    action=Action.USER_REGISTERED,
                    entity_type=Entity.USER,
                    entity_id=user.pk,
                    actor=user,
                    after={"email": user.email, "guest": True},
                )
                return user
        except IntegrityError:
            continue
    raise ValidationError({"email": [EMAIL_TAKEN]}, code="email_taken")


def complete_guest_account(*, user: User, password: str) -> User:
    """Turn a guest account into a full one with this password: it keeps its orders and
    addresses, and signs in like any customer from now on.

    The password must pass Django's validators (ValidationError with their messages).
    Raises ValidationError (code `not_guest`) for an account that is no guest (any more).
    Audited as `user.registered` with `guest: false`.
    """
    password_validation.validate_password(password, user)
    with transaction.atomic():
        user = User.objects.select_for_update().get(pk=user.pk)
        if not user.is_guest:
            raise ValidationError(_("This account is complete already."), code="not_guest")
        user.is_guest = False
        user.set_password(password)
        user.save(update_fields=["is_guest", "password"])
        record(
            action=Action.USER_REGISTERED,
            entity_type=Entity.USER,
            entity_id=user.pk,
            actor=user,
            before={"guest": True},
            after={"email": user.email, "guest": False},
        )
    return user


def clear_login_failures(*, user: User) -> int:
    """The owner proved they hold the account's mailbox (a password reset): every failed
    sign-in against the account stops counting, so its locks and slow-down end at every
    address. django-axes reaches the configured handler (config.security, AXES_HANDLER).
    Returns how many records were cleared."""
    return reset_login_failures(username=login_key(user.email))


def _product_state(product: Product) -> dict:
    return {
        "sku": product.sku,
        "name": product.name,
        "price": str(product.price),
        "is_active": product.is_active,
        "requires_shipping": product.requires_shipping,
        # Only merchants' products say whose they are; the shop's stay as they were.
        **({"merchant": product.merchant_id} if product.merchant_id else {}),
    }


@transaction.atomic
def create_product(
    *,
    sku: str,
    name: str,
    price: Decimal,
    actor,
    description: str = "",
    initial_stock: int = 0,
    is_active: bool = True,
    merchant=None,
    structure: str = Product.Structure.STANDALONE,
    parent: Product | None = None,
    option_names: list[str] | None = None,
    options: dict[str, str] | None = None,
    requires_shipping: bool = True,
) -> Product:
    """Create a product with its (empty) inventory row, then receive `initial_stock` units.
    With `merchant` (a merchants.Merchant) the product is theirs, else the shop's.

    A parent product (shop.variants.create_parent_product) gets no inventory row: it is
    never sold itself, its variants are. Raises ValidationError for a product that
    breaks its structure's rules (Product.clean).
    """
    product = Product(
        merchant=merchant,
        sku=sku,
        name=name,
        slug=_unique_slug(name, sku),
        description=description,
        price=price,
        is_active=is_active,
        structure=structure,
        parent=parent,
        option_names=option_names or [],
        options=options or {},
        requires_shipping=requires_shipping,
    )
    product.full_clean()
    product.save()
    if product.is_parent:
        if initial_stock:
            raise ValidationError(_("A parent product has no stock: its variants do."))
    else:
        Inventory.objects.create(product=product)
    record(
        action=Action.PRODUCT_CREATED,
        entity_type=Entity.PRODUCT,
        entity_id=product.pk,
        actor=actor,
        after=_product_state(product),
    )
    if initial_stock:
        inventory.restock(
            product_id=product.pk, quantity=initial_stock, actor=actor, reason="initial stock"
        )
    transaction.on_commit(catalog_cache.changed)
    return product


@transaction.atomic
def update_product(*, product: Product, actor, **changes) -> Product:
    """Change a product's name, description, price, visibility or shipping need. Orders
    keep their snapshots."""
    unknown = set(changes) - set(EDITABLE_FIELDS)
    if unknown:
        raise ValueError(f"Not editable: {', '.join(sorted(unknown))}")
    product = Product.objects.select_for_update().get(pk=product.pk)
    if product.is_parent and "price" in changes:
        raise ValidationError(
            {"price": [_("A parent product's price is its cheapest variant's: change theirs.")]}
        )
    before = _product_state(product)
    for field, value in changes.items():
        setattr(product, field, value)
    product.full_clean()
    product.save()
    if product.is_child and {"price", "is_active"} & set(changes):
        refresh_parent_price(parent=product.parent)
    if product.is_parent and "requires_shipping" in changes:
        # Its variants are what carts and orders hold: they ship as their parent does.
        Product.objects.filter(parent=product).update(requires_shipping=product.requires_shipping)
    transaction.on_commit(catalog_cache.changed)
    record(
        action=Action.PRODUCT_UPDATED,
        entity_type=Entity.PRODUCT,
        entity_id=product.pk,
        actor=actor,
        before=before,
        after=_product_state(product),
    )
    return product


def refresh_parent_price(*, parent: Product) -> None:
    """A parent's price is its lowest active variant's (the "from" price lists show and
    sort by); without an active variant it keeps the last one."""
    lowest = parent.variants.filter(is_active=True).aggregate(lowest=Min("price"))["lowest"]
    if lowest is not None and lowest != parent.price:
        Product.objects.filter(pk=parent.pk).update(price=lowest)
        parent.price = lowest


def _unique_slug(name: str, sku: str) -> str:
    base = slugify(name)[:150] or "product"
    candidates = [base, f"{base}-{slugify(sku)}"[:190]]
    taken = set(Product.objects.filter(slug__startswith=base).values_list("slug", flat=True))
    for candidate in candidates:
        if candidate not in taken:
            return candidate
    n = 2
    while f"{candidates[1]}-{n}" in taken:
        n += 1
    return f"{candidates[1]}-{n}"
