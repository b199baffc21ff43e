"""Small faults found trying the review pages: Django's blank "---------" choice offered as a
radio, "a independent clinical expert", a C(E)TR message kind named "Cetr" in the outbox,
minutes running an action into its owner, and a decline hint inviting a letter inside the
letter."""

import datetime
from pathlib import Path

import pytest
from crispy_forms.utils import render_crispy_form
from django import forms
from django.conf import settings
from django.urls import reverse

from dsr.models import Notification
from dsr.models.notifications import KIND_LABELS
from reviews.forms.public import TriageForm
from reviews.forms.staff import AttendeeForm, DiscussionForm, PanelMemberForm
from reviews.models import Attendee, PanelMember
from reviews.services import (
    Owner,
    action_create,
    discussion_record,
    meeting_create,
    panel_gaps,
)
from tests.conftest import signed_in_client
from tests.reviews.helpers import at

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen_now")]

TODAY = datetime.date(2026, 3, 10)
DASH = "---------"


class _AnyModelRadios(forms.ModelForm):
    """Any model field with choices and no default, shown as radios: Django adds the blank."""

    class Meta:
        model = Attendee
        fields = ["agency", "attendance"]
        widgets = {"agency": forms.RadioSelect, "attendance": forms.RadioSelect}


@pytest.mark.parametrize(
    "form",
    [
        lambda: AttendeeForm(),
        lambda: PanelMemberForm(accounts=PanelMember.objects.none()),
        lambda: _AnyModelRadios(),
        lambda: _AnyModelRadios(data={}),  # with its errors shown
    ],
)
def test_no_form_offers_the_blank_dash_as_a_radio(form):
    built = form()
    assert any(
        value == ""
        for value, _ in built.fields["agency" if "agency" in built.fields else "role"].choices
    )

    html = render_crispy_form(built)

    assert DASH not in html
    assert 'type="radio" value=""' not in html.replace("  ", " ")
    assert 'value="health"' in html or 'value="chair"' in html


def test_a_blank_choice_with_words_of_its_own_is_still_offered():
    html = render_crispy_form(DiscussionForm(ratings=["RED", "AMBER"], current="RED"))

    assert "No rating decision at this meeting" in html


def test_the_attendee_page_offers_no_blank_agency(clerk):
    meeting = meeting_create(kind="urgent", held_at=at(TODAY), chair=clerk, by=clerk)

    page = signed_in_client(clerk).get(reverse("reviews:attendee-add", kwargs={"pk": meeting.pk}))

    assert page.status_code == 200 and DASH not in page.text


def test_the_missing_panel_reads_as_english():
    gaps = panel_gaps([])

    assert gaps == [
        "a chair",
        "an independent clinical expert",
        "an independent expert by experience",
    ]


def test_every_kind_of_message_has_a_label_in_the_outbox():
    kinds = sorted(
        path.name.removesuffix(".subject.txt")
        for path in Path(settings.BASE_DIR, "templates", "emails").glob("*.subject.txt")
    )

    def kind_label(kind: str) -> str:
        return Notification(kind=kind, recipient_key="person").kind_label

    labels = {kind: kind_label(kind) for kind in kinds}

    assert labels["cetr_request_received"] == "C(E)TR request acknowledgement"
    assert not [label for label in labels.values() if "Cetr" in label or "_" in label]
    assert sorted(set(kinds) - set(KIND_LABELS)) == []  # each one named on purpose
    assert kind_label("cetr_request_withdrawn") == "C(E)TR request withdrawn"


def test_the_minutes_keep_an_action_apart_from_its_owner(clerk, make_person):
    person = make_person("RED")
    meeting = meeting_create(kind="urgent", held_at=at(TODAY, 8), chair=clerk, by=clerk)
    item = meeting.items.create(person=person, reasons=["by_hand"], added_by=clerk)
    discussion_record(item=item, by=clerk, risk_factors=[], risk_notes="", discussion="Talked.")
    action_create(
        person=person,
        agenda_item=item,
        description="Arrange respite",  # written without a full stop, as people do
        owner=Owner(name="Jo Patel", organisation="Short breaks"),
        agency="social_care",
        due_on=TODAY,
        by=clerk,
    )

    page = signed_in_client(clerk).get(
        reverse("reviews:meeting-minutes", kwargs={"pk": meeting.pk})
    )

    assert "Arrange respite Owner" not in page.text
    assert (
        'Arrange respite<br><span class="nhsuk-body-s">Owner: Jo Patel, Short breaks.' in page.text
    )


def test_the_decline_hint_does_not_invite_a_letter_inside_the_letter():
    hint = str(TriageForm(candidates=None).fields["reason"].help_text)

    assert "after \u201cWhy:\u201d" in hint
    assert "do not add either" in hint
    assert "Write it for them." not in hint
