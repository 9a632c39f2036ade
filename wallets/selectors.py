"""Read queries over wallets, their ledgers, deposits and withdrawals."""

from datetime import datetime
from decimal import Decimal

from django.conf import settings
from django.db.models import Count, F, OuterRef, Q, QuerySet, Subquery, Sum, Window
from django.db.models.functions import Coalesce, Lag

from core.money import ZERO
from orders.models import Order, OrderItem
from wallets.models import (
    CREDIT_TYPES,
    DEBIT_TYPES,
    Deposit,
    Earning,
    EntryType,
    LedgerEntry,
    Wallet,
    Withdrawal,
)


def wallet_of(*, user) -> Wallet:
    """The user's wallet; an unsaved empty one if they never used it (reading creates
    nothing: the first deposit, refund or adjustment does)."""
    wallet = Wallet.objects.filter(user=user).first()
    return wallet or Wallet(user=user, currency=settings.SHOP_CURRENCY)


def entries_of(*, user) -> QuerySet[LedgerEntry]:
    """The user's ledger, newest first."""
    return LedgerEntry.objects.filter(wallet__user=user).order_by("-sequence")


def deposits_of(*, user) -> QuerySet[Deposit]:
    return Deposit.objects.filter(wallet__user=user)


def withdrawals_of(*, user) -> QuerySet[Withdrawal]:
    return Withdrawal.objects.filter(wallet__user=user)


def deposit_id_for(*, payment_intent_id: str, metadata_id=None):
    """The deposit a PaymentIntent pays: the one that stored its id or, before that was
    stored, the one its metadata names. None when it is no deposit's."""
    stored = (
        Deposit.objects.filter(payment_intent_id=payment_intent_id)
        .values_list("pk", flat=True)
        .first()
    )
    if stored is not None:
        return stored
    if metadata_id:
        return Deposit.objects.filter(pk=metadata_id).values_list("pk", flat=True).first()
    return None


def unsettled_deposits(*, created_before: datetime) -> list[tuple]:
    """(deposit id, PaymentIntent id or None, created_at) of pending deposits made before
    `created_before` whose PaymentIntent has not reached a final state here."""
    return list(
        Deposit.objects.filter(status=Deposit.Status.PENDING, created_at__lte=created_before)
        .exclude(payment_status__in=["succeeded", "canceled"])
        .order_by("created_at")
        .values_list("pk", "payment_intent_id", "created_at")
    )


def wallet_payment_of(*, order_id) -> LedgerEntry | None:
    """The ledger entry by which a wallet paid the order, or None if none did."""
    return LedgerEntry.objects.filter(type=EntryType.PAYMENT, reference=str(order_id)).first()


def refundable_to_wallet(*, order_id) -> Decimal | None:
    """What is left to refund of an order paid from a wallet (its payment minus the
    refunds made to that wallet); None when no wallet paid the order."""
    payment = wallet_payment_of(order_id=order_id)
    if payment is None:
        return None
    refunded = LedgerEntry.objects.filter(
        wallet_id=payment.wallet_id, type=EntryType.REFUND, reference=str(order_id)
    ).aggregate(total=Sum("amount"))["total"]
    return -payment.amount - (refunded or ZERO)


# --- invariants --------------------------------------------------------------------------


