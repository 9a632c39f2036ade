"""JSON API of the customer's wallet, its ledger and withdrawals (deposits are paid by
card: payments.api). Views parse, call a service or selector, serialize. A customer
only ever reaches their own wallet; a withdrawal is decided by staff holding
`wallets.change_withdrawal`."""

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework import generics, status
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from core.api import StaffWithPermission, error_responses, refuse_body
from wallets import services
from wallets.models import Withdrawal
from wallets.selectors import entries_of, wallet_of
from wallets.serializers import (
    LedgerEntrySerializer,
    WalletSerializer,
    WithdrawalCreateSerializer,
    WithdrawalSerializer,
)

DECIDE_WITHDRAWALS = StaffWithPermission("wallets.change_withdrawal")


class WalletView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        operation_id="wallet_retrieve",
        tags=["wallet"],
        responses={200: WalletSerializer, **error_responses(401)},
    )
    def get(self, request):
        return Response(WalletSerializer(wallet_of(user=request.user)).data)


class LedgerView(generics.ListAPIView):
    permission_classes = [IsAuthenticated]
    serializer_class = LedgerEntrySerializer

    def get_queryset(self):
        return entries_of(user=self.request.user)

    @extend_schema(
        operation_id="wallet_transactions_list",
        tags=["wallet"],
        description="The wallet's ledger, newest first.",
        responses={200: LedgerEntrySerializer(many=True), **error_responses(400, 401, 404)},
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)


class WithdrawalCreateView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        operation_id="wallet_withdrawals_create",
        tags=["wallet"],
        request=WithdrawalCreateSerializer,
        description="The amount leaves the balance at once; staff pay it out or reject it.",
        responses={201: WithdrawalSerializer, **error_responses(400, 401, 409)},
    )
    def post(self, request):
        serializer = WithdrawalCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        withdrawal = services.request_withdrawal(
            user=request.user, amount=serializer.validated_data["amount"]
        )
        return Response(WithdrawalSerializer(withdrawal).data, status=status.HTTP_201_CREATED)


def _decided(request, pk, decide) -> Response:
    """Run `decide` (approve or reject) on the withdrawal and answer with it."""
    withdrawal = get_object_or_404(Withdrawal, pk=pk)
    refuse_body(request)
    withdrawal = decide(withdrawal=withdrawal, actor=request.user)
    return Response(WithdrawalSerializer(withdrawal).data)


class WithdrawalApproveView(APIView):
    permission_classes = [DECIDE_WITHDRAWALS]

    @extend_schema(
        operation_id="wallet_withdrawals_approve",
        tags=["wallet"],
        request=None,
        description=(
            "Staff paid the withdrawal out (outside the shop): `paid`. 409 unless pending, "
            "or while the wallet is locked."
        ),
        responses={200: WithdrawalSerializer, **error_responses(400, 401, 403, 404, 409)},
    )
    def post(self, request, pk):
        return _decided(request, pk, services.approve_withdrawal)


class WithdrawalRejectView(APIView):
    permission_classes = [DECIDE_WITHDRAWALS]

    @extend_schema(
        operation_id="wallet_withdrawals_reject",
        tags=["wallet"],
        request=None,
        description="The amount comes back to the balance: `rejected`. 409 unless pending.",
        responses={200: WithdrawalSerializer, **error_responses(400, 401, 403, 404, 409)},
    )
    def post(self, request, pk):
        return _decided(request, pk, services.reject_withdrawal)
