"""JSON API of accounts, catalog, inventory and cart. Views parse, call a service, serialize."""

from django.shortcuts import get_object_or_404
from django.utils.decorators import method_decorator
from django.utils.translation import gettext as _
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import generics, status
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.permissions import AllowAny, IsAdminUser, IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView
from rest_framework_simplejwt.exceptions import TokenError
from rest_framework_simplejwt.tokens import RefreshToken
from rest_framework_simplejwt.views import TokenObtainPairView, TokenRefreshView

from core.api import EMPTY_RESPONSE, AuthThrottle, StaffWithPermission, error_responses
from shop import addresses, cart, inventory, selectors, services
from shop.catalog_cache import cache_product_list
from shop.filters import ProductFilter
from shop.models import Inventory
from shop.serializers import (
    AddressSerializer,
    AdjustSerializer,
    CartQuantitySerializer,
    CartSerializer,
    CategorySerializer,
    InventorySerializer,
    LoginSerializer,
    LogoutSerializer,
    ProductCreateSerializer,
    ProductSerializer,
    ProductUpdateSerializer,
    RefreshSerializer,
    RegisteredSerializer,
    RegisterSerializer,
    TokenPairSerializer,
    UserSerializer,
)

# --- auth ----------------------------------------------------------------------------------


def _tokens_for(user) -> dict:
    refresh = RefreshToken.for_user(user)
    return {"access": str(refresh.access_token), "refresh": str(refresh)}


class RegisterView(APIView):
    # No authentication: a stale Authorization header must not stop anyone registering.
    authentication_classes = []
    permission_classes = [AllowAny]
    throttle_classes = [AuthThrottle]

    @extend_schema(
        operation_id="auth_register",
        tags=["auth"],
        request=RegisterSerializer,
        responses={201: RegisteredSerializer, **error_responses(400, 429)},
        auth=[],
    )
    def post(self, request):
        serializer = RegisterSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        user = services.register_customer(**serializer.validated_data)
        body = {"user": UserSerializer(user).data, **_tokens_for(user)}
        return Response(body, status=status.HTTP_201_CREATED)


@extend_schema_view(
    post=extend_schema(
        operation_id="auth_token",
        tags=["auth"],
        request=LoginSerializer,
        responses={200: TokenPairSerializer, **error_responses(400, 401, 429)},
        auth=[],
    )
)
class LoginView(TokenObtainPairView):
    authentication_classes = []
    serializer_class = LoginSerializer
    throttle_classes = [AuthThrottle]


@extend_schema_view(
    post=extend_schema(
        operation_id="auth_token_refresh",
        tags=["auth"],
        request=RefreshSerializer,
        responses={200: TokenPairSerializer, **error_responses(400, 401)},
        auth=[],
    )
)
class RefreshView(TokenRefreshView):
    authentication_classes = []
    serializer_class = RefreshSerializer


class LogoutView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        operation_id="auth_logout",
        tags=["auth"],
        request=LogoutSerializer,
        responses={204: EMPTY_RESPONSE, **error_responses(400, 401)},
    )
    def post(self, request):
        serializer = LogoutSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        try:
            token = RefreshToken(serializer.validated_data["refresh"])
        except TokenError as exc:
            raise _invalid_refresh(str(exc)) from exc
        if str(token.get("user_id")) != str(request.user.pk):
            raise _invalid_refresh("This refresh token belongs to someone else.")
        token.blacklist()
        return Response(status=status.HTTP_204_NO_CONTENT)


def _invalid_refresh(message: str):
    return ValidationError({"refresh": [message]}, code="token_not_valid")


class MeView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        operation_id="auth_me",
        tags=["auth"],
        responses={200: UserSerializer, **error_responses(401)},
    )
    def get(self, request):
        return Response(UserSerializer(request.user).data)


# --- catalog ---------------------------------------------------------------------------------


