"""Image files made with Pillow for tests."""

import io
import os

from PIL import Image


def image_bytes(fmt: str = "JPEG", size: tuple[int, int] = (1200, 900), color="#2a6f97") -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, color).save(buffer, format=fmt)
    return buffer.getvalue()


def noise_bytes(size: tuple[int, int] = (400, 400)) -> bytes:
    """A PNG of random pixels: it hardly compresses, so its file is large (about 3 bytes
    per pixel)."""
    buffer = io.BytesIO()
    Image.frombytes("RGB", size, os.urandom(size[0] * size[1] * 3)).save(buffer, format="PNG")
    return buffer.getvalue()
