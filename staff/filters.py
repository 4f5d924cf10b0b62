"""The back-office order list's filters (django-filter), shared by the list and the export.

Query string (DESIGN: "URLs"): ``status``, ``payment_status``, ``payment_method``,
``assigned_to``, ``placed_from``, ``placed_to``, ``q``, ``queue``, ``sort``. A value that
does not validate becomes a form error and that filter is ignored; nothing here raises.
"""

import datetime
import re

import django_filters
from django import forms
from django.contrib.auth import get_user_model
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db.models import Case, F, IntegerField, Q, Value, When
from django.db.models.functions import Concat, Replace
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from mall.formatting import TypedDateField, normalize_typed
from orders import selectors, services
from orders.models import ORDER_NUMBER_ALPHABET, Order, PaymentMethod, PaymentStatus, Status
from staff.templatetags.staff_tags import person

SORT_CHOICES = [
    ("-placed_at", _("Newest first")),
    ("placed_at", _("Oldest first")),
    ("-total", _("Highest total first")),
    ("total", _("Lowest total first")),
    ("number", _("Order number")),
    ("-number", _("Order number, descending")),
    ("status", _("Status (in order of the process)")),
    ("-status", _("Status (reverse order of the process)")),
    ("call_back_at", _("Call-back time, earliest first")),
]
# The "Calls due" queue's own default sort: the call-back that came due first.
CALLS_DUE_SORT = "call_back_at"
# Every sort the list's column headers link to, in both directions (``SORT_CHOICES``).
SORTABLE_COLUMNS = ("placed_at", "number", "total", "status")
DEFAULT_SORT = "-placed_at"

# The life cycle's order, for sorting by status (the raw values sort alphabetically).
STATUS_RANK = Case(
    *[
        When(status=value, then=Value(rank))
        for rank, value in enumerate(
            [
                Status.SUBMITTED,
                Status.CONFIRMED,
                Status.ALLOCATED,
                Status.SHIPPED,
                Status.INVALID,
                Status.CANCELLED,
            ]
        )
    ],
    default=Value(99),
    output_field=IntegerField(),
)

# Dates outside this range are refused: they cannot be real orders, and the day's
# boundaries must stay representable as aware datetimes in every time zone.
EARLIEST_DAY = datetime.date(2000, 1, 1)
LATEST_DAY = datetime.date(2999, 12, 31)
# An order number is two halves of four characters joined by a dash ("7KQ2-M9XD").
NUMBER_HALF = 4
# Text that can be part of an order number (its alphabet and dash), typed without the
# dash (2 to 8 of its characters), or part of a phone as stored (digits and separators).
NUMBER_TEXT_RE = re.compile(rf"^[{ORDER_NUMBER_ALPHABET}-]+$")
PART_OF_NUMBER_RE = re.compile(rf"^[{ORDER_NUMBER_ALPHABET}]{{2,8}}$")
PHONE_TEXT_RE = re.compile(r"^[\d\s+\-().]+$")
# The shop's country code in front of a phone's digits (China: +86, 0086).
COUNTRY_CODE_RE = re.compile(r"^(\+|00)86")
# Dashes a pasted order number may carry (hyphen, non-breaking hyphen, en and em dash,
# minus, full-width hyphen-minus...) and characters that do not show (zero-width, BOM).
DASHES_RE = re.compile("[\u2010-\u2015\u2212\ufe58\ufe63\uff0d]")
INVISIBLE_RE = re.compile("[\u200b-\u200d\u2060\ufeff]")
# A search matching more members than this reads their orders through a subquery.
MEMBER_IDS_INLINE = 1_000


def shop_day_start(day):
    """Return 00:00 of ``day`` (a ``date``) in the shop's ``TIME_ZONE`` as an aware datetime."""
    return timezone.make_aware(
        datetime.datetime.combine(day, datetime.time.min), timezone.get_default_timezone()
    )


class TypedDateFilter(django_filters.DateFilter):
    """A day filter that reads full-width digits (``２０２４－０１－１５``)."""

    field_class = TypedDateField


