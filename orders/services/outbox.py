"""The member e-mail outbox (issue 15): what staff may do with an e-mail that failed."""

from django.db import transaction
from django.utils.translation import gettext as _

from orders import tasks
from orders.exceptions import InvalidInput, NotPermitted
from orders.models import OutboxEmail

RETRY_PERMISSION = "orders.retry_email"


def check_retry_email(actor):
    """Raise ``NotPermitted`` unless ``actor`` may send failed e-mails again (order admins
    and superusers hold ``orders.retry_email``)."""
    if not actor.has_perm(RETRY_PERMISSION):
        raise NotPermitted(_("Only order admins may send an e-mail again."))


def failed_emails():
    """The e-mails the outbox page lists: failed ones, newest first, with their order."""
    return OutboxEmail.objects.filter(state=OutboxEmail.State.FAILED).select_related(
        "order", "order__customer"
    )


def retry_email(actor, email_id):
    """Send failed outbox e-mail ``email_id`` again (after the commit, by a worker or here).

    ``email_id``: the ``OutboxEmail`` primary key (an int or its digits). Raises
    ``NotPermitted`` (the role may not), ``InvalidInput`` (no such e-mail, or it is not
    failed: sent ones are never sent twice). Returns the row, back to ``pending``.
    """
    check_retry_email(actor)
    try:
        pk = int(email_id)
    except (TypeError, ValueError):
        raise InvalidInput(_("There is no such e-mail.")) from None
    with transaction.atomic():
        email = OutboxEmail.objects.select_for_update().filter(pk=pk).first()
        if email is None:
            raise InvalidInput(_("There is no such e-mail."))
        if email.state != OutboxEmail.State.FAILED:
            raise InvalidInput(_("This e-mail is not waiting for a retry."))
        email.state = OutboxEmail.State.PENDING
        email.save(update_fields=["state"])
        transaction.on_commit(lambda: tasks.enqueue_email(pk))
    return email
