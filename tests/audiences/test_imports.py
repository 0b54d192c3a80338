"""The CSV import, run synchronously (SPEC §4): header and delimiter, line numbers, every
reason a row is rejected, normalisation, duplicate merging, counts and failures."""

from __future__ import annotations

import io

import pytest

from audiences import imports, phone_checker, services, tasks
from audiences.models import Audience, Contact, ImportStatus, RejectedRow

from .helpers import contacts, counts, rejected, run, start

pytestmark = pytest.mark.django_db


# --- header -------------------------------------------------------------------------------


def test_it_reads_a_comma_header_without_bom():
    assert imports.read_header(io.BytesIO(b"phone,first name , city\r\n1,2,3\r\n")) == (
        ["phone", "first name", "city"],
        ",",
    )


def test_it_strips_a_utf8_bom_from_the_header():
    header, _ = imports.read_header(io.BytesIO("\ufeffphone,name\n".encode()))
    assert header == ["phone", "name"]


def test_it_chooses_semicolons_when_the_header_has_more_of_them():
    assert imports.read_header(io.BytesIO(b"phone;name;note, with comma\n")) == (
        ["phone", "name", "note, with comma"],
        ";",
    )


def test_it_names_blank_and_repeated_columns():
    header, _ = imports.read_header(io.BytesIO(b"phone,,email,Email, ,email\n"))
    assert header == [
        "phone",
        "column 2",
        "email",
        "Email (column 4)",
        "column 5",
        "email (column 6)",
    ]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "This file is empty."),
        (b"\xef\xbb\xbf\r\n\n", "This file is empty."),
        (b"\n\nphone\n", "The first line is empty: it must name the columns (a header line)."),
        (b",,,\n+14155550123,,,\n", "The first line names no column: it must be a header line."),
        (b"PK\x03\x04\x14\x00\x06\x00\x08\x00\x00\x00!\x00\xb2\xff", "This file is not UTF-8"),
        (b"t\xe9l\xe9phone,nom\n", "This file is not UTF-8 text."),
        (b"x" * (70 * 1024), "The first line is longer than 64 KB"),
        (b"+1 415 555 0123,Ann\n", "it holds a phone number (+1 415 555 0123)"),
    ],
)
def test_it_refuses_a_file_without_a_usable_header(content, message):
    with pytest.raises(imports.HeaderError) as error:
        imports.read_header(io.BytesIO(content))

    assert message in str(error.value)


def test_it_never_gives_two_columns_the_same_name():
    assert imports.unique_names(["a (column 3)", "a", "a"]) == [
        "a (column 3)",
        "a",
        "a (column 3) (2)",
    ]


def test_it_guesses_the_phone_column_from_its_name():
    assert imports.guess_phone_column(["Name", "Mobile Number", "phone"]) == "Mobile Number"
    assert imports.guess_phone_column(["name", "MSISDN"]) == "MSISDN"
    assert imports.guess_phone_column(["name", "city"]) is None


# --- reading rows ------------------------------------------------------------------------


def test_it_imports_rows_with_attributes_from_the_other_columns():
    job = run("phone,first name,city\n(415) 555-0123, Ann ,Paris\n+1 212 555 0142,Bob,\n")

    assert job.status == ImportStatus.DONE
    assert counts(job) == (2, 2, 0, 0)
    assert contacts(job.audience) == {
        "+14155550123": {"first name": "Ann", "city": "Paris"},
        "+12125550142": {"first name": "Bob", "city": ""},
    }
    assert job.audience.contact_count == 2
    assert job.processed_bytes == job.size_bytes
    assert job.started_at and job.progress_at and job.finished_at


def test_it_imports_a_file_with_a_bom_and_crlf_line_ends():
    job = run("\ufeffphone,name\r\n4155550123,Ann\r\n".encode())

    assert job.header == ["phone", "name"]
    assert contacts(job.audience) == {"+14155550123": {"name": "Ann"}}


def test_it_imports_a_semicolon_file():
    job = run("name;tel;note\nAnn;4155550123;a, b\nBob;2125550142;\n", phone_column="tel")

    assert job.delimiter == ";"
    assert contacts(job.audience) == {
        "+14155550123": {"name": "Ann", "note": "a, b"},
        "+12125550142": {"name": "Bob", "note": ""},
    }


