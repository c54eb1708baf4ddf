"""Product images: what an upload must be before it is stored.

An upload is judged by decoding it, never by its file name or the Content-Type the client gave:

1. Size: at most PRODUCT_IMAGE_MAX_BYTES, enforced while the body streams in (ProductImageParser),
   so a large body is a 413 before it is read, whatever its Content-Length says.
2. Type: Pillow must identify it as JPEG, PNG or WebP; anything else is a 415.
3. Pixels: at most MAX_PIXELS, read from the header before a single pixel is decoded. A few
   kilobytes of PNG can announce 20000x20000 pixels and inflate to gigabytes when decoded (a
   decompression bomb): that is a 400.
4. Integrity: `verify()` checks the structure (PNG checksums), then a full `load()` of a fresh
   handle catches what only decoding finds, such as a truncated JPEG. A damaged file is a 415 too:
   it is not a usable JPEG, PNG or WebP image.

The file is stored under a random name with the suffix of the format Pillow found, so a PNG sent
as `photo.txt` becomes `….png` and a script sent as `photo.png` never gets stored at all. A JPEG
with an MPF segment (most phone cameras add one, for a depth map or a preview), which Pillow calls
MPO, is a JPEG: its first image is what every browser shows.

Metadata: with PRODUCT_IMAGE_STRIP_METADATA (the default), an image that carries EXIF, XMP or
comments (a phone photo's GPS position, the camera's make and serial number) is stored re-encoded
without them, its EXIF orientation applied to the pixels so that it still shows the right way up;
its colour profile is kept. `image_check` leaves the upload holding those bytes. An image without
metadata is stored exactly as it came.
"""

import io
import warnings
from dataclasses import dataclass

from django.conf import settings
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext_lazy as _
from PIL import ExifTags, Image, ImageOps, UnidentifiedImageError

from apps.core import errors
from apps.core.exceptions import PayloadTooLarge
from apps.core.uploads import SizeLimitedMultiPartParser

# Pillow format name -> the suffix the stored file gets.
FORMATS = {"JPEG": ".jpg", "PNG": ".png", "WEBP": ".webp"}
# Formats Pillow reports for files that are one of FORMATS: a JPEG with an MPF segment is "MPO".
ALIASES = {"MPO": "JPEG"}
# `image.info` keys of metadata a stored image must not carry.
METADATA_KEYS = ("exif", "xmp", "XML:com.adobe.xmp", "comment", "photoshop")
# 25 megapixels (6000x4000 from a camera fits). The decoded image is held in memory while it is
# checked, up to 4 bytes a pixel: this bounds one check at about 100 MB.
MAX_PIXELS = 25_000_000

NOT_AN_IMAGE = _("The file is not a JPEG, PNG or WebP image.")
DAMAGED_IMAGE = _("The file is not a complete JPEG, PNG or WebP image: it is damaged or truncated.")
TOO_MANY_PIXELS = _("The image has too many pixels: at most %(max)s megapixels are accepted.")


@dataclass(frozen=True)
class CheckedImage:
    format: str  # a key of FORMATS
    width: int
    height: int

    @property
    def suffix(self) -> str:
        return FORMATS[self.format]

    @property
    def content_type(self) -> str:
        return Image.MIME[self.format]


def image_too_large_message() -> str:
    limit = filesizeformat(settings.PRODUCT_IMAGE_MAX_BYTES).replace("\xa0", " ")  # plain text for JSON
    return _("The image is larger than %(limit)s.") % {"limit": limit}


class ProductImageParser(SizeLimitedMultiPartParser):
    """multipart/form-data only, with at most PRODUCT_IMAGE_MAX_BYTES of file data."""

    def max_bytes(self) -> int:
        return settings.PRODUCT_IMAGE_MAX_BYTES

    def too_large(self) -> PayloadTooLarge:
        return PayloadTooLarge(image_too_large_message())


