from django.http import Http404
from django.shortcuts import render
from django.utils.translation import get_language
from django.views.decorators.http import require_GET

from pages.selectors import page_for


@require_GET
def page(request, slug):
    found = page_for(slug=slug, language=get_language())
    if found is None:
        raise Http404
    return render(request, "pages/page.html", {"page": found})