def test_it_keeps_quoted_commas_and_newlines_and_counts_physical_lines():
    content = (
        "phone,note\n"  # line 1
        '4155550123,"one, two"\n'  # line 2
        '2125550142,"first line\n'  # line 3
        'second line"\n'  # line 4
        "12,bad\n"  # line 5
        '"","a note"\n'  # line 6: an empty phone in quotes
        '99,"multi\nline\nbad"\n'  # lines 7-9
        "oops,x\n"  # line 10
    )
    job = run(content)

    assert contacts(job.audience) == {
        "+14155550123": {"note": "one, two"},
        "+12125550142": {"note": "first line\nsecond line"},
    }
    assert rejected(job) == [
        (5, "not a valid phone number for US: 12"),
        (6, "no phone number"),
        (7, "not a valid phone number for US: 99"),
        (10, "not a valid phone number for US: oops"),
    ]
    assert RejectedRow.objects.get(line=7).raw == '99,"multi\nline\nbad"'


def test_it_gives_a_reason_for_every_rejected_row():
    content = (
        "phone,name,city\n"
        ",No phone,\n"  # 2
        "12,Short,\n"  # 3
        "abc,Letters,\n"  # 4
        "+99 123,Bad code,\n"  # 5
        "+44 7700 900123,Not valid in the UK,\n"  # 6
        "4155550123,Too,many,fields\n"  # 7
        "2125550142,Trailing empties,,,\n"  # 8: accepted, the extra fields are empty
        "415 555 01,Too short,\n"  # 9
    )
    job = run(content)

    assert rejected(job) == [
        (2, "no phone number"),
        (3, "not a valid phone number for US: 12"),
        (4, "not a valid phone number for US: abc"),
        (5, "not a valid phone number: +99 123"),
        (6, "not a valid phone number: +44 7700 900123"),
        (7, "more fields than the header (4, expected 3)"),
        (9, "not a valid phone number for US: 415 555 01"),
    ]
    assert contacts(job.audience) == {"+12125550142": {"name": "Trailing empties", "city": ""}}
    assert counts(job) == (8, 1, 0, 7)


def test_it_treats_missing_trailing_fields_as_empty():
    job = run("phone,name,city\n4155550123,Ann\n")

    assert contacts(job.audience) == {"+14155550123": {"name": "Ann", "city": ""}}


def test_it_quotes_long_values_briefly_and_keeps_1000_characters_of_a_rejected_row():
    job = run("phone,note\n" + "9" * 60 + "," + "x" * 2000 + "\n")

    (row,) = RejectedRow.objects.filter(source=job)
    assert row.reason == "not a valid phone number for US: " + "9" * 39 + "…"
    assert row.raw == ("9" * 60 + "," + "x" * 2000)[:1000]


def test_it_normalises_numbers_with_the_default_country_unless_they_have_a_country_code():
    content = "phone\n020 7946 0958\n+1 (212) 555-0142\n0033 6 12 34 56 78\n4155550123\n"
    job = run(content, country="GB")

    assert sorted(contacts(job.audience)) == ["+12125550142", "+33612345678", "+442079460958"]
    assert rejected(job) == [(5, "not a valid phone number for GB: 4155550123")]


def test_it_uses_the_default_country_the_import_was_given():
    job = run("phone\n06 12 34 56 78\n", country="FR")

    assert list(contacts(job.audience)) == ["+33612345678"]
    assert job.default_country == "FR"


def test_it_skips_blank_lines_and_keeps_counting_them():
    job = run("phone,name\n\n4155550123,Ann\n   \n,,\n\n12,Bad\n\r\n")

    assert counts(job) == (2, 1, 0, 1)
    assert rejected(job) == [(7, "not a valid phone number for US: 12")]


def test_it_rejects_rows_that_are_not_utf8_and_imports_the_others():
    content = b"phone,name\n4155550123,Ren\xe9\n2125550142,Ren\xc3\xa9\n+1 646 555 0199,\xff\xfe\n"
    job = run(content)

    assert contacts(job.audience) == {"+12125550142": {"name": "René"}}
    assert rejected(job) == [(2, "the row is not valid UTF-8"), (4, "the row is not valid UTF-8")]
    assert RejectedRow.objects.get(line=2).raw == "4155550123,Ren\ufffd"


