"""How a view declares who may reach it.

Every view is closed by default: `dsr.security.middleware.AccessRuleMiddleware` serves a view
only to a user who signed in with a password *and* a verified second factor, unless the view is
marked:

- `@public`: anyone, signed in or not (start page, legal pages, referral forms, health);
- `@password_step`: a user part-way through signing in (second-factor set-up and check,
  sign out).

On top of that, `@role_required(...)` limits a view to roles holding a permission (403 for
others), and object scope comes from the `get_<thing>_for_user` helpers in each app's queries.
"""

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse

PUBLIC = "public"
PASSWORD_STEP = "password_step"  # noqa: S105  (an access rule name, not a password)

View = Callable[..., HttpResponse]


def public(view: View) -> View:
    view.dsr_access = PUBLIC  # type: ignore[attr-defined]
    return view


def password_step(view: View) -> View:
    view.dsr_access = PASSWORD_STEP  # type: ignore[attr-defined]
    return view


def access_rule_of(view: Any) -> str | None:
    return getattr(view, "dsr_access", None)


def role_required(*permissions: str) -> Callable[[View], View]:
    """Serve the view only to users holding any one of `permissions` ("dsr.view_register")."""

    def decorator(view: View) -> View:
        @wraps(view)
        def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            if not any(request.user.has_perm(p) for p in permissions):
                raise PermissionDenied
            return view(request, *args, **kwargs)

        return wrapped

    return decorator
