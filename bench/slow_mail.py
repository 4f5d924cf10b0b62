"""A mail backend for the benchmark that costs what an SMTP hand-over costs.

Each message waits ``BENCH_SMTP_MS`` milliseconds (default 30: a hand-over to a relay
on the same network) and is then dropped. Rendering still happens before it, as always.
"""

import os
import time

from django.core.mail.backends.base import BaseEmailBackend


class SlowSMTPBackend(BaseEmailBackend):
    def send_messages(self, email_messages):
        delay = float(os.environ.get("BENCH_SMTP_MS", "30")) / 1000
        for _message in email_messages:
            time.sleep(delay)
        return len(email_messages)
