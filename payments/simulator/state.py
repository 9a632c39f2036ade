"""In-memory Stripe objects and their state transitions.

Everything lives in one dict of objects keyed by id (``pi_...``, ``ch_...``, ``re_...``,
``pm_...``, ``dp_...``, ``evt_...``) guarded by one re-entrant lock. Every public method takes
the lock for its whole duration, so each API call is atomic, and returns deep copies so that
callers can serialize results after releasing the lock.

Events are created while the lock is held and handed to ``on_event`` right away; that callback
only enqueues (see ``webhooks.WebhookDispatcher``), so each PaymentIntent's events are delivered
in creation order and no network I/O ever happens under the state lock.
"""

from __future__ import annotations

import copy
import dataclasses
import marshal
import secrets
import string
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from .errors import ApiError, invalid, missing_param, no_such, unexpected_state

_ID_ALPHABET = string.ascii_letters + string.digits


def new_id(prefix: str, length: int = 24) -> str:
    return prefix + "_" + "".join(secrets.choice(_ID_ALPHABET) for _ in range(length))


@dataclass(frozen=True)
class RequestContext:
    """The API request that caused a change; copied into ``event.request``."""

    request_id: str | None = None
    idempotency_key: str | None = None


@dataclass(frozen=True)
class TestCard:
    brand: str
    last4: str
    decline_code: str | None = None  # None: the charge succeeds
    # The charge stays pending (the PaymentIntent `processing`) until a test settles it
    # (``settle_processing``): what a slow bank or a delayed payment method looks like.
    processing: bool = False


# Stripe's test PaymentMethod tokens; each use creates a fresh ``pm_...`` like Stripe does.
TEST_PAYMENT_METHODS = {
    "pm_card_visa": TestCard("visa", "4242"),
    "pm_card_mastercard": TestCard("mastercard", "4444"),
    "pm_card_chargeDeclined": TestCard("visa", "0002", "generic_decline"),
    "pm_card_chargeDeclinedInsufficientFunds": TestCard("visa", "9995", "insufficient_funds"),
    # The simulator's own (Stripe has no card that stays processing).
    "pm_card_processing": TestCard("visa", "0077", processing=True),
}

# Raw test card numbers accepted in ``payment_method_data[card][number]``.
TEST_CARD_NUMBERS = {
    "4242424242424242": "pm_card_visa",
    "5555555555554444": "pm_card_mastercard",
    "4000000000000002": "pm_card_chargeDeclined",
    "4000000000009995": "pm_card_chargeDeclinedInsufficientFunds",
}

DECLINE_MESSAGES = {
    "generic_decline": "Your card was declined.",
    "insufficient_funds": "Your card has insufficient funds.",
}

CONFIRMABLE = ("requires_payment_method", "requires_confirmation", "requires_action")
# Stripe cancels a processing PaymentIntent only "in rare cases"; the simulator never does,
# so a shop that cancels while the bank is still deciding sees that refusal.
CANCELABLE = (*CONFIRMABLE, "requires_capture")
TERMINAL = ("succeeded", "canceled")
CANCELLATION_REASONS = ("duplicate", "fraudulent", "requested_by_customer", "abandoned")
REFUND_REASONS = ("duplicate", "fraudulent", "requested_by_customer")
MAX_AMOUNT = 99_999_999  # Stripe's 8-digit limit on amounts

# Params each endpoint accepts. Anything else is rejected like Stripe does
# ("Received unknown parameter"), which catches typos in the shop's calls early.
# Some are accepted but ignored (marked in the package docstring).
_PI_COMMON = {
    "amount", "currency", "metadata", "description", "payment_method", "payment_method_types",
    "receipt_email", "statement_descriptor", "statement_descriptor_suffix", "customer",
    "setup_future_usage", "shipping", "payment_method_options",
}  # fmt: skip
CREATE_PI_PARAMS = _PI_COMMON | {
    "automatic_payment_methods", "payment_method_data", "confirm", "return_url",
    "capture_method", "confirmation_method", "off_session", "error_on_requires_action",
    "use_stripe_sdk", "mandate_data",
}  # fmt: skip
UPDATE_PI_PARAMS = _PI_COMMON
CONFIRM_PI_PARAMS = {
    "payment_method", "payment_method_data", "return_url", "receipt_email", "shipping",
    "setup_future_usage", "off_session", "error_on_requires_action", "use_stripe_sdk",
    "payment_method_options", "mandate_data", "capture_method",
}  # fmt: skip
CANCEL_PI_PARAMS = {"cancellation_reason"}
REFUND_PARAMS = {
    "payment_intent", "charge", "amount", "reason", "metadata", "instructions_email",
    "refund_application_fee", "reverse_transfer",
}  # fmt: skip
DISPUTE_PARAMS = {"reason", "amount"}


