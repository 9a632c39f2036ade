"""The customer's wallet page: the balance, the ledger, withdrawals. The top-up by card
is payments' (payments.views), mounted in the same "wallet" section of the site.

Thin: each view parses the request, calls the selector or service the API calls too
and shows a ShopError as a message. A customer only ever sees their own wallet.
"""

import uuid

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from core.exceptions import ShopError
from core.templatetags.money import money
from wallets import selectors, services
from wallets.forms import TopUpForm, WithdrawalForm, error_message

PAGE_SIZE = 20
# The newest withdrawals; older ones remain in the ledger.
WITHDRAWALS_SHOWN = 10


@login_required
@require_GET
def wallet_overview(request):
    page = Paginator(selectors.entries_of(user=request.user), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    return render(
        request,
        "wallets/wallet.html",
        {
            "wallet": selectors.wallet_of(user=request.user),
            "page": page,
            "withdrawals": selectors.withdrawals_of(user=request.user)[:WITHDRAWALS_SHOWN],
            "top_up_form": TopUpForm(initial={"token": uuid.uuid4().hex}),
            "withdrawal_form": WithdrawalForm(),
        },
    )


@login_required
@require_POST
def withdraw(request):
    form = WithdrawalForm(request.POST)
    if not form.is_valid():
        messages.error(request, error_message(form))
        return redirect("wallet:overview")
    try:
        withdrawal = services.request_withdrawal(
            user=request.user, amount=form.cleaned_data["amount"]
        )
    except ShopError as exc:
        messages.error(request, exc.detail)
    else:
        messages.success(
            request,
            _("Withdrawal of %(amount)s requested: we pay it out once it is approved.")
            % {"amount": money(withdrawal.amount, withdrawal.currency)},
        )
    return redirect("wallet:overview")
