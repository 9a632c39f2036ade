"""Product images: what is refused (Pillow decides), thumbnails made once, the pages'
srcset, the API's `images`, the admin's upload inline."""

import re
from decimal import Decimal

import boto3
import pytest
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from moto import mock_aws
from PIL import Image
from rest_framework.test import APIClient

from core.tests.helpers import api
from shop.images import add_product_image, render_thumbnails
from shop.models import ProductImage
from shop.tests.admin_forms import inline_management, product_form
from shop.tests.factories import ProductFactory
from shop.tests.images import image_bytes, noise_bytes
from shop.validators import validate_product_image

pytestmark = pytest.mark.django_db


def refusal(content: bytes, name: str = "upload.jpg") -> ValidationError:
    with pytest.raises(ValidationError) as caught:
        validate_product_image(ContentFile(content, name=name))
    return caught.value


# --- what is accepted ----------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["JPEG", "PNG", "WEBP"])
def test_jpeg_png_and_webp_images_are_accepted(fmt):
    validate_product_image(ContentFile(image_bytes(fmt), name=f"a.{fmt.lower()}"))


def test_a_file_that_is_not_an_image_is_refused_whatever_its_name():
    error = refusal(b"%PDF-1.7 not a picture at all", name="photo.jpg")
    assert error.code == "not_an_image"
    assert error.messages == [
        "The file is not an image Pillow can read: upload a JPEG, PNG or WebP image."
    ]


def test_a_truncated_image_is_refused():
    assert refusal(image_bytes("PNG")[:200], name="cut.png").code == "not_an_image"


def test_an_image_of_another_type_is_refused():
    error = refusal(image_bytes("GIF"), name="anim.gif")
    assert error.code == "image_type"
    assert error.messages == ["GIF images are not accepted: upload a JPEG, PNG or WebP image."]


def test_an_oversize_file_is_refused_before_it_is_decoded(settings):
    settings.PRODUCT_IMAGE_MAX_BYTES = 1024
    error = refusal(b"\0" * 2048, name="big.png")  # not even an image: size comes first
    assert error.code == "image_too_large"
    assert error.messages == ["The image is 2.0\xa0KB; the largest allowed is 1.0\xa0KB."]


@pytest.mark.parametrize(
    ("size", "shown"), [((150, 900), "150 x 900"), ((6400, 300), "6400 x 300")]
)
def test_an_image_too_small_or_too_large_in_pixels_is_refused(size, shown):
    error = refusal(image_bytes("PNG", size=size), name="odd.png")
    assert error.code == "image_dimensions"
    assert error.messages == [
        f"The image is {shown} pixels; each side must be between 200 and 6000 pixels."
    ]


def test_a_decompression_bomb_is_refused_without_decoding_it(monkeypatch):
    # Pillow's limit lowered so a small file stands for one claiming billions of pixels.
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 100_000)
    error = refusal(image_bytes("PNG", size=(400, 400)), name="bomb.png")
    assert error.code == "image_dimensions"
    assert error.messages == ["The image has too many pixels to open safely."]


# --- thumbnails ----------------------------------------------------------------------------------


def test_adding_an_image_stores_it_with_its_size_and_thumbnails_once():
    product = ProductFactory()
    image = add_product_image(
        product=product, content=image_bytes(size=(1200, 900)), filename="mug.jpg", alt="A mug"
    )
    assert (image.width, image.height, image.position) == (1200, 900, 0)
    assert [(r["width"], r["height"]) for r in image.renditions] == [
        (320, 240),
        (640, 480),
        (960, 720),
    ]
    for rendition in image.renditions:
        assert default_storage.exists(rendition["name"])
    names = [r["name"] for r in image.renditions]
    # Asked again, easy-thumbnails finds the stored thumbnails: nothing is generated anew.
    assert [r["name"] for r in render_thumbnails(image=image).renditions] == names
    second = add_product_image(
        product=product, content=image_bytes(size=(500, 400)), filename="b.jpg", alt="Side"
    )
    # An original narrower than a width is the widest rendition, at its own size.
    assert second.position == 1
    assert [(r["width"], r["height"]) for r in second.renditions] == [(320, 256), (500, 400)]


