"""Audience pages (SPEC §4, §8): who may see them, the upload and its errors at their fields,
choosing columns, progress, the summary, the rejected rows download and the contacts."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from audiences import optouts
from audiences.models import Audience, Contact, Import, ImportStatus

from .helpers import run, start

LIST = "/audiences/"
NEW = "/audiences/import/"
HX = {"HTTP_HX_REQUEST": "true"}
CSV = "phone,name\n4155550123,Ann\n12,Bad\n2125550142,Bob\n\n+99 1,Worse\n"


@pytest.fixture
def done(db):
    return run(CSV, audience="Customers")


@pytest.fixture
def choosing(db):
    return start("Name,Mobile Number,City\nAnn,4155550123,Paris\n", audience="Leads")


def csv_file(content: bytes | str, name: str = "contacts.csv") -> SimpleUploadedFile:
    data = content.encode() if isinstance(content, str) else content
    return SimpleUploadedFile(name, data, content_type="text/csv")


# --- access -------------------------------------------------------------------------------

PAGES = [
    ("get", LIST),
    ("get", NEW),
    ("post", NEW),
    ("get", "/audiences/imports/{job}/"),
    ("post", "/audiences/imports/{job}/"),
    ("get", "/audiences/imports/{job}/rejected.csv"),
    ("get", "/audiences/{audience}/"),
]


@pytest.mark.parametrize(("method", "url"), PAGES)
def test_it_sends_anonymous_visitors_to_the_login_page(client, done, method, url):
    url = url.format(job=done.pk, audience=done.audience_id)

    response = getattr(client, method)(url)

    assert response.status_code == 302
    assert response["Location"] == f"/accounts/login/?next={url}"


@pytest.mark.parametrize("who", ["marketer_client", "admin_client"])
@pytest.mark.parametrize(
    "url",
    [
        LIST,
        NEW,
        "/audiences/imports/{job}/",
        "/audiences/imports/{choosing}/",
        "/audiences/imports/{job}/rejected.csv",
        "/audiences/{audience}/",
    ],
)
def test_it_shows_every_page_to_marketers_and_admins(request, who, url, done, choosing):
    client = request.getfixturevalue(who)

    response = client.get(url.format(job=done.pk, choosing=choosing.pk, audience=done.audience_id))

    assert response.status_code == 200


def test_it_shows_users_without_the_role_a_403(client, django_user_model, done):
    client.force_login(django_user_model.objects.create_user("nobody", password="x"))

    assert client.get(LIST).status_code == 403
    assert client.get(f"/audiences/imports/{done.pk}/rejected.csv").status_code == 403


# --- list -----------------------------------------------------------------------------------


def test_it_shows_an_empty_state_with_the_import_button(marketer_client):
    response = marketer_client.get(LIST)

    assert b"No audience yet" in response.content
    assert b'href="/audiences/import/"' in response.content


def test_it_lists_audiences_with_counts_opt_outs_and_the_last_import(marketer_client, done):
    optouts.apply_reply("+14155550123", "STOP")
    Audience.objects.create(name="Empty list")

    response = marketer_client.get(LIST)

    rows = {a.name: a for a in response.context["audiences"]}
    assert (rows["Customers"].contact_count, rows["Customers"].opted_out) == (2, 1)
    assert rows["Customers"].latest_import == done
    assert (rows["Empty list"].opted_out, rows["Empty list"].latest_import) == (0, None)
    assert b"badge-done" in response.content
    assert f'href="/audiences/{done.audience_id}/"'.encode() in response.content


# --- upload ---------------------------------------------------------------------------------


def field_errors(response, name: str) -> list[str]:
    return response.context["form"].errors.get(name, [])


def test_it_uploads_a_file_into_a_new_audience(marketer_client, marketer_user, media_root):
    response = marketer_client.post(
        NEW, {"file": csv_file("Name;Phone\nAnn;4155550123\n"), "new_name": " VIP "}
    )

    job = Import.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/audiences/imports/{job.pk}/"
    assert (job.status, job.header, job.delimiter) == (
        ImportStatus.CHOOSING_COLUMNS,
        ["Name", "Phone"],
        ";",
    )
    assert (job.audience.name, job.audience.created_by, job.created_by) == (
        "VIP",
        marketer_user,
        marketer_user,
    )
    assert (media_root / job.file.name).exists()


def test_it_uploads_a_file_into_an_existing_audience(marketer_client, done):
    response = marketer_client.post(NEW, {"file": csv_file(CSV), "audience": done.audience_id})

    assert response.status_code == 302
    assert Import.objects.latest("pk").audience == done.audience
    assert Audience.objects.count() == 1


def test_it_preselects_the_audience_it_was_opened_for(marketer_client, done):
    response = marketer_client.get(NEW, {"audience": done.audience_id})

    assert response.context["form"]["audience"].value() == str(done.audience_id)


def test_it_asks_only_for_a_name_when_there_is_no_audience(marketer_client):
    response = marketer_client.get(NEW)

    assert "audience" not in response.context["form"].fields
    assert b'<label for="id_new_name">New audience name' in response.content
    assert b'<label for="id_file">CSV file' in response.content


@pytest.mark.parametrize(
    ("content", "error"),
    [
        (None, "Choose a CSV file to import."),
        (b"", "This file is empty."),
        (b"\xff\xfephone\n", "This file is not UTF-8 text."),
        (b"\nphone\n4155550123\n", "The first line is empty: it must name the columns"),
    ],
)
def test_it_shows_file_errors_at_the_file_field(marketer_client, content, error):
    data = {"new_name": "Leads"}
    if content is not None:
        data["file"] = csv_file(content)

    response = marketer_client.post(NEW, data)

    assert response.status_code == 200
    assert field_errors(response, "file")[0].startswith(error)
    assert b'id="field-file"' in response.content
    assert not Import.objects.exists()
    assert not Audience.objects.exists()


def test_it_refuses_a_name_taken_in_another_case(marketer_client, done):
    response = marketer_client.post(NEW, {"file": csv_file(CSV), "new_name": "CUSTOMERS"})

    assert field_errors(response, "new_name") == [
        "An audience named “Customers” already exists. Choose it under Audience to add these "
        "contacts to it, or pick another name."
    ]
    assert Import.objects.count() == 1


def test_it_asks_for_an_audience_when_none_is_given(marketer_client, done):
    response = marketer_client.post(NEW, {"file": csv_file(CSV)})

    assert field_errors(response, "new_name") == [
        "Name the new audience, or choose an existing one above."
    ]
    assert b"Please correct the fields marked below." in response.content


def test_it_refuses_an_audience_and_a_new_name_together(marketer_client, done):
    response = marketer_client.post(
        NEW, {"file": csv_file(CSV), "audience": done.audience_id, "new_name": "Other"}
    )

    assert field_errors(response, "new_name") == [
        "Leave this empty to import into “Customers”, or choose “New audience” above."
    ]


# --- choosing columns -------------------------------------------------------------------------


def test_it_shows_the_columns_form_with_guesses_and_a_preview(marketer_client, choosing):
    response = marketer_client.get(f"/audiences/imports/{choosing.pk}/")

    form = response.context["form"]
    assert form["phone_column"].value() == "Mobile Number"
    assert form["default_country"].value() == "US"
    assert ("US", "United States (US, +1)") in form.fields["default_country"].choices
    assert response.context["preview"] == [["Ann", "4155550123", "Paris"]]
    html = response.content.decode()
    assert '<label for="id_phone_column">Phone number column' in html
    assert '<label for="id_default_country">Default country' in html
    assert "Used for numbers written without a country code" in html
    assert "<td>Paris</td>" in html
    assert "hx-trigger" not in html


def test_it_sorts_countries_by_name(marketer_client, choosing):
    response = marketer_client.get(f"/audiences/imports/{choosing.pk}/")

    labels = [label for _, label in response.context["form"].fields["default_country"].choices]
    assert labels[0].startswith("Afghanistan (AF")
    assert labels.index("France (FR, +33)") < labels.index("Germany (DE, +49)")


def test_it_queues_the_import_after_commit(
    marketer_client, choosing, enqueued, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = marketer_client.post(
            f"/audiences/imports/{choosing.pk}/",
            {"phone_column": "Mobile Number", "default_country": "FR"},
        )
        assert enqueued == []

    assert response.status_code == 302
    assert len(callbacks) == 1
    assert enqueued == [(choosing.pk,)]
    choosing.refresh_from_db()
    assert (choosing.status, choosing.phone_column, choosing.default_country) == (
        ImportStatus.QUEUED,
        "Mobile Number",
        "FR",
    )


def test_it_does_not_queue_twice_on_a_second_click(
    marketer_client, choosing, enqueued, django_capture_on_commit_callbacks
):
    data = {"phone_column": "Mobile Number", "default_country": "US"}
    with django_capture_on_commit_callbacks(execute=True):
        marketer_client.post(f"/audiences/imports/{choosing.pk}/", data)
        response = marketer_client.post(f"/audiences/imports/{choosing.pk}/", data)

    assert response.status_code == 302
    assert enqueued == [(choosing.pk,)]


def test_it_shows_column_errors_at_their_fields(marketer_client, choosing, enqueued):
    response = marketer_client.post(
        f"/audiences/imports/{choosing.pk}/", {"phone_column": "", "default_country": "ZZ"}
    )

    form = response.context["form"]
    assert form.errors["phone_column"] == ["Choose the column that holds the phone numbers."]
    assert form.errors["default_country"][0].startswith("Select a valid choice.")
    choosing.refresh_from_db()
    assert choosing.status == ImportStatus.CHOOSING_COLUMNS
    assert enqueued == []


# --- progress and outcome -----------------------------------------------------------------------


def test_it_shows_progress_and_polls_while_running(marketer_client, choosing):
    Import.objects.filter(pk=choosing.pk).update(
        status=ImportStatus.RUNNING,
        size_bytes=1000,
        processed_bytes=420,
        rows_read=1234,
        added=1200,
        merged=30,
        rejected=4,
        progress_at=timezone.now(),
    )

    response = marketer_client.get(f"/audiences/imports/{choosing.pk}/")

    html = response.content.decode()
    assert 'hx-trigger="every 1s"' in html
    assert f'hx-get="/audiences/imports/{choosing.pk}/"' in html
    assert '<progress class="import-bar" id="import-progress" max="100" value="42"' in html
    assert "1,234" in html and "1,200" in html
    assert "<html" in html


def test_it_answers_htmx_polls_with_the_status_region_only(marketer_client, choosing):
    Import.objects.filter(pk=choosing.pk).update(status=ImportStatus.QUEUED)

    response = marketer_client.get(f"/audiences/imports/{choosing.pk}/", **HX)

    html = response.content.decode()
    assert html.lstrip().startswith('<div id="import-status"')
    assert 'hx-trigger="every 1s"' in html
    assert "Waiting for a background worker" in html
    assert "<html" not in html


def test_it_says_when_a_running_import_has_stalled(marketer_client, choosing):
    Import.objects.filter(pk=choosing.pk).update(
        status=ImportStatus.RUNNING, progress_at=timezone.now() - timezone.timedelta(minutes=11)
    )

    response = marketer_client.get(f"/audiences/imports/{choosing.pk}/")

    assert b"the background worker may have stopped" in response.content


def test_it_shows_the_summary_and_rejected_rows_and_stops_polling(marketer_client, done):
    response = marketer_client.get(f"/audiences/imports/{done.pk}/", **HX)

    html = response.content.decode()
    assert "hx-trigger" not in html
    assert "Import finished" in html
    assert [(r.line, r.reason) for r in response.context["rejected_rows"]] == [
        (3, "not a valid phone number for US: 12"),
        (6, "not a valid phone number: +99 1"),
    ]
    assert "<td>not a valid phone number for US: 12</td>" in html
    assert f'href="/audiences/imports/{done.pk}/rejected.csv"' in html
    assert "Download rejected rows (CSV)" in html


def test_it_lists_only_the_first_100_rejected_rows(marketer_client):
    job = run("phone\n" + "12\n" * 150)

    response = marketer_client.get(f"/audiences/imports/{job.pk}/")

    assert len(response.context["rejected_rows"]) == 100
    assert b"The first 100 of 150; the download has them all." in response.content


def test_it_shows_why_an_import_failed(marketer_client, choosing):
    Import.objects.filter(pk=choosing.pk).update(
        status=ImportStatus.FAILED, error="The uploaded file could not be found."
    )

    response = marketer_client.get(f"/audiences/imports/{choosing.pk}/")

    assert b"The import failed." in response.content
    assert b"The uploaded file could not be found." in response.content
    assert b"hx-trigger" not in response.content


def test_it_downloads_every_rejected_row_as_csv(marketer_client):
    job = run('phone,name\n12,"Ann, ""A"""\n4155550123,Ok\nabc,"two\nlines"\n', audience="X")

    response = marketer_client.get(f"/audiences/imports/{job.pk}/rejected.csv")

    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == 'attachment; filename="contacts-rejected-rows.csv"'
    assert b"".join(response.streaming_content).decode() == (
        "\ufeffline,reason,row\r\n"
        '2,not a valid phone number for US: 12,"12,""Ann, """"A"""""""\r\n'
        '4,not a valid phone number for US: abc,"abc,""two\nlines"""\r\n'
    )


