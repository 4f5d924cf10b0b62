"""Fixtures for the integrity suite (races, data safety, faults)."""

import pytest

from tests.integrity.racing import Paused


@pytest.fixture
def pause(monkeypatch):
    """Return ``pause(thread_name)`` -> ``Paused``; every pause is released at teardown."""
    made = []

    def _pause(thread_name):
        paused = Paused(monkeypatch, thread_name)
        made.append(paused)
        return paused

    yield _pause
    for paused in made:
        paused.release.set()
