"""Validators of uploads, kept apart from the models that use them and the services."""

import warnings

from django.conf import settings
from django.core.exceptions import ValidationError
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext as _
from PIL import Image, UnidentifiedImageError

ALLOWED_FORMATS = {"JPEG": "JPEG", "PNG": "PNG", "WEBP": "WebP"}


def validate_product_image(file) -> None:
    """Refuse anything but a JPEG, PNG or WebP image of at most PRODUCT_IMAGE_MAX_BYTES
    whose sides lie within PRODUCT_IMAGE_MIN_SIDE..PRODUCT_IMAGE_MAX_SIDE pixels.

    Pillow reads the header and verifies the data; the extension and the browser's
    content type are not trusted. Raises ValidationError with a message for staff.
    An image already stored (a product saved again) was checked when it was uploaded.
    """
    if getattr(file, "_committed", False):
        return
    limit = settings.PRODUCT_IMAGE_MAX_BYTES
    if file.size > limit:
        raise ValidationError(
            _("The image is %(size)s; the largest allowed is %(limit)s.")
            % {"size": filesizeformat(file.size), "limit": filesizeformat(limit)},
            code="image_too_large",
        )
    try:
        file.seek(0)
        # A decompression bomb (a tiny file claiming billions of pixels) is an error
        # here, not a warning.
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(file) as image:
                kind, (width, height) = image.format, image.size
                image.verify()
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise ValidationError(
            _("The image has too many pixels to open safely."), code="image_dimensions"
        ) from None
    except (
        UnidentifiedImageError,
        OSError,
        SyntaxError,
        ValueError,
    ):
        raise ValidationError(
            _("The file is not an image Pillow can read: upload a JPEG, PNG or WebP image."),
            code="not_an_image",
        ) from None
    finally:
        file.seek(0)
    if kind not in ALLOWED_FORMATS:
        raise ValidationError(
            _("%(kind)s images are not accepted: upload a JPEG, PNG or WebP image.")
            % {"kind": kind},
            code="image_type",
        )
    low, high = settings.PRODUCT_IMAGE_MIN_SIDE, settings.PRODUCT_IMAGE_MAX_SIDE
    if not (low <= width <= high and low <= height <= high):
        raise ValidationError(
            _(
                "The image is %(width)s x %(height)s pixels; each side must be between "
                "%(low)s and %(high)s pixels."
            )
            % {"width": width, "height": height, "low": low, "high": high},
            code="image_dimensions",
        )
