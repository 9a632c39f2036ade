"""Domain events: how an app reacts to a change made in an app below it, without the
lower app importing it. The one cross-app mechanism of the shop (docs/architecture.md).

The app that owns a change defines its events as frozen dataclasses next to its
services (`orders/events.py`) and publishes them there; an app above subscribes in its
`AppConfig.ready()`:

    events.publish(OrderCancelled(order=order))                  # orders.services
    events.subscribe(OrderCancelled, cancel_payment_intent)      # payments.apps

Delivery is synchronous, in the order of subscription, with one of two timings:
- after commit (the default): the handler runs once the publisher's transaction
  commits, or at once when there is none; a change that rolls back never reaches it.
  For reactions that leave the database (Stripe, e-mail) or must not run under the
  publisher's row locks.
- `immediately=True`: the handler runs at once, inside the publisher's transaction
  when it has one: its writes commit or roll back with the change, and an error it
  raises undoes the change (or, published before any transaction, stops the change
  from starting). For bookkeeping that must be atomic with the change, and for events
  that ask the apps above to settle something before a change.

A handler's error propagates to the publisher (for after-commit handlers: to the code
that committed), as Django's own `on_commit` callbacks do; a handler that must never
fail the request catches what it expects.
"""

from collections import defaultdict
from collections.abc import Callable
from functools import partial

from django.db import transaction


class Event:
    """Base class of domain events: dataclasses carrying what happened, frozen unless
    the event documents what its subscribers may hand back in it."""


_subscribers: dict[type[Event], list[tuple[Callable[[Event], None], bool]]] = defaultdict(list)


def subscribe(
    event_type: type[Event], handler: Callable[[Event], None], *, immediately: bool = False
) -> None:
    """Call `handler(event)` for every published event of `event_type` (see module doc).

    Subscribing the same handler twice has no further effect.
    """
    entry = (handler, immediately)
    if entry not in _subscribers[event_type]:
        _subscribers[event_type].append(entry)


def publish(event: Event) -> None:
    """Deliver `event` to its subscribers: the immediate ones now, the others after the
    current transaction commits (now, when there is none)."""
    for handler, immediately in list(_subscribers.get(type(event), ())):
        if immediately:
            handler(event)
        else:
            transaction.on_commit(partial(handler, event))
