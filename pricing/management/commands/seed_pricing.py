"""Demo shipping methods, tax rates and a coupon, so the demo shop's checkout has
something to choose (`make run` runs it after seed_demo). Idempotent; no accounts, so
it is safe with DEBUG off too."""

from decimal import Decimal

from django.core.management.base import BaseCommand
from django.db import transaction

from pricing.models import Coupon, ShippingMethod, TaxRate

EU = ["AT", "BE", "DE", "DK", "ES", "FR", "IE", "IT", "NL", "PL", "PT", "SE"]
SHIPPING_METHODS = [
    # code, name, price, free over, countries
    ("standard", "Standard (3-5 days)", "4.90", "75.00", ["US", "CA", "GB", *EU]),
    ("express", "Express (1-2 days)", "14.90", None, ["US", "GB", "DE", "FR", "NL"]),
]
TAX_RATES = [
    # country, region, rate: VAT in Europe, sales tax by state in the US
    ("DE", "", "19.00"),
    ("FR", "", "20.00"),
    ("GB", "", "20.00"),
    ("NL", "", "21.00"),
    ("US", "CA", "7.25"),
    ("US", "NY", "4.00"),
]
COUPONS = [
    # code, kind, value, max uses
    ("WELCOME10", Coupon.Kind.PERCENT, "10.00", None),
    ("FREESHIP", Coupon.Kind.FREE_SHIPPING, "0.00", 100),
]


class Command(BaseCommand):
    help = "Load demo shipping methods, tax rates and coupons (those missing only)."

    @transaction.atomic
    def handle(self, *args, **options):
        created = 0
        for code, name, price, free_over, countries in SHIPPING_METHODS:
            _, new = ShippingMethod.objects.get_or_create(
                code=code,
                defaults={
                    "name": name,
                    "price": Decimal(price),
                    "free_over": Decimal(free_over) if free_over else None,
                    "countries": countries,
                },
            )
            created += new
        for country, region, rate in TAX_RATES:
            _, new = TaxRate.objects.get_or_create(
                country=country, region=region, defaults={"rate": Decimal(rate)}
            )
            created += new
        for code, kind, value, max_uses in COUPONS:
            if not Coupon.objects.filter(code__iexact=code).exists():
                Coupon.objects.create(code=code, kind=kind, value=Decimal(value), max_uses=max_uses)
                created += 1
        self.stdout.write(
            f"Demo pricing ready ({created} new row(s)): coupons "
            + ", ".join(code for code, *_ in COUPONS)
            + "."
        )
