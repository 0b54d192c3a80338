"""The page that asks for a preset's named inputs (SPEC §5.1), labelled as the provider labels
them, before the Generic setup form opens prefilled."""

from __future__ import annotations

from django import forms

from .presets import Preset, PresetInput, clean_input

MAX_INPUT_LENGTH = 500


class PresetInputsForm(forms.Form):
    def __init__(self, preset: Preset, data=None):
        super().__init__(data)
        self.preset = preset
        for item in preset.inputs:
            self.fields[item.name] = _field(item)

    def clean(self) -> dict:
        data = super().clean()
        for item in self.preset.inputs:
            if item.name in data:
                try:
                    data[item.name] = clean_input(item, data[item.name])
                except ValueError as exc:
                    self.add_error(item.name, str(exc))
        return data


def _field(item: PresetInput) -> forms.Field:
    if item.choices:
        choices = [(choice, choice) for choice in item.choices]
        return forms.ChoiceField(
            label=item.label, help_text=item.help, choices=choices, initial=item.example
        )
    attrs = {"spellcheck": "false", "autocomplete": "off"}
    if item.secret:
        # new-password: browsers must not fill the admin's own login into a provider's secret.
        attrs["autocomplete"] = "new-password"
        widget = forms.PasswordInput(render_value=True, attrs=attrs)
    else:
        widget = forms.TextInput(attrs={**attrs, "placeholder": f"e.g. {item.example}"})
    return forms.CharField(
        label=item.label, help_text=item.help, max_length=MAX_INPUT_LENGTH, widget=widget
    )
