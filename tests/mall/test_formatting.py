"""Money as people read it (issue 14): ``mall.formatting.format_money`` and the filters."""

from decimal import Decimal

import pytest
from django.template import Context, Template
from django.utils import translation

from mall.formatting import format_money
from staff.templatetags.staff_tags import format_money as staff_format_money


@pytest.mark.parametrize(
    "amount,language,expected",
    [
        (Decimal("169"), "zh-hans", "¥169.00"),
        (Decimal("169"), "en", "¥169.00"),
        (Decimal("1234567.5"), "zh-hans", "¥1,234,567.50"),
        (Decimal("1234567.5"), "en", "¥1,234,567.50"),
        (Decimal("0.05"), "en", "¥0.05"),
        (Decimal("-30"), "zh-hans", "-¥30.00"),
        ("12.3", "en", "¥12.30"),
        (7, "zh-hans", "¥7.00"),
    ],
)
def test_money_in_both_languages_with_the_yuan_sign(amount, language, expected):
    assert format_money(amount, language=language) == expected


@pytest.mark.parametrize("value", [None, "", "abc", "NaN", "Infinity", True, [1]])
def test_what_is_not_an_amount_is_written_as_nothing(value):
    assert format_money(value) == ""


def test_the_active_language_is_the_default(settings):
    with translation.override("zh-hans"):
        assert format_money(Decimal("5")) == "¥5.00"
    with translation.override("en"):
        assert format_money(Decimal("5"), currency="USD") == "US$5.00"


def test_another_shop_currency_keeps_its_own_digits(settings):
    settings.MALL_CURRENCY = "JPY"
    # As the shop's home market (MALL_CURRENCY_LOCALE, Chinese) writes it, no decimals.
    assert format_money(Decimal("1500"), language="en") == "JP¥1,500"
    settings.MALL_CURRENCY = "EUR"
    assert format_money(Decimal("9.5"), language="en") == "€9.50"


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_storefront_and_back_office_filters_write_the_same(language):
    template = Template("{% load shop %}{{ amount|money }}")
    staff = Template("{% load staff_tags %}{{ amount|money }}")
    with translation.override(language):
        context = Context({"amount": Decimal("1280.5")})
        assert template.render(context) == "¥1,280.50"
        assert staff.render(context) == "¥1,280.50"
        # Staff pages: always two decimals, even for whole amounts.
        assert staff_format_money(Decimal("80")) == "¥80.00"


@pytest.mark.parametrize("language", ["zh-hans", "en"])
@pytest.mark.parametrize("currency", [None, "USD", "JPY"])
def test_the_page_formatter_writes_what_format_money_writes(language, currency):
    """``money_formatter`` (the order list's 50 totals) agrees with ``format_money`` on
    amounts of every size, halves, negatives and non-amounts."""
    from mall.formatting import money_formatter

    write = money_formatter(language=language, currency=currency)
    amounts = [Decimal(x) for x in ("0", "0.05", "1", "999.995", "1000", "169.5")]
    amounts += [Decimal("1234567.5"), Decimal("-30"), Decimal("-0"), Decimal("12.345")]
    for value in [*amounts, None, "", "12.3", 7, Decimal("NaN")]:
        assert write(value) == format_money(value, language=language, currency=currency), value
