"""The NHS.UK crispy template pack (templates/nhsuk/) and the date field it renders.

Each widget is rendered through {{ form|crispy }} (or {% crispy %} with a FormHelper) and the
markup is checked against nhsuk-frontend 10.6's component fixtures: classes, label `for`, hint
and error ids and the aria-describedby that joins them. No test touches the database.
"""

import datetime
import functools
import re
from pathlib import Path

import pytest
from crispy_forms.helper import FormHelper
from crispy_forms.layout import Button, Fieldset, Layout, Submit
from django import forms
from django.conf import settings
from django.core.validators import MaxValueValidator
from django.template import Context, Template
from django.test.html import Element, parse_html

from dsr.nhsuk.forms import DateInputWidget, NHSDateField

PACK_DIR = Path(settings.BASE_DIR) / "templates" / "nhsuk"
CONTACT_CHOICES = [("email", "Email"), ("phone", "Phone"), ("text", "Text message")]
CONTROL_TAGS = {"input", "select", "textarea"}


# --- Rendering and looking things up -----------------------------------------------------------


def form_with(field: forms.Field, data: dict | None = None, **kwargs) -> forms.Form:
    """A form whose only field, `answer`, is `field`; bound when `data` is given."""
    form_class = type("OneQuestionForm", (forms.Form,), {"answer": field})
    return form_class(data=data, **kwargs)


def render(form: forms.Form, helper: FormHelper | None = None) -> str:
    if helper is None:
        template = Template("{% load crispy_forms_tags %}{{ form|crispy }}")
    else:
        template = Template("{% load crispy_forms_tags %}{% crispy form helper %}")
    return template.render(Context({"form": form, "helper": helper}))


def render_summary(form: forms.Form) -> str:
    return Template('{% include "nhsuk/error_summary.html" %}').render(Context({"form": form}))


def elements(html: str | Element) -> list[Element]:
    root = parse_html(html) if isinstance(html, str) else html
    found = []
    pending = [root]
    while pending:
        node = pending.pop(0)
        if node.name:
            found.append(node)
        pending[:0] = [child for child in node.children if isinstance(child, Element)]
    return found


def find_all(html: str | Element, tag: str | None = None, cls: str | None = None) -> list[Element]:
    return [
        el
        for el in elements(html)
        if (tag is None or el.name == tag) and (cls is None or cls in classes(el))
    ]


def find(html: str | Element, tag: str | None = None, cls: str | None = None) -> Element:
    matches = find_all(html, tag, cls)
    assert len(matches) == 1, f"expected one {tag or ''}.{cls or ''}, found {len(matches)}"
    return matches[0]


def by_id(html: str | Element, element_id: str) -> Element:
    matches = [el for el in elements(html) if attrs(el).get("id") == element_id]
    assert len(matches) == 1, f"expected one #{element_id}, found {len(matches)}"
    return matches[0]


def attrs(el: Element) -> dict[str, str | None]:
    return dict(el.attributes)


def classes(el: Element) -> set[str]:
    return set((attrs(el).get("class") or "").split())


def text(el: Element) -> str:
    parts = []
    for child in el.children:
        parts.append(child if isinstance(child, str) else text(child))
    return " ".join(" ".join(parts).split())


def described_by(el: Element) -> list[str]:
    return (attrs(el).get("aria-describedby") or "").split()


def assert_error_message(html: str, field_id: str, message: str) -> None:
    error = by_id(html, f"{field_id}-error")
    assert error.name == "span"
    assert classes(error) == {"nhsuk-error-message"}
    prefix = find(error, "span", "nhsuk-u-visually-hidden")
    assert text(prefix) == "Error:"
    assert text(error) == f"Error: {message}"


# --- Text inputs -------------------------------------------------------------------------------


def test_text_input_renders_nhsuk_label_hint_and_input():
    html = render(form_with(forms.CharField(label="Full name", help_text="As on your passport.")))

    group = find(html, "div", "nhsuk-form-group")
    assert classes(group) == {"nhsuk-form-group"}
    label = find(group, "label")
    assert classes(label) == {"nhsuk-label"}
    assert attrs(label)["for"] == "id_answer"
    assert text(label) == "Full name"
    hint = by_id(html, "id_answer-hint")
    assert classes(hint) == {"nhsuk-hint"}
    assert text(hint) == "As on your passport."
    field = find(group, "input")
    assert classes(field) == {"nhsuk-input"}
    assert attrs(field)["id"] == "id_answer"
    assert attrs(field)["name"] == "answer"
    assert attrs(field)["type"] == "text"
    assert described_by(field) == ["id_answer-hint"]
    assert not find_all(html, cls="nhsuk-error-message")


