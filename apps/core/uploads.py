"""Uploads: multipart/form-data with a limit on the bytes of its files, enforced as they stream in.

A module of its own, not apps/core/parsers.py: DRF imports the default parsers while
apps/core/exceptions.py is still importing DRF, so those cannot import the API's errors.
"""

from django.core.files.uploadhandler import FileUploadHandler, StopUpload
from django.http.multipartparser import MultiPartParser as DjangoMultiPartParser
from django.http.multipartparser import MultiPartParserError
from rest_framework.exceptions import ParseError
from rest_framework.parsers import DataAndFiles, MultiPartParser, get_encoding

from apps.core.exceptions import PayloadTooLarge


class FileSizeLimitHandler(FileUploadHandler):
    """Counts the bytes of every uploaded file as they stream in, and stops the upload the moment
    they pass `max_bytes`: nothing after that point is read.

    It runs first and passes each chunk on unchanged, so the usual handlers (memory, then a
    temporary file) still build the files.
    """

    def __init__(self, request=None, *, max_bytes: int):
        super().__init__(request)
        self.max_bytes = max_bytes
        self.received = 0
        self.exceeded = False

    def receive_data_chunk(self, raw_data, start):
        self.received += len(raw_data)
        if self.received > self.max_bytes:
            self.exceeded = True
            # Django's way to abort: it closes the files so far and, with connection_reset, leaves
            # the rest of the body unread.
            raise StopUpload(connection_reset=True)
        return raw_data

    def file_complete(self, file_size):
        return None  # the next handler returns the file


class SizeLimitedMultiPartParser(MultiPartParser):
    """multipart/form-data whose files may hold at most `max_bytes()` bytes in all; more is a 413.

    Two checks, both before the body is in memory. A Content-Length that cannot fit is refused
    before a byte is read. But the header is only the client's claim, and it leaves room for the
    multipart envelope, so the files' bytes are also counted as they stream in and the upload stops
    at the limit, whatever the header said. DATA_UPLOAD_MAX_MEMORY_SIZE does not get in the way:
    Django counts only the non-file fields against it.

    Under WSGI "before it is read" is literal. Under ASGI, Django has spooled the body to a
    temporary file before any view runs; there the server's own body limit is the first line.
    """

    # Room in the declared length for the boundaries and part headers around the files.
    envelope_bytes = 16 * 1024

    def max_bytes(self) -> int:
        raise NotImplementedError

    def too_large(self) -> PayloadTooLarge:
        return PayloadTooLarge()

    def parse(self, stream, media_type=None, parser_context=None):
        request = parser_context["request"]
        limit = self.max_bytes()
        if _declared_length(request.META) > limit + self.envelope_bytes:
            raise self.too_large()
        meta = request.META.copy()
        meta["CONTENT_TYPE"] = media_type
        size_limit = FileSizeLimitHandler(request, max_bytes=limit)
        handlers = [size_limit, *request.upload_handlers]
        try:
            data, files = DjangoMultiPartParser(meta, stream, handlers, get_encoding(parser_context)).parse()
        except MultiPartParserError as exc:
            raise ParseError(f"Multipart form parse error - {exc}") from exc
        if size_limit.exceeded:
            for _, uploads in files.lists():
                for upload in uploads:
                    upload.close()
            raise self.too_large()
        return DataAndFiles(data, files)


def _declared_length(meta) -> int:
    try:
        return int(meta.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return 0
