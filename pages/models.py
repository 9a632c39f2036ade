"""The shop's own words that staff keep up to date without a deploy: contact, shipping
and returns, privacy. One row per page and language; the footer links every page.
"""

from django.conf import settings
from django.db import models
from django.urls import reverse
from django.utils.translation import gettext_lazy as _


class Page(models.Model):
    class Slug(models.TextChoices):
        CONTACT = "contact", _("Contact")
        SHIPPING = "shipping-returns", _("Shipping and returns")
        PRIVACY = "privacy", _("Privacy")

    slug = models.SlugField(_("page"), max_length=40, choices=Slug.choices)
    language = models.CharField(_("language"), max_length=8, choices=settings.LANGUAGES)
    title = models.CharField(_("title"), max_length=200)
    body = models.TextField(
        _("text"), help_text=_("Plain text; an empty line starts a new paragraph.")
    )
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        ordering = ["slug", "language"]
        constraints = [
            models.UniqueConstraint(fields=["slug", "language"], name="page_one_per_language"),
        ]
        verbose_name = _("footer page")
        verbose_name_plural = _("footer pages")

    def __str__(self):
        return f"{self.title} ({self.language})"

    def get_absolute_url(self):
        return reverse("pages:page", kwargs={"slug": self.slug})
