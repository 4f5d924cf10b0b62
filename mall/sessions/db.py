"""Django's ``db`` session engine; a lost database is not a deleted session."""

from django.contrib.sessions.backends import db

from mall.sessions import save_or_lost_database


class SessionStore(db.SessionStore):
    def save(self, must_create=False):
        return save_or_lost_database(super().save, must_create)