class CategoryListView(APIView):
    permission_classes = [AllowAny]

    @extend_schema(
        operation_id="categories_list",
        tags=["catalog"],
        # 400: a query string with control characters (config.middleware).
        responses={200: CategorySerializer(many=True), **error_responses(400)},
        auth=[],
    )
    def get(self, request):
        """Every category, depth first (a parent before its children, siblings by name);
        not paginated: the tree is small and read whole."""
        tree = selectors.category_tree()
        context = {"parents": selectors.parent_slugs(tree)}
        return Response(CategorySerializer(tree, many=True, context=context).data)


class ProductListCreateView(generics.ListAPIView):
    serializer_class = ProductSerializer
    # ?search, ?min_price, ?max_price, ?in_stock, ?ordering; a value it refuses is a 400.
    filter_backends = [DjangoFilterBackend]
    filterset_class = ProductFilter

    def get_permissions(self):
        if self.request.method == "POST":
            return [StaffWithPermission("shop.add_product")]
        return [AllowAny()]

    def get_queryset(self):
        category = None
        if slug := self.request.query_params.get("category"):
            category = selectors.category_by_slug(slug=slug)
            if category is None:
                raise NotFound(_("No category with this slug."))
        return selectors.products_for_sale(category=category)

    @extend_schema(
        operation_id="products_list",
        tags=["catalog"],
        parameters=[
            OpenApiParameter(
                "category",
                str,
                description="A category's slug: its products and those of every "
                "category below it (404 for an unknown slug).",
            ),
        ],
        responses={200: ProductSerializer(many=True), **error_responses(400, 404)},
        auth=[],
    )
    @method_decorator(cache_product_list)  # shop.catalog_cache says how fresh it is
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    @extend_schema(
        operation_id="products_create",
        tags=["catalog"],
        request=ProductCreateSerializer,
        responses={201: ProductSerializer, **error_responses(400, 401, 403)},
    )
    def post(self, request):
        serializer = ProductCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        product = services.create_product(actor=request.user, **serializer.validated_data)
        return Response(_product_data(request, product.pk), status=status.HTTP_201_CREATED)


def _product_data(request, pk) -> dict:
    """The product as it is now (a service just changed it), for its staff author."""
    products = selectors.products_visible_to(user=request.user)
    return ProductSerializer(products.get(pk=pk), context={"request": request}).data


class ProductDetailView(APIView):
    def get_permissions(self):
        if self.request.method == "PATCH":
            return [StaffWithPermission("shop.change_product")]
        return [AllowAny()]

    def get_product(self, pk):
        return get_object_or_404(selectors.products_visible_to(user=self.request.user), pk=pk)

    @extend_schema(
        operation_id="products_retrieve",
        tags=["catalog"],
        responses={200: ProductSerializer, **error_responses(404)},
        auth=[],
    )
    def get(self, request, pk):
        product = self.get_product(pk)
        return Response(ProductSerializer(product, context={"request": request}).data)

    @extend_schema(
        operation_id="products_update",
        tags=["catalog"],
        request=ProductUpdateSerializer,
        responses={200: ProductSerializer, **error_responses(400, 401, 403, 404)},
    )
    def patch(self, request, pk):
        product = self.get_product(pk)
        serializer = ProductUpdateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        if serializer.validated_data:
            services.update_product(
                product=product, actor=request.user, **serializer.validated_data
            )
        return Response(_product_data(request, product.pk))


# --- inventory -------------------------------------------------------------------------------


class InventoryListView(generics.ListAPIView):
    permission_classes = [IsAdminUser]
    serializer_class = InventorySerializer
    queryset = selectors.stock_levels()

    @extend_schema(
        operation_id="inventory_list",
        tags=["inventory"],
        responses={200: InventorySerializer(many=True), **error_responses(400, 401, 403, 404)},
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)