class SimulatorState:
    """All simulated Stripe objects plus the event log."""

    def __init__(self, on_event: Callable[[dict[str, Any]], None], api_version: str) -> None:
        self.lock = threading.RLock()
        self.api_version = api_version
        self._on_event = on_event
        self._objects: dict[str, dict[str, Any]] = {}
        self._events: list[dict[str, Any]] = []
        self._pm_cards: dict[str, TestCard] = {}  # pm id -> behaviour; kept off the object

    def reset(self) -> None:
        with self.lock:
            self._objects.clear()
            self._events.clear()
            self._pm_cards.clear()

    # -------------------------------------------------------------- persistence

    def snapshot(self) -> dict[str, Any]:
        """A copy of every object (in creation order) and of each PaymentMethod's behaviour,
        for persistence.StateFile. Events never change once created, so they are shared, not
        copied; the rest is copied by a marshal round trip (plain JSON types only), which is
        several times faster than copy.deepcopy, so a big state holds the lock briefly."""
        with self.lock:
            objects = list(self._objects.values())
            frozen = marshal.dumps([obj for obj in objects if obj["object"] != "event"])
            cards = {pm: dataclasses.asdict(card) for pm, card in self._pm_cards.items()}
        copies = iter(marshal.loads(frozen))  # noqa: S302 - bytes made just above
        return {
            "objects": [obj if obj["object"] == "event" else next(copies) for obj in objects],
            "pm_cards": cards,
        }

    def restore(self, data: dict[str, Any]) -> None:
        """Replace everything with a snapshot() read back from JSON."""
        with self.lock:
            self._objects = {obj["id"]: obj for obj in data["objects"]}
            self._events = [obj for obj in data["objects"] if obj["object"] == "event"]
            self._pm_cards = {
                pm_id: TestCard(**fields) for pm_id, fields in data["pm_cards"].items()
            }

    # ------------------------------------------------------------------ queries

    def get(self, object_type: str, object_id: str, *, param: str = "id") -> dict[str, Any]:
        with self.lock:
            return copy.deepcopy(self._get(object_type, object_id, param=param))

    def events(self) -> list[dict[str, Any]]:
        with self.lock:
            return copy.deepcopy(self._events)

    def list(
        self,
        object_type: str,
        *,
        filters: dict[str, str] | None = None,
        created: dict[str, int] | None = None,
        limit: int = 10,
        starting_after: str | None = None,
        ending_before: str | None = None,
    ) -> tuple[list[dict[str, Any]], bool]:
        """Newest first, as Stripe lists; returns (page, has_more)."""
        with self.lock:
            items = [
                obj
                for obj in reversed(self._objects.values())
                if obj["object"] == object_type
                and all(obj.get(key) == value for key, value in (filters or {}).items())
                and _created_matches(obj["created"], created)
            ]
            ids = [obj["id"] for obj in items]
            if starting_after:
                if starting_after not in ids:
                    raise no_such(object_type, starting_after, param="starting_after", status=400)
                items = items[ids.index(starting_after) + 1 :]
            elif ending_before:
                if ending_before not in ids:
                    raise no_such(object_type, ending_before, param="ending_before", status=400)
                items = items[: ids.index(ending_before)][-limit:]
            return copy.deepcopy(items[:limit]), len(items) > limit

    def expand(self, obj: dict[str, Any], fields: Iterable[str]) -> dict[str, Any]:
        """Replace top-level id references named in ``expand`` by the objects (one level)."""
        with self.lock:
            for field in fields:
                name = field.split(".")[0]
                ref = obj.get(name)
                if isinstance(ref, str) and ref in self._objects:
                    obj[name] = copy.deepcopy(self._objects[ref])
            return obj

    def check_client_secret(self, pi_id: str, client_secret: str) -> None:
        with self.lock:
            pi = self._get("payment_intent", pi_id, param="intent")
            if not secrets.compare_digest(pi["client_secret"], client_secret):
                raise invalid(
                    "The client_secret provided does not match the client_secret associated "
                    "with the PaymentIntent.",
                    code="payment_intent_invalid_parameter",
                    param="client_secret",
                )

    # ----------------------------------------------------------- payment intents

    def create_payment_intent(self, params: dict[str, Any], ctx: RequestContext) -> dict:
        _check_params(params, CREATE_PI_PARAMS)
        amount = _amount(params, "amount", required=True)
        currency = _currency(params)
        metadata = _metadata(params.get("metadata"), {})
        capture_method = _enum(params, "capture_method", ("automatic", "automatic_async"))
        confirmation_method = _enum(params, "confirmation_method", ("automatic", "manual"))
        apm = params.get("automatic_payment_methods")
        if apm is not None and not isinstance(apm, dict):
            raise invalid("Invalid object", param="automatic_payment_methods")
        confirm = _bool(params, "confirm")
        with self.lock:
            pm_id = self._payment_method_from(params)
            pi_id = new_id("pi")
            pi = {
                "id": pi_id,
                "object": "payment_intent",
                "amount": amount,
                "amount_capturable": 0,
                "amount_received": 0,
                "automatic_payment_methods": (
                    {"enabled": _bool(apm, "enabled", param="automatic_payment_methods[enabled]")}
                    if apm is not None
                    else None
                ),
                "canceled_at": None,
                "cancellation_reason": None,
                "capture_method": capture_method or "automatic",
                "client_secret": f"{pi_id}_secret_{new_id('x', 25)[2:]}",
                "confirmation_method": confirmation_method or "automatic",
                "created": _now(),
                "currency": currency,
                "customer": None,
                "description": _optional_str(params, "description"),
                "last_payment_error": None,
                "latest_charge": None,
                "livemode": False,
                "metadata": metadata,
                "next_action": None,
                "payment_method": pm_id,
                "payment_method_types": _str_list(params, "payment_method_types") or ["card"],
                "receipt_email": _optional_str(params, "receipt_email"),
                "status": "requires_confirmation" if pm_id else "requires_payment_method",
            }
            self._objects[pi_id] = pi
            self._emit("payment_intent.created", pi, ctx)
            if confirm:
                self._confirm(pi, pm_id, params, ctx)
            return copy.deepcopy(pi)

    def update_payment_intent(self, pi_id: str, params: dict[str, Any], ctx: RequestContext):
        _check_params(params, UPDATE_PI_PARAMS)
        with self.lock:
            pi = self._get("payment_intent", pi_id, param="intent")
            # Like Stripe, metadata/description/receipt_email stay editable after the
            # payment is final; money-related fields do not.
            money_fields = set(params) - {"metadata", "description", "receipt_email"}
            if money_fields and pi["status"] in TERMINAL:
                raise unexpected_state(
                    f"You cannot update {', '.join(sorted(money_fields))} on a PaymentIntent "
                    f"with status {pi['status']}.",
                    payment_intent=copy.deepcopy(pi),
                )
            changes: dict[str, Any] = {}
            if "amount" in params:
                changes["amount"] = _amount(params, "amount", required=True)
            if "currency" in params:
                changes["currency"] = _currency(params)
            if "description" in params:
                changes["description"] = _optional_str(params, "description")
            if "receipt_email" in params:
                changes["receipt_email"] = _optional_str(params, "receipt_email")
            if "payment_method_types" in params:
                changes["payment_method_types"] = _str_list(params, "payment_method_types")
            if "metadata" in params:
                changes["metadata"] = _metadata(params["metadata"], pi["metadata"])
            if "payment_method" in params:
                changes["payment_method"] = self._payment_method_from(params)
                changes["status"] = (
                    "requires_confirmation" if changes["payment_method"] else pi["status"]
                )
            pi.update(changes)
            return copy.deepcopy(pi)

    def confirm_payment_intent(self, pi_id: str, params: dict[str, Any], ctx: RequestContext):
        _check_params(params, CONFIRM_PI_PARAMS)
        with self.lock:
            pi = self._get("payment_intent", pi_id, param="intent")
            self._ensure_confirmable(pi)
            pm_id = self._payment_method_from(params) or pi["payment_method"]
            if "receipt_email" in params:
                pi["receipt_email"] = _optional_str(params, "receipt_email")
            self._confirm(pi, pm_id, params, ctx)
            return copy.deepcopy(pi)

    def cancel_payment_intent(self, pi_id: str, params: dict[str, Any], ctx: RequestContext):
        _check_params(params, CANCEL_PI_PARAMS)
        reason = _enum(params, "cancellation_reason", CANCELLATION_REASONS)
        with self.lock:
            pi = self._get("payment_intent", pi_id, param="intent")
            if pi["status"] not in CANCELABLE:
                raise unexpected_state(
                    f"You cannot cancel this PaymentIntent because it has a status of "
                    f"{pi['status']}. Only a PaymentIntent with one of the following statuses "
                    f"may be canceled: {', '.join(CANCELABLE)}.",
                    payment_intent=copy.deepcopy(pi),
                )
            pi.update(status="canceled", canceled_at=_now(), cancellation_reason=reason)
            self._emit("payment_intent.canceled", pi, ctx)
            return copy.deepcopy(pi)

    # ------------------------------------------------------------------- refunds

    def create_refund(self, params: dict[str, Any], ctx: RequestContext) -> dict[str, Any]:
        _check_params(params, REFUND_PARAMS)
        pi_id = _optional_str(params, "payment_intent")
        charge_id = _optional_str(params, "charge")
        if not pi_id and not charge_id:
            raise invalid(
                "One of the following params should be provided for this request: "
                "payment_intent or charge.",
                code="parameter_missing",
            )
        amount = _amount(params, "amount", required=False)
        reason = _enum(params, "reason", REFUND_REASONS)
        metadata = _metadata(params.get("metadata"), {})
        with self.lock:
            if charge_id:
                charge = self._get("charge", charge_id, param="charge", status=400)
                if pi_id and charge["payment_intent"] != pi_id:
                    raise invalid(
                        f"The charge {charge_id} does not belong to PaymentIntent {pi_id}.",
                        param="charge",
                    )
                pi = self._objects[charge["payment_intent"]]
            else:
                pi = self._get("payment_intent", pi_id, param="payment_intent", status=400)
            if pi["status"] != "succeeded":
                raise unexpected_state(
                    f"This PaymentIntent ({pi['id']}) does not have a successful charge to "
                    f"refund; its status is {pi['status']}.",
                    param="payment_intent",
                )
            charge = self._objects[pi["latest_charge"]]
            remaining = charge["amount_captured"] - charge["amount_refunded"]
            if remaining <= 0:
                raise ApiError(
                    400,
                    f"Charge {charge['id']} has already been refunded.",
                    code="charge_already_refunded",
                )
            if amount is None:
                amount = remaining
            if amount > remaining:
                raise ApiError(
                    400,
                    f"Refund amount ({_money(amount, charge['currency'])}) is greater than "
                    f"unrefunded amount on charge ({_money(remaining, charge['currency'])})",
                    code="amount_too_large",
                    param="amount",
                )
            refund = {
                "id": new_id("re"),
                "object": "refund",
                "amount": amount,
                "balance_transaction": None,
                "charge": charge["id"],
                "created": _now(),
                "currency": charge["currency"],
                "metadata": metadata,
                "payment_intent": pi["id"],
                "reason": reason,
                "receipt_number": None,
                "status": "succeeded",
            }
            self._objects[refund["id"]] = refund
            charge["amount_refunded"] += amount
            charge["refunded"] = charge["amount_refunded"] >= charge["amount_captured"]
            self._emit("refund.created", refund, ctx)
            self._emit("charge.refunded", charge, ctx)
            return copy.deepcopy(refund)

    # ------------------------------------------------------------ test controls

    def settle_processing(self, pi_id: str, params: dict[str, Any], ctx: RequestContext) -> dict:
        """Finish a `processing` PaymentIntent: the bank says yes (``outcome=succeeded``,
        the default) or no (``outcome=failed``), with the events Stripe sends for each."""
        _check_params(params, {"outcome"})
        outcome = _enum(params, "outcome", ("succeeded", "failed")) or "succeeded"
        with self.lock:
            pi = self._get("payment_intent", pi_id, param="intent")
            if pi["status"] != "processing":
                raise unexpected_state(
                    f"This PaymentIntent is {pi['status']}, not processing.",
                    payment_intent=copy.deepcopy(pi),
                )
            charge = self._objects[pi["latest_charge"]]
            if outcome == "succeeded":
                charge.update(status="succeeded", paid=True, captured=True)
                charge["amount_captured"] = charge["amount"]
                pi.update(status="succeeded", amount_received=pi["amount"])
                self._emit("charge.succeeded", charge, ctx)
                self._emit("payment_intent.succeeded", pi, ctx)
            else:
                charge.update(status="failed", failure_code="card_declined")
                charge["failure_message"] = DECLINE_MESSAGES["generic_decline"]
                pi.update(
                    status="requires_payment_method",
                    payment_method=None,
                    last_payment_error={
                        "type": "card_error",
                        "code": "card_declined",
                        "decline_code": "generic_decline",
                        "message": DECLINE_MESSAGES["generic_decline"],
                        "charge": charge["id"],
                    },
                )
                self._emit("charge.failed", charge, ctx)
                self._emit("payment_intent.payment_failed", pi, ctx)
            return copy.deepcopy(pi)

    def create_dispute(self, pi_id: str, params: dict[str, Any], ctx: RequestContext) -> dict:
        """Simulate the cardholder disputing the payment (``charge.dispute.created``)."""
        _check_params(params, DISPUTE_PARAMS)
        reason = _optional_str(params, "reason") or "fraudulent"
        amount = _amount(params, "amount", required=False)
        with self.lock:
            pi = self._get("payment_intent", pi_id, param="intent")
            if pi["status"] != "succeeded":
                raise unexpected_state(
                    f"Only a succeeded PaymentIntent can be disputed; {pi_id} is {pi['status']}."
                )
            charge = self._objects[pi["latest_charge"]]
            dispute = {
                "id": new_id("dp"),
                "object": "dispute",
                "amount": amount if amount is not None else charge["amount"],
                "charge": charge["id"],
                "created": _now(),
                "currency": charge["currency"],
                "evidence_details": {"due_by": _now() + 7 * 86400, "has_evidence": False},
                "is_charge_refundable": False,
                "livemode": False,
                "metadata": {},
                "payment_intent": pi["id"],
                "reason": reason,
                "status": "needs_response",
            }
            self._objects[dispute["id"]] = dispute
            charge["disputed"] = True
            self._emit("charge.dispute.created", dispute, ctx)
            return copy.deepcopy(dispute)

    # ------------------------------------------------------------------ helpers

    def _get(self, object_type: str, object_id: str, *, param: str, status: int = 404) -> dict:
        obj = self._objects.get(object_id)
        if obj is None or obj["object"] != object_type:
            raise no_such(object_type, object_id, param=param, status=status)
        return obj

    def _ensure_confirmable(self, pi: dict[str, Any]) -> None:
        if pi["status"] not in CONFIRMABLE:
            raise unexpected_state(
                f"You cannot confirm this PaymentIntent because it has a status of {pi['status']}.",
                payment_intent=copy.deepcopy(pi),
            )

    def _payment_method_from(self, params: dict[str, Any]) -> str | None:
        """Resolve ``payment_method`` / ``payment_method_data`` into a stored ``pm_...`` id."""
        token = params.get("payment_method")
        data = params.get("payment_method_data")
        if token and data:
            raise invalid(
                "You cannot provide both payment_method and payment_method_data.",
                param="payment_method_data",
            )
        if data is not None:
            return self._payment_method_from_card_data(data)
        if not token:
            return None
        if not isinstance(token, str):
            raise invalid("Invalid string", param="payment_method")
        if token in TEST_PAYMENT_METHODS:
            return self._create_payment_method(TEST_PAYMENT_METHODS[token], {})
        if token in self._pm_cards:
            return token
        raise no_such("PaymentMethod", token, param="payment_method", status=400)

    def _payment_method_from_card_data(self, data: Any) -> str:
        if not isinstance(data, dict):
            raise invalid("Invalid object", param="payment_method_data")
        if not data.get("type"):
            raise missing_param("payment_method_data[type]")
        if data["type"] != "card":
            raise invalid(
                f"The simulator only supports card payment methods, not {data['type']!r}.",
                param="payment_method_data[type]",
            )
        card = data.get("card")
        if not isinstance(card, dict) or not card.get("number"):
            raise missing_param("payment_method_data[card][number]")
        number = "".join(str(card["number"]).split()).replace("-", "")
        token = TEST_CARD_NUMBERS.get(number)
        if token is None:
            # Rejected before any charge attempt (as Stripe.js would): no state change.
            raise ApiError(
                402,
                "Your card number is incorrect.",
                type="card_error",
                code="incorrect_number",
                param="payment_method_data[card][number]",
                replayable=False,
            )
        billing = data.get("billing_details")
        return self._create_payment_method(
            TEST_PAYMENT_METHODS[token], billing if isinstance(billing, dict) else {}
        )

    def _create_payment_method(self, card: TestCard, billing: dict[str, Any]) -> str:
        pm = {
            "id": new_id("pm"),
            "object": "payment_method",
            "billing_details": {
                "address": billing.get("address"),
                "email": billing.get("email"),
                "name": billing.get("name"),
                "phone": billing.get("phone"),
            },
            "card": {
                "brand": card.brand,
                "country": "US",
                "exp_month": 12,
                "exp_year": time.gmtime().tm_year + 3,
                "funding": "credit",
                "last4": card.last4,
            },
            "created": _now(),
            "customer": None,
            "livemode": False,
            "metadata": {},
            "type": "card",
        }
        self._objects[pm["id"]] = pm
        self._pm_cards[pm["id"]] = card
        return pm["id"]

    def _confirm(
        self, pi: dict[str, Any], pm_id: str | None, params: dict[str, Any], ctx: RequestContext
    ) -> None:
        """Charge ``pm_id`` for ``pi``; raises a 402 CardError on decline."""
        if pm_id is None:
            raise unexpected_state(
                "You cannot confirm this PaymentIntent because it's missing a payment method. "
                "Provide payment_method or payment_method_data.",
                param="payment_method",
                payment_intent=copy.deepcopy(pi),
            )
        card = self._pm_cards[pm_id]
        charge = self._create_charge(pi, pm_id, card)
        if card.processing:
            pi.update(
                status="processing",
                latest_charge=charge["id"],
                payment_method=pm_id,
                last_payment_error=None,
            )
            self._emit("charge.pending", charge, ctx)
            self._emit("payment_intent.processing", pi, ctx)
            return
        if card.decline_code is None:
            pi.update(
                status="succeeded",
                amount_received=pi["amount"],
                latest_charge=charge["id"],
                payment_method=pm_id,
                last_payment_error=None,
            )
            self._emit("charge.succeeded", charge, ctx)
            self._emit("payment_intent.succeeded", pi, ctx)
            return
        message = DECLINE_MESSAGES[card.decline_code]
        pm = copy.deepcopy(self._objects[pm_id])
        error = {
            "type": "card_error",
            "code": "card_declined",
            "decline_code": card.decline_code,
            "message": message,
            "charge": charge["id"],
            "doc_url": "https://stripe.com/docs/error-codes/card-declined",
            "payment_method": pm,
        }
        # Like Stripe: the failed PaymentMethod is detached so the customer can try another.
        pi.update(
            status="requires_payment_method",
            latest_charge=charge["id"],
            payment_method=None,
            last_payment_error=error,
        )
        self._emit("charge.failed", charge, ctx)
        self._emit("payment_intent.payment_failed", pi, ctx)
        raise ApiError(
            402,
            message,
            type="card_error",
            code="card_declined",
            decline_code=card.decline_code,
            charge=charge["id"],
            payment_intent=copy.deepcopy(pi),
            payment_method=pm,
        )

    def _create_charge(self, pi: dict[str, Any], pm_id: str, card: TestCard) -> dict[str, Any]:
        ok = card.decline_code is None
        charge = {
            "id": new_id("ch"),
            "object": "charge",
            "amount": pi["amount"],
            "amount_captured": pi["amount"] if ok else 0,
            "amount_refunded": 0,
            "balance_transaction": None,
            "captured": ok,
            "created": _now(),
            "currency": pi["currency"],
            "description": pi["description"],
            "disputed": False,
            "failure_code": None if ok else "card_declined",
            "failure_message": None if ok else DECLINE_MESSAGES[card.decline_code or ""],
            "livemode": False,
            "metadata": copy.deepcopy(pi["metadata"]),
            "outcome": {
                "network_status": "approved_by_network" if ok else "declined_by_network",
                "reason": card.decline_code,
                "type": "authorized" if ok else "issuer_declined",
            },
            "paid": ok,
            "payment_intent": pi["id"],
            "payment_method": pm_id,
            "payment_method_details": {
                "type": "card",
                "card": {"brand": card.brand, "last4": card.last4},
            },
            "receipt_email": pi["receipt_email"],
            "refunded": False,
            "status": "pending" if card.processing else "succeeded" if ok else "failed",
        }
        if card.processing:
            charge.update(paid=False, captured=False, amount_captured=0)
        self._objects[charge["id"]] = charge
        return charge

    def _emit(self, event_type: str, obj: dict[str, Any], ctx: RequestContext) -> None:
        event = {
            "id": new_id("evt"),
            "object": "event",
            "api_version": self.api_version,
            "created": _now(),
            "data": {"object": copy.deepcopy(obj)},
            "livemode": False,
            "pending_webhooks": 1,
            "request": {"id": ctx.request_id, "idempotency_key": ctx.idempotency_key},
            "type": event_type,
        }
        self._objects[event["id"]] = event
        self._events.append(event)
        self._on_event(copy.deepcopy(event))