def test_it_rejects_rows_with_nul_characters():
    job = run(b"phone,name\n4155550123,A\x00B\n")

    assert rejected(job) == [(2, "the row contains a NUL character")]
    assert RejectedRow.objects.get().raw == "4155550123,A\ufffdB"


# --- duplicates and counts ---------------------------------------------------------------


def test_it_merges_duplicates_inside_a_file_the_later_row_winning_key_by_key():
    content = (
        "phone,name,city\n"
        "4155550123,Ann,Paris\n"
        "+1 415 555 0123,Annie,\n"
        "2125550142,Bob,Rome\n"
        "(415) 555-0123,,Lyon\n"
    )
    job = run(content)

    assert contacts(job.audience) == {
        "+14155550123": {"name": "", "city": "Lyon"},
        "+12125550142": {"name": "Bob", "city": "Rome"},
    }
    assert counts(job) == (4, 2, 2, 0)
    assert job.audience.contact_count == 2


def test_it_merges_attributes_across_two_imports_into_the_same_audience():
    first = run("phone,name,city\n4155550123,Ann,Paris\n2125550142,Bob,Rome\n")
    second = run(
        "phone,name,plan\n4155550123,Annie,gold\n6465550199,Cy,silver\n",
        audience=first.audience,
    )

    assert contacts(first.audience) == {
        "+14155550123": {"name": "Annie", "city": "Paris", "plan": "gold"},
        "+12125550142": {"name": "Bob", "city": "Rome"},
        "+16465550199": {"name": "Cy", "plan": "silver"},
    }
    assert counts(second) == (2, 1, 1, 0)
    first.audience.refresh_from_db()
    assert first.audience.contact_count == 3


def test_it_keeps_audiences_apart():
    run("phone\n4155550123\n", audience="One")
    job = run("phone\n4155550123\n", audience="Two")

    assert counts(job) == (1, 1, 0, 0)
    assert Contact.objects.filter(phone="+14155550123").count() == 2


@pytest.mark.parametrize("helper", [False, True], ids=["in-process", "helper process"])
def test_it_counts_right_across_chunks(monkeypatch, settings, helper):
    """Also with the numbers checked by the helper process, one chunk ahead of the writes."""
    settings.IMPORT_PARALLEL_FROM_BYTES = 0 if helper else 10**12
    monkeypatch.setattr(imports, "CHUNK_ROWS", 3)
    rows = [f"+1415555{n:04d},n{n}" for n in range(10)]
    # Duplicates of earlier chunks, inside a chunk, and bad rows on the way.
    rows[4] = "+14155550000,again"
    rows[5] = "+14155550003,dup in chunk"
    rows[7] = "12,bad"
    job = run("phone,name\n" + "\n".join(rows) + "\n")

    assert counts(job) == (10, 7, 2, 1)
    assert job.added + job.merged + job.rejected == job.rows_read
    assert job.audience.contact_count == Contact.objects.filter(audience=job.audience).count() == 7
    assert contacts(job.audience)["+14155550000"] == {"name": "again"}
    assert contacts(job.audience)["+14155550003"] == {"name": "dup in chunk"}
    assert rejected(job) == [(9, "not a valid phone number for US: 12")]


def test_a_helper_that_dies_fails_the_import_with_what_was_written_kept(monkeypatch, settings):
    settings.IMPORT_PARALLEL_FROM_BYTES = 0
    monkeypatch.setattr(imports, "CHUNK_ROWS", 2)
    collect = phone_checker.ProcessChecker.collect
    calls = []

    def collect_then_die(checker):
        calls.append(1)
        if len(calls) == 2:
            checker.process.kill()
            checker.process.wait()
        return collect(checker)

    monkeypatch.setattr(phone_checker.ProcessChecker, "collect", collect_then_die)
    job = run("phone\n" + "".join(f"+1415555{n:04d}\n" for n in range(6)))

    assert job.status == ImportStatus.FAILED
    # The chunks written before (how many depends on what the helper answered before it
    # died) are kept and counted; nothing after.
    assert 2 <= job.rows_read < 6
    assert Contact.objects.filter(audience=job.audience).count() == job.rows_read


def test_it_imports_a_header_only_file_as_nothing_to_do():
    job = run("phone,name\n")

    assert job.status == ImportStatus.DONE
    assert counts(job) == (0, 0, 0, 0)
    assert job.audience.contact_count == 0


# --- the job --------------------------------------------------------------------------------


