"""Numbers read from the environment (``mall.settings.env_number``)."""

import pytest
from django.core.exceptions import ImproperlyConfigured

from mall.settings import env_number


def test_a_number_from_the_environment(monkeypatch):
    monkeypatch.setenv("MALL_TEST_ROWS", " 1500 ")
    monkeypatch.setenv("MALL_TEST_LAG", "2.5")
    monkeypatch.setenv("MALL_TEST_EMPTY", "")
    assert env_number("MALL_TEST_ROWS", 200000) == 1500
    assert env_number("MALL_TEST_LAG", 5, float) == 2.5
    assert env_number("MALL_TEST_EMPTY", 7) == 7
    assert env_number("MALL_TEST_UNSET_VARIABLE", 3) == 3


def test_a_value_that_is_not_a_number_names_the_variable(monkeypatch):
    monkeypatch.setenv("MALL_IMPORT_MAX_ROWS", "abc")
    with pytest.raises(ImproperlyConfigured) as info:
        env_number("MALL_IMPORT_MAX_ROWS", 200000)
    assert str(info.value) == (
        "MALL_IMPORT_MAX_ROWS='abc' is not a whole number (the default is 200000)."
    )