def image_check(file) -> CheckedImage:
    """What `file` (an uploaded file) is, or the domain error that refuses it: TooLarge,
    UnsupportedMediaType or InvalidInput."""
    if file.size > settings.PRODUCT_IMAGE_MAX_BYTES:
        # The parser stops larger uploads; this covers other callers (the admin).
        raise errors.TooLarge(image_too_large_message())
    try:
        # Pillow only warns between MAX_IMAGE_PIXELS and twice that; here that is a refusal. The
        # filter is process-wide while it is set (warnings has no per-thread filters before Python
        # 3.14), which is harmless: our own MAX_PIXELS check refuses every such image anyway.
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            checked = _decode(file)
            if settings.PRODUCT_IMAGE_STRIP_METADATA:
                checked = _strip_metadata(file, checked)
            return checked
    except (_TooManyPixels, Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        message = TOO_MANY_PIXELS % {"max": MAX_PIXELS // 1_000_000}
        raise errors.InvalidInput({"image": [message]}) from exc
    except UnidentifiedImageError as exc:
        raise errors.UnsupportedMediaType(NOT_AN_IMAGE) from exc
    except Exception as exc:  # Pillow signals malformed data with OSError, SyntaxError, ValueError, …
        raise errors.UnsupportedMediaType(DAMAGED_IMAGE) from exc
    finally:
        file.seek(0)


class _TooManyPixels(Exception):
    pass


def _check_pixels(width: int, height: int) -> None:
    if width * height > MAX_PIXELS:
        raise _TooManyPixels


def _decode(file) -> CheckedImage:
    file.seek(0)
    # Pillow's WebP plugin allocates the whole canvas as it opens the file, before our check of
    # `image.size` could run: read the announced size from the header first.
    announced = _webp_canvas_size(file.read(30))
    if announced is not None:
        _check_pixels(*announced)
    formats = tuple(FORMATS)
    # Opening reads the header only; nothing is decoded before the pixel check.
    with Image.open(file, formats=formats) as image:
        _check_pixels(*image.size)
        image.verify()
    # verify() leaves the image unusable: decode a fresh one in full.
    with Image.open(file, formats=formats) as image:
        _check_pixels(*image.size)
        image.load()
        return CheckedImage(
            format=ALIASES.get(image.format, image.format), width=image.width, height=image.height
        )


def _has_metadata(image) -> bool:
    return (
        any(key in image.info for key in METADATA_KEYS)
        or bool(image.getexif())
        or bool(getattr(image, "text", None))  # PNG text chunks
        or image.format in ALIASES  # an MPO's further images carry metadata of their own
    )


def _strip_metadata(file, checked: CheckedImage) -> CheckedImage:
    """Replace the upload's bytes with the image re-encoded without metadata, if it has any; what
    the stored image is then (turned upright, its width and height may have swapped)."""
    file.seek(0)
    with Image.open(file, formats=tuple(FORMATS)) as image:
        if not _has_metadata(image):
            return checked
        options = {"icc_profile": image.info.get("icc_profile")}
        if getattr(image, "is_animated", False) and checked.format == "WEBP":
            # Every frame kept; an animation has no orientation to apply.
            options.update(save_all=True, quality=90)
            upright = image
        else:
            turned = image.getexif().get(ExifTags.Base.Orientation, 1) not in (None, 1)
            upright = ImageOps.exif_transpose(image) if turned else image
            if checked.format == "JPEG":
                # Pillow copies the comment over unless told otherwise. Pixels that did not move in
                # a plain JPEG keep its quantisation, so nothing is lost a second time.
                keep = upright is image and image.format == "JPEG"
                options.update(
                    comment=b"", **({"quality": "keep", "subsampling": "keep"} if keep else {"quality": 95})
                )
            elif checked.format == "WEBP":
                options.update(quality=90)
            elif "transparency" in image.info:
                options["transparency"] = image.info["transparency"]
        buffer = io.BytesIO()
        upright.save(buffer, checked.format, **{k: v for k, v in options.items() if v is not None})
    data = buffer.getvalue()
    file.seek(0)
    file.truncate()
    file.write(data)
    file.size = len(data)
    return CheckedImage(format=checked.format, width=upright.width, height=upright.height)


def _webp_canvas_size(header: bytes) -> tuple[int, int] | None:
    """The canvas size a WebP file's first 30 bytes announce, or None if they are not WebP's."""
    if len(header) < 30 or header[:4] != b"RIFF" or header[8:12] != b"WEBP":
        return None
    chunk = header[12:16]
    if chunk == b"VP8X":  # extended: 24-bit width - 1 and height - 1
        return int.from_bytes(header[24:27], "little") + 1, int.from_bytes(header[27:30], "little") + 1
    if chunk == b"VP8 " and header[23:26] == b"\x9d\x01\x2a":  # lossy: 14-bit width and height
        width, height = int.from_bytes(header[26:28], "little"), int.from_bytes(header[28:30], "little")
        return width & 0x3FFF, height & 0x3FFF
    if chunk == b"VP8L" and header[20] == 0x2F:  # lossless: 14-bit width - 1 and height - 1
        bits = int.from_bytes(header[21:25], "little")
        return (bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1
    return None
