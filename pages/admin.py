from django.contrib import admin

from pages.models import Page


@admin.register(Page)
class PageAdmin(admin.ModelAdmin):
    """Staff with the pages app's change permission edit the text; the footer links the
    three pages, so adding a language is adding a row."""

    list_display = ["title", "slug", "language", "updated_at"]
    list_filter = ["slug", "language"]
    search_fields = ["title", "body"]
    fields = ["slug", "language", "title", "body", "updated_at"]
    readonly_fields = ["updated_at"]
