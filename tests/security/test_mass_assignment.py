"""A-4: no form of the project lets a user set a field that only the system or an administrator
sets (who did something, when it was decided, the account's powers, the workflow's state).

Django binds only a form's declared fields, and the services take named arguments, so a field a
form does not declare cannot be set by posting it. This test walks every form class the apps
define and checks that none declares a protected field and that every model form lists its
fields by name; the person form's round trip with extra fields is tested in
tests/dsr/test_person_views.py."""

import importlib
import inspect
import pkgutil

from django import forms

from tests.figures import record

APPS = ["dsr", "referrals", "reviews", "escalation", "reports"]
# Set by the system or by an administrator, never through a form of the service.
PROTECTED = {
    "is_staff",
    "is_superuser",
    "is_active",
    "groups",
    "user_permissions",
    "password",
    "last_login",
    "created_by",
    "submitted_by",
    "recorded_by",
    "decided_by",
    "decided_at",
    "closed_by",
    "completed_by",
    "discharged_by",
    "consent_recorded_by",
    "raised_by",
    "acknowledged_by",
    "resolved_by",
    "received_at",
    "decision_due",
    "reference",
    "rating_since",
    "set_at",
    "history_user",
}
# Where a form legitimately carries one, and why. (A submission token is not protected: the
# server puts a fresh one in the form, and a made-up one only makes a separate submission.)
ALLOWED = {
    "dsr.accounts.forms.SignInForm.password": "signing in takes the user's own password",
}


def _form_classes() -> list[type]:
    found = {}
    for app in APPS:
        package = importlib.import_module(app)
        for module_info in pkgutil.walk_packages(package.__path__, f"{app}."):
            if ".migrations" in module_info.name or module_info.name.endswith(".tests"):
                continue
            module = importlib.import_module(module_info.name)
            for _name, cls in inspect.getmembers(module, inspect.isclass):
                if (
                    issubclass(cls, forms.BaseForm)
                    and cls.__module__.split(".")[0] in APPS
                    and cls.__module__ == module.__name__
                ):
                    found[f"{cls.__module__}.{cls.__qualname__}"] = cls
    return [found[name] for name in sorted(found)]


def test_no_form_declares_a_protected_field():
    classes = _form_classes()
    offending = []
    for cls in classes:
        for field in set(cls.base_fields) & PROTECTED:
            name = f"{cls.__module__}.{cls.__name__}.{field}"
            if name not in ALLOWED:
                offending.append(name)
    assert len(classes) > 20  # the walk found the project's forms
    assert offending == []
    record(
        "A-4 forms checked x protected fields (offending)", f"{len(classes)} x {len(PROTECTED)} (0)"
    )


def test_every_model_form_names_its_fields():
    loose = [
        f"{cls.__module__}.{cls.__name__}"
        for cls in _form_classes()
        if issubclass(cls, forms.ModelForm)
        and (
            getattr(cls._meta, "fields", None) in (None, "__all__")
            or getattr(cls._meta, "exclude", None)
        )
    ]
    assert loose == []
