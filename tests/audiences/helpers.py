"""Helpers shared by the audience tests: upload a CSV, choose its columns, run it."""

from __future__ import annotations

from django.core.files.uploadedfile import SimpleUploadedFile

from audiences import services
from audiences.models import Audience, Contact, Import


def upload(content: bytes | str, name: str = "contacts.csv") -> SimpleUploadedFile:
    data = content.encode() if isinstance(content, str) else content
    return SimpleUploadedFile(name, data, content_type="text/csv")


def start(content: bytes | str, audience: Audience | str = "Customers", user=None) -> Import:
    return services.start_import(upload(content), audience, user)


def run(
    content: bytes | str,
    phone_column: str = "phone",
    country: str = "US",
    audience: Audience | str = "Customers",
) -> Import:
    """Upload, choose the columns and run the import here, synchronously."""
    job = start(content, audience)
    services.choose_columns(job, phone_column, country)
    services.run_import(job.pk)
    job.refresh_from_db()
    return job


def rejected(job: Import) -> list[tuple[int, str]]:
    return list(job.rejected_rows.values_list("line", "reason"))


def contacts(audience: Audience) -> dict[str, dict]:
    return dict(Contact.objects.filter(audience=audience).values_list("phone", "attributes"))


def counts(job: Import) -> tuple[int, int, int, int]:
    """(rows read, added, merged, rejected)."""
    return job.rows_read, job.added, job.merged, job.rejected
