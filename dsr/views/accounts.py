"""Signing in: password, then a TOTP second factor; signing out; password reset by email.

A password reset request is answered the same, with the same work, whatever the address: the
request only records itself and queues a background job with its id
(dsr.accounts.password_reset_request). Requests are limited per client address (past the limit,
the "too many" page) and per account (past it the page is the same, but no more emails are sent:
dsr.accounts.password_reset_process).
"""

import base64
import logging
from urllib.parse import urlencode

import qrcode
import qrcode.image.svg
from axes.utils import reset as reset_lockout
from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth import views as auth_views
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render, resolve_url
from django.urls import reverse, reverse_lazy
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_POST
from django_otp import login as otp_login
from django_otp.plugins.otp_totp.models import TOTPDevice
from django_otp.util import random_hex

from dsr.accounts import (
    password_reset_account_id,
    password_reset_link_lifetime,
    password_reset_request,
)
from dsr.accounts.forms import NewPasswordForm, ResetRequestForm, SecondFactorForm, SignInForm
from dsr.accounts.identity_providers import providers, session_record
from dsr.security import ratelimit
from dsr.security.access import password_step, public
from dsr.security.audit import Event, record_event

logger = logging.getLogger(__name__)

DEVICE_NAME = "Authenticator app"


def _next_url(request: HttpRequest) -> str:
    candidate = request.POST.get("next") or request.GET.get("next") or ""
    if candidate and url_has_allowed_host_and_scheme(
        candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return candidate
    return resolve_url("dsr:home")


def _with_next(url_name: str, next_url: str) -> str:
    return f"{reverse(url_name)}?{urlencode({'next': next_url})}"


class SignInView(auth_views.LoginView):
    """Step 1: email and password. django-axes counts failures per (email, address)."""

    form_class = SignInForm
    template_name = "accounts/sign_in.html"
    redirect_authenticated_user = False

    def get_context_data(self, **kwargs):
        # The NHS identity providers this ICB has set up, offered above the password.
        return super().get_context_data(identity_providers=list(providers().values()), **kwargs)

    def get_success_url(self) -> str:
        # Every account has a second step; it decides between setting up and checking a code.
        return _with_next("accounts:verify", _next_url(self.request))


@password_step
def verify(request: HttpRequest) -> HttpResponse:
    """Step 2: the code from the user's authenticator app. A code works once (django-otp keeps
    the last time step used) and repeated wrong codes are throttled."""
    next_url = _next_url(request)
    if request.user.is_verified():
        return redirect(next_url)
    device = TOTPDevice.objects.devices_for_user(request.user, confirmed=True).first()
    if device is None:
        return redirect(_with_next("accounts:setup", next_url))

    form = SecondFactorForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        allowed, detail = device.verify_is_allowed()
        if allowed and device.verify_token(form.cleaned_data["token"]):
            otp_login(request, device)
            request.session.cycle_key()
            session_record(request)
            record_event(Event.SECOND_FACTOR_SUCCESS, request, user_id=request.user.pk)
            return redirect(next_url)
        record_event(Event.SECOND_FACTOR_FAILURE, request, user_id=request.user.pk)
        if not allowed:
            form.add_error(
                "token", "Too many wrong codes. Wait a minute, then enter the newest code."
            )
        else:
            form.add_error("token", "The security code is not right. Enter the newest code.")
    return render(request, "accounts/verify.html", {"form": form, "next": next_url})


# The secret of the authenticator being set up, kept in the session until a code proves it.
SETUP_KEY = "dsr_authenticator_setup_key"


def _device_being_set_up(request: HttpRequest) -> TOTPDevice:
    """The authenticator the set-up page shows, not yet stored: opening the page or its QR code
    writes nothing but the session."""
    key = request.session.get(SETUP_KEY)
    if not isinstance(key, str):
        key = random_hex(20)
        request.session[SETUP_KEY] = key
    return TOTPDevice(user=request.user, name=DEVICE_NAME, key=key, confirmed=False)


@password_step
def setup_qr(request: HttpRequest) -> HttpResponse:
    """The set-up QR code as an SVG image (a separate response keeps the page free of inline
    markup from outside the template)."""
    if TOTPDevice.objects.devices_for_user(request.user, confirmed=True).exists():
        raise Http404
    device = _device_being_set_up(request)
    image = qrcode.make(device.config_url, image_factory=qrcode.image.svg.SvgPathImage)
    return HttpResponse(image.to_string(), content_type="image/svg+xml")


@password_step
def setup(request: HttpRequest) -> HttpResponse:
    """First sign-in: link an authenticator app to the account, proven by one code from it."""
    next_url = _next_url(request)
    if TOTPDevice.objects.devices_for_user(request.user, confirmed=True).exists():
        return redirect(_with_next("accounts:verify", next_url))
    device = _device_being_set_up(request)

    form = SecondFactorForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        # Stored, unconfirmed, once a code is sent: wrong codes are throttled from one try to
        # the next (django-otp counts them on the row).
        device, _ = TOTPDevice.objects.update_or_create(
            user=request.user, confirmed=False, defaults={"name": DEVICE_NAME, "key": device.key}
        )
        if device.verify_token(form.cleaned_data["token"]):
            device.confirmed = True
            device.save(update_fields=["confirmed"])
            otp_login(request, device)
            request.session.pop(SETUP_KEY, None)
            request.session.cycle_key()
            session_record(request)
            record_event(Event.SECOND_FACTOR_SET_UP, request, user_id=request.user.pk)
            messages.success(request, "Your authenticator app is set up.")
            return redirect(next_url)
        form.add_error("token", "The security code is not right. Enter the newest code.")

    secret = base64.b32encode(device.bin_key).decode()
    context = {
        "form": form,
        "next": next_url,
        "secret_groups": [secret[i : i + 4] for i in range(0, len(secret), 4)],
    }
    return render(request, "accounts/setup.html", context)


@require_POST
@password_step
def sign_out(request: HttpRequest) -> HttpResponse:
    logout(request)
    messages.info(request, "You have signed out.")
    return redirect("pages:start")


sign_in = public(sensitive_post_parameters("password")(SignInView.as_view()))


class PasswordResetView(auth_views.PasswordResetView):
    """Django's reset request page. Sending the form records the request and queues the job that
    emails the account, if any (nothing is sent within the request), and writes an audit record
    naming the account, or none; the page says the same either way."""

    def post(self, request: HttpRequest, *args, **kwargs) -> HttpResponse:
        allowed = ratelimit.within_limit(
            request, scope="password-reset", setting="DSR_PASSWORD_RESET_PER_ADDRESS_HOUR"
        )
        if not allowed:
            return ratelimit.too_many(request, "accounts/password_reset_too_many.html")
        return super().post(request, *args, **kwargs)

    def form_valid(self, form) -> HttpResponse:
        email = form.cleaned_data["email"]
        user_id = password_reset_account_id(email)
        record_event(Event.PASSWORD_RESET_REQUESTED, self.request, user_id=user_id)
        password_reset_request(email=email)
        return HttpResponseRedirect(self.get_success_url())


class PasswordResetConfirmView(auth_views.PasswordResetConfirmView):
    """Django's new-password step, with an audit record once the password is set."""

    def form_valid(self, form):
        response = super().form_valid(form)
        # The link proved the mailbox is theirs: lift any pause on signing in (the second
        # factor is still asked for).
        reset_lockout(username=form.user.email)
        record_event(Event.PASSWORD_RESET_COMPLETED, self.request, user_id=form.user.pk)
        return response


password_reset = public(
    PasswordResetView.as_view(
        form_class=ResetRequestForm,
        template_name="accounts/password_reset.html",
        success_url=reverse_lazy("accounts:password-reset-sent"),
    )
)


class PasswordResetSentView(auth_views.PasswordResetDoneView):
    """Django's "check your email" page, saying how long the link works."""

    template_name = "accounts/password_reset_sent.html"

    def get_context_data(self, **kwargs):
        return super().get_context_data(link_lifetime=password_reset_link_lifetime(), **kwargs)


password_reset_sent = public(PasswordResetSentView.as_view())
# After a reset the user signs in again, password and second factor: a reset never skips it.
password_reset_confirm = public(
    PasswordResetConfirmView.as_view(
        form_class=NewPasswordForm,
        template_name="accounts/password_reset_confirm.html",
        success_url=reverse_lazy("accounts:password-reset-complete"),
        post_reset_login=False,
    )
)
password_reset_complete = public(
    auth_views.PasswordResetCompleteView.as_view(
        template_name="accounts/password_reset_complete.html"
    )
)