# ---------------------------------------------------------------- param parsing


def _now() -> int:
    return int(time.time())


def _created_matches(created: int, bounds: dict[str, int] | None) -> bool:
    checks = {
        "eq": lambda ts: created == ts,
        "gt": lambda ts: created > ts,
        "gte": lambda ts: created >= ts,
        "lt": lambda ts: created < ts,
        "lte": lambda ts: created <= ts,
    }
    return all(checks[op](ts) for op, ts in (bounds or {}).items())


def _money(amount: int, currency: str) -> str:
    return f"{amount / 100:.2f} {currency.upper()}"


def _check_params(params: dict[str, Any], allowed: set[str]) -> None:
    for name in params:
        if name not in allowed:
            raise invalid(
                f"Received unknown parameter: {name}", code="parameter_unknown", param=name
            )


def _amount(params: dict[str, Any], name: str, *, required: bool) -> int | None:
    value = params.get(name)
    if value is None or value == "":
        if required:
            raise missing_param(name)
        return None
    try:
        amount = int(value)
    except (TypeError, ValueError):
        raise invalid(
            f"Invalid integer: {value}", code="parameter_invalid_integer", param=name
        ) from None
    if amount < 1:
        raise invalid(
            "This value must be greater than or equal to 1.",
            code="parameter_invalid_integer",
            param=name,
        )
    if amount > MAX_AMOUNT:
        raise invalid(
            "Amount must be no more than $999,999.99", code="amount_too_large", param=name
        )
    return amount


