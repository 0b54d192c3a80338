"""The upload form and the choose-columns form of a CSV import."""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.template.defaultfilters import filesizeformat

from . import imports
from .models import Audience, Import
from .phones import country_choices


def max_upload_bytes() -> int:
    return settings.AUDIENCE_MAX_UPLOAD_BYTES


def too_large_message() -> str:
    return (
        f"This file is larger than {filesizeformat(max_upload_bytes())}, the largest file "
        "accepted. Split it into smaller files, each starting with the header line."
    )


class UploadForm(forms.Form):
    file = forms.FileField(
        label="CSV file",
        help_text=(
            "UTF-8 text, comma or semicolon separated, whose first line names the columns, "
            "up to {limit}. It is imported in the background."
        ),
        error_messages={
            "required": "Choose a CSV file to import.",
            "empty": "This file is empty.",
            "invalid": "Choose a CSV file to import.",
        },
        widget=forms.FileInput(attrs={"accept": ".csv,.txt,text/csv,text/plain"}),
    )
    audience = forms.ModelChoiceField(
        queryset=Audience.objects.all(),
        required=False,
        label="Audience",
        empty_label="New audience",
        help_text="Add the contacts to an existing audience, or create a new one.",
    )
    new_name = forms.CharField(
        label="New audience name",
        required=False,
        max_length=200,
        help_text="Needed for a new audience; leave it empty to import into the one chosen above.",
    )

    def __init__(self, *args, too_large: bool = False, **kwargs):
        """`too_large`: the request's file was over AUDIENCE_MAX_UPLOAD_BYTES and skipped
        while it was read (audiences.uploads), so the field arrives empty."""
        super().__init__(*args, **kwargs)
        file = self.fields["file"]
        file.help_text = file.help_text.format(limit=filesizeformat(max_upload_bytes()))
        if too_large:
            file.error_messages = {**file.error_messages, "required": too_large_message()}
        if not Audience.objects.exists():
            # Nothing to choose from: the new name is all there is.
            del self.fields["audience"]
            self.fields["new_name"].help_text = "The contacts go into a new audience of this name."

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > max_upload_bytes():
            raise forms.ValidationError(too_large_message())
        try:
            self.header, self.delimiter = imports.read_header(upload)
        except imports.HeaderError as error:
            raise forms.ValidationError(str(error)) from None
        finally:
            upload.seek(0)
        return upload

    def clean(self):
        data = super().clean()
        audience = data.get("audience")
        name = (data.get("new_name") or "").strip()
        if audience and name:
            self.add_error(
                "new_name",
                f"Leave this empty to import into “{audience}”, or choose “New audience” above.",
            )
        elif not audience and not name and "new_name" not in self.errors:
            self.add_error(
                "new_name",
                "Name the new audience"
                + (", or choose an existing one above." if "audience" in self.fields else "."),
            )
        elif name and Audience.objects.filter(name__iexact=name).exists():
            existing = Audience.objects.filter(name__iexact=name).first()
            self.add_error(
                "new_name",
                f"An audience named “{existing}” already exists. Choose it under Audience to add "
                "these contacts to it, or pick another name.",
            )
        data["target"] = audience or name
        return data


class ColumnsForm(forms.Form):
    phone_column = forms.ChoiceField(
        label="Phone number column",
        help_text="The other columns become contact attributes, for personalised messages.",
    )
    default_country = forms.ChoiceField(
        label="Default country",
        help_text="Used for numbers written without a country code",
    )

    def __init__(self, *args, job: Import, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["phone_column"].choices = [("", "Choose a column")] + [
            (name, name) for name in job.header
        ]
        self.fields["phone_column"].initial = imports.guess_phone_column(job.header)
        self.fields["default_country"].choices = country_choices()
        self.fields["default_country"].initial = (
            job.default_country or settings.DEFAULT_COUNTRY
        ).upper()
        self.fields["phone_column"].error_messages["required"] = (
            "Choose the column that holds the phone numbers."
        )


class ContactSearchForm(forms.Form):
    q = forms.CharField(
        label="Search by phone",
        required=False,
        max_length=40,
        widget=forms.TextInput(
            attrs={
                "type": "search",
                "inputmode": "tel",
                "autocomplete": "off",
                "placeholder": "Search by phone number",
            }
        ),
    )
