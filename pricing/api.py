"""JSON API of shipping methods, tax rates and coupons. Views parse, call a service or
selector, serialize. Customers read the shipping methods for a country; staff with the
model's `add_` permission create each kind."""

from django_countries import countries
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import status
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from core.api import StaffWithPermission, error_responses
from pricing import selectors, services
from pricing.models import Coupon, ShippingMethod, TaxRate
from pricing.serializers import (
    CountryQuerySerializer,
    CouponSerializer,
    ShippingMethodSerializer,
    ShippingOptionSerializer,
    TaxRateSerializer,
)


class ShippingMethodsView(APIView):
    def get_permissions(self):
        if self.request.method == "POST":
            return [StaffWithPermission("pricing.add_shippingmethod")]
        return [AllowAny()]

    @extend_schema(
        operation_id="shipping_methods_list",
        tags=["pricing"],
        parameters=[
            OpenApiParameter(
                "country",
                str,
                required=True,
                enum=[code for code, _ in countries],
                description="ISO 3166-1 alpha-2 code, e.g. DE.",
            )
        ],
        description="Active methods that ship to the country, cheapest first (not paginated).",
        responses={200: ShippingOptionSerializer(many=True), **error_responses(400)},
        auth=[],
    )
    def get(self, request):
        query = CountryQuerySerializer(data=request.query_params.dict())
        query.is_valid(raise_exception=True)
        methods = selectors.shipping_methods_for(country=query.validated_data["country"])
        return Response(ShippingOptionSerializer(methods, many=True).data)

    @extend_schema(
        operation_id="shipping_methods_create",
        tags=["pricing"],
        request=ShippingMethodSerializer,
        responses={201: ShippingMethodSerializer, **error_responses(400, 401, 403)},
    )
    def post(self, request):
        serializer = ShippingMethodSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        method = services.create_pricing_rule(
            rule=ShippingMethod(**serializer.validated_data), actor=request.user
        )
        return Response(ShippingMethodSerializer(method).data, status=status.HTTP_201_CREATED)


class TaxRateCreateView(APIView):
    permission_classes = [StaffWithPermission("pricing.add_taxrate")]

    @extend_schema(
        operation_id="tax_rates_create",
        tags=["pricing"],
        request=TaxRateSerializer,
        responses={201: TaxRateSerializer, **error_responses(400, 401, 403)},
    )
    def post(self, request):
        serializer = TaxRateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        rate = services.create_pricing_rule(
            rule=TaxRate(**serializer.validated_data), actor=request.user
        )
        return Response(TaxRateSerializer(rate).data, status=status.HTTP_201_CREATED)


class CouponCreateView(APIView):
    permission_classes = [StaffWithPermission("pricing.add_coupon")]

    @extend_schema(
        operation_id="coupons_create",
        tags=["pricing"],
        request=CouponSerializer,
        responses={201: CouponSerializer, **error_responses(400, 401, 403)},
    )
    def post(self, request):
        serializer = CouponSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        coupon = services.create_pricing_rule(
            rule=Coupon(**serializer.validated_data), actor=request.user
        )
        return Response(CouponSerializer(coupon).data, status=status.HTTP_201_CREATED)