def test_it_answers_404_for_unknown_ids(marketer_client):
    assert marketer_client.get("/audiences/imports/999/").status_code == 404
    assert marketer_client.get("/audiences/imports/999/rejected.csv").status_code == 404
    assert marketer_client.get("/audiences/999/").status_code == 404


# --- contacts -------------------------------------------------------------------------------


def test_it_shows_contacts_with_attributes_and_an_opted_out_badge(marketer_client, done):
    optouts.apply_reply("+12125550142", "stop")

    response = marketer_client.get(f"/audiences/{done.audience_id}/")

    html = response.content.decode()
    page = response.context["page"]
    assert [(c.phone, c.opted_out) for c in page] == [
        ("+12125550142", True),
        ("+14155550123", False),
    ]
    assert html.count('<span class="badge badge-opted-out">Opted out</span>') == 1
    assert '<span class="attr-key">name</span> Bob' in html
    assert "1 opted out" in html
    assert "contacts.csv" in html  # the audience's imports


def test_it_shows_an_opt_out_in_every_audience_of_the_number(marketer_client, done):
    other = run("phone\n+1 212 555 0142\n", audience="Other")
    optouts.apply_reply("+12125550142", "STOP")

    for audience_id in (done.audience_id, other.audience_id):
        response = marketer_client.get(f"/audiences/{audience_id}/")
        assert b"badge-opted-out" in response.content


