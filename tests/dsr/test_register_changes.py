"""Who hears that people's place on the register changed (dsr.register_changes)."""

import pytest

from dsr import register_changes
from dsr.register_changes import people_changed, people_changes_gathered


@pytest.fixture
def heard(monkeypatch):
    calls: list[list[int]] = []
    monkeypatch.setattr(register_changes, "_LISTENERS", [calls.append])
    return calls


def test_outside_a_gathering_each_change_is_heard_at_once(heard):
    people_changed([3, None, 1, 3])
    people_changed([2])
    assert heard == [[1, 3], [2]]


def test_a_batch_of_changes_is_heard_once_at_its_end_with_everyone_in_it(heard):
    with people_changes_gathered():
        people_changed([5])
        people_changed([2, 5])
        with people_changes_gathered():
            people_changed([9])
        assert heard == []
    assert heard == [[2, 5, 9]]


def test_a_batch_that_fails_tells_nobody(heard):
    with pytest.raises(RuntimeError), people_changes_gathered():
        people_changed([4])
        raise RuntimeError("the batch's transaction is undone")
    assert heard == []
    people_changed([7])
    assert heard == [[7]]
