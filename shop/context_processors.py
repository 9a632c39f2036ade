def storefront(request):
    return {}
