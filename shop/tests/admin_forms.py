"""What the product admin's add and change pages post, inlines included."""


def inline_management(prefix: str, *, total: int = 0, initial: int = 0) -> dict:
    return {
        f"{prefix}-TOTAL_FORMS": str(total),
        f"{prefix}-INITIAL_FORMS": str(initial),
        f"{prefix}-MIN_NUM_FORMS": "0",
        f"{prefix}-MAX_NUM_FORMS": "1000",
    }


def product_form(product=None, **fields) -> dict:
    """The product page's POST: the product's own fields (`fields` override them), the
    read-only inventory inline's management form and empty image and variant inlines."""
    data = {
        "name": product.name if product else "Desk lamp",
        "description": product.description if product else "Warm light",
        "price": str(product.price) if product else "149.99",
        "is_active": "on",
        "_save": "Save",
    }
    if product is None:
        data.update({"sku": "LMP-1", "initial_stock": "12"})
        data.update(inline_management("inventory"))
    else:
        data.update(inline_management("inventory", total=1, initial=1))
        data["inventory-0-product"] = str(product.pk)
    data.update(inline_management("images"))
    data.update(fields)
    return data