class _RowsOnceIterator(django_filters.fields.ModelChoiceIterator):
    """The choices from the field's queryset read once: iterated as a queryset (its rows
    kept), not with ``.iterator()`` (a query each time), so the list view can load the
    people first (``list(field.queryset)``) and the select reuses them."""

    def __iter__(self):
        if self.field.empty_label is not None:
            yield ("", self.field.empty_label)
        if self.field.null_label is not None:
            yield (self.field.null_value, self.field.null_label)
        for obj in self.queryset:
            yield self.choice(obj)


class PersonChoiceField(django_filters.fields.ModelChoiceField):
    iterator = _RowsOnceIterator

    def label_from_instance(self, obj):
        return person(obj)


class PersonFilter(django_filters.ModelChoiceFilter):
    field_class = PersonChoiceField


def _logistics_people(request):
    return services.logistics_staff()


def _queue_choices():
    return [(q["key"], q["label"]) for q in selectors.queue_definitions()]


def _date_widget():
    return forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class OrderFilterForm(forms.Form):
    """Checks that the date range runs forwards; a backwards range drops the "to" date."""

    def clean(self):
        cleaned = super().clean()
        start, end = cleaned.get("placed_from"), cleaned.get("placed_to")
        if start and end and start > end:
            self.add_error("placed_to", _("The “to” date is before the “from” date."))
        return cleaned


