from shop import cart


def storefront(request):
    """`cart_count` for the header badge.

    A callable, so templates that never show it (the admin's) cost no query.
    """
    if not hasattr(request, "user"):
        return {}

    def cart_count():
        if request.user.is_authenticated:
            return cart.count_items(user=request.user)
        return cart.count_items(session=request.session)

    return {"cart_count": cart_count}