def test_text_input_with_an_error_shows_the_message_and_error_classes():
    field = forms.CharField(
        label="Full name",
        help_text="As on your passport.",
        error_messages={"required": "Enter your full name."},
    )
    html = render(form_with(field, data={}))

    assert classes(find(html, "div", "nhsuk-form-group")) == {
        "nhsuk-form-group",
        "nhsuk-form-group--error",
    }
    assert_error_message(html, "id_answer", "Enter your full name.")
    control = find(html, "input")
    assert classes(control) == {"nhsuk-input", "nhsuk-input--error"}
    assert described_by(control) == ["id_answer-hint", "id_answer-error"]


def test_text_input_redisplays_what_was_typed_after_an_error():
    html = render(form_with(forms.CharField(max_length=3), data={"answer": "too long"}))

    assert attrs(find(html, "input"))["value"] == "too long"
    assert "nhsuk-input--error" in classes(find(html, "input"))


def test_a_class_on_the_widget_is_kept_alongside_nhsuk_input():
    widget = forms.TextInput(attrs={"class": "nhsuk-input--width-10", "autocomplete": "name"})
    html = render(form_with(forms.CharField(widget=widget), data={}))

    control = find(html, "input")
    assert classes(control) == {"nhsuk-input", "nhsuk-input--error", "nhsuk-input--width-10"}
    assert attrs(control)["autocomplete"] == "name"


INPUT_WIDGETS = [
    (forms.EmailField, forms.EmailInput, "email"),
    (forms.IntegerField, forms.NumberInput, "number"),
    (forms.CharField, forms.PasswordInput, "password"),
    (forms.CharField, forms.TelInput, "tel"),
    (functools.partial(forms.URLField, assume_scheme="https"), forms.URLInput, "url"),
    (forms.CharField, forms.SearchInput, "search"),
]


@pytest.mark.parametrize(("field_class", "widget_class", "input_type"), INPUT_WIDGETS)
def test_every_input_type_gets_the_nhsuk_input(field_class, widget_class, input_type):
    html = render(form_with(field_class(widget=widget_class, help_text="Hint.")))

    control = find(html, "input")
    assert attrs(control)["type"] == input_type
    assert classes(control) == {"nhsuk-input"}
    assert attrs(find(html, "label"))["for"] == attrs(control)["id"] == "id_answer"
    assert described_by(control) == ["id_answer-hint"]


@pytest.mark.parametrize(("field_class", "widget_class", "input_type"), INPUT_WIDGETS)
def test_every_input_type_shows_its_error(field_class, widget_class, input_type):
    html = render(form_with(field_class(widget=widget_class), data={}))

    control = find(html, "input")
    assert attrs(control)["type"] == input_type
    assert classes(control) == {"nhsuk-input", "nhsuk-input--error"}
    assert described_by(control) == ["id_answer-error"]
    assert_error_message(html, "id_answer", "This field is required.")


def test_a_password_is_not_sent_back_to_the_browser():
    form = form_with(
        forms.CharField(widget=forms.PasswordInput, max_length=3), data={"answer": "hunter2"}
    )

    assert "value" not in attrs(find(render(form), "input"))


def test_aria_describedby_set_on_the_widget_is_kept_before_hint_and_error():
    widget = forms.TextInput(attrs={"aria-describedby": "password-rules"})
    html = render(form_with(forms.CharField(widget=widget, help_text="Hint."), data={}))

    assert described_by(find(html, "input")) == [
        "password-rules",
        "id_answer-hint",
        "id_answer-error",
    ]


# --- Textarea ----------------------------------------------------------------------------------


def test_textarea_renders_nhsuk_textarea():
    html = render(
        form_with(forms.CharField(widget=forms.Textarea, help_text="Do not include names."))
    )

    control = find(html, "textarea")
    assert classes(control) == {"nhsuk-textarea"}
    assert attrs(find(html, "label"))["for"] == attrs(control)["id"] == "id_answer"
    assert described_by(control) == ["id_answer-hint"]


def test_textarea_with_an_error_keeps_the_text_and_shows_the_error():
    field = forms.CharField(widget=forms.Textarea, max_length=5)
    html = render(form_with(field, data={"answer": "Far too long"}))

    control = find(html, "textarea")
    assert classes(control) == {"nhsuk-textarea", "nhsuk-textarea--error"}
    assert text(control) == "Far too long"
    assert described_by(control) == ["id_answer-error"]
    assert "nhsuk-form-group--error" in classes(find(html, "div", "nhsuk-form-group"))


# --- Select ------------------------------------------------------------------------------------