def test_it_searches_contacts_by_phone(marketer_client, done):
    response = marketer_client.get(f"/audiences/{done.audience_id}/", {"q": "(415) 555"})

    assert [c.phone for c in response.context["page"]] == ["+14155550123"]
    assert b'<label for="id_q" class="sr-only">Search by phone' in response.content

    response = marketer_client.get(f"/audiences/{done.audience_id}/", {"q": "999999"})
    assert list(response.context["page"]) == []
    assert "No contact matches “999999”" in response.content.decode()


def test_it_pages_contacts_50_at_a_time_keeping_the_search(marketer_client):
    audience = Audience.objects.create(name="Big", contact_count=120)
    Contact.objects.bulk_create(
        Contact(audience=audience, phone=f"+1415555{n:04d}") for n in range(120)
    )

    first = marketer_client.get(f"/audiences/{audience.pk}/")
    last = marketer_client.get(f"/audiences/{audience.pk}/", {"page": 3})
    searched = marketer_client.get(f"/audiences/{audience.pk}/", {"q": "41555500"})

    assert len(first.context["page"]) == 50
    assert b"Page 1 of 3" in first.content
    assert [c.phone for c in last.context["page"]][-1] == "+14155550119"
    assert len(last.context["page"]) == 20
    assert searched.context["page"].paginator.count == 100
    assert b'href="?q=41555500&amp;page=2"' in searched.content
