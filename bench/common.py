"""Shared pieces of the benchmark harness: statistics, timing, Django set-up, machine facts."""

import contextlib
import math
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
SECRET = "bench-only-secret-key-not-for-production-use-0123456789abcdef"


def percentile(samples, pct):
    """The ``pct`` percentile (0-100) of ``samples`` by the nearest-rank method."""
    if not samples:
        return float("nan")
    ordered = sorted(samples)
    rank = max(1, math.ceil(pct / 100 * len(ordered)))
    return ordered[rank - 1]


def summary(samples_ms):
    """``{"n", "median", "p95", "min", "max"}`` of a list of milliseconds."""
    return {
        "n": len(samples_ms),
        "median": statistics.median(samples_ms) if samples_ms else float("nan"),
        "p95": percentile(samples_ms, 95),
        "min": min(samples_ms) if samples_ms else float("nan"),
        "max": max(samples_ms) if samples_ms else float("nan"),
    }


def ratio(numerator, denominator):
    if not denominator or math.isnan(numerator) or math.isnan(denominator):
        return float("nan")
    return numerator / denominator


def timed(fn, *args, **kwargs):
    """Run ``fn`` and return ``(result, milliseconds)``."""
    start = time.perf_counter()
    result = fn(*args, **kwargs)
    return result, (time.perf_counter() - start) * 1000


def server_env(database_url):
    """Environment for the app under the benchmark: production settings on plain http.

    ``mall.settings_production`` (DEBUG off, whitenoise manifest storage), with the https
    redirect and secure-only cookies off because the benchmark talks plain http on the
    loopback; persistent database connections (60 s) as in docker-compose.yml; e-mail
    rendered but not delivered (dummy backend), so no SMTP latency is measured.
    """
    env = dict(os.environ)
    env.update(
        DATABASE_URL=database_url,
        DJANGO_SETTINGS_MODULE="mall.settings_production",
        DJANGO_SECRET_KEY=SECRET,
        DJANGO_ALLOWED_HOSTS="testserver,127.0.0.1,localhost",
        DJANGO_SECURE_SSL_REDIRECT="0",
        DJANGO_SECURE_COOKIES="0",
        DJANGO_CONN_MAX_AGE="60",
        DJANGO_EMAIL_BACKEND="django.core.mail.backends.dummy.EmailBackend",
        DJANGO_LOG_LEVEL="ERROR",
    )
    return env


def setup_django(database_url):
    """Point this process at ``database_url`` with the server's settings and set Django up."""
    os.environ.update(server_env(database_url))
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    import django

    django.setup()


def machine():
    """Facts about the machine and software for the report."""
    facts = {
        "python": platform.python_version(),
        "platform": platform.platform(),
        "cpus": os.cpu_count(),
    }
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    facts["cpu"] = line.split(":", 1)[1].strip()
                    break
        with open("/proc/meminfo") as f:
            kb = int(f.readline().split()[1])
            facts["memory_gb"] = round(kb / 1024 / 1024, 1)
    except OSError:
        pass
    for name, cmd in (("gunicorn", ["gunicorn", "--version"]),):
        exe = Path(sys.executable).parent / cmd[0]
        try:
            out = subprocess.run([str(exe), *cmd[1:]], capture_output=True, text=True, timeout=30)
            facts[name] = (out.stdout or out.stderr).strip().splitlines()[0]
        except (OSError, IndexError, subprocess.SubprocessError):
            pass
    from importlib.metadata import version

    import django

    facts["django"] = django.get_version()
    for package in ("locust", "psycopg", "matplotlib"):
        with contextlib.suppress(Exception):  # a missing package only leaves a fact out
            facts[package] = version(package)
    return facts
