"""Forms for accounts: signing in (password, then the security code), resetting a password,
inviting someone, accepting an invitation, and the access review's filters. Shape and plain
checks only: the rules live in dsr.accounts."""

from django import forms
from django.contrib.auth import password_validation
from django.contrib.auth.forms import AuthenticationForm, PasswordResetForm, SetPasswordForm

from dsr.accounts import INVITABLE_ROLES
from dsr.models import Invitation, Organisation, User
from dsr.roles import Role


class SignInForm(AuthenticationForm):
    username = forms.EmailField(
        label="Email address",
        max_length=254,
        widget=forms.EmailInput(attrs={"autocomplete": "username", "spellcheck": "false"}),
        error_messages={"required": "Enter your email address."},
    )
    password = forms.CharField(
        label="Password",
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
        error_messages={"required": "Enter your password."},
    )

    error_messages = {
        "invalid_login": "Enter a correct email address and password.",
        "inactive": "This account has been deactivated. Ask your administrator to restore it.",
    }


class SecondFactorForm(forms.Form):
    token = forms.RegexField(
        label="Security code",
        help_text="The 6-digit code your authenticator app shows now.",
        regex=r"^\s*\d{3}\s*\d{3}\s*$",
        max_length=9,
        widget=forms.TextInput(
            attrs={
                "autocomplete": "one-time-code",
                "inputmode": "numeric",
                "class": "nhsuk-input--width-5",
            }
        ),
        error_messages={
            "required": "Enter the 6-digit security code.",
            "invalid": "The security code must be 6 digits, like 123 456.",
        },
    )

    def clean_token(self) -> str:
        return "".join(self.cleaned_data["token"].split())


class ResetRequestForm(PasswordResetForm):
    email = forms.EmailField(
        label="Email address",
        max_length=254,
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
        error_messages={
            "required": "Enter your email address.",
            "invalid": "Enter an email address in the right format, like name@nhs.net.",
        },
    )


class NewPasswordForm(SetPasswordForm):
    """A new password, typed twice. The password checks' errors go on the first box, where the
    fault is (Django puts them on the confirmation); a mismatch goes on the second."""

    error_messages = {"password_mismatch": "Enter the same password in both boxes."}

    def __init__(self, user, *args, **kwargs) -> None:
        super().__init__(user, *args, **kwargs)
        first, second = self.fields["new_password1"], self.fields["new_password2"]
        first.label = "New password"
        first.help_text = (
            f"Use at least {_password_min_length()} characters, and not a common password or "
            "anything like your name or email address."
        )
        first.error_messages["required"] = "Enter a new password."
        second.label = "Enter the new password again"
        second.help_text = ""
        second.error_messages["required"] = "Enter the new password again."

    def clean(self):
        self.validate_passwords("new_password1", "new_password2")
        self.validate_password_for_user(self.user, "new_password1")
        return super(SetPasswordForm, self).clean()


def _password_min_length() -> int:
    """The shortest password the configured MinimumLengthValidator accepts."""
    lengths = [
        validator.min_length
        for validator in password_validation.get_default_password_validators()
        if isinstance(validator, password_validation.MinimumLengthValidator)
    ]
    return max(lengths, default=1)


class InvitationForm(forms.Form):
    full_name = forms.CharField(
        label="Full name",
        max_length=150,
        error_messages={"required": "Enter the person's full name."},
    )
    email = forms.EmailField(
        label="Email address",
        max_length=254,
        help_text="The invitation is sent here. It is also the address they sign in with.",
        widget=forms.EmailInput(attrs={"spellcheck": "false"}),
        error_messages={
            "required": "Enter the person's email address.",
            "invalid": "Enter an email address in the right format, like name@nhs.net.",
        },
    )
    job_title = forms.CharField(label="Job title (optional)", max_length=150, required=False)
    organisation = forms.ModelChoiceField(
        label="Organisation",
        queryset=Organisation.objects.order_by("name"),
        empty_label="Select an organisation",
        help_text="Which people they may see depends on the areas this organisation covers.",
        error_messages={
            "required": "Select the organisation the person works for.",
            "invalid_choice": "Select an organisation from the list.",
        },
    )
    roles = forms.MultipleChoiceField(
        label="Roles",
        choices=[(role.value, role.label) for role in INVITABLE_ROLES],
        widget=forms.CheckboxSelectMultiple,
        help_text="Select all that apply. Administrators are made in the admin site.",
        error_messages={
            "required": "Select at least one role.",
            "invalid_choice": "Select roles from the list.",
        },
    )

    def clean_email(self) -> str:
        email = self.cleaned_data["email"].strip().lower()
        if User.objects.filter(email__iexact=email).exists():
            raise forms.ValidationError("An account with this email address already exists.")
        waiting = Invitation.objects.filter(
            email__iexact=email, status=Invitation.Status.PENDING
        ).exists()
        if waiting:
            raise forms.ValidationError(
                "This email address already has an invitation waiting. Send that one again "
                "from the list of invitations."
            )
        return email


class InvitationPasswordForm(NewPasswordForm):
    """The invitee's password, checked by the project's password validators against the
    account it will make (`user` is that account, not yet saved)."""

    def __init__(self, user: User, *args, **kwargs) -> None:
        super().__init__(user, *args, **kwargs)
        first, second = self.fields["new_password1"], self.fields["new_password2"]
        first.label = "Create a password"
        first.error_messages["required"] = "Enter a password."
        second.label = "Enter the password again"
        second.error_messages["required"] = "Enter the password again."


class AccountReviewFilterForm(forms.Form):
    role = forms.ChoiceField(
        label="Role",
        required=False,
        choices=[("", "Any role"), *Role.choices],
        error_messages={"invalid_choice": "Select a role from the list."},
    )
    organisation = forms.ModelChoiceField(
        label="Organisation",
        required=False,
        queryset=Organisation.objects.order_by("name"),
        empty_label="Any organisation",
        error_messages={"invalid_choice": "Select an organisation from the list."},
    )
