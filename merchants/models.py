from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class Merchant(models.Model):
    """A user who sells products in the shop (products name their merchant; a product
    without one belongs to the shop). Applies as `pending`; staff approve it
    (merchants.services). Low in the layers so that shop.Product can point at it: what a
    merchant does (their products, stock, sales) lives in `marketplace`, their earnings
    in `wallets`."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        APPROVED = "approved", _("Approved")

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="merchant"
    )
    display_name = models.CharField(_("display name"), max_length=100)
    status = models.CharField(
        _("status"), max_length=16, choices=Status.choices, default=Status.PENDING, db_index=True
    )
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    approved_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("merchant")
        verbose_name_plural = _("merchants")

    def __str__(self):
        return self.display_name

    @property
    def is_approved(self) -> bool:
        return self.status == self.Status.APPROVED
