"""Sessions read from the cache, with the database as their record (docs/adr/0009).

Django's `cached_db` engine writes every session to the database and to the cache, and reads it
from the cache, falling back to the database when the cache has no copy. This store adds three
things to it:

- **The cache is a help, never a need** (RELIABILITY Faults item 3, docs/adr/0003). Every call to
  the cache goes through `dsr.caching.unless_cache_down`: with the cache out of reach a session is
  read from and written to the database alone, and the outage is logged once, not as a traceback
  on every request.
- **The idle timeout is kept in the session itself.** Each save notes when it was made
  (`RENEWED_AT`); a session not saved for longer than the idle timeout (SESSION_COOKIE_AGE) is
  read as ended, whether its copy came from the cache or the database. The cache's own expiry
  and the database row's `expire_date` say the same, but this check does not rest on them.
- **A session's expiry is moved on at most once a minute** (`renew_if_due`, called by
  `dsr.security.middleware.SessionLifetimeMiddleware`), not written on every request: a session
  ends between SESSION_IDLE_TIMEOUT - SESSION_RENEW_EVERY and SESSION_IDLE_TIMEOUT after its
  last request, never later.

Whatever ends a session must end it through this store (`session_end`), never by deleting its
database row alone: the cached copy would outlive the row until its expiry.
"""

import json
import math
from importlib import import_module
from typing import Any

from django.conf import settings
from django.contrib.sessions.backends import cached_db
from django.contrib.sessions.backends.base import SessionBase
from django.db import transaction
from django.utils import timezone

from dsr.caching import unless_cache_down
from dsr.security.signed_in import KEPT_SECONDS, VERSION_KEY, version_read

# When the session's expiry was last moved on (a POSIX timestamp), written by every save.
RENEWED_AT = "dsr_session_renewed_at"


def _now() -> float:
    return timezone.now().timestamp()


def _idle_seconds() -> int:
    return settings.SESSION_COOKIE_AGE


def _kept_for(age: int) -> int:
    """How long the cache keeps a copy: the session's age, and never over KEPT_SECONDS, which
    bounds how long a copy the cache could not be told to forget (it could not be reached when
    the session ended) may outlive it."""
    return max(0, min(age, KEPT_SECONDS))


def _content(data: dict[str, Any]) -> str:
    """What a save writes, less the time of the save: whether the session changed since
    `save_in_transaction` wrote it."""
    return json.dumps(
        {k: v for k, v in data.items() if k != RENEWED_AT}, sort_keys=True, default=str
    )


class SessionStore(cached_db.SessionStore):
    # (session key, data) as `save_in_transaction` wrote them in this request; None until then.
    _saved_as: tuple[str | None, str] | None = None

    def load(self) -> dict[str, Any]:
        key = self.cache_key
        # The session and the accounts' version (dsr.security.signed_in) in one call.
        found = unless_cache_down(lambda: self._cache.get_many([key, VERSION_KEY]), otherwise=None)
        version_read(found.get(VERSION_KEY) if found is not None else None)
        data = found.get(key) if found is not None else None
        if data is None:
            row = self._get_session_from_db()
            if row is None:
                return {}
            data = self.decode(row.session_data)
            age = _kept_for(self.get_expiry_age(expiry=row.expire_date))
            unless_cache_down(lambda: self._cache.set(key, data, age), otherwise=None)
        renewed = data.get(RENEWED_AT)
        if renewed is not None and _now() - renewed > _idle_seconds():
            # Idle past the timeout: ended, as the database would say once its row expires.
            self._session_key = None
            return {}
        return data

    def exists(self, session_key: str) -> bool:
        cache_key = self.cache_key_prefix + session_key
        cached = unless_cache_down(lambda: cache_key in self._cache, otherwise=False)
        return cached or super(cached_db.SessionStore, self).exists(session_key)

    def save(self, must_create: bool = False) -> None:
        if self.session_key is None:
            return self.create()
        data = self._get_session(no_load=must_create)
        if not must_create and self._saved_as == (self.session_key, _content(data)):
            return  # saved already in this request's transaction, as it is now
        # The database first, as the record: what it refuses is never cached.
        data[RENEWED_AT] = _now()
        super(cached_db.SessionStore, self).save(must_create)
        key, age = self.cache_key, _kept_for(self.get_expiry_age())
        unless_cache_down(lambda: self._cache.set(key, self._session, age), otherwise=None)

    def save_in_transaction(self) -> bool:
        """Write the session as one UPDATE in the caller's transaction, so that it commits or
        rolls back with what the caller writes there (a public form saves what was sent with
        the record itself: one commit for the POST). The cache gets its copy once that
        commits, and has none until then. The session middleware's save at the end of the
        request writes nothing more, unless the session changes again; a caller whose
        transaction rolled back calls `forget_saved()`. False, with nothing written, when the
        session has no row to update (new, or ended meanwhile): the middleware then saves it
        as usual."""
        if self.session_key is None:
            return False
        data = self._get_session()
        data[RENEWED_AT] = _now()
        row = self.create_model_instance(data)
        updated = self.model.objects.filter(session_key=self.session_key).update(
            session_data=row.session_data, expire_date=row.expire_date
        )
        if not updated:
            return False
        self._saved_as = (self.session_key, _content(data))
        # The cached copy is forgotten now and replaced once the update commits: never older
        # than the row, nor newer when the transaction rolls back.
        key, age, copy = self.cache_key, _kept_for(self.get_expiry_age()), dict(data)
        unless_cache_down(lambda: self._cache.delete(key), otherwise=None)
        transaction.on_commit(
            lambda: unless_cache_down(lambda: self._cache.set(key, copy, age), otherwise=None),
            robust=True,
        )
        return True

    def forget_saved(self) -> None:
        """The transaction of `save_in_transaction` rolled back: the session is saved again."""
        self._saved_as = None

    def delete(self, session_key: str | None = None) -> None:
        super(cached_db.SessionStore, self).delete(session_key)
        if session_key is None:
            if self.session_key is None:
                return
            session_key = self.session_key
        cache_key = self.cache_key_prefix + session_key

        def forget() -> None:
            unless_cache_down(lambda: self._cache.delete(cache_key), otherwise=None)

        # Now, and again once the deletion commits: a request that read the row before the
        # commit may have put it back in the cache meanwhile.
        forget()
        transaction.on_commit(forget, robust=True)


def store_class() -> type[SessionBase]:
    """The session store settings.SESSION_ENGINE names."""
    return import_module(settings.SESSION_ENGINE).SessionStore


def session_end(session_key: str) -> None:
    """End a session at once, in the database and in the cache."""
    store_class()(session_key=session_key).delete()


def renew_if_due(session: SessionBase) -> None:
    """Move the session's expiry on (by marking it to be saved) when a minute or more has
    passed since it was last moved; a session that is saved anyway is moved on by that save."""
    if session.session_key is None:  # no session cookie: nothing to read
        return
    renewed = session.get(RENEWED_AT)
    if session.is_empty():  # read now: an unknown or ended session is not kept alive
        return
    if renewed is None or _now() - renewed >= settings.SESSION_RENEW_EVERY.total_seconds():
        session.modified = True


def seconds_left(session: SessionBase | None) -> int:
    """How long the session has before its idle timeout, as of this request (the whole timeout
    when this request moves its expiry on), rounded up to the second."""
    renewed = session.get(RENEWED_AT) if session is not None else None
    if renewed is None or session.modified:
        return _idle_seconds()
    return max(0, math.ceil(_idle_seconds() - (_now() - renewed)))