def test_select_renders_nhsuk_select_with_its_options():
    field = forms.ChoiceField(
        choices=[("", "Choose a location"), *CONTACT_CHOICES], help_text="Hint."
    )
    html = render(form_with(field))

    control = find(html, "select")
    assert classes(control) == {"nhsuk-select"}
    assert attrs(find(html, "label"))["for"] == attrs(control)["id"] == "id_answer"
    assert described_by(control) == ["id_answer-hint"]
    options = find_all(control, "option")
    assert [attrs(option)["value"] for option in options] == ["", "email", "phone", "text"]
    assert [text(option) for option in options][1] == "Email"


def _reject(value: str) -> None:
    raise forms.ValidationError("Choose another way.")


def test_select_with_an_error_shows_it_and_keeps_the_choice():
    field = forms.ChoiceField(choices=CONTACT_CHOICES, validators=[_reject])
    html = render(form_with(field, data={"answer": "phone"}))

    control = find(html, "select")
    assert classes(control) == {"nhsuk-select", "nhsuk-select--error"}
    assert described_by(control) == ["id_answer-error"]
    selected = [option for option in find_all(control, "option") if "selected" in attrs(option)]
    assert [attrs(option)["value"] for option in selected] == ["phone"]
    assert_error_message(html, "id_answer", "Choose another way.")


def test_select_keeps_option_groups():
    choices = [("Contact", CONTACT_CHOICES), ("post", "Post")]
    html = render(form_with(forms.ChoiceField(choices=choices)))

    group = find(html, "optgroup")
    assert attrs(group)["label"] == "Contact"
    assert len(find_all(group, "option")) == 3


# --- Radios and checkboxes ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("field", "kind"),
    [
        (forms.ChoiceField(choices=CONTACT_CHOICES, widget=forms.RadioSelect), "radios"),
        (
            forms.MultipleChoiceField(choices=CONTACT_CHOICES, widget=forms.CheckboxSelectMultiple),
            "checkboxes",
        ),
    ],
)
def test_choice_groups_are_a_fieldset_with_legend_and_nhsuk_items(field, kind):
    field.label = "How should we contact you?"
    field.help_text = "Select all that apply."
    html = render(form_with(field))

    group = find(html, "div", "nhsuk-form-group")
    assert classes(group) == {"nhsuk-form-group"}
    fieldset = find(group, "fieldset")
    assert classes(fieldset) == {"nhsuk-fieldset"}
    assert described_by(fieldset) == ["id_answer-hint"]
    legend = find(fieldset, "legend")
    assert classes(legend) == {"nhsuk-fieldset__legend"}
    assert text(legend) == "How should we contact you?"
    assert text(by_id(fieldset, "id_answer-hint")) == "Select all that apply."
    container = find(fieldset, "div", f"nhsuk-{kind}")
    assert attrs(container)["data-module"] == f"nhsuk-{kind}"
    items = find_all(container, "div", f"nhsuk-{kind}__item")
    assert len(items) == 3
    for index, item in enumerate(items):
        control = find(item, "input")
        label = find(item, "label")
        assert classes(control) == {f"nhsuk-{kind}__input"}
        assert attrs(control)["id"] == f"id_answer_{index}"
        assert attrs(control)["name"] == "answer"
        assert attrs(control)["type"] == ("radio" if kind == "radios" else "checkbox")
        assert classes(label) == {"nhsuk-label", f"nhsuk-{kind}__label"}
        assert attrs(label)["for"] == attrs(control)["id"]
    assert [text(find(item, "label")) for item in items] == ["Email", "Phone", "Text message"]


@pytest.mark.parametrize(
    ("field", "kind", "data"),
    [
        (
            forms.ChoiceField(choices=CONTACT_CHOICES, widget=forms.RadioSelect),
            "radios",
            {},
        ),
        (
            forms.MultipleChoiceField(choices=CONTACT_CHOICES, widget=forms.CheckboxSelectMultiple),
            "checkboxes",
            {},
        ),
    ],
)
def test_choice_groups_with_an_error_describe_the_fieldset_with_it(field, kind, data):
    field.help_text = "Select one."
    field.error_messages["required"] = "Select how you want to be contacted."
    html = render(form_with(field, data=data))

    assert "nhsuk-form-group--error" in classes(find(html, "div", "nhsuk-form-group"))
    fieldset = find(html, "fieldset")
    assert described_by(fieldset) == ["id_answer-hint", "id_answer-error"]
    assert_error_message(html, "id_answer", "Select how you want to be contacted.")
    assert by_id(fieldset, "id_answer-error")  # inside the fieldset, after the legend
    assert all(classes(control) == {f"nhsuk-{kind}__input"} for control in find_all(html, "input"))


