"""Fixtures shared by the report tests."""

import pytest


@pytest.fixture
def a_day_withheld(monkeypatch):
    """The disclosure control's answer for a day it cannot publish beside the day before (its
    witness search found no safe way): every figure "[x]". Only that decision is made up here;
    the page, its links and the downloads are the real ones."""
    from reports.disclosure import WITHHELD, Publication, Shown
    from reports.queries import pages

    real = pages.publish

    def withheld(family, today, previous=None):
        publication = real(family, today, previous)
        return Publication(
            {key: Shown(s.value, WITHHELD) for key, s in publication.figures.items()}
        )

    monkeypatch.setattr(pages, "publish", withheld)
