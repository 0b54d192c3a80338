"""The Delivery reports section of the Generic setup form (SPEC §5.3, §5.4): how to read the
provider's own reports and inbound messages. Stored as config["reports"] and
config["inbound"] (reports.py reads them)."""

from __future__ import annotations

from django import forms

from ...response_mapping import parse_path
from .reports import EPOCH_MS, EPOCH_S, FORM, ISO, JSON, OUTCOMES, QUERY, REFERENCE, zone

FORMAT_CHOICES = [
    (REFERENCE, "SMS Hub format (reference callbacks)"),
    (JSON, "JSON"),
    (FORM, "Form fields"),
    (QUERY, "Query string"),
]
PATH_FIELDS = {
    "reports_items_path": "items_path",
    "reports_our_id_path": "our_id_path",
    "reports_provider_id_path": "provider_id_path",
    "reports_number_path": "number_path",
    "reports_status_path": "status_path",
    "reports_error_code_path": "error_code_path",
    "reports_error_description_path": "error_description_path",
    "reports_time_path": "time_path",
}
INBOUND_FIELDS = {
    "inbound_from_path": "from_path",
    "inbound_to_path": "to_path",
    "inbound_text_path": "text_path",
    "inbound_id_path": "id_path",
    "inbound_when_path": "when_path",
}
PATH_ATTRS = {"spellcheck": "false", "autocomplete": "off", "class": "code"}


def path_field(label: str, help_text: str) -> forms.CharField:
    return forms.CharField(
        label=label,
        required=False,
        max_length=500,
        help_text=help_text,
        widget=forms.TextInput(attrs=PATH_ATTRS),
    )


class ReportMappingFields(forms.Form):
    reports_format = forms.ChoiceField(
        label="Report format",
        choices=FORMAT_CHOICES,
        initial=REFERENCE,
        required=False,
        widget=forms.RadioSelect,
        help_text="How the provider posts its delivery reports to the callback URL.",
    )
    reports_json_field = forms.CharField(
        label="Field holding JSON",
        required=False,
        max_length=100,
        help_text="Optional: a form or query field whose value is JSON (MSG91: data).",
    )
    reports_items_path = path_field(
        "Reports path", "Where the list of reports is, e.g. $.results[*]. Empty: one report."
    )
    reports_our_id_path = path_field(
        "Our message ID path", "Where the provider echoes $$MessageID back, e.g. $.callbackData."
    )
    reports_our_id_in_url = forms.BooleanField(
        label="Our message ID is in the report URL (?mid=$$MessageID)", required=False
    )
    reports_provider_id_path = path_field(
        "Provider ID path", "The provider's id of the message in its reports, e.g. $.messageId."
    )
    reports_number_path = path_field(
        "Recipient number path",
        "Needed when the provider gives one id to every recipient of a request, e.g. $.to.",
    )
    reports_status_path = path_field("Status path", "e.g. $.status.groupName")
    reports_status_map = forms.CharField(
        label="Status values",
        required=False,
        widget=forms.Textarea(attrs={"rows": 5, "spellcheck": "false", "class": "code"}),
        help_text="One per line: the provider's value = delivered, failed or pending. "
        "Values not listed are pending: kept, not counted.",
    )
    reports_error_code_path = path_field("Error code path", "e.g. $.error.id")
    reports_error_description_path = path_field("Error description path", "e.g. $.error.name")
    reports_time_path = path_field("Time path", "Empty: the time the report arrived.")
    reports_time_format = forms.CharField(
        label="Time format",
        required=False,
        initial=ISO,
        max_length=50,
        help_text=f"{ISO}, {EPOCH_S}, {EPOCH_MS}, or a pattern such as %Y-%m-%d %H:%M:%S.",
        widget=forms.TextInput(attrs=PATH_ATTRS),
    )
    reports_time_zone = forms.CharField(
        label="Time zone",
        required=False,
        initial="UTC",
        max_length=60,
        help_text="For times written without an offset, e.g. Asia/Kolkata.",
    )
    inbound_from_path = path_field("Sender path", "Inbound messages: e.g. $.from")
    inbound_to_path = path_field("Recipient path", "Inbound messages: e.g. $.to")
    inbound_text_path = path_field("Text path", "Inbound messages: e.g. $.text")
    inbound_id_path = path_field(
        "Inbound message ID path", "Optional: recognises a repeated message, e.g. $.messageId"
    )
    inbound_when_path = path_field(
        "Inbound when path",
        "Optional, when a reply also has a status: the path that tells it apart, "
        "e.g. $.data.payload.direction",
    )
    inbound_when_value = forms.CharField(
        label="equals",
        required=False,
        max_length=100,
        help_text="The value that means a reply, e.g. inbound.",
    )

    def report_mapping_fields(self) -> list:
        """The section's fields but the format (carried hidden while reference is chosen)."""
        names = ["reports_json_field", "reports_our_id_in_url", "reports_status_map"]
        names += [*PATH_FIELDS, *INBOUND_FIELDS, "inbound_when_value"]
        names += ["reports_time_format", "reports_time_zone"]
        return [self[name] for name in names]

    @property
    def maps_reports(self) -> bool:
        """Whether the page shows the mapping (the provider posts its own format)."""
        return (self.current("reports_format") or REFERENCE) != REFERENCE

    def clean_report_mapping(self, data: dict) -> None:
        if (data.get("reports_format") or REFERENCE) == REFERENCE:
            return
        for name in (*PATH_FIELDS, *INBOUND_FIELDS):
            if data.get(name):
                try:
                    parse_path(data[name])
                except ValueError as exc:
                    self.add_error(name, str(exc))
        if not data.get("reports_status_path"):
            self.add_error("reports_status_path", "This field is required.")
        if not (
            data.get("reports_our_id_path")
            or data.get("reports_our_id_in_url")
            or data.get("reports_provider_id_path")
        ):
            self.add_error(
                "reports_provider_id_path",
                "Give our message ID path, tick our message ID in the URL, or give the "
                "provider message ID path: reports are matched to messages by one of them.",
            )
        if data.get("reports_json_field") and data["reports_format"] == JSON:
            self.add_error("reports_json_field", "Only form or query fields can hold JSON.")
        try:
            data["reports_status_map"] = status_map(data.get("reports_status_map") or "")
        except ValueError as exc:
            self.add_error("reports_status_map", str(exc))
        self._clean_time(data)
        given = [name for name in ("inbound_from_path", "inbound_text_path") if data.get(name)]
        if len(given) == 1:
            missing = ({"inbound_from_path", "inbound_text_path"} - set(given)).pop()
            self.add_error(missing, "Give both the sender and the text path, or neither.")

    def _clean_time(self, data: dict) -> None:
        fmt = (data.get("reports_time_format") or ISO).strip()
        if fmt not in (ISO, EPOCH_S, EPOCH_MS) and "%" not in fmt:
            self.add_error(
                "reports_time_format",
                f"Enter {ISO}, {EPOCH_S}, {EPOCH_MS}, or a pattern with % codes.",
            )
        data["reports_time_format"] = fmt
        try:
            zone(data.get("reports_time_zone") or "UTC")
        except ValueError:
            self.add_error(
                "reports_time_zone", "Not a time zone: enter a name such as Asia/Kolkata or UTC."
            )

    def report_config(self) -> dict:
        """config["reports"] and config["inbound"]; nothing for reference callbacks (the
        default of a configuration without them)."""
        data = self.cleaned_data
        fmt = data.get("reports_format") or REFERENCE
        if fmt == REFERENCE:
            return {}
        reports = {key: data.get(name, "").strip() for name, key in PATH_FIELDS.items()}
        reports.update(
            format=fmt,
            json_field=data.get("reports_json_field", "").strip(),
            our_id_in_url=bool(data.get("reports_our_id_in_url")),
            status_map=data.get("reports_status_map") or {},
            time_format=data.get("reports_time_format") or ISO,
            time_zone=(data.get("reports_time_zone") or "UTC").strip(),
        )
        inbound = {key: data.get(name, "").strip() for name, key in INBOUND_FIELDS.items()}
        inbound["when_value"] = data.get("inbound_when_value", "").strip()
        return {"reports": reports, "inbound": inbound}