def test_radios_and_checkboxes_keep_what_was_chosen():
    radios = render(
        form_with(
            forms.ChoiceField(choices=CONTACT_CHOICES, widget=forms.RadioSelect),
            data={"answer": "phone"},
        )
    )
    boxes = render(
        form_with(
            forms.MultipleChoiceField(choices=CONTACT_CHOICES, widget=forms.CheckboxSelectMultiple),
            data={"answer": ["email", "text"]},
        )
    )

    assert [attrs(el)["value"] for el in find_all(radios, "input") if "checked" in attrs(el)] == [
        "phone"
    ]
    assert [attrs(el)["value"] for el in find_all(boxes, "input") if "checked" in attrs(el)] == [
        "email",
        "text",
    ]


def test_a_class_on_a_radio_widget_goes_on_the_radios_container():
    widget = forms.RadioSelect(attrs={"class": "nhsuk-radios--inline"})
    html = render(form_with(forms.ChoiceField(choices=CONTACT_CHOICES, widget=widget)))

    assert classes(find(html, "div", "nhsuk-radios")) == {"nhsuk-radios", "nhsuk-radios--inline"}
    assert all(classes(control) == {"nhsuk-radios__input"} for control in find_all(html, "input"))


def test_a_single_checkbox_is_one_nhsuk_checkbox_labelled_by_the_field():
    field = forms.BooleanField(label="I agree to the terms", help_text="You can withdraw later.")
    html = render(form_with(field))

    assert not find_all(html, "fieldset")
    item = find(find(html, "div", "nhsuk-checkboxes"), "div", "nhsuk-checkboxes__item")
    control = find(item, "input")
    assert classes(control) == {"nhsuk-checkboxes__input"}
    assert attrs(control)["type"] == "checkbox"
    label = find(item, "label")
    assert classes(label) == {"nhsuk-label", "nhsuk-checkboxes__label"}
    assert attrs(label)["for"] == attrs(control)["id"] == "id_answer"
    assert text(label) == "I agree to the terms"
    hint = by_id(item, "id_answer-hint")
    assert classes(hint) == {"nhsuk-hint", "nhsuk-checkboxes__hint"}
    assert described_by(control) == ["id_answer-hint"]


def test_a_single_checkbox_with_an_error_shows_it():
    field = forms.BooleanField(error_messages={"required": "Agree to the terms to continue."})
    html = render(form_with(field, data={}))

    assert "nhsuk-form-group--error" in classes(find(html, "div", "nhsuk-form-group"))
    assert_error_message(html, "id_answer", "Agree to the terms to continue.")
    assert described_by(find(html, "input")) == ["id_answer-error"]


def test_a_ticked_single_checkbox_stays_ticked():
    form = form_with(forms.BooleanField(), data={"answer": "on"})

    assert "checked" in attrs(find(render(form), "input"))


# --- Date input --------------------------------------------------------------------------------


def test_date_field_renders_the_nhsuk_date_input():
    field = NHSDateField(label="Date of birth", help_text="For example, 15 3 1984")
    html = render(form_with(field))

    fieldset = find(html, "fieldset")
    assert classes(fieldset) == {"nhsuk-fieldset"}
    assert attrs(fieldset)["role"] == "group"
    assert described_by(fieldset) == ["id_answer-hint"]
    assert text(find(fieldset, "legend")) == "Date of birth"
    assert classes(find(fieldset, "legend")) == {"nhsuk-fieldset__legend"}
    date_input = by_id(fieldset, "id_answer")
    assert classes(date_input) == {"nhsuk-date-input"}
    items = find_all(date_input, "div", "nhsuk-date-input__item")
    expected = [("day", "Day", "2"), ("month", "Month", "2"), ("year", "Year", "4")]
    assert len(items) == len(expected)
    for item, (part, label_text, width) in zip(items, expected, strict=True):
        assert classes(find(item, "div", "nhsuk-form-group")) == {"nhsuk-form-group"}
        label = find(item, "label")
        control = find(item, "input")
        assert classes(label) == {"nhsuk-label", "nhsuk-date-input__label"}
        assert text(label) == label_text
        assert attrs(label)["for"] == attrs(control)["id"] == f"id_answer_{part}"
        assert attrs(control)["name"] == f"answer_{part}"
        assert attrs(control)["type"] == "text"
        assert attrs(control)["inputmode"] == "numeric"
        assert classes(control) == {
            "nhsuk-input",
            f"nhsuk-input--width-{width}",
            "nhsuk-date-input__input",
        }


