"""Django's own messages that its Chinese catalogue misses, translated in ours.

Django 5.2 writes the password-too-short message with ``%d`` while its zh_Hans
catalogue still holds the older ``%(min_length)d`` text, so Chinese pages showed it in
English. Marking the exact ``msgid`` here puts it in our catalogue
(``locale/zh_Hans``), which ``LOCALE_PATHS`` makes win over Django's. Nothing imports
this module at run time; ``makemessages`` reads it (a lazy string costs nothing).
"""

from django.utils.translation import ngettext_lazy

DJANGO_MESSAGES = (
    ngettext_lazy(
        "This password is too short. It must contain at least %d character.",
        "This password is too short. It must contain at least %d characters.",
        8,
    ),
)