def test_a_refused_file_is_never_stored():
    product = ProductFactory()
    with pytest.raises(ValidationError):
        add_product_image(product=product, content=b"nope", filename="x.jpg", alt="x")
    assert ProductImage.objects.count() == 0
    assert not default_storage.exists("products")


# --- pages -------------------------------------------------------------------------------------


@pytest.fixture
def pictured():
    product = ProductFactory(name="Enamel mug", price=Decimal("12.50"))
    add_product_image(product=product, content=image_bytes(), filename="m.jpg", alt="Blue mug")
    add_product_image(
        product=product, content=image_bytes(color="#aa0000"), filename="n.jpg", alt="Red mug"
    )
    return product


def test_catalog_cards_show_the_first_image_responsive_and_lazy(client, pictured):
    html = client.get(reverse("shop:catalog")).content.decode()
    first = ProductImage.objects.get(alt="Blue mug")
    assert html.count("<img ") == 1
    urls = [default_storage.url(r["name"]) for r in first.renditions]
    assert f'srcset="{urls[0]} 320w, {urls[1]} 640w, {urls[2]} 960w"' in html
    assert f'src="{urls[1]}"' in html
    assert 'width="640" height="480" alt="Blue mug" loading="lazy"' in html


def test_the_product_page_shows_every_image_in_order(client, pictured):
    html = client.get(pictured.get_absolute_url()).content.decode()
    assert html.count('loading="lazy"') == 2
    assert html.index('alt="Blue mug"') < html.index('alt="Red mug"')


def test_catalog_query_count_stays_flat_with_images(
    client, django_assert_max_num_queries, pictured
):
    for i in range(11):
        product = ProductFactory(name=f"Mug {i}")
        add_product_image(product=product, content=image_bytes(), filename="m.jpg", alt="m")
    # count, page, its images, its parents' variants, top categories
    with django_assert_max_num_queries(5):
        response = client.get(reverse("shop:catalog"))
    assert response.content.decode().count("<img ") == 12


# --- API -----------------------------------------------------------------------------------------


def test_the_product_object_lists_its_images_in_order(pictured):
    body = APIClient().get(api(f"products/{pictured.pk}")).json()
    blue, red = ProductImage.objects.order_by("position")
    assert body["images"] == [
        {
            "url": f"http://testserver{blue.image.url}",
            "alt": "Blue mug",
            "width": 1200,
            "height": 900,
        },
        {
            "url": f"http://testserver{red.image.url}",
            "alt": "Red mug",
            "width": 1200,
            "height": 900,
        },
    ]


def test_the_product_list_with_images_takes_four_queries(django_assert_max_num_queries):
    for _ in range(5):
        product = ProductFactory()
        for j in range(3):
            add_product_image(product=product, content=image_bytes(), filename="a.jpg", alt=f"{j}")
    # count, page, images, variants
    with django_assert_max_num_queries(4):
        results = APIClient().get(api("products")).json()["results"]
    assert [len(p["images"]) for p in results] == [3] * 5
    assert [i["alt"] for i in results[0]["images"]] == ["0", "1", "2"]


# --- admin -------------------------------------------------------------------------------------


def upload_form(product, upload, alt="Front view") -> dict:
    return product_form(
        product,
        **inline_management("images", total=1),
        **{"images-0-image": upload, "images-0-alt": alt, "images-0-position": "0"},
    )


def test_staff_upload_an_image_in_the_product_admin_and_get_thumbnails(staff_client):
    product = ProductFactory()
    upload = SimpleUploadedFile("front.png", image_bytes("PNG", (800, 600)), "image/png")
    response = staff_client.post(
        reverse("admin:shop_product_change", args=[product.pk]), upload_form(product, upload)
    )
    assert response.status_code == 302
    image = ProductImage.objects.get(product=product)
    assert (image.alt, image.width, image.height) == ("Front view", 800, 600)
    assert [r["width"] for r in image.renditions] == [320, 640, 800]


