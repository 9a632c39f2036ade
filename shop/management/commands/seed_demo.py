from decimal import Decimal

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from shop.models import Product, User
from shop.services import create_product

ADMIN = ("admin@example.com", "admin-demo-password")
CUSTOMER = ("customer@example.com", "customer-demo-password")
PRODUCTS = [
    ("MUG-001", "Enamel camp mug", "12.50", 40, "A sturdy enamel mug for coffee outdoors."),
    ("TEE-002", "Organic cotton tee", "24.00", 25, "Soft, heavyweight, and made to last."),
    ("BAG-003", "Canvas tote bag", "18.00", 15, "Carries groceries, books and more."),
    ("PEN-004", "Brass pen", "39.99", 8, "A solid brass pen that ages beautifully."),
    ("NBK-005", "Dot-grid notebook", "9.75", 60, "A5, 120 pages of 100 gsm paper."),
    ("LMP-006", "Desk lamp", "149.99", 3, "Warm light with a weighted base."),
    ("CAP-007", "Wool cap", "29.00", 0, "Back soon: sold out for now."),
]


class Command(BaseCommand):
    help = (
        "Load demo data: an admin, a customer and a few products with stock (DEBUG only). "
        "--products-only: just the products, also without DEBUG (e.g. a fresh compose stack)."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--products-only",
            action="store_true",
            help="Only the demo products, received by the first superuser; no accounts, so "
            "no known passwords: safe with DEBUG off. Run createsuperuser first.",
        )

    def handle(self, *args, products_only=False, **options):
        if products_only:
            self._products_only()
            return
        if not settings.DEBUG:
            raise CommandError(
                "seed_demo only runs with DEBUG on; it creates known passwords. "
                "With DEBUG off: createsuperuser, then seed_demo --products-only."
            )
        with transaction.atomic():
            admin = User.objects.filter(email=ADMIN[0]).first()
            if admin is None:
                admin = User.objects.create_superuser(*ADMIN)
            if not User.objects.filter(email=CUSTOMER[0]).exists():
                User.objects.create_user(*CUSTOMER)
            created = _create_products(actor=admin)
        self.stdout.write(
            f"Demo data ready ({created} new product(s)). Staff: {ADMIN[0]} / {ADMIN[1]}; "
            f"customer: {CUSTOMER[0]} / {CUSTOMER[1]}."
        )

    def _products_only(self):
        # The audit log names who received the stock: a real staff member, not a demo one.
        actor = User.objects.filter(is_superuser=True, is_active=True).order_by("pk").first()
        if actor is None:
            raise CommandError("No superuser yet: run `manage.py createsuperuser` first.")
        with transaction.atomic():
            created = _create_products(actor=actor)
        self.stdout.write(f"Demo products ready ({created} new product(s)), by {actor.email}.")


def _create_products(*, actor) -> int:
    created = 0
    for sku, name, price, stock, description in PRODUCTS:
        if Product.objects.filter(sku=sku).exists():
            continue
        create_product(
            sku=sku,
            name=name,
            price=Decimal(price),
            description=description,
            initial_stock=stock,
            actor=actor,
        )
        created += 1
    return created
