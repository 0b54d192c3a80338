"""The size limit of uploaded CSV files (AUDIENCE_MAX_UPLOAD_BYTES), enforced while the
request is read: a larger file is skipped before its bytes go anywhere but through."""

from __future__ import annotations

from django.core.files.uploadhandler import FileUploadHandler, SkipFile


class SizeLimit(FileUploadHandler):
    """First of the request's upload handlers: passes each file's chunks on until the file
    passes `limit` bytes, then skips it. Django's parser then closes (and deletes) what the
    handlers after this one kept of it and reads the other fields as usual, so the form is
    shown again with its values; `skipped` names the fields whose file was too large."""

    def __init__(self, request, limit: int):
        super().__init__(request)
        self.limit = limit
        self.skipped: set[str] = set()

    def receive_data_chunk(self, raw_data: bytes, start: int) -> bytes:
        if start + len(raw_data) > self.limit:
            self.skipped.add(self.field_name)
            raise SkipFile
        return raw_data

    def file_complete(self, file_size: int) -> None:
        return None  # the next handler makes the file