def test_an_empty_required_date_highlights_every_box():
    html = render(form_with(NHSDateField(label="Date of birth"), data={}))

    outer_group = find_all(html, "div", "nhsuk-form-group")[0]
    assert "nhsuk-form-group--error" in classes(outer_group)
    assert described_by(find(html, "fieldset")) == ["id_answer-error"]
    assert_error_message(html, "id_answer", "Enter the date of birth.")
    for control in find_all(html, "input"):
        assert "nhsuk-input--error" in classes(control)


def test_a_date_missing_its_month_highlights_only_the_month():
    data = {"answer_day": " 1 ", "answer_month": "", "answer_year": "2024"}
    html = render(form_with(NHSDateField(), data=data))

    assert_error_message(html, "id_answer", "The date must include a month.")
    highlighted = [
        attrs(control)["name"]
        for control in find_all(html, "input")
        if "nhsuk-input--error" in classes(control)
    ]
    assert highlighted == ["answer_month"]
    item_groups = find_all(find(html, "div", "nhsuk-date-input"), "div", "nhsuk-form-group")
    assert ["nhsuk-form-group--error" in classes(group) for group in item_groups] == [
        False,
        True,
        False,
    ]


def test_a_date_redisplays_exactly_what_was_typed_after_an_error():
    data = {"answer_day": " 31 ", "answer_month": "02", "answer_year": "2024"}
    html = render(form_with(NHSDateField(), data=data))

    values = {
        attrs(control)["name"]: attrs(control).get("value") for control in find_all(html, "input")
    }
    assert values == {"answer_day": " 31 ", "answer_month": "02", "answer_year": "2024"}
    assert_error_message(html, "id_answer", "The date must be a real date.")


def test_a_stored_date_fills_the_boxes():
    form = form_with(NHSDateField(), initial={"answer": datetime.date(2024, 8, 5)})

    values = [attrs(control)["value"] for control in find_all(render(form), "input")]
    assert values == ["5", "8", "2024"]


# --- Date parsing ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("parts", "expected"),
    [
        (["01", "02", "2024"], datetime.date(2024, 2, 1)),
        ([" 1 ", " 2 ", " 2024 "], datetime.date(2024, 2, 1)),
        (["29", "2", "2024"], datetime.date(2024, 2, 29)),
        (["31", "12", "1999"], datetime.date(1999, 12, 31)),
    ],
)
def test_date_field_reads_day_month_and_year(parts, expected):
    assert NHSDateField().clean(parts) == expected


@pytest.mark.parametrize(
    ("parts", "message", "highlighted"),
    [
        (["1", "", "2024"], "The date must include a month.", ["month"]),
        (["", "2", "2024"], "The date must include a day.", ["day"]),
        (["1", "2", ""], "The date must include a year.", ["year"]),
        (["", "", "2024"], "The date must include a day and month.", ["day", "month"]),
        (["31", "2", "2024"], "The date must be a real date.", ["day", "month", "year"]),
        (["29", "2", "2023"], "The date must be a real date.", ["day", "month", "year"]),
        (["1", "13", "2024"], "The date must be a real date.", ["month"]),
        (["32", "1", "2024"], "The date must be a real date.", ["day"]),
        (["0", "1", "2024"], "The date must be a real date.", ["day"]),
        (["first", "1", "2024"], "The date must be a real date.", ["day"]),
        (["1", "1.5", "2024"], "The date must be a real date.", ["month"]),
        (["-1", "1", "2024"], "The date must be a real date.", ["day"]),
        (["1", "2", "24"], "The year must include 4 numbers.", ["year"]),
        (["1", "2", "20245"], "The year must include 4 numbers.", ["year"]),
    ],
)
def test_date_field_explains_what_is_wrong(parts, message, highlighted):
    with pytest.raises(forms.ValidationError) as caught:
        NHSDateField().clean(parts)

    assert caught.value.messages == [message]
    assert caught.value.params["parts"] == highlighted


def test_an_empty_required_date_asks_for_it_by_its_label():
    with pytest.raises(forms.ValidationError) as caught:
        NHSDateField(label="Date of birth").clean(["", " ", ""])

    assert caught.value.messages == ["Enter the date of birth."]


def test_an_abbreviation_at_the_start_of_the_label_keeps_its_capitals():
    with pytest.raises(forms.ValidationError) as caught:
        NHSDateField(label="GP referral date").clean(["", "", ""])

    assert caught.value.messages == ["Enter the GP referral date."]


def test_an_optional_date_left_blank_is_none():
    assert NHSDateField(required=False).clean(["", "", ""]) is None
    assert NHSDateField(required=False).clean(None) is None


