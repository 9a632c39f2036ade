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
    help = "Load demo data: an admin, a customer and a few products with stock (DEBUG only)."

    def handle(self, *args, **options):
        if not settings.DEBUG:
            raise CommandError("seed_demo only runs with DEBUG on; it creates known passwords.")
        with transaction.atomic():
            admin = User.objects.filter(email=ADMIN[0]).first()
            if admin is None:
                admin = User.objects.create_superuser(*ADMIN)
            if not User.objects.filter(email=CUSTOMER[0]).exists():
                User.objects.create_user(*CUSTOMER)
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
                    actor=admin,
                )
                created += 1
        self.stdout.write(
            f"Demo data ready ({created} new product(s)). Staff: {ADMIN[0]} / {ADMIN[1]}; "
            f"customer: {CUSTOMER[0]} / {CUSTOMER[1]}."
        )
