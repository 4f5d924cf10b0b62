"""Session engines that tell a lost database from a deleted session (issue 15).

Django's database session store turns *any* database error while saving an existing
session into ``UpdateError``, which ``SessionMiddleware`` answers with a bare 400 ("the
session was deleted"). When the database is restarting that is wrong: the engines here
re-raise the connection error itself, which ``mall.db_router.server_error`` answers with
the 503 "please try again" page. Otherwise they are Django's own ``db`` and
``cached_db`` engines (``SESSION_ENGINE = "mall.sessions.cached_db"`` or
``"mall.sessions.db"``).
"""

from django.contrib.sessions.backends.base import UpdateError
from django.db import InterfaceError, OperationalError


def save_or_lost_database(store_save, must_create):
    try:
        return store_save(must_create)
    except UpdateError as exc:
        if isinstance(exc.__context__, OperationalError | InterfaceError):
            raise exc.__context__ from None
        raise
