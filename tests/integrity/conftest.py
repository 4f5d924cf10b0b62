"""Fixtures for the integrity suite (races, data safety, faults)."""

import importlib

import pytest
from django.contrib.auth.models import Group, Permission

from tests.integrity.racing import Paused

ROLES = importlib.import_module("orders.migrations.0002_roles").ROLES


@pytest.fixture
def roles(transactional_db):
    """Make sure the staff groups of ``orders/0002_roles`` exist.

    A transactional test ends with a flush of every table, which also removes the
    groups the data migration made; the next transactional test needs them back.
    """
    for name, codenames in ROLES.items():
        group, _created = Group.objects.get_or_create(name=name)
        group.permissions.set(
            Permission.objects.filter(content_type__app_label="orders", codename__in=codenames)
        )


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
