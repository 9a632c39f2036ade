import io
from decimal import Decimal

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from PIL import Image, ImageDraw, ImageFont

from shop.images import add_product_image
from shop.models import Category, Product, User
from shop.services import create_product
from shop.variants import create_parent_product, create_variant

ADMIN = ("admin@example.com", "admin-demo-password")
CUSTOMER = ("customer@example.com", "customer-demo-password")
# (slug, name, parent slug), parents first.
CATEGORIES = [
    ("home", "Home", None),
    ("kitchen", "Kitchen", "home"),
    ("drinkware", "Drinkware", "kitchen"),
    ("lighting", "Lighting", "home"),
    ("clothing", "Clothing", None),
    ("accessories", "Accessories", "clothing"),
    ("stationery", "Stationery", None),
]
# (sku, name, price, stock, description, category slugs, image colour)
PRODUCTS = [
    ("MUG-001", "Enamel camp mug", "12.50", 40, "A sturdy enamel mug for coffee outdoors.",
     ["drinkware"], "#2a6f97"),
    ("BAG-003", "Canvas tote bag", "18.00", 15, "Carries groceries, books and more.",
     ["accessories"], "#bc6c25"),
    ("PEN-004", "Brass pen", "39.99", 8, "A solid brass pen that ages beautifully.",
     ["stationery"], "#b08900"),
    ("NBK-005", "Dot-grid notebook", "9.75", 60, "A5, 120 pages of 100 gsm paper.",
     ["stationery"], "#386641"),
    ("LMP-006", "Desk lamp", "149.99", 3, "Warm light with a weighted base.",
     ["lighting"], "#9c6644"),
    ("CAP-007", "Wool cap", "29.00", 0, "Back soon: sold out for now.",
     ["accessories"], "#6d597a"),
]  # fmt: skip
# Products with options (shop.variants): (sku, name, description, categories, colour,
# option names, [(sku, values, price, stock)]).
PARENTS = [
    ("TEE-002", "Organic cotton tee", "Soft, heavyweight, and made to last.", ["clothing"],
     "#6a994e", ["Size", "Colour"], [
         ("TEE-002-S-GRN", ("S", "Green"), "24.00", 10),
         ("TEE-002-M-GRN", ("M", "Green"), "24.00", 8),
         ("TEE-002-L-GRN", ("L", "Green"), "24.00", 0),
         ("TEE-002-M-NVY", ("M", "Navy"), "26.00", 3),
         ("TEE-002-XL-NVY", ("XL", "Navy"), "28.00", 6),
     ]),
]  # fmt: skip


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


def _create_categories() -> dict[str, Category]:
    categories = {}
    for slug, name, parent in CATEGORIES:
        category = Category.objects.filter(slug=slug).first()
        if category is None:
            fields = {"name": name, "slug": slug}
            if parent is None:
                category = Category.objects.add_root(fields)
            else:
                above = Category.objects.get(slug=parent)  # afresh: siblings move paths
                category = Category.objects.add_child(above, fields)
        categories[slug] = category
    return categories


def _create_products(*, actor) -> int:
    categories = _create_categories()
    created = 0
    for sku, name, price, stock, description, category_slugs, colour in PRODUCTS:
        if Product.objects.filter(sku=sku).exists():
            continue
        product = create_product(
            sku=sku,
            name=name,
            price=Decimal(price),
            description=description,
            initial_stock=stock,
            actor=actor,
        )
        _present(product, categories=[categories[s] for s in category_slugs], colour=colour)
        created += 1
    for sku, name, description, category_slugs, colour, option_names, variants in PARENTS:
        if Product.objects.filter(sku=sku).exists():
            continue
        parent = create_parent_product(
            sku=sku, name=name, description=description, option_names=option_names, actor=actor
        )
        for variant_sku, values, price, stock in variants:
            create_variant(
                parent=parent,
                sku=variant_sku,
                options=dict(zip(option_names, values, strict=True)),
                price=Decimal(price),
                initial_stock=stock,
                actor=actor,
            )
        _present(parent, categories=[categories[s] for s in category_slugs], colour=colour)
        created += 1
    return created


def _present(product, *, categories, colour) -> None:
    """File the product in its categories and give it two pictures."""
    product.categories.set(categories)
    for position, (view, background) in enumerate([("front", colour), ("detail", "#f4f1ea")]):
        add_product_image(
            product=product,
            content=demo_image(product.name, view=view, background=background, accent=colour),
            filename=f"{product.sku.lower()}-{view}.jpg",
            alt=f"{product.name}, {view} view",
            position=position,
        )


def demo_image(name: str, *, view: str, background: str, accent: str) -> bytes:
    """A 1200 x 900 JPEG: a plain backdrop, a simple shape and the product's name, so the
    demo catalog shows real, distinct pictures without shipping any."""
    image = Image.new("RGB", (1200, 900), background)
    draw = ImageDraw.Draw(image)
    ink = "#ffffff" if background == accent else accent
    if view == "front":
        draw.ellipse((380, 170, 820, 610), fill=ink)
    else:
        draw.rounded_rectangle((300, 220, 900, 560), radius=60, outline=ink, width=24)
    font = ImageFont.load_default(size=64)
    box = draw.textbbox((0, 0), name, font=font)
    draw.text(((1200 - (box[2] - box[0])) / 2, 690), name, fill=ink, font=font)
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", quality=85)
    return buffer.getvalue()
