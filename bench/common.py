"""Shared pieces of the benchmark harness: statistics, timing, Django set-up, machine facts."""

import contextlib
import math
import os
import platform
import shutil
import signal
import socket
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
    rendered but not delivered (dummy backend), so no SMTP latency is measured. With
    ``BENCH_REDIS_URL`` (``run.py`` starts a private ``redis-server`` when there is one)
    the cache and sessions are in Redis and committed e-mails are handed to a broker, as
    in docker-compose.yml; no worker consumes them (nothing is sent).
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
    redis_url = os.environ.get("BENCH_REDIS_URL")
    if redis_url:  # as deployed (docker-compose.yml): Redis cache and sessions, a broker
        env.update(REDIS_URL=f"{redis_url}/0", CELERY_BROKER_URL=f"{redis_url}/1")
    return env


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_redis():
    """A private ``redis-server`` on a free port, keeping nothing on disk: ``(process,
    "redis://127.0.0.1:<port>")``, or ``(None, None)`` when it is not installed."""
    if not shutil.which("redis-server"):
        return None, None
    port = free_port()
    proc = subprocess.Popen(
        ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", ""],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.2):
            return proc, f"redis://127.0.0.1:{port}"
        time.sleep(0.05)
    stop_process(proc)
    return None, None


def stop_process(proc):
    """Stop a process started in its own session (and its children)."""
    if proc and proc.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


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