def test_saving_a_product_again_keeps_its_stored_image(staff_client):
    """The stored image was checked when it was uploaded; saving the page again (a new
    price, say) must not read it as an upload."""
    product = ProductFactory(price=Decimal("10.00"))
    image = add_product_image(
        product=product, content=image_bytes(), filename="front.jpg", alt="Front view"
    )
    data = product_form(product, price="12.00", **inline_management("images", total=1, initial=1))
    data.update(
        {
            "images-0-id": str(image.pk),
            "images-0-product": str(product.pk),
            "images-0-alt": "Front view",
            "images-0-position": "0",
        }
    )

    response = staff_client.post(reverse("admin:shop_product_change", args=[product.pk]), data)

    assert response.status_code == 302, response.context and response.context["errors"]
    product.refresh_from_db()
    assert product.price == Decimal("12.00")
    assert ProductImage.objects.get().image.name == image.image.name


@pytest.mark.parametrize(
    ("upload", "message"),
    [
        (
            SimpleUploadedFile("notes.jpg", b"just some text", "image/jpeg"),
            # Django's ImageField refuses it first, with its own words.
            "Upload a valid image. The file you uploaded was either not an image or a "
            "corrupted image.",
        ),
        (
            SimpleUploadedFile("anim.gif", image_bytes("GIF"), "image/gif"),
            "GIF images are not accepted: upload a JPEG, PNG or WebP image.",
        ),
    ],
    ids=["not-an-image", "gif"],
)
def test_the_admin_refuses_a_file_that_is_not_an_accepted_image(staff_client, upload, message):
    product = ProductFactory()
    response = staff_client.post(
        reverse("admin:shop_product_change", args=[product.pk]), upload_form(product, upload)
    )
    assert response.status_code == 200
    errors = response.context["inline_admin_formsets"][1].formset.errors
    assert errors == [{"image": [message]}]
    assert ProductImage.objects.count() == 0


def test_the_admin_refuses_an_oversize_image(staff_client, settings):
    settings.PRODUCT_IMAGE_MAX_BYTES = 50_000
    product = ProductFactory()
    upload = SimpleUploadedFile("noise.png", noise_bytes((400, 400)), "image/png")
    assert upload.size > 400_000
    response = staff_client.post(
        reverse("admin:shop_product_change", args=[product.pk]), upload_form(product, upload)
    )
    assert response.status_code == 200
    errors = response.context["inline_admin_formsets"][1].formset.errors
    assert re.fullmatch(
        r"The image is 4\d\d\.\d\xa0KB; the largest allowed is 48\.8\xa0KB\.",
        errors[0]["image"][0],
    )
    assert ProductImage.objects.count() == 0


# --- production storage --------------------------------------------------------------------------


def test_images_and_thumbnails_go_to_the_s3_bucket_in_production(settings, monkeypatch):
    # moto stands in for S3 (no network): the settings are those MEDIA_BUCKET and
    # MEDIA_DOMAIN produce (config/tests/test_settings_env.py checks that mapping).
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.setenv(name, "testing")
    with mock_aws():
        boto3.client("s3", region_name="us-east-1").create_bucket(Bucket="shop-media")
        settings.STORAGES = {
            **settings.STORAGES,
            "default": {
                "BACKEND": "storages.backends.s3.S3Storage",
                "OPTIONS": {
                    "bucket_name": "shop-media",
                    "region_name": "us-east-1",
                    "custom_domain": "media.example.com",
                    "querystring_auth": False,
                    "file_overwrite": False,
                },
            },
        }
        image = add_product_image(
            product=ProductFactory(), content=image_bytes(), filename="mug.jpg", alt="Mug"
        )
        stored = boto3.client("s3", region_name="us-east-1").list_objects_v2(Bucket="shop-media")
        keys = sorted(item["Key"] for item in stored["Contents"])
        assert keys == sorted([image.image.name, *(r["name"] for r in image.renditions)])
        assert len(keys) == 4
        assert image.image.url == f"https://media.example.com/{image.image.name}"
        assert image.srcset.startswith(
            f"https://media.example.com/{image.renditions[0]['name']} 320w"
        )