def test_it_refuses_an_empty_upload():
    with pytest.raises(imports.HeaderError, match=r"This file is empty\."):
        start(b"")

    assert not Audience.objects.exists()


def test_it_fails_a_file_that_became_empty(media_root):
    job = start("phone\n4155550123\n")
    services.choose_columns(job, "phone", "US")
    (media_root / job.file.name).write_bytes(b"")

    services.run_import(job.pk)

    job.refresh_from_db()
    assert (job.status, job.error) == (ImportStatus.FAILED, "This file is empty.")


def test_it_fails_in_plain_words_when_the_file_is_gone(media_root):
    job = start("phone\n4155550123\n")
    services.choose_columns(job, "phone", "US")
    (media_root / job.file.name).unlink()

    services.run_import(job.pk)

    job.refresh_from_db()
    assert job.status == ImportStatus.FAILED
    assert job.error.startswith("The uploaded file could not be found by the background worker")
    assert "MEDIA_ROOT" in job.error
    assert job.finished_at is not None


def test_it_fails_and_keeps_what_was_imported_when_something_breaks(monkeypatch):
    monkeypatch.setattr(imports, "CHUNK_ROWS", 2)
    real_write = imports._write
    calls = []

    def write_then_break(*args):
        calls.append(1)
        if len(calls) == 2:
            raise RuntimeError("database went away")
        real_write(*args)

    monkeypatch.setattr(imports, "_write", write_then_break)
    job = run("phone\n4155550100\n4155550101\n4155550102\n4155550103\n")

    assert job.status == ImportStatus.FAILED
    assert job.error.startswith("The import stopped unexpectedly after 2 rows.")
    assert job.audience.contact_count == 2


def test_it_deletes_the_uploaded_file_once_imported(media_root):
    job = run("phone\n4155550123\n")

    assert job.file.name.startswith("imports/")
    assert not (media_root / job.file.name).exists()


def test_it_stores_the_upload_and_waits_for_the_columns(media_root):
    job = start("Name,Mobile\nAnn,4155550123\n", audience="New list")

    assert job.status == ImportStatus.CHOOSING_COLUMNS
    assert (job.header, job.delimiter, job.original_name) == (
        ["Name", "Mobile"],
        ",",
        "contacts.csv",
    )
    assert (media_root / job.file.name).read_bytes() == b"Name,Mobile\nAnn,4155550123\n"
    assert job.size_bytes == len(b"Name,Mobile\nAnn,4155550123\n")
    assert job.audience.name == "New list"
    assert imports.preview(job) == [["Ann", "4155550123"]]


def test_it_previews_the_first_five_rows_padded_to_the_header():
    job = start("phone,name\n\n1,a\n2\n3,c\n4,d\n5,e\n6,f\n")

    assert imports.preview(job) == [["1", "a"], ["2", ""], ["3", "c"], ["4", "d"], ["5", "e"]]


def test_it_runs_only_queued_imports(enqueued):
    job = start("phone\n4155550123\n")
    services.run_import(job.pk)  # still choosing columns
    job.refresh_from_db()
    assert job.status == ImportStatus.CHOOSING_COLUMNS

    services.choose_columns(job, "phone", "US")
    tasks.run_import(job.pk)  # the Celery task, called in process
    tasks.run_import(job.pk)  # delivered again
    job.refresh_from_db()

    assert job.status == ImportStatus.DONE
    assert counts(job) == (1, 1, 0, 0)
    assert RejectedRow.objects.count() == 0


def test_it_queues_an_import_once(enqueued, django_capture_on_commit_callbacks):
    job = start("phone\n4155550123\n")
    with django_capture_on_commit_callbacks(execute=True):
        assert services.choose_columns(job, "phone", "GB") is True
        assert enqueued == []
    with django_capture_on_commit_callbacks(execute=True):
        assert services.choose_columns(job, "phone", "US") is False

    assert enqueued == [(job.pk,)]
    job.refresh_from_db()
    assert (job.status, job.phone_column, job.default_country) == (
        ImportStatus.QUEUED,
        "phone",
        "GB",
    )


def test_it_refuses_an_unknown_column_or_country():
    job = start("phone\n4155550123\n")
    with pytest.raises(ValueError, match="not a column"):
        services.choose_columns(job, "mobile", "US")
    with pytest.raises(ValueError, match="not a supported country"):
        services.choose_columns(job, "phone", "XX")