class OrderFilter(django_filters.FilterSet):
    """Filters, search and sort for ``selectors.orders_for_staff``.

    Pass ``request`` so the assignee filter can be offered only to users who see every
    order. Dates are days in the shop's ``TIME_ZONE``, both ends inclusive.
    """

    q = django_filters.CharFilter(
        label=_("Search"),
        method="search",
        max_length=100,
        widget=forms.TextInput(
            attrs={"type": "search", "placeholder": _("Order number, name, phone or e-mail")}
        ),
    )
    status = django_filters.ChoiceFilter(
        label=_("Status"), choices=Status.choices, empty_label=_("Any status")
    )
    payment_status = django_filters.ChoiceFilter(
        label=_("Payment"), choices=PaymentStatus.choices, empty_label=_("Any")
    )
    payment_method = django_filters.ChoiceFilter(
        label=_("Payment method"), choices=PaymentMethod.choices, empty_label=_("Any")
    )
    assigned_to = PersonFilter(
        label=_("Delivery person"),
        queryset=_logistics_people,
        empty_label=_("Anyone"),
        null_label=_("Not assigned"),
    )
    placed_from = TypedDateFilter(
        label=_("Placed from"),
        method="filter_placed_from",
        widget=_date_widget(),
        validators=[MinValueValidator(EARLIEST_DAY), MaxValueValidator(LATEST_DAY)],
    )
    placed_to = TypedDateFilter(
        label=_("Placed up to"),
        method="filter_placed_to",
        widget=_date_widget(),
        validators=[MinValueValidator(EARLIEST_DAY), MaxValueValidator(LATEST_DAY)],
    )
    queue = django_filters.ChoiceFilter(
        label=_("Queue"), choices=_queue_choices, method="filter_queue", empty_label=_("None")
    )
    sort = django_filters.ChoiceFilter(
        label=_("Sort"), choices=SORT_CHOICES, method="sort_orders", empty_label=None
    )

    class Meta:
        model = Order
        fields = []
        form = OrderFilterForm

    def __init__(self, data=None, queryset=None, *, request=None, **kwargs):
        super().__init__(data, queryset, request=request, **kwargs)
        user = getattr(request, "user", None)
        if user is None or not selectors.sees_all_orders(user):
            # Logistics people only ever see their own orders: no one else to pick.
            self.filters.pop("assigned_to", None)

    def search(self, queryset, name, value):
        """Match part of the order number, recipient, phone, member e-mail, username or name.

        A part of the number may be typed without its dash ("m2h9" finds ``7KQM-2H9D``);
        full-width input is normalised first (``７ＫＱ２`` finds ``7KQ2-M9XD``).
        """
        # Pasted text: any Unicode dash is the number's dash; invisible characters go.
        value = INVISIBLE_RE.sub("", DASHES_RE.sub("-", normalize_typed(value))).strip()
        if not value:
            return queryset
        # Members first, then their orders by key: with no join in the OR, PostgreSQL
        # combines the trigram indexes of migration orders/0003 (bitmap OR). The Member
        # column shows the name or username, so both find the member as the e-mail does,
        # the whole name too, either way round ("王小明", "John Smith", "Smith John").
        # Read once per filter set: the list's tab counts filter again with the same value.
        found = self.__dict__.setdefault("_members_found", {})
        if value not in found:
            squeezed = value.replace(" ", "")
            people = (
                get_user_model()
                .objects.annotate(
                    family_first=Concat("last_name", "first_name"),
                    given_first=Concat("first_name", "last_name"),
                )
                .filter(
                    Q(email__icontains=value)
                    | Q(username__icontains=value)
                    | Q(first_name__icontains=value)
                    | Q(last_name__icontains=value)
                    | Q(family_first__icontains=squeezed)
                    | Q(given_first__icontains=squeezed)
                )
                .values_list("pk", flat=True)
            )
            ids = list(people[: MEMBER_IDS_INLINE + 1])
            # A text most members match ("com"): a subquery, not a list of thousands.
            found[value] = ids if len(ids) <= MEMBER_IDS_INLINE else people
        # Only the columns the text could be part of: an OR branch that cannot match
        # still costs a scan of its index, and with fewer branches PostgreSQL combines
        # the trigram indexes instead of reading the whole table (issue 16).
        condition = Q(recipient__icontains=value) | Q(customer_id__in=found[value])
        numbers = set()
        if NUMBER_TEXT_RE.match(value.upper()):
            numbers.add(value.upper())
        if PHONE_TEXT_RE.match(value):
            condition |= Q(phone__icontains=value)
        compact = re.sub(r"[\s\-]", "", value).upper()
        if PART_OF_NUMBER_RE.match(compact):
            # Read over the phone without the dash: "7kq2 m9xd" finds 7KQ2-M9XD, "q2m9"
            # finds it too. Each place the dash could fall is one pattern (at most four), so
            # the number's trigram index still serves the search; more than four
            # characters of a number always hold its dash.
            size = len(compact)
            if size <= NUMBER_HALF:
                numbers.add(compact)
            for cut in range(max(1, size - NUMBER_HALF), min(NUMBER_HALF, size - 1) + 1):
                numbers.add(f"{compact[:cut]}-{compact[cut:]}")
        for pattern in sorted(numbers):
            condition |= Q(number__icontains=pattern)
        digits = re.sub(r"[\s\-().]", "", value)
        if len(digits) >= 4 and digits.lstrip("+").isdigit():
            # Phones are stored as typed ("138 0013 8000"); match the digits alone too.
            bare = Replace("phone", Value(" "), Value(""))
            for char in "-()":
                bare = Replace(bare, Value(char), Value(""))
            queryset = queryset.annotate(phone_digits=bare)
            condition |= Q(phone_digits__contains=digits)
            # Said with the country code ("+86 138…", "0086 138…"), stored without it.
            national = COUNTRY_CODE_RE.sub("", digits)
            if national != digits and len(national) >= 4:
                condition |= Q(phone_digits__contains=national)
        return queryset.filter(condition)

    def filter_placed_from(self, queryset, name, value):
        return queryset.filter(placed_at__gte=shop_day_start(value))

    def filter_placed_to(self, queryset, name, value):
        return queryset.filter(placed_at__lt=shop_day_start(value + datetime.timedelta(days=1)))

    def filter_queue(self, queryset, name, value):
        condition = selectors.queue_filter(value)
        if condition is None:
            return queryset
        return queryset.filter(condition)

    def sort_orders(self, queryset, name, value):
        if value == CALLS_DUE_SORT:
            return queryset.order_by(F("call_back_at").asc(nulls_last=True), "pk")
        if value.lstrip("-") == "status":
            # Newest first within a status, whichever way the statuses run.
            return queryset.annotate(status_rank=STATUS_RANK).order_by(
                "-status_rank" if value.startswith("-") else "status_rank", "-placed_at", "-pk"
            )
        tie_break = "-pk" if value.startswith("-") else "pk"
        return queryset.order_by(value, tie_break)

    @property
    def current_sort(self):
        """The sort in effect: the valid ``sort`` value, or the default (newest first)."""
        self.errors  # noqa: B018 - validates a bound form
        cleaned = getattr(self.form, "cleaned_data", None) or {}
        if cleaned.get("sort"):
            return cleaned["sort"]
        return CALLS_DUE_SORT if cleaned.get("queue") == "calls_due" else DEFAULT_SORT
