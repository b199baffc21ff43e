"""The import's forms: the file, the sheet, the columns, the values, the likely matches."""

import copy
from typing import Any

from django import forms

from dsr.forms import AdmissionForm
from dsr.imports import mapping
from dsr.imports.files import display_name
from dsr.models import ImportMapping, RegisterImport
from dsr.nhsuk.forms import choose_from_list
from dsr.nhsuk.validators import refuse_control_characters, validate_one_line


class UploadForm(forms.Form):
    file = forms.FileField(
        label="Upload the register spreadsheet",
        help_text="An Excel workbook (.xlsx) or a CSV file, smaller than 10MB.",
        error_messages={"required": "Select the spreadsheet to import."},
    )
    mapping = forms.ModelChoiceField(
        label="Use a saved matching of columns and values (optional)",
        queryset=ImportMapping.objects.all(),
        required=False,
        empty_label="None: suggest one from the headers",
        error_messages=choose_from_list("a saved matching"),
    )


class SheetForm(forms.Form):
    sheet = forms.ChoiceField(
        label="Which sheet holds the register?",
        widget=forms.RadioSelect,
        error_messages={"required": "Choose a sheet.", **choose_from_list("a sheet")},
    )

    def __init__(self, *args: Any, register_import: RegisterImport, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["sheet"].choices = [
            (s["name"], f"{display_name(s['name'])} ({s['data_rows']} rows)")
            for s in register_import.sheets
        ]
        self.fields["sheet"].initial = register_import.sheet_name


class ColumnsForm(forms.Form):
    """One list per register field: which of the sheet's columns holds it."""

    def __init__(self, *args: Any, register_import: RegisterImport, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        headers = [(h, display_name(h)) for h in register_import.headers]
        for field in mapping.FIELDS:
            self.fields[field.name] = forms.ChoiceField(
                label=field.label,
                choices=[("", "Not in this sheet"), *headers],
                required=False,
                initial=register_import.columns.get(field.name, ""),
                error_messages=choose_from_list("a column"),
            )

    def clean(self) -> dict:
        data = super().clean()
        used: dict[str, str] = {}
        for name, header in data.items():
            if not header:
                continue
            if header in used:
                self.add_error(
                    name,
                    f"The column “{display_name(header)}” is already chosen for "
                    f"{mapping.BY_NAME[used[header]].in_sentence}.",
                )
            used[header] = name
        for name in ("given_name", "family_name", "date_of_birth", "diagnosis"):
            if not data.get(name):
                self.add_error(
                    name, f"Choose the column with the {mapping.BY_NAME[name].in_sentence}."
                )
        return data


def value_key(field: str, index: int) -> str:
    return f"{field}__{index}"


class ValuesForm(forms.Form):
    """What each word in a column of choices means, and any choice for the whole file."""

    save_as = forms.CharField(
        label="Save this matching for next time as (optional)",
        help_text="For example, Norfolk register 2026. The next file can use it.",
        max_length=100,
        required=False,
    )

    def __init__(
        self,
        *args: Any,
        register_import: RegisterImport,
        words: dict[str, list[str]],
        local_authorities: list[tuple[int, str]],
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.words = words
        self.groups: list[dict[str, Any]] = []
        for field in mapping.FIELDS:
            if field.name == "hospital_ods_code" and field.name in words:
                self._hospital_codes(register_import, words[field.name])
            if field.kind not in ("choice", "yes_no"):
                continue
            choices = mapping.choices_for(field, local_authorities)
            if field.name in register_import.columns:
                names = []
                known = register_import.values.get(field.name, {})
                for index, sheet_word in enumerate(words.get(field.name, [])):
                    key = value_key(field.name, index)
                    initial = known.get(mapping.word(sheet_word)) or mapping.suggest_value(
                        field, sheet_word, local_authorities
                    )
                    self.fields[key] = forms.ChoiceField(
                        label=f"“{display_name(sheet_word)}” means",
                        choices=[("", "Not matched: refuse rows with this"), *choices],
                        required=False,
                        initial=initial,
                        error_messages=choose_from_list("a value"),
                    )
                    names.append(key)
                if names:
                    self.groups.append({"label": field.label, "names": names, "constant": False})
            elif field.constant:
                key = f"constant__{field.name}"
                self.fields[key] = forms.ChoiceField(
                    label=f"The sheet has no column for {field.in_sentence}. What is it for "
                    "everyone in this file?",
                    choices=[("", "Choose"), *choices],
                    required=False,
                    initial=register_import.constants.get(field.name, ""),
                    help_text=(
                        "Leave it unchosen and every row rated blue will be refused for want of it."
                        if field.for_blue
                        else "Leave it unchosen and every row will be refused for want of it."
                    ),
                    error_messages=choose_from_list("a value"),
                )
                self.groups.append({"label": field.label, "names": [key], "constant": True})
        self.order_fields([n for g in self.groups for n in g["names"]] + ["save_as"])

    def _hospital_codes(self, register_import: RegisterImport, hospitals: list[str]) -> None:
        """The sheet names hospitals but has no column for their ODS codes: the lead gives each
        hospital's, checked as the admission form checks it. Rows rated blue need them."""
        known = register_import.values.get("hospital_ods_code", {})
        names = []
        for index, hospital in enumerate(hospitals):
            key = value_key("hospital_ods_code", index)
            field = copy.deepcopy(AdmissionForm.base_fields["hospital_ods_code"])
            field.label = f"ODS code of “{display_name(hospital)}”"
            field.required = False
            field.initial = known.get(mapping.word(hospital), "")
            self.fields[key] = field
            names.append(key)
        if names:
            self.groups.append({"label": "Hospital ODS codes", "names": names, "constant": False})

    def clean_save_as(self) -> str:
        value = self.cleaned_data.get("save_as", "").strip()
        refuse_control_characters(value)
        validate_one_line(value)
        return value

    def values(self) -> dict[str, dict[str, str]]:
        result: dict[str, dict[str, str]] = {}
        for field, sheet_words in self.words.items():
            for index, sheet_word in enumerate(sheet_words):
                code = self.cleaned_data.get(value_key(field, index))
                if code and field == "hospital_ods_code":
                    code = code.upper()
                if code:
                    result.setdefault(field, {})[mapping.word(sheet_word)] = code
        return result

    def constants(self) -> dict[str, str]:
        return {
            name.removeprefix("constant__"): code
            for name, code in self.cleaned_data.items()
            if name.startswith("constant__") and code
        }


class DecisionForm(forms.Form):
    """The lead's decision on each likely match."""

    def __init__(self, *args: Any, rows: list[Any], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for row in rows:
            candidate = row.candidate
            self.fields[f"row_{row.pk}"] = forms.ChoiceField(
                label=f"Row {row.row_number}: is this {candidate.full_name}, born "
                f"{candidate.date_of_birth:%d %B %Y}, already on the register?",
                choices=[
                    ("same", "Yes, the same person: bring the row's details to their record"),
                    ("different", "No, someone else: add them as a new person"),
                ],
                widget=forms.RadioSelect,
                required=False,
                initial=row.decision or None,
            )

    def decisions(self) -> dict[int, str]:
        return {
            int(name.removeprefix("row_")): value
            for name, value in self.cleaned_data.items()
            if value
        }