def test_an_optional_date_still_has_to_be_complete():
    with pytest.raises(forms.ValidationError) as caught:
        NHSDateField(required=False).clean(["", "3", "2024"])

    assert caught.value.messages == ["The date must include a day."]


def test_date_field_runs_its_validators():
    field = NHSDateField(
        validators=[MaxValueValidator(datetime.date(2024, 1, 1), message="It must be in the past.")]
    )

    with pytest.raises(forms.ValidationError) as caught:
        field.clean(["2", "1", "2024"])

    assert caught.value.messages == ["It must be in the past."]


def test_date_widget_posts_day_month_and_year():
    widget = DateInputWidget()
    data = {"when_day": "5", "when_month": "8", "when_year": "2024"}

    assert widget.value_from_datadict(data, {}, "when") == ["5", "8", "2024"]
    assert widget.id_for_label("id_when") == "id_when_day"


# --- File upload -------------------------------------------------------------------------------


def test_file_upload_renders_the_nhsuk_file_upload():
    html = render(form_with(forms.FileField(label="Upload a letter", help_text="A PDF.")))

    group = find(html, "div", "nhsuk-form-group")
    assert classes(group) == {"nhsuk-form-group", "nhsuk-file-upload"}
    assert attrs(group)["data-module"] == "nhsuk-file-upload"
    control = find(group, "input")
    assert classes(control) == {"nhsuk-file-upload__input"}
    assert attrs(control)["type"] == "file"
    assert attrs(find(group, "label"))["for"] == attrs(control)["id"] == "id_answer"
    assert described_by(control) == ["id_answer-hint"]


def test_file_upload_with_an_error_shows_it():
    html = render(form_with(forms.FileField(), data={}, files={}))

    group = find(html, "div", "nhsuk-form-group")
    assert classes(group) == {"nhsuk-form-group", "nhsuk-form-group--error", "nhsuk-file-upload"}
    assert described_by(find(group, "input")) == ["id_answer-error"]
    assert_error_message(html, "id_answer", "This field is required.")


class _StoredFile:
    url = "/files/letter.pdf"

    def __str__(self) -> str:
        return "letter.pdf"


def test_a_stored_file_is_linked_with_a_checkbox_to_remove_it():
    form = form_with(forms.FileField(required=False), initial={"answer": _StoredFile()})
    html = render(form)

    assert attrs(find(html, "a"))["href"] == "/files/letter.pdf"
    clear = by_id(html, "answer-clear_id")
    assert classes(clear) == {"nhsuk-checkboxes__input"}
    assert attrs(find(html, "label", "nhsuk-checkboxes__label"))["for"] == "answer-clear_id"


# --- Hidden fields, Django's own attributes ----------------------------------------------------


def test_a_hidden_field_is_just_the_hidden_input():
    html = render(form_with(forms.CharField(widget=forms.HiddenInput, initial="abc")))

    assert [el.name for el in elements(html)] == ["input"]
    assert attrs(find(html, "input"))["type"] == "hidden"


@pytest.mark.parametrize(
    "field",
    [
        forms.CharField(max_length=20, widget=forms.TextInput(attrs={"autocomplete": "name"})),
        forms.CharField(widget=forms.Textarea(attrs={"rows": 3})),
        forms.ChoiceField(choices=[("", "Choose"), *CONTACT_CHOICES]),
        forms.ChoiceField(choices=CONTACT_CHOICES),
        forms.ChoiceField(choices=CONTACT_CHOICES, required=False),
        forms.ChoiceField(choices=CONTACT_CHOICES, disabled=True),
        forms.MultipleChoiceField(choices=CONTACT_CHOICES),
        forms.NullBooleanField(),
        forms.FileField(),
        forms.BooleanField(),
    ],
    ids=lambda field: f"{type(field).__name__}-{type(field.widget).__name__}",
)
@pytest.mark.parametrize("bound", [False, True], ids=["unbound", "with-errors"])
def test_the_pack_keeps_the_attributes_django_gives_each_control(field, bound):
    """required, disabled, aria-invalid, maxlength... match Django's own rendering."""
    form = form_with(field, data={"answer": "nonsense"} if bound else None)
    django_rendering = str(form["answer"])
    django_control = next(el for el in elements(django_rendering) if el.name in CONTROL_TAGS)
    pack_control = by_id(render(form), "id_answer")

    def comparable(el: Element) -> dict:
        return {k: v for k, v in attrs(el).items() if k not in {"class", "aria-describedby"}}

    assert pack_control.name == django_control.name
    assert comparable(pack_control) == comparable(django_control)


# --- {% crispy %} with a FormHelper: layout objects and buttons -------------------------------


