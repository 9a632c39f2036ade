"""JSON API of the merchant area (`merchant/...`): an approved merchant's own products,
their stock and their sales. Anyone else signed in gets 403; another merchant's product
is 404. Views parse, call a service or selector, serialize."""

from django.shortcuts import get_object_or_404
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema
from rest_framework import generics, status
from rest_framework.permissions import BasePermission
from rest_framework.response import Response
from rest_framework.views import APIView

from core.api import error_responses
from marketplace import selectors, services
from marketplace.serializers import MerchantProductSerializer, SaleSerializer
from merchants.selectors import approved_merchant_of
from shop import selectors as shop_selectors
from shop.serializers import (
    AdjustSerializer,
    InventorySerializer,
    ProductCreateSerializer,
    ProductUpdateSerializer,
)


class IsApprovedMerchant(BasePermission):
    """A signed-in user whose merchant application staff approved; the view finds the
    merchant in `request.merchant`."""

    message = _("Only approved merchants can do this.")
    code = "not_a_merchant"

    def has_permission(self, request, view):
        if not (request.user and request.user.is_authenticated):
            return False
        request.merchant = approved_merchant_of(user=request.user)
        return request.merchant is not None


class MerchantView(APIView):
    permission_classes = [IsApprovedMerchant]

    def own_product(self, pk):
        """The merchant's product `pk`; 404 for anyone else's."""
        return get_object_or_404(selectors.products_of(merchant=self.request.merchant), pk=pk)

    def product_response(self, pk, status_code=status.HTTP_200_OK) -> Response:
        product = self.own_product(pk)
        return Response(MerchantProductSerializer(product).data, status=status_code)


class MerchantProductListView(generics.ListAPIView, MerchantView):
    serializer_class = MerchantProductSerializer

    def get_queryset(self):
        return selectors.products_of(merchant=self.request.merchant)

    @extend_schema(
        operation_id="merchant_products_list",
        tags=["merchant"],
        responses={
            200: MerchantProductSerializer(many=True),
            **error_responses(400, 401, 403, 404),
        },
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    @extend_schema(
        operation_id="merchant_products_create",
        tags=["merchant"],
        request=ProductCreateSerializer,
        responses={201: MerchantProductSerializer, **error_responses(400, 401, 403)},
    )
    def post(self, request):
        serializer = ProductCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        product = services.create_merchant_product(user=request.user, **serializer.validated_data)
        return self.product_response(product.pk, status.HTTP_201_CREATED)


class MerchantProductDetailView(MerchantView):
    @extend_schema(
        operation_id="merchant_products_update",
        tags=["merchant"],
        request=ProductUpdateSerializer,
        responses={200: MerchantProductSerializer, **error_responses(400, 401, 403, 404)},
    )
    def patch(self, request, pk):
        product = self.own_product(pk)
        serializer = ProductUpdateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        if serializer.validated_data:
            services.update_merchant_product(
                user=request.user, product=product, **serializer.validated_data
            )
        return self.product_response(pk)


class MerchantProductAdjustView(MerchantView):
    @extend_schema(
        operation_id="merchant_products_adjust",
        tags=["merchant"],
        request=AdjustSerializer,
        responses={
            200: InventorySerializer,
            **error_responses(400, 401, 403, 404, 409, conflict_stock=True),
        },
    )
    def post(self, request, pk):
        product = self.own_product(pk)
        serializer = AdjustSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        services.adjust_merchant_stock(
            user=request.user, product=product, **serializer.validated_data
        )
        return Response(InventorySerializer(shop_selectors.stock_levels().get(product_id=pk)).data)


class MerchantSalesView(generics.ListAPIView, MerchantView):
    serializer_class = SaleSerializer

    def get_queryset(self):
        return selectors.sales_of(merchant=self.request.merchant)

    @extend_schema(
        operation_id="merchant_sales_list",
        tags=["merchant"],
        description="Lines of the merchant's products in paid, fulfilled or refunded orders.",
        responses={200: SaleSerializer(many=True), **error_responses(400, 401, 403, 404)},
    )
    def get(self, request, *args, **kwargs):
        page = self.paginate_queryset(self.get_queryset())
        rows = selectors.with_fees(merchant=request.merchant, lines=page)
        return self.get_paginated_response(SaleSerializer(rows, many=True).data)
