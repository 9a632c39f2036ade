"""JSON API of paying for and refunding orders. Views parse, call a service, answer
with the order object (orders.api's look-up and answer: 404 for anyone else's order)."""

from drf_spectacular.utils import extend_schema
from rest_framework.exceptions import PermissionDenied
from rest_framework.permissions import IsAuthenticated
from rest_framework.views import APIView

from core.api import StaffWithPermission, error_responses
from orders.api import order_for, order_response
from orders.serializers import OrderSerializer
from payments import services
from payments.serializers import RefundSerializer


class OrderPayView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        operation_id="orders_pay",
        tags=["orders"],
        request=None,
        responses={200: OrderSerializer, **error_responses(401, 403, 404, 409, 503)},
    )
    def post(self, request, pk):
        order = order_for(request, pk)
        if order.user_id != request.user.pk:
            raise PermissionDenied("Only the customer who placed the order can pay for it.")
        services.ensure_payment(order=order)
        return order_response(request, order.pk)


class OrderRefundView(APIView):
    permission_classes = [StaffWithPermission("payments.add_refund")]

    @extend_schema(
        operation_id="orders_refund",
        tags=["orders"],
        request=RefundSerializer,
        responses={200: OrderSerializer, **error_responses(400, 401, 403, 404, 409, 503)},
    )
    def post(self, request, pk):
        order = order_for(request, pk)
        serializer = RefundSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        services.refund_payment(order=order, actor=request.user, **serializer.validated_data)
        return order_response(request, order.pk)
