"""The records pages' forms."""

from django import forms


class SubjectAccessForm(forms.Form):
    """Why everything held about a person is being exported (kept in the access log)."""

    PURPOSES = [
        (
            "subject_access",
            "A subject access request from the person, or from someone acting for them",
        ),
        ("other_lawful", "Another lawful request, such as a court order"),
    ]

    purpose = forms.ChoiceField(
        label="Why are you exporting this person's records?",
        choices=PURPOSES,
        widget=forms.RadioSelect,
        error_messages={
            "required": "Choose why you are exporting this person's records.",
            "invalid_choice": "Choose why you are exporting this person's records.",
        },
    )