class AddressForm(forms.Form):
    line_1 = forms.CharField(label="Address line 1")
    town = forms.CharField(label="Town or city")
    postcode = forms.CharField(
        label="Postcode", widget=forms.TextInput(attrs={"class": "nhsuk-input--width-10"})
    )


def address_helper() -> FormHelper:
    helper = FormHelper()
    helper.layout = Layout(
        Fieldset("What is your address?", "line_1", "town", "postcode"),
        Submit("save", "Save and continue"),
    )
    return helper


def test_crispy_tag_wraps_the_form_without_browser_validation():
    html = render(AddressForm(), address_helper())

    form = find(html, "form")
    assert attrs(form)["method"] == "post"
    assert "novalidate" in attrs(form)


def test_crispy_fieldset_renders_an_nhsuk_fieldset_and_legend():
    html = render(AddressForm(), address_helper())

    fieldset = find(html, "fieldset")
    assert classes(fieldset) == {"nhsuk-fieldset"}
    legend = find(fieldset, "legend")
    assert classes(legend) == {"nhsuk-fieldset__legend", "nhsuk-fieldset__legend--m"}
    assert text(legend) == "What is your address?"
    assert [attrs(el)["id"] for el in find_all(fieldset, "input")] == [
        "id_line_1",
        "id_town",
        "id_postcode",
    ]


def test_crispy_fieldset_fields_show_their_errors():
    html = render(AddressForm(data={"line_1": "1 High Street"}), address_helper())

    fieldset = find(html, "fieldset")
    assert_error_message(html, "id_town", "This field is required.")
    assert_error_message(html, "id_postcode", "This field is required.")
    assert classes(by_id(fieldset, "id_postcode")) == {
        "nhsuk-input",
        "nhsuk-input--error",
        "nhsuk-input--width-10",
    }
    assert "nhsuk-input--error" not in classes(by_id(fieldset, "id_line_1"))


def test_crispy_submit_is_an_nhsuk_button():
    button = find(render(AddressForm(), address_helper()), "button")

    assert classes(button) == {"nhsuk-button"}
    assert attrs(button)["data-module"] == "nhsuk-button"
    assert attrs(button)["type"] == "submit"
    assert text(button) == "Save and continue"


def test_buttons_added_to_the_helper_are_grouped_and_secondary_ones_marked():
    helper = FormHelper()
    helper.add_input(Submit("save", "Save"))
    helper.add_input(Button("back", "Go back"))
    html = render(AddressForm(), helper)

    group = find(html, "div", "nhsuk-button-group")
    save, back = find_all(group, "button")
    assert classes(save) == {"nhsuk-button"}
    assert classes(back) == {"nhsuk-button", "nhsuk-button--secondary"}


def test_helper_can_hide_inline_errors():
    helper = address_helper()
    helper.form_show_errors = False
    html = render(AddressForm(data={}), helper)

    assert not find_all(html, cls="nhsuk-error-message")
    assert not find_all(html, cls="nhsuk-input--error")


# --- Error summary -----------------------------------------------------------------------------


class ReferralForm(forms.Form):
    """Every kind of widget the pack renders, for the error summary tests."""

    full_name = forms.CharField(label="Full name")
    email = forms.EmailField(label="Email address")
    notes = forms.CharField(label="Notes", widget=forms.Textarea)
    team = forms.ChoiceField(label="Team", choices=[("", "Choose a team"), ("a", "Team A")])
    contact = forms.ChoiceField(label="Contact", choices=CONTACT_CHOICES, widget=forms.RadioSelect)
    needs = forms.MultipleChoiceField(
        label="Needs", choices=CONTACT_CHOICES, widget=forms.CheckboxSelectMultiple
    )
    date_of_birth = NHSDateField(label="Date of birth")
    letter = forms.FileField(label="Letter")
    consent = forms.BooleanField(label="I have consent")
    token = forms.CharField(widget=forms.HiddenInput, required=False)

    def clean(self):
        raise forms.ValidationError("The referral could not be saved.")


def test_error_summary_is_the_nhsuk_component():
    summary = find(render_summary(ReferralForm(data={})), "div", "nhsuk-error-summary")

    assert attrs(summary)["data-module"] == "nhsuk-error-summary"
    (alert,) = [child for child in summary.children if isinstance(child, Element)]
    assert attrs(alert) == {"role": "alert"}
    heading = find(alert, "h2")
    assert classes(heading) == {"nhsuk-error-summary__heading"}
    assert text(heading) == "There is a problem"
    assert classes(find(alert, "ul")) == {"nhsuk-list", "nhsuk-error-summary__list"}