def wallet_discrepancies() -> list[dict]:
    """Wallets whose ledger breaks an invariant of DESIGN.md; empty when all is well.

    - chain: entries are numbered 1..n without gaps, entry 1 starts at 0.00, each entry
      starts where the previous one ended, and `balance_after = balance_before + amount`;
    - sum: the wallet's balance equals the sum of its entries and its last entry's
      `balance_after`, and `entry_count` equals the number of entries;
    - sign: a customer wallet never ends an entry below zero; a merchant's wallet goes
      (further) below zero only through an earning reversal; each entry's amount has
      the sign of its type.
    Two queries, whatever the number of wallets and entries.
    """
    problems: dict[int, list[str]] = {}

    def broken(wallet_id, reason):
        reasons = problems.setdefault(wallet_id, [])
        if reason not in reasons:
            reasons.append(reason)

    wallets = Wallet.objects.annotate(
        total=Coalesce(Sum("entries__amount"), ZERO),
        n=Count("entries"),
        last_after=Subquery(
            LedgerEntry.objects.filter(wallet=OuterRef("pk"))
            .order_by("-sequence")
            .values("balance_after")[:1]
        ),
    ).values("pk", "kind", "balance", "entry_count", "total", "n", "last_after")
    by_id = {}
    for row in wallets:
        by_id[row["pk"]] = row
        if row["balance"] != row["total"]:
            broken(row["pk"], "balance != sum of entries")
        if row["n"] and row["balance"] != row["last_after"]:
            broken(row["pk"], "balance != last entry's balance_after")
        if row["entry_count"] != row["n"]:
            broken(row["pk"], "entry_count != number of entries")
        if row["kind"] == Wallet.Kind.CUSTOMER and row["balance"] < 0:
            broken(row["pk"], "customer wallet below zero")

    window = {"partition_by": [F("wallet_id")], "order_by": F("sequence").asc()}
    entries = (
        LedgerEntry.objects.annotate(
            previous_after=Window(Lag("balance_after"), **window),
            previous_sequence=Window(Lag("sequence"), **window),
        )
        .filter(
            ~Q(balance_after=F("balance_before") + F("amount"))
            | Q(previous_sequence__isnull=True) & (~Q(sequence=1) | ~Q(balance_before=0))
            | Q(previous_sequence__isnull=False)
            & (~Q(sequence=F("previous_sequence") + 1) | ~Q(balance_before=F("previous_after")))
            | Q(balance_after__lt=0, amount__lt=0) & ~Q(type=EntryType.EARNING_REVERSAL)
            | Q(balance_after__lt=0, wallet__kind=Wallet.Kind.CUSTOMER)
            | Q(type__in=CREDIT_TYPES, amount__lte=0)
            | Q(type__in=DEBIT_TYPES, amount__gte=0)
            | Q(amount=0)
        )
        .order_by("wallet_id", "sequence")
        .values(
            "wallet_id",
            "sequence",
            "type",
            "amount",
            "balance_before",
            "balance_after",
            "previous_after",
            "previous_sequence",
        )
    )
    for entry in entries:
        wallet_id = entry["wallet_id"]
        if entry["balance_after"] != entry["balance_before"] + entry["amount"]:
            broken(wallet_id, "an entry's balance_after != balance_before + amount")
        if entry["previous_sequence"] is None:
            if entry["sequence"] != 1 or entry["balance_before"] != 0:
                broken(wallet_id, "the first entry does not start at 0.00 as number 1")
        elif entry["sequence"] != entry["previous_sequence"] + 1:
            broken(wallet_id, "entries are not numbered without gaps")
        elif entry["balance_before"] != entry["previous_after"]:
            broken(wallet_id, "an entry does not start where the previous one ended")
        if entry["balance_after"] < 0 and (
            by_id[wallet_id]["kind"] == Wallet.Kind.CUSTOMER
            or (entry["amount"] < 0 and entry["type"] != EntryType.EARNING_REVERSAL)
        ):
            broken(wallet_id, "below zero other than by an earning reversal")
        if (
            entry["amount"] == 0
            or (entry["type"] in CREDIT_TYPES and entry["amount"] < 0)
            or (entry["type"] in DEBIT_TYPES and entry["amount"] > 0)
        ):
            broken(wallet_id, "an entry's amount has the wrong sign for its type")
    return [
        {
            "wallet_id": wallet_id,
            "kind": by_id[wallet_id]["kind"],
            "balance": by_id[wallet_id]["balance"],
            "sum_of_entries": by_id[wallet_id]["total"],
            "entries": by_id[wallet_id]["n"],
            "broken": reasons,
        }
        for wallet_id, reasons in sorted(problems.items())
    ]


