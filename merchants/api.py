"""JSON API of merchant applications: a user applies, staff holding
`merchants.change_merchant` approve. Views parse, call a service, serialize."""

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from core.api import StaffWithPermission, error_responses, refuse_body
from merchants import services
from merchants.models import Merchant
from merchants.serializers import MerchantApplySerializer, MerchantSerializer


class MerchantApplyView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        operation_id="merchants_apply",
        tags=["merchants"],
        request=MerchantApplySerializer,
        description="Apply to sell in the shop: a pending merchant. 409 if already applied.",
        responses={201: MerchantSerializer, **error_responses(400, 401, 409)},
    )
    def post(self, request):
        serializer = MerchantApplySerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        merchant = services.apply_for_merchant(user=request.user, **serializer.validated_data)
        return Response(MerchantSerializer(merchant).data, status=status.HTTP_201_CREATED)


class MerchantApproveView(APIView):
    permission_classes = [StaffWithPermission("merchants.change_merchant")]

    @extend_schema(
        operation_id="merchants_approve",
        tags=["merchants"],
        request=None,
        responses={200: MerchantSerializer, **error_responses(400, 401, 403, 404)},
    )
    def post(self, request, pk):
        merchant = get_object_or_404(Merchant, pk=pk)
        refuse_body(request)
        merchant = services.approve_merchant(merchant=merchant, actor=request.user)
        return Response(MerchantSerializer(merchant).data)
