"""How a person's name is written: one rule for pages, e-mails, events and messages.

Django's ``User.get_full_name()`` writes "given family" with a space, which is right for
"Li Wei" typed by a Western-style form but wrong for a Chinese name: given 小明, family
王 reads "小明 王" where every Chinese reader expects "王小明". The order follows the
script of the name, not the page's language, so a name reads the same in Chinese and
English pages and in the events that store it: family name first with no space when
either part is written in CJK ideographs (Chinese, Japanese kanji, Korean hanja) or
Hangul, given name first otherwise.
"""

import unicodedata


def _east_asian(text):
    for char in text:
        name = unicodedata.name(char, "")
        if name.startswith(("CJK ", "HANGUL ", "HIRAGANA ", "KATAKANA ")):
            return True
    return False


def full_name(given, family):
    """``given`` and ``family`` (strings, may be empty) as a reader expects them:
    ``full_name("小明", "王")`` → ``"王小明"``; ``full_name("Wei", "Li")`` → ``"Wei Li"``."""
    given, family = (given or "").strip(), (family or "").strip()
    if _east_asian(given + family):
        return f"{family}{given}"
    return " ".join(part for part in (given, family) if part)


def person_name(user, *, username_fallback=True):
    """The name to show for ``user`` (``full_name`` of its first and last names); its
    username when no name is set (``""`` with ``username_fallback=False``, e.g. to
    pre-fill a delivery recipient); ``""`` for ``None``."""
    if user is None:
        return ""
    name = full_name(user.first_name, user.last_name)
    if name or not username_fallback:
        return name
    return user.get_username()
