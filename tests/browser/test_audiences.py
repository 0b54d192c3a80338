"""A marketer imports a CSV by the form labels, chooses its columns, watches the progress reach
the summary through htmx polling, and sees the contacts with an opted-out badge (SPEC §4).

There is no Celery worker here: the import is queued as usual (its task's `delay` recorded)
and run in the test process, between two polls of the page."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from audiences import optouts, services, tasks
from audiences.models import Import, ImportStatus

from .helpers import screenshot

pytestmark = pytest.mark.browser

CSV = (
    "Name,Mobile,City\n"
    "Ann,(415) 555-0123,Paris\n"
    'Bob,+1 212 555 0142,"Rome, Italy"\n'
    "Cy,12,Lyon\n"
    "Dee,,Nice\n"
    "Ann again,415 555 0123,\n"
    "Eve,+33 6 12 34 56 78,Marseille\n"
)


@pytest.fixture
def queued(monkeypatch, settings, tmp_path) -> list[int]:
    """Import ids handed to Celery (recorded, never published)."""
    settings.MEDIA_ROOT = tmp_path / "media"
    ids: list[int] = []
    monkeypatch.setattr(tasks.run_import, "delay", lambda import_id: ids.append(import_id))
    return ids


def between_polls(page) -> None:
    """Return just after the page's next htmx poll was answered, so the test can change the
    database before the following one (the live server shares the test's connection)."""
    with page.expect_response(lambda r: r.request.headers.get("hx-request") == "true"):
        pass


def test_a_marketer_imports_a_csv_and_watches_it_finish(marketer_page, queued):
    page = marketer_page
    page.goto("/audiences/")
    expect(page.get_by_role("heading", name="No audience yet")).to_be_visible()
    screenshot(page, "audiences-empty")

    page.get_by_role("link", name="+ Import contacts").first.click()
    page.get_by_role("button", name="Upload and continue").click()
    expect(page.locator("#field-file")).to_contain_text("Choose a CSV file to import.")
    expect(page.locator("#field-new_name")).to_contain_text("Name the new audience.")
    screenshot(page, "audiences-upload-errors")

    page.get_by_label("CSV file").set_input_files(
        {"name": "spring-leads.csv", "mimeType": "text/csv", "buffer": CSV.encode()}
    )
    page.get_by_label("New audience name").fill("Spring leads")
    page.get_by_role("button", name="Upload and continue").click()

    expect(page.get_by_role("heading", name="Import spring-leads.csv")).to_be_visible()
    expect(page.get_by_label("Phone number column")).to_have_value("Mobile")
    expect(page.get_by_label("Default country")).to_have_value("US")
    expect(page.locator("table.preview tbody tr")).to_have_count(5)
    screenshot(page, "audiences-choose-columns")

    page.get_by_role("button", name="Start import").click()
    expect(page.get_by_role("heading", name="Waiting to start…")).to_be_visible()
    job = Import.objects.get()
    assert queued == [job.pk]
    assert job.status == ImportStatus.QUEUED

    # Show a half-way state for the screenshot, as a worker would record it.
    between_polls(page)
    Import.objects.filter(pk=job.pk).update(
        status=ImportStatus.RUNNING, processed_bytes=-(-job.size_bytes * 45 // 100), rows_read=3
    )
    progress = page.get_by_role("progressbar", name="Import progress")
    expect(progress).to_have_attribute("value", "45")
    screenshot(page, "audiences-import-running")

    between_polls(page)
    Import.objects.filter(pk=job.pk).update(
        status=ImportStatus.QUEUED, processed_bytes=0, rows_read=0
    )
    services.run_import(job.pk)

    expect(page.get_by_role("heading", name="Import finished")).to_be_visible()
    counts = page.locator(".import-counts").first
    expect(counts).to_contain_text("Rows read6")
    expect(counts).to_contain_text("New contacts3")
    expect(counts).to_contain_text("Merged duplicates1")
    expect(counts).to_contain_text("Rejected rows2")
    rejected = page.locator("section.rejected tbody tr")
    expect(rejected).to_have_count(2)
    expect(rejected.nth(0)).to_contain_text("4")
    expect(rejected.nth(0)).to_contain_text("not a valid phone number for US: 12")
    expect(rejected.nth(1)).to_contain_text("no phone number")
    screenshot(page, "audiences-import-done")

    with page.expect_download() as download:
        page.get_by_role("link", name="Download rejected rows (CSV)").click()
    assert download.value.suggested_filename == "spring-leads-rejected-rows.csv"
    with open(download.value.path(), encoding="utf-8-sig") as saved:
        assert saved.read().splitlines() == [
            "line,reason,row",
            '4,not a valid phone number for US: 12,"Cy,12,Lyon"',
            '5,no phone number,"Dee,,Nice"',
        ]

    optouts.apply_reply("+12125550142", "STOP")
    page.get_by_role("link", name="View contacts").click()
    expect(page.get_by_role("heading", name="Spring leads")).to_be_visible()
    rows = page.locator("table.contacts tbody tr")
    expect(rows).to_have_count(3)
    bob = rows.filter(has_text="+12125550142")
    expect(bob.get_by_text("Opted out", exact=True)).to_be_visible()
    expect(bob).to_contain_text("Rome, Italy")
    expect(rows.filter(has_text="+14155550123")).to_contain_text("Ann again")
    expect(page.locator(".badge-opted-out")).to_have_count(1)
    screenshot(page, "audiences-contacts")

    page.get_by_label("Search by phone").fill("612")
    page.get_by_role("button", name="Search").click()
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("+33612345678")

    page.get_by_role("link", name="Audiences", exact=True).first.click()
    row = page.locator("table tbody tr").filter(has_text="Spring leads")
    expect(row).to_contain_text("3")
    expect(row).to_contain_text("1")
    expect(row.get_by_text("Done")).to_be_visible()
    screenshot(page, "audiences-list")

    row.get_by_role("link", name="Spring leads").click()
    page.get_by_role("link", name="+ Import contacts").click()
    expect(page.get_by_label("Audience", exact=True)).to_have_value(str(job.audience_id))
    expect(page.get_by_label("New audience name")).to_be_empty()
    screenshot(page, "audiences-upload-into-existing")


def test_a_file_over_the_upload_limit_is_refused_at_its_field(marketer_page, queued, settings):
    settings.AUDIENCE_MAX_UPLOAD_BYTES = 1024
    page = marketer_page
    page.goto("/audiences/import/")
    expect(page.get_by_label("CSV file")).to_have_accessible_description(
        re.compile(r"up to 1\.0\xa0KB")
    )

    page.get_by_label("CSV file").set_input_files(
        {"name": "big.csv", "mimeType": "text/csv", "buffer": CSV.encode() * 20}
    )
    page.get_by_label("New audience name").fill("Too big")
    page.get_by_role("button", name="Upload and continue").click()

    expect(page.locator("#field-file")).to_contain_text("This file is larger than 1.0")
    expect(page.get_by_label("New audience name")).to_have_value("Too big")
    assert not Import.objects.exists() and queued == []
    screenshot(page, "audiences-upload-too-large")
