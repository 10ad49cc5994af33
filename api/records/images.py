"""Signatures and photos from the crews' phones, decoded in full before anything is kept.

A file is taken as an image only when Pillow decodes every pixel of it: a PNG header in
front of anything else (an HTML page, say) is refused, however its first bytes look.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import io
import warnings
from dataclasses import dataclass

from PIL import Image

from api.core.config import ServiceSettings
from api.core.errors import RuleBroken, TooLarge

MEDIA_TYPES = {"PNG": "image/png", "JPEG": "image/jpeg"}


@dataclass(frozen=True, slots=True)
class Upload:
    content: bytes
    media_type: str
    sha256: str


@dataclass(frozen=True, slots=True)
class Signed:
    """A customer's signature and the photos taken with it."""

    signature: Upload
    photos: tuple[Upload, ...]


def decode_image(
    encoded: str, *, field: str, limit: str, max_bytes: int, max_pixels: int
) -> Upload:
    """A base64 PNG or JPEG within the limits, or a 413 (naming the limit) or 422."""
    too_large = TooLarge(f"{field}: larger than {max_bytes} bytes", field=field, rule=limit)
    # Four base64 characters carry three bytes: refuse a long text before decoding it.
    if len(encoded) > (max_bytes + 2) // 3 * 4:
        raise too_large
    try:
        content = base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError):
        raise RuleBroken(f"{field}: not valid base64", field=field) from None
    if len(content) > max_bytes:
        raise too_large
    media_type = _decoded_type(content, field=field, max_pixels=max_pixels)
    return Upload(content, media_type, hashlib.sha256(content).hexdigest())


def _decoded_type(content: bytes, *, field: str, max_pixels: int) -> str:
    refused = RuleBroken(f"{field}: must be a PNG or JPEG image", field=field, rule="image")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(content), formats=list(MEDIA_TYPES)) as image:
                if image.width * image.height > max_pixels:
                    raise TooLarge(
                        f"{field}: more than {max_pixels} pixels",
                        field=field,
                        rule="max_image_pixels",
                    )
                image.load()  # every pixel: a forged or truncated file fails here
                media_type = MEDIA_TYPES[str(image.format)]
    except (
        OSError,
        SyntaxError,
        ValueError,
        Image.DecompressionBombError,
        Image.DecompressionBombWarning,
    ):
        raise refused from None
    return media_type


def signed_images(settings: ServiceSettings, *, signature: str, photos: list[str]) -> Signed:
    """A sign-off's or service report's signature and photos, within the settings' limits."""
    if len(photos) > settings.max_photos:
        raise TooLarge(
            f"photos: at most {settings.max_photos} photos", field="photos", rule="max_photos"
        )
    return Signed(
        decode_image(
            signature,
            field="signature_png",
            limit="max_signature_bytes",
            max_bytes=settings.max_signature_bytes,
            max_pixels=settings.max_image_pixels,
        ),
        tuple(photo(settings, encoded, field="photos") for encoded in photos),
    )


def photo(settings: ServiceSettings, encoded: str, *, field: str = "image") -> Upload:
    return decode_image(
        encoded,
        field=field,
        limit="max_photo_bytes",
        max_bytes=settings.max_photo_bytes,
        max_pixels=settings.max_image_pixels,
    )
