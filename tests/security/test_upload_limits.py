"""Finding 11 (uploads): CSV imports had no size cap, so any upload was written to disk whole.
A file over AUDIENCE_MAX_UPLOAD_BYTES is now skipped while the request is read: the form says
why, and nothing is stored (no file, no import, no audience). Callbacks have had their cap
(413) all along."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from audiences.models import Audience, Import
from tests.providers.helpers import create_generic

NEW = "/audiences/import/"
LIMIT = 1000
TOO_LARGE = (
    "This file is larger than 1000\xa0bytes, the largest file accepted. Split it into smaller "
    "files, each starting with the header line."
)


@pytest.fixture
def small_limit(settings, tmp_path):
    """A 1000-byte limit; uploads over 100 bytes are spooled to a temporary folder that the
    test can look into (Django's default is the system's)."""
    settings.AUDIENCE_MAX_UPLOAD_BYTES = LIMIT
    settings.FILE_UPLOAD_MAX_MEMORY_SIZE = 100
    settings.FILE_UPLOAD_TEMP_DIR = tmp_path / "spool"
    settings.FILE_UPLOAD_TEMP_DIR.mkdir()
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings


def csv_of(size: int) -> SimpleUploadedFile:
    header = b"phone,name\n"
    row = b"4155550123,Ann\n"
    body = header + row * ((size - len(header)) // len(row))
    body += b"x" * (size - len(body))
    assert len(body) == size
    return SimpleUploadedFile("big.csv", body, content_type="text/csv")


def stored_files(folder) -> list:
    return [p for p in folder.rglob("*") if p.is_file()] if folder.exists() else []


def test_it_refuses_a_file_over_the_limit_and_stores_nothing(marketer_client, small_limit):
    response = marketer_client.post(NEW, {"file": csv_of(LIMIT + 1), "new_name": "Leads"})

    assert response.status_code == 200
    assert response.context["form"].errors["file"] == [TOO_LARGE]
    assert b'id="field-file"' in response.content
    assert "file" not in response.wsgi_request.FILES  # skipped while the request was read
    assert response.context["form"]["new_name"].value() == "Leads"  # the rest is kept
    assert not Import.objects.exists()
    assert not Audience.objects.exists()
    assert stored_files(small_limit.MEDIA_ROOT) == []
    assert stored_files(small_limit.FILE_UPLOAD_TEMP_DIR) == []


def test_it_accepts_a_file_of_exactly_the_limit(marketer_client, small_limit):
    response = marketer_client.post(NEW, {"file": csv_of(LIMIT), "new_name": "Leads"})

    assert response.status_code == 302
    assert Import.objects.get().size_bytes == LIMIT


def test_it_says_the_limit_under_the_field(marketer_client, small_limit):
    response = marketer_client.get(NEW)

    assert "up to 1000\xa0bytes. It is imported in the background." in response.content.decode()


def test_the_form_refuses_an_oversized_file_on_its_own(small_limit, db):
    """Without the request's size limit in front (another caller of the form), the form
    still refuses the file."""
    from audiences.forms import UploadForm

    form = UploadForm({"new_name": "Leads"}, {"file": csv_of(LIMIT + 1)})

    assert form.errors["file"] == [TOO_LARGE]


def test_the_upload_still_needs_a_csrf_token(marketer_user, small_limit):
    client = Client(enforce_csrf_checks=True)
    client.force_login(marketer_user)

    response = client.post(NEW, {"file": csv_of(100), "new_name": "Leads"})

    assert response.status_code == 403
    assert not Import.objects.exists()


def test_a_callback_over_its_limit_is_refused_with_413(client, db, settings):
    settings.CALLBACK_MAX_BYTES = 100
    provider = create_generic()

    response = client.post(
        f"/callbacks/sms/{provider.callback_token}/", b"[" + b" " * 100 + b"]",
        content_type="application/json",
    )  # fmt: skip

    assert response.status_code == 413
