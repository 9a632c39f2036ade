"""JSON API of paying for and refunding orders, and of wallet deposits (PaymentIntents
too). Views parse, call a service, answer with the order object (orders.api's look-up
and answer: 404 for anyone else's order) or the deposit."""

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.exceptions import PermissionDenied
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from core.api import StaffWithPermission, error_responses
from orders.api import order_for, order_response
from orders.serializers import OrderSerializer
from payments import services
from payments.serializers import PaySerializer, RefundSerializer
from wallets import services as wallet_services
from wallets.selectors import deposits_of
from wallets.serializers import DepositCreateSerializer, DepositSerializer


class OrderPayView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        operation_id="orders_pay",
        tags=["orders"],
        request=PaySerializer,
        description=(
            '`{}` or `{method: "card"}`: creates the PaymentIntent if checkout could not '
            '(idempotently) and answers with it. `{method: "wallet"}`: debits the total '
            "from the wallet and marks the order paid at once; 409 `insufficient_funds` or "
            "`wallet_locked` and nothing changes."
        ),
        responses={200: OrderSerializer, **error_responses(400, 401, 403, 404, 409, 503)},
    )
    def post(self, request, pk):
        order = order_for(request, pk)
        serializer = PaySerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        if order.user_id != request.user.pk:
            raise PermissionDenied("Only the customer who placed the order can pay for it.")
        if serializer.validated_data["method"] == "wallet":
            wallet_services.pay_order(order=order, user=request.user)
        else:
            services.ensure_payment(order=order)
        return order_response(request, order.pk)


class OrderRefundView(APIView):
    permission_classes = [StaffWithPermission("payments.add_refund")]

    @extend_schema(
        operation_id="orders_refund",
        tags=["orders"],
        request=RefundSerializer,
        description=(
            "Refunds to the card, or, for an order paid from the wallet, back to the "
            "wallet at once."
        ),
        responses={200: OrderSerializer, **error_responses(400, 401, 403, 404, 409, 503)},
    )
    def post(self, request, pk):
        order = order_for(request, pk)
        serializer = RefundSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        services.refund_payment(order=order, actor=request.user, **serializer.validated_data)
        return order_response(request, order.pk)


DEPOSIT_IDEMPOTENCY_KEY = OpenApiParameter(
    "Idempotency-Key",
    {"type": "string", "minLength": 1, "maxLength": 255},  # wallets.services checks it
    location=OpenApiParameter.HEADER,
    required=False,
    description=(
        "1 to 255 characters. The same key with the same amount answers 200 with the "
        "deposit made the first time; with another amount, 422."
    ),
)


class DepositCreateView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        operation_id="wallet_deposits_create",
        tags=["wallet"],
        parameters=[DEPOSIT_IDEMPOTENCY_KEY],
        request=DepositCreateSerializer,
        description=(
            "A top-up by card: the answer carries the PaymentIntent to confirm. The wallet "
            "is credited once when it succeeds (webhook or reconciliation)."
        ),
        responses={
            201: DepositSerializer,
            200: OpenApiResponse(DepositSerializer, description="Replay of an idempotent request."),
            **error_responses(400, 401, 422, 503),
        },
    )
    def post(self, request):
        serializer = DepositCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        deposit = services.start_deposit(
            user=request.user,
            amount=serializer.validated_data["amount"],
            idempotency_key=request.headers.get("Idempotency-Key"),
        )
        replayed = getattr(deposit, "replayed", False)
        return Response(
            DepositSerializer(deposit).data,
            status=status.HTTP_200_OK if replayed else status.HTTP_201_CREATED,
        )


class DepositDetailView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        operation_id="wallet_deposits_retrieve",
        tags=["wallet"],
        responses={200: DepositSerializer, **error_responses(401, 404)},
    )
    def get(self, request, pk):
        deposit = get_object_or_404(deposits_of(user=request.user), pk=pk)
        return Response(DepositSerializer(deposit).data)
