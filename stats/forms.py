"""The date range of the stats pages, read from the query string (SPEC §7).

`?days=7|30|90` is one of the presets, ending today; `?start=YYYY-MM-DD&end=YYYY-MM-DD` is a
custom range (both days included). Without either, the last DEFAULT_DAYS days. The URL says
the range, so a page can be shared as it is seen.
"""

from __future__ import annotations

from datetime import date
from urllib.parse import urlencode

from django import forms

from .figures import DEFAULT_DAYS, MAX_DAYS, PRESETS, DateRange

ISO = "%Y-%m-%d"


class DayInput(forms.DateInput):
    input_type = "date"

    def __init__(self, attrs=None):
        super().__init__(attrs, format=ISO)


class RangeForm(forms.Form):
    days = forms.TypedChoiceField(
        choices=[(n, f"Last {n} days") for n in PRESETS],
        coerce=int,
        required=False,
        error_messages={"invalid_choice": "Choose the last 7, 30 or 90 days, or enter dates."},
    )
    start = forms.DateField(
        label="From",
        required=False,
        input_formats=[ISO],
        widget=DayInput,
        error_messages={"invalid": "Enter a date as YYYY-MM-DD."},
    )
    end = forms.DateField(
        label="To",
        required=False,
        input_formats=[ISO],
        widget=DayInput,
        error_messages={"invalid": "Enter a date as YYYY-MM-DD."},
    )

    def __init__(self, data, *, today: date):
        super().__init__(data)
        self.today = today
        for name in ("start", "end"):
            self.fields[name].widget.attrs["max"] = today.isoformat()

    @property
    def is_custom(self) -> bool:
        return bool(self.data.get("start") or self.data.get("end"))

    def clean(self):
        data = super().clean()
        if not self.is_custom:
            return data
        start, end = data.get("start"), data.get("end")
        if not self.data.get("start"):
            self.add_error("start", "Enter the first day of the range.")
        if not self.data.get("end"):
            self.add_error("end", "Enter the last day of the range.")
        if end and end > self.today:
            self.add_error("end", f"The last day can't be after today ({self.today:%Y-%m-%d}).")
        if start and end:
            if start > end:
                self.add_error("end", "The last day must be on or after the first day.")
            elif (end - start).days + 1 > MAX_DAYS:
                self.add_error("start", f"A range covers at most {MAX_DAYS} days.")
        return data

    def _post_clean(self):
        super()._post_clean()
        # The first wrong date takes the focus, also when htmx redraws the form.
        wrong = [name for name in ("start", "end") if name in self.errors]
        if wrong:
            self.fields[wrong[0]].widget.attrs["autofocus"] = True

    def range(self) -> DateRange:
        """The chosen range; the default one when the form is not valid (its errors say why)."""
        if self.is_valid():
            if self.is_custom:
                return DateRange(self.cleaned_data["start"], self.cleaned_data["end"])
            if self.cleaned_data.get("days"):
                return DateRange.last(self.cleaned_data["days"], self.today)
        return DateRange.last(DEFAULT_DAYS, self.today)


def range_query(span: DateRange) -> str:
    """The query string that names a range: a preset rolls with today, custom dates don't."""
    if span.preset:
        return urlencode({"days": span.preset})
    return urlencode({"start": span.start.isoformat(), "end": span.end.isoformat()})