class InventoryAdjustView(APIView):
    permission_classes = [StaffWithPermission("shop.change_inventory")]

    @extend_schema(
        operation_id="inventory_adjust",
        tags=["inventory"],
        request=AdjustSerializer,
        responses={
            200: InventorySerializer,
            **error_responses(400, 401, 403, 404, 409, conflict_stock=True),
        },
    )
    def post(self, request, product_id):
        get_object_or_404(Inventory, product_id=product_id)
        serializer = AdjustSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        inventory.adjust(product_id=product_id, actor=request.user, **serializer.validated_data)
        return Response(
            InventorySerializer(selectors.stock_levels().get(product_id=product_id)).data
        )


# --- cart ----------------------------------------------------------------------------------


def _cart_response(user) -> Response:
    return Response(CartSerializer(cart.get_cart(user=user)).data)


class CartView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        operation_id="cart_retrieve",
        tags=["cart"],
        responses={200: CartSerializer, **error_responses(401)},
    )
    def get(self, request):
        return _cart_response(request.user)

    @extend_schema(
        operation_id="cart_clear",
        tags=["cart"],
        responses={204: EMPTY_RESPONSE, **error_responses(401)},
    )
    def delete(self, request):
        cart.clear(user=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


class CartItemView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        operation_id="cart_item_set",
        tags=["cart"],
        request=CartQuantitySerializer,
        responses={200: CartSerializer, **error_responses(400, 401, 404)},
    )
    def put(self, request, product_id):
        serializer = CartQuantitySerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        cart.set_quantity(
            product_id=product_id,
            quantity=serializer.validated_data["quantity"],
            user=request.user,
        )
        return _cart_response(request.user)

    @extend_schema(
        operation_id="cart_item_remove",
        tags=["cart"],
        responses={200: CartSerializer, **error_responses(401, 404)},
    )
    def delete(self, request, product_id):
        cart.set_quantity(product_id=product_id, quantity=0, user=request.user)
        return _cart_response(request.user)


# --- address book ----------------------------------------------------------------------------


class AddressListCreateView(generics.ListAPIView):
    permission_classes = [IsAuthenticated]
    serializer_class = AddressSerializer

    def get_queryset(self):
        return selectors.addresses_of(user=self.request.user)

    @extend_schema(
        operation_id="addresses_list",
        tags=["addresses"],
        responses={200: AddressSerializer(many=True), **error_responses(400, 401, 404)},
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    @extend_schema(
        operation_id="addresses_create",
        tags=["addresses"],
        request=AddressSerializer,
        responses={201: AddressSerializer, **error_responses(400, 401)},
    )
    def post(self, request):
        serializer = AddressSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        address = addresses.add_address(user=request.user, **serializer.validated_data)
        return Response(AddressSerializer(address).data, status=status.HTTP_201_CREATED)


class AddressDetailView(APIView):
    """One address of the user's book; anyone else's answers 404."""

    permission_classes = [IsAuthenticated]

    def get_address(self, pk):
        return get_object_or_404(selectors.addresses_of(user=self.request.user), pk=pk)

    @extend_schema(
        operation_id="addresses_retrieve",
        tags=["addresses"],
        responses={200: AddressSerializer, **error_responses(401, 404)},
    )
    def get(self, request, pk):
        return Response(AddressSerializer(self.get_address(pk)).data)

    @extend_schema(
        operation_id="addresses_update",
        tags=["addresses"],
        request=AddressSerializer(partial=True),
        responses={200: AddressSerializer, **error_responses(400, 401, 404)},
    )
    def patch(self, request, pk):
        address = self.get_address(pk)
        serializer = AddressSerializer(address, data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        address = addresses.update_address(address=address, **serializer.validated_data)
        return Response(AddressSerializer(address).data)

    @extend_schema(
        operation_id="addresses_destroy",
        tags=["addresses"],
        responses={204: EMPTY_RESPONSE, **error_responses(401, 404)},
    )
    def delete(self, request, pk):
        addresses.delete_address(address=self.get_address(pk))
        return Response(status=status.HTTP_204_NO_CONTENT)
