"""Delivery progress in the member's words: shared by the member's order page and the
e-mails. Only wording: what happened is read from the order and its events."""

from django.utils.translation import gettext_lazy as _

from orders.models import DeliveryOutcome

# What a failed attempt means to the member (``DeliveryOutcome`` value → words).
ATTEMPT_WORDS = {
    DeliveryOutcome.NOT_HOME: _("nobody was at home"),
    DeliveryOutcome.WRONG_ADDRESS: _("we could not find the address"),
    DeliveryOutcome.REFUSED: _("the parcel was refused at the door"),
    DeliveryOutcome.POSTPONED: _("you asked us to come another day"),
    DeliveryOutcome.OTHER: _("we could not hand the parcel over"),
}


def attempt_words(outcome):
    """The member's words for a failed attempt's ``outcome`` (a ``DeliveryOutcome`` value);
    an unknown value reads as "we could not hand the parcel over"."""
    return str(ATTEMPT_WORDS.get(outcome, ATTEMPT_WORDS[DeliveryOutcome.OTHER]))
