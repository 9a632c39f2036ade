"""Product images: thumbnails generated once, and images added by code (demo data).

What an upload must be is checked by `shop.validators.validate_product_image` (the
model field's validator, so the admin and this module refuse the same files).
Thumbnails are generated once, when the image is saved (easy-thumbnails writes them to
the media storage); their names and sizes are kept on the image, so a page builds its
`srcset` without asking the storage or the database.
"""

from django.core.files.base import ContentFile
from django.db import transaction
from easy_thumbnails.files import get_thumbnailer

from shop.models import Product, ProductImage

# Widths of the thumbnails in each image's srcset (CSS pixels at 1x and 2x of the
# catalog's cards and the product page); never wider than the original.
THUMBNAIL_WIDTHS = (320, 640, 960)


def render_thumbnails(*, image: ProductImage) -> ProductImage:
    """Generate the image's thumbnails (once: easy-thumbnails stores them and returns the
    stored ones when asked again) and remember their names and sizes on the image."""
    thumbnailer = get_thumbnailer(image.image)
    renditions = []
    for width in THUMBNAIL_WIDTHS:
        # An original narrower than this width is the widest rendition, at its own size.
        thumbnail = thumbnailer.get_thumbnail({"size": (min(width, image.width), 0)})
        renditions.append(
            {"name": thumbnail.name, "width": thumbnail.width, "height": thumbnail.height}
        )
        if width >= image.width:
            break
    image.renditions = renditions
    image.save(update_fields=["renditions"])
    return image


@transaction.atomic
def add_product_image(
    *, product: Product, content: bytes, filename: str, alt: str, position: int | None = None
) -> ProductImage:
    """Attach an image to a product (validated like an upload in the admin), after its
    others unless `position` is given, with its thumbnails."""
    if position is None:
        last = product.images.order_by("-position").values_list("position", flat=True).first()
        position = 0 if last is None else last + 1
    image = ProductImage(
        product=product, alt=alt, position=position, image=ContentFile(content, name=filename)
    )
    image.full_clean()  # before the file is stored: a refused file never reaches storage
    image.save()
    return render_thumbnails(image=image)