class TryReportForm(forms.Form):
    """Try a report: a sample as the provider would send it, read with the form's mapping."""

    sample = forms.CharField(
        label="Sample report",
        required=False,
        max_length=100_000,
        widget=forms.Textarea(attrs={"rows": 8, "spellcheck": "false", "class": "code"}),
        help_text="The request body: JSON, or form fields like Status=delivered&To=…",
    )
    query = forms.CharField(
        label="Query string",
        required=False,
        max_length=4000,
        help_text="Optional: what follows ? in the report URL, e.g. mid=… or the fields of a GET.",
        widget=forms.TextInput(attrs=PATH_ATTRS),
    )


def report_initial(config: dict) -> dict:
    """The section's fields from a saved configuration."""
    reports = config.get("reports") or {}
    inbound = config.get("inbound") or {}
    initial = {name: reports.get(key, "") for name, key in PATH_FIELDS.items()}
    initial.update({name: inbound.get(key, "") for name, key in INBOUND_FIELDS.items()})
    initial["inbound_when_value"] = inbound.get("when_value", "")
    initial.update(
        reports_format=reports.get("format") or REFERENCE,
        reports_json_field=reports.get("json_field", ""),
        reports_our_id_in_url=bool(reports.get("our_id_in_url")),
        reports_status_map=status_lines(reports.get("status_map") or {}),
        reports_time_format=reports.get("time_format") or ISO,
        reports_time_zone=reports.get("time_zone") or "UTC",
    )
    return initial


def status_lines(mapped: dict[str, str]) -> str:
    """The map as the form shows it: delivered values first, then failed, then pending, each
    by name (PostgreSQL's JSON does not keep the order they were typed in)."""
    rank = {outcome: place for place, outcome in enumerate(OUTCOMES)}
    ordered = sorted(mapped.items(), key=lambda item: (rank.get(item[1], len(rank)), item[0]))
    return "\n".join(f"{value} = {outcome}" for value, outcome in ordered)


def status_map(text: str) -> dict[str, str]:
    """`VALUE = outcome` lines as a dict; ValueError naming the first bad line."""
    mapped = {}
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        value, equals, outcome = line.rpartition("=")
        value, outcome = value.strip(), outcome.strip().lower()
        if not equals or not value or outcome not in OUTCOMES:
            raise ValueError(
                f"Line {number}: write the provider's value, =, then "
                f"{', '.join(OUTCOMES[:-1])} or {OUTCOMES[-1]}."
            )
        mapped[value] = outcome
    return mapped