def earning_discrepancies() -> list[dict]:
    """Orders whose merchant earnings break an invariant of DESIGN.md; empty when all is
    well. For every order:

    - paid, fulfilled or refunded: each merchant with lines in it has one earning whose
      gross is their line totals and `gross = fee + net`, credited once by an `earning`
      entry of `net` (none for 0.00), so earnings + fees == the merchants' line totals;
    - refunded: each credit reversed once (an `earning_reversal` of `-net`); otherwise
      never reversed;
    - never paid: no earnings and no earning entries.
    Four queries, whatever the number of orders.
    """
    problems: dict[str, list[str]] = {}

    def broken(order_id, reason):
        reasons = problems.setdefault(str(order_id), [])
        if reason not in reasons:
            reasons.append(reason)

    statuses: dict[str, str] = {}
    lines: dict[tuple, Decimal] = {}
    for row in (
        OrderItem.objects.filter(product__merchant__isnull=False)
        .values("order_id", "order__status", merchant_id=F("product__merchant_id"))
        .annotate(gross=Sum("line_total"))
    ):
        statuses[str(row["order_id"])] = row["order__status"]
        lines[(str(row["order_id"]), row["merchant_id"])] = row["gross"]
    earnings = {}
    for earning in Earning.objects.values(
        "order_id", "order__status", "merchant_id", "wallet_id", "gross", "fee", "net", "entry_id"
    ):
        order_id = str(earning["order_id"])
        statuses[order_id] = earning["order__status"]
        earnings[(order_id, earning["merchant_id"])] = earning
    entries: dict[tuple, list[Decimal]] = {}
    for entry in LedgerEntry.objects.filter(
        type__in=[EntryType.EARNING, EntryType.EARNING_REVERSAL]
    ).values("wallet_id", "type", "reference", "amount"):
        key = (entry["wallet_id"], entry["type"], entry["reference"])
        entries.setdefault(key, []).append(entry["amount"])
        statuses.setdefault(entry["reference"], None)

    sold = set(Order.SOLD)
    totals: dict[str, list[Decimal]] = {}  # order: [line totals, earnings + fees]
    for (order_id, merchant_id), gross in lines.items():
        if statuses[order_id] in sold:
            totals.setdefault(order_id, [ZERO, ZERO])[0] += gross
            if (order_id, merchant_id) not in earnings:
                broken(order_id, "a merchant with lines was not credited")
    for (order_id, merchant_id), earning in earnings.items():
        status = statuses[order_id]
        if status not in sold:
            broken(order_id, "an earning for an order that was never paid")
        elif lines.get((order_id, merchant_id)) != earning["gross"]:
            broken(order_id, "an earning's gross != the merchant's line totals")
        totals.setdefault(order_id, [ZERO, ZERO])[1] += earning["fee"] + earning["net"]
        if earning["fee"] + earning["net"] != earning["gross"]:
            broken(order_id, "an earning's fee + net != gross")
        wallet_id = earning["wallet_id"]
        credited = entries.pop((wallet_id, EntryType.EARNING, order_id), [])
        if credited != ([earning["net"]] if earning["net"] > 0 else []):
            broken(order_id, "the earning entry does not credit the earning's net once")
        reversed_ = entries.pop((wallet_id, EntryType.EARNING_REVERSAL, order_id), [])
        refunded = status == Order.Status.REFUNDED and earning["net"] > 0
        if reversed_ != ([-earning["net"]] if refunded else []):
            broken(order_id, "the earning is not reversed exactly when the order is refunded")
    for _, _, order_id in entries:
        broken(order_id, "an earning entry without an earning")
    for order_id, (line_totals, earned) in totals.items():
        if earned != line_totals:
            broken(order_id, "earnings + fees != the merchants' line totals")
    return [
        {"order_id": order_id, "status": statuses.get(order_id), "broken": reasons}
        for order_id, reasons in sorted(problems.items())
    ]
