"""Forms for signing in. Field shape only; the rules live in services and views."""

from django import forms
from django.contrib.auth.forms import AuthenticationForm, PasswordResetForm, SetPasswordForm


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
    error_messages = {"password_mismatch": "The two passwords do not match."}
