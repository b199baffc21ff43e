"""Walking the import's pages as the DSR lead does, accepting the suggestions and choosing
what the service leaves to the lead."""

from unittest import mock

from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from dsr import imports
from dsr.imports import mapping
from dsr.imports.forms import ColumnsForm, ValuesForm
from dsr.models import LocalAuthority, RegisterImport

# What the lead chooses for words the service will not guess, and for the whole file.
CHOICES = {
    "placement_type": {
        "residential school": "residential_school_52",
        "own tenancy": "supported_living",
    },
    "ethnicity": {"mixed": "G"},
    # The example names hospitals but gives no ODS codes: the lead gives each one's.
    "hospital_ods_code": {"hellesdon hospital": "RMY01", "priory cheadle royal": "NVC08"},
}
CONSTANTS = {
    "diagnosis_status": "confirmed",
    # The example has no columns for these: the lead's choice for every blue row in the file.
    "cqc_rating": "good",
    "ward_security": "general",
    "cetr_before_admission": "yes",
}


def upload(client, data: bytes, name: str = "register.xlsx"):
    response = client.post(reverse("dsr:import-upload"), {"file": SimpleUploadedFile(name, data)})
    return response


def match(client, register_import: RegisterImport, **kwargs) -> RegisterImport:
    """Match the columns and the words, then run the check the values page queued."""
    queued = match_only(client, register_import, **kwargs)
    return run_check(register_import, queued)


def match_only(client, register_import: RegisterImport, *, choices=None, constants=None):
    """Post the columns page and the values page with the suggestions, plus `choices`; returns
    the check job's `delay`, patched: what the page queued, not run."""
    choices = CHOICES if choices is None else choices
    constants = CONSTANTS if constants is None else constants
    columns = ColumnsForm(register_import=register_import)
    data = {name: field.initial or "" for name, field in columns.fields.items()}
    response = client.post(reverse("dsr:import-columns", args=[register_import.pk]), data)
    assert response.status_code == 302, response.content.decode()[:3000]
    register_import.refresh_from_db()
    las = [(la.pk, la.name) for la in LocalAuthority.objects.order_by("name")]
    words = imports.value_words(register_import)
    form = ValuesForm(register_import=register_import, words=words, local_authorities=las)
    data = {}
    for name, field in form.fields.items():
        data[name] = field.initial or ""
        if "__" in name and not name.startswith("constant__"):
            field_name, index = name.rsplit("__", 1)
            sheet_word = mapping.word(words[field_name][int(index)])
            data[name] = choices.get(field_name, {}).get(sheet_word, data[name])
        elif name.startswith("constant__"):
            data[name] = constants.get(name.removeprefix("constant__"), "")
    data["save_as"] = ""
    with mock.patch("dsr.tasks.check_import_task.delay") as queued:
        response = client.post(reverse("dsr:import-values", args=[register_import.pk]), data)
    assert response.status_code == 302, response.content.decode()[:3000]
    return queued


def run_check(register_import: RegisterImport, queued=None) -> RegisterImport:
    """Run the check the page queued, as the worker would, and return the checked import.
    `queued` (the patched task's delay, in tests whose commits run their callbacks) must have
    been asked for this import's check."""
    register_import.refresh_from_db()
    assert register_import.status == RegisterImport.Status.CHECKING
    if queued is not None and queued.called:
        queued.assert_called_once_with(register_import.pk, register_import.uploaded_by_id)
    imports.check_run(register_import.pk, register_import.uploaded_by_id)
    register_import.refresh_from_db()
    return register_import


def upload_and_check(client, data: bytes, name: str = "register.xlsx", **kwargs):
    response = upload(client, data, name)
    assert response.status_code == 302, response.content.decode()[:3000]
    register_import = RegisterImport.objects.order_by("-pk").first()
    return match(client, register_import, **kwargs)
