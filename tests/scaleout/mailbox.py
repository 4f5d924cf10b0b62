"""An e-mail backend the scale-out test's processes share: one JSON line per message.

``MALL_TEST_MAILBOX`` names the file (appended with ``O_APPEND``: safe from several
processes). While a file ``slow`` sits beside it, each send first notes the outbox id in
``started`` and sleeps the seconds that file holds: the test kills the worker then.
"""

import json
import os
import time
from pathlib import Path

from django.core.mail.backends.base import BaseEmailBackend

from orders.tasks import EMAIL_ID_HEADER


class MailboxBackend(BaseEmailBackend):
    def send_messages(self, email_messages):
        box = Path(os.environ["MALL_TEST_MAILBOX"])
        slow = box.with_name("slow")
        for message in email_messages:
            email_id = message.extra_headers.get(EMAIL_ID_HEADER, "")
            if slow.exists():
                with open(box.with_name("started"), "a") as started:
                    started.write(f"{email_id}\n")
                time.sleep(float(slow.read_text() or "20"))
            line = {
                "id": email_id,
                "to": message.to,
                "subject": message.subject,
                "pid": os.getpid(),
            }
            with open(box, "a") as out:
                out.write(json.dumps(line) + "\n")
        return len(email_messages)