def _currency(params: dict[str, Any]) -> str:
    value = params.get("currency")
    if not value:
        raise missing_param("currency")
    if not isinstance(value, str) or len(value) != 3 or not value.isalpha():
        raise invalid(f"Invalid currency: {value}.", param="currency")
    return value.lower()


def _optional_str(params: dict[str, Any], name: str) -> str | None:
    value = params.get(name)
    if value is None or value == "":
        return None
    if not isinstance(value, (str, int)):
        raise invalid("Invalid string", param=name)
    return str(value)


def _str_list(params: dict[str, Any], name: str) -> list[str] | None:
    value = params.get(name)
    if value is None:
        return None
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise invalid("Invalid array", param=name)
    return value


def _bool(params: dict[str, Any], name: str, *, param: str | None = None) -> bool:
    value = params.get(name)
    if value is None or value is False or value in ("false", ""):
        return False
    if value is True or value == "true":
        return True
    raise invalid(f"Invalid boolean: {value}", param=param or name)


def _enum(params: dict[str, Any], name: str, choices: tuple[str, ...]) -> str | None:
    value = params.get(name)
    if value is None or value == "":
        return None
    if value not in choices:
        raise invalid(f"Invalid {name}: must be one of {', '.join(choices)}", param=name)
    return value


def _metadata(value: Any, current: dict[str, str]) -> dict[str, str]:
    """Merge ``value`` into ``current`` with Stripe's rules: "" unsets a key (or everything)."""
    if value is None:
        return dict(current)
    if value == "":
        return {}
    if not isinstance(value, dict):
        raise invalid("Invalid object", param="metadata")
    merged = dict(current)
    for key, item in value.items():
        if len(key) > 40:
            raise invalid("Metadata keys can have up to 40 characters.", param=f"metadata[{key}]")
        if item is None or item == "":
            merged.pop(key, None)
        elif isinstance(item, (dict, list)):
            raise invalid("Invalid string", param=f"metadata[{key}]")
        else:
            text = str(item).lower() if isinstance(item, bool) else str(item)
            if len(text) > 500:
                raise invalid(
                    "Metadata values can have up to 500 characters.", param=f"metadata[{key}]"
                )
            merged[key] = text
    if len(merged) > 50:
        raise invalid("Metadata can have up to 50 keys.", param="metadata")
    return merged
