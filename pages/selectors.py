from django.conf import settings

from pages.models import Page


def page_for(*, slug: str, language: str) -> Page | None:
    """The page in `language`, else in the shop's default language (a page staff have
    not translated yet still answers), else None. One query."""
    default = settings.LANGUAGE_CODE
    found = Page.objects.filter(slug=slug, language__in={language, default})
    pages = {page.language: page for page in found}
    return pages.get(language) or pages.get(default)
