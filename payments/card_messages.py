"""What Stripe tells a customer about their card (`last_payment_error.message`, the
confirm call's `error.message`), in the customer's language.

Stripe writes these in English (Stripe.js localizes its own form, not the API). The
messages below are the catalog's msgids, so the pages and emails that show a stored
message translate it (`{% translate payment.last_error %}`) and the card form's script
gets them translated; any other message is shown as Stripe wrote it.
"""

import json

from django.utils.translation import gettext, gettext_noop

STRIPE_MESSAGES = [
    gettext_noop("Your card was declined."),
    gettext_noop("Your card has insufficient funds."),
    gettext_noop("Your card has expired."),
    gettext_noop("Your card's security code is incorrect."),
    gettext_noop("Your card number is incorrect."),
    gettext_noop("An error occurred while processing your card. Try again in a little bit."),
]


def translations_json() -> str:
    """{English: translated} for the card form's script, in the active language."""
    return json.dumps({message: gettext(message) for message in STRIPE_MESSAGES})
