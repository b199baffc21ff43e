"""Scope: which records a user may see (ACCESS.md "Scope").

A user sees a record only when its local authority is one their organisation covers, and their
role allows it. Querysets of scoped models subclass `ScopedQuerySet` and name the path from the
model to its local authority; views fetch single objects through `get_object_for_user`, which
answers 404 for a missing object and for one out of scope alike, so existence is not revealed.
"""

from typing import Any

from django.apps import apps
from django.db import models
from django.db.models import Q
from django.http import Http404

_SCOPE_CACHE = "_dsr_scope_local_authority_ids"


def local_authority_ids_for(user: Any) -> frozenset[int]:
    """The ids of the local authorities the user's organisation covers (one query per request;
    cached on the user object). Nobody signed in, inactive or without an organisation: none."""
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return frozenset()
    cached = getattr(user, _SCOPE_CACHE, None)
    if cached is None:
        if user.organisation_id is None:
            cached = frozenset()
        else:
            cached = frozenset(
                apps.get_model("dsr", "Organisation")
                .local_authorities.through.objects.filter(organisation_id=user.organisation_id)
                .values_list("localauthority_id", flat=True)
            )
        setattr(user, _SCOPE_CACHE, cached)
    return cached


class ScopedQuerySet(models.QuerySet):
    """A queryset whose rows belong to local authorities. `scope_path` is the lookup from the
    model to LocalAuthority (for example "local_authority" or "person__local_authority")."""

    scope_path: str = "local_authority"
    # True when the path crosses a many-to-many relation, which can repeat rows.
    scope_is_many: bool = False

    def visible_to(self, user: Any) -> "ScopedQuerySet":
        ids = local_authority_ids_for(user)
        if not ids:
            return self.none()
        scoped = self.filter(**{f"{self.scope_path}__in": ids})
        return scoped.distinct() if self.scope_is_many else scoped


def get_object_for_user(queryset: ScopedQuerySet, user: Any, **lookup: Any) -> Any:
    """The one object matching `lookup` that `user` may see, or Http404."""
    try:
        return queryset.visible_to(user).get(**lookup)
    except queryset.model.DoesNotExist as exc:
        raise Http404 from exc


def in_area_or_unknown_for_icb(user: Any, path: str = "local_authority") -> Q:
    """Rows in the user's areas; and, for staff of an ICB, rows whose area is not known yet
    (a referrer may not know it), so that someone can set it."""
    scoped = Q(**{f"{path}_id__in": local_authority_ids_for(user)})
    organisation = getattr(user, "organisation", None)
    if organisation is not None and organisation.kind == "icb":
        scoped |= Q(**{f"{path}__isnull": True})
    return scoped