def test_error_summary_lists_non_field_errors_then_field_errors_in_field_order():
    form = ReferralForm(data={"full_name": "Sam", "date_of_birth_day": "1"})
    summary = render_summary(form)

    items = find_all(find(summary, "ul"), "li")
    assert text(items[0]) == "The referral could not be saved."
    assert not find_all(items[0], "a")
    linked = [attrs(find(item, "a"))["href"] for item in items[1:]]
    assert linked == [
        "#id_email",
        "#id_notes",
        "#id_team",
        "#id_contact_0",
        "#id_needs_0",
        "#id_date_of_birth_day",
        "#id_letter",
        "#id_consent",
    ]
    assert text(items[6]) == "The date must include a month and year."


def test_the_crispy_packs_error_summary_links_to_its_fields():
    form = ReferralForm(data={"date_of_birth_month": "2"})
    summary = render_summary(form)
    page = render(form)

    hrefs = [attrs(link)["href"] for link in find_all(summary, "a")]
    assert len(hrefs) == 9
    for href in hrefs:
        assert href.startswith("#")
        target = by_id(page, href[1:])
        assert target.name in CONTROL_TAGS, href


def test_error_summary_links_each_field_error_when_a_layout_is_used():
    form = AddressForm(data={})
    summary = render_summary(form)
    page = render(form, address_helper())

    for link in find_all(summary, "a"):
        assert by_id(page, attrs(link)["href"][1:]).name == "input"


def test_errors_on_hidden_fields_are_listed_without_a_link():
    form = form_with(forms.CharField(widget=forms.HiddenInput), data={})

    item = find(render_summary(form), "li")
    assert text(item) == "This field is required."
    assert not find_all(item, "a")


def test_error_summary_renders_nothing_for_a_valid_or_unbound_form():
    assert render_summary(ReferralForm()).strip() == ""
    assert render_summary(form_with(forms.CharField(), data={"answer": "ok"})).strip() == ""


def test_the_form_itself_shows_no_summary_and_no_non_field_errors():
    html = render(ReferralForm(data={}))

    assert not find_all(html, cls="nhsuk-error-summary")
    assert "The referral could not be saved." not in html


def test_as_crispy_errors_renders_the_same_summary():
    form = ReferralForm(data={})
    html = Template("{% load crispy_forms_tags %}{{ form|as_crispy_errors }}").render(
        Context({"form": form})
    )

    assert parse_html(html) == parse_html(render_summary(form))


# --- Content-Security-Policy ------------------------------------------------------------------


def test_rendered_forms_have_no_inline_script_or_style():
    pages = [
        render(ReferralForm(data={})),
        render(ReferralForm()),
        render(AddressForm(data={}), address_helper()),
        render_summary(ReferralForm(data={})),
    ]

    for html in pages:
        for el in elements(html):
            assert el.name not in {"script", "style"}
            assert "style" not in attrs(el)
            assert not [name for name in attrs(el) if name.startswith("on")]


def test_pack_templates_have_no_inline_script_or_style():
    templates = sorted(PACK_DIR.rglob("*.html"))

    assert templates
    for path in templates:
        source = path.read_text()
        assert not re.search(r"<script|<style|\sstyle=|\son[a-z]+=", source, re.IGNORECASE), path


def test_a_date_box_with_thousands_of_digits_is_an_error_not_a_crash():
    from django import forms as django_forms

    from dsr.nhsuk.forms import NHSDateField

    class Form(django_forms.Form):
        when = NHSDateField(label="Date")

    form = Form({"when_day": "1" * 5000, "when_month": "1", "when_year": "2020"})
    assert not form.is_valid()
    assert form.errors["when"] == ["The date must be a real date."]
    form = Form({"when_day": "1", "when_month": "1", "when_year": "9" * 5000})
    assert not form.is_valid()


def test_a_field_with_show_hidden_initial_posts_the_value_it_was_shown_with():
    from django import forms
    from django.template import Context, Template

    class Notes(forms.Form):
        note = forms.CharField(show_hidden_initial=True, required=False)

    render = Template("{% load crispy_forms_tags %}{{ form|crispy }}")
    shown = render.render(Context({"form": Notes(initial={"note": "First & last"})}))
    assert '<input type="hidden" name="initial-note" value="First &amp; last">' in shown
    # Back with errors, it keeps the value it was first shown with, not what was typed.
    again = Notes(data={"note": "Typed", "initial-note": "First & last"})
    assert 'name="initial-note" value="First &amp; last"' in render.render(Context({"form": again}))
    assert again.changed_data == ["note"]
    assert Notes(data={"note": "Same", "initial-note": "Same"}).changed_data == []
