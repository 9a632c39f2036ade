"""JSON API of checkout and orders (paying and refunding are payments.api's).
Views parse, call a service, serialize.

Object access: customers reach only their own orders; anyone else's order answers 404
(never 403), so order ids leak nothing. Staff reach every order. Staff-only operations
check staff and their permission first, so a customer gets the same 403 whatever the id.
"""

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import IntegrityError
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import generics, status
from rest_framework.authentication import SessionAuthentication
from rest_framework.exceptions import AuthenticationFailed
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from core.api import (
    CheckoutThrottle,
    OwnerOrStaffWithPermission,
    StaffWithPermission,
    TokenClaimsAuthentication,
    error_responses,
    refuse_body,
)
from orders import services as order_services
from orders.checkout import checkout_cart, place_order, quote_cart, quote_order
from orders.models import Order
from orders.selectors import orders_with_details
from orders.serializers import (
    CheckoutSerializer,
    FulfilSerializer,
    OrderFilterSerializer,
    OrderSerializer,
    QuoteSerializer,
)

IDEMPOTENCY_KEY = OpenApiParameter(
    "Idempotency-Key",
    {"type": "string", "minLength": 1, "maxLength": 255},  # orders.checkout checks it
    location=OpenApiParameter.HEADER,
    required=False,
    description=(
        "1 to 255 characters. The same key with the same body answers 200 with the order "
        "made the first time; with another body, 422."
    ),
)


def order_for(request, pk) -> Order:
    """The order if the user owns it or is staff; 404 otherwise."""
    return get_object_or_404(orders_with_details(user=request.user), pk=pk)


def order_response(request, pk) -> Response:
    """200 with the order object as it is now (a service just changed it)."""
    order = orders_with_details().get(pk=pk)
    return Response(OrderSerializer(order, context={"request": request}).data)


class CheckoutView(APIView):
    # The token says who the customer is: no query for the user (core.api).
    authentication_classes = [TokenClaimsAuthentication, SessionAuthentication]
    permission_classes = [IsAuthenticated]
    throttle_classes = [CheckoutThrottle]

    @extend_schema(
        operation_id="orders_checkout",
        tags=["orders"],
        parameters=[IDEMPOTENCY_KEY],
        request=CheckoutSerializer,
        responses={
            201: OrderSerializer,
            200: OpenApiResponse(OrderSerializer, description="Replay of an idempotent request."),
            **error_responses(400, 401, 409, 422, 429, conflict_stock=True),
        },
    )
    def post(self, request):
        serializer = CheckoutSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        key = request.headers.get("Idempotency-Key")
        lines, delivery = serializer.lines(), serializer.delivery()
        try:
            if lines is None:
                order = checkout_cart(user=request.user, idempotency_key=key, delivery=delivery)
            else:
                order = place_order(
                    user=request.user, lines=lines, idempotency_key=key, delivery=delivery
                )
        except IntegrityError:
            # The user was deleted after the token was issued: answer as the token
            # authentication that reads the user would have.
            if get_user_model().objects.filter(pk=request.user.pk).exists():
                raise
            raise AuthenticationFailed(_("User not found"), code="user_not_found") from None
        # Checkout returns the order as its payment step left it (with the payment
        # attached), so unlike the other actions this needs no re-read.
        return Response(
            OrderSerializer(order, context={"request": request}).data,
            status=status.HTTP_200_OK if getattr(order, "replayed", False) else 201,
        )


class QuoteView(APIView):
    permission_classes = [IsAuthenticated]
    throttle_classes = [CheckoutThrottle]

    @extend_schema(
        operation_id="orders_quote",
        tags=["orders"],
        request=CheckoutSerializer,
        description=(
            "The totals checkout would charge for the same body. Reserves nothing and "
            "counts no coupon use; the same errors as checkout (but stock, which only "
            "checkout can check)."
        ),
        responses={200: QuoteSerializer, **error_responses(400, 401, 409, 429)},
    )
    def post(self, request):
        serializer = CheckoutSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        lines, delivery = serializer.lines(), serializer.delivery()
        if lines is None:
            quote = quote_cart(user=request.user, delivery=delivery)
        else:
            quote = quote_order(user=request.user, lines=lines, delivery=delivery)
        return Response(QuoteSerializer.of(quote, currency=settings.SHOP_CURRENCY))


class OrderListView(generics.ListAPIView):
    permission_classes = [IsAuthenticated]
    serializer_class = OrderSerializer

    def get_queryset(self):
        # A plain dict: from a QueryDict DRF reads `?status=` as "no filter", which the
        # schema's enum does not allow.
        filters = OrderFilterSerializer(data=self.request.query_params.dict())
        filters.is_valid(raise_exception=True)
        orders = orders_with_details(user=self.request.user).order_by("-created_at", "-id")
        if filters.validated_data.get("status"):
            orders = orders.filter(status=filters.validated_data["status"])
        return orders

    @extend_schema(
        operation_id="orders_list",
        tags=["orders"],
        parameters=[
            OpenApiParameter(
                "status",
                str,
                enum=Order.Status.values,
                description="Only orders in this status.",
            )
        ],
        responses={200: OrderSerializer(many=True), **error_responses(400, 401, 404)},
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)


class OrderDetailView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        operation_id="orders_retrieve",
        tags=["orders"],
        responses={200: OrderSerializer, **error_responses(401, 404)},
    )
    def get(self, request, pk):
        order = order_for(request, pk)
        return Response(OrderSerializer(order, context={"request": request}).data)


class OrderCancelView(APIView):
    # The customer cancels their own order; staff cancel anyone's with the permission.
    permission_classes = [OwnerOrStaffWithPermission("orders.change_order")]

    @extend_schema(
        operation_id="orders_cancel",
        tags=["orders"],
        request=None,
        description=(
            "Cancels the order after cancelling its PaymentIntent at Stripe. If the payment "
            "already went through, nothing is cancelled and the answer is the paid order. "
            "409 `payment_in_progress` while a payment is processing; 503 "
            "`payment_unavailable` while Stripe cannot be asked."
        ),
        responses={200: OrderSerializer, **error_responses(400, 401, 403, 404, 409, 503)},
    )
    def post(self, request, pk):
        order = order_for(request, pk)
        self.check_object_permissions(request, order)
        refuse_body(request)
        order_services.cancel_order(order=order, actor=request.user)
        return order_response(request, order.pk)


class OrderFulfilView(APIView):
    permission_classes = [StaffWithPermission("orders.change_order")]

    @extend_schema(
        operation_id="orders_fulfil",
        tags=["orders"],
        request=FulfilSerializer,
        responses={200: OrderSerializer, **error_responses(400, 401, 403, 404, 409)},
    )
    def post(self, request, pk):
        order = order_for(request, pk)
        serializer = FulfilSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        order_services.fulfil_order(order=order, actor=request.user, **serializer.validated_data)
        return order_response(request, order.pk)
