"""Past one machine, proven on this one (issue 15, item 5; DESIGN "Past one machine").

The module starts, as child processes it stops afterwards: its own PostgreSQL primary
and a streaming replica of it (``initdb`` + ``pg_basebackup -R -X stream`` into a
temporary directory, free ports, as the ``postgres`` user), its own ``redis-server``
(cache, sessions and Celery broker), two gunicorn web processes on two ports and one
Celery worker, all configured as production is: ``DATABASE_URL``,
``DATABASE_REPLICA_URLS``, ``REDIS_URL``, ``CELERY_BROKER_URL``. E-mails go to a file
every process appends to (``tests.scaleout.mailbox``), so the test counts what was sent.

The tests run in order on the one stack (a module-scoped fixture) and read the
databases directly with psycopg. PostgreSQL only: on SQLite the module is skipped,
saying so.
"""

import contextlib
import glob
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest
from django.conf import settings

pytestmark = pytest.mark.scaleout

if settings.DATABASES["default"]["ENGINE"] != "django.db.backends.postgresql":
    pytest.skip(
        "scale-out test: needs PostgreSQL (it runs its own primary + streaming replica); "
        "run with DATABASE_URL=postgres://... as .ci/run does",
        allow_module_level=True,
    )

import psycopg  # noqa: E402
import requests  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
PASSWORD = "correct-horse-battery-staple"
MEMBERS = [f"shopper{i}" for i in range(8)]
MAX_LAG_S = 5
LOAD_SECONDS = 30
CSRF_RE = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
TOKEN_RE = re.compile(r'name="checkout_token" value="([^"]+)"')
VERSION_RE = re.compile(r'name="version" value="(\d+)"')


def pg_bin():
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    if found:
        return Path(found[-1]).parent
    return Path(subprocess.check_output(["pg_config", "--bindir"], text=True).strip())


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def as_postgres(*command):
    """Run a PostgreSQL tool as the ``postgres`` user (we may be root; initdb refuses)."""
    if os.geteuid() == 0:
        return ["runuser", "-u", "postgres", "--", *map(str, command)]
    return list(map(str, command))


def wait_for(predicate, timeout, what, interval=0.2):
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"gave up waiting {timeout} s for {what}")
        time.sleep(interval)


class Stack:
    """The processes of the scale-out set-up and the ways the tests talk to them."""

    def __init__(self, tmp):
        self.tmp = tmp
        self.pg = pg_bin()
        self.children = []
        self.primary_dir = tmp / "primary"
        self.replica_dir = tmp / "replica"
        self.primary_port = free_port()
        self.replica_port = free_port()
        self.redis_port = free_port()
        self.web_ports = [free_port(), free_port()]
        self.mailbox = tmp / "mail" / "sent.jsonl"
        self.worker = None

    # --- PostgreSQL -----------------------------------------------------------------------
    def pg_ctl(self, data_dir, action, *extra):
        subprocess.run(
            as_postgres(
                self.pg / "pg_ctl",
                action,
                "-D",
                data_dir,
                "-w",
                "-t",
                "60",
                "-l",
                data_dir.with_suffix(".log"),
                *extra,
            ),
            check=True,
            stdout=subprocess.DEVNULL,
        )

    def start_databases(self):
        subprocess.run(
            as_postgres(
                self.pg / "initdb", "-A", "trust", "-U", "postgres", "-D", self.primary_dir
            ),
            check=True,
            stdout=subprocess.DEVNULL,
        )
        with open(self.primary_dir / "postgresql.conf", "a") as conf:
            conf.write(
                f"\nport = {self.primary_port}\nlisten_addresses = '127.0.0.1'\n"
                f"unix_socket_directories = '{self.tmp}'\nwal_level = replica\n"
                "max_wal_senders = 5\nhot_standby = on\nfsync = off\n"
                "max_connections = 60\nshared_buffers = 32MB\n"
            )
        with open(self.primary_dir / "pg_hba.conf", "a") as hba:
            hba.write("\nhost replication all 127.0.0.1/32 trust\n")
        self.pg_ctl(self.primary_dir, "start")
        subprocess.run(
            as_postgres(
                self.pg / "pg_basebackup",
                "-h",
                "127.0.0.1",
                "-p",
                self.primary_port,
                "-U",
                "postgres",
                "-D",
                self.replica_dir,
                "-R",
                "-X",
                "stream",
            ),
            check=True,
        )
        with open(self.replica_dir / "postgresql.auto.conf", "a") as conf:
            conf.write(f"\nport = {self.replica_port}\n")
        self.pg_ctl(self.replica_dir, "start")
        with self.connect(dbname="postgres") as conn:
            conn.autocommit = True
            conn.execute("CREATE DATABASE mall")

    def url(self, port):
        return f"postgres://postgres@127.0.0.1:{port}/mall"

    def connect(self, port=None, dbname="mall"):
        return psycopg.connect(
            host="127.0.0.1",
            port=port or self.primary_port,
            user="postgres",
            dbname=dbname,
            connect_timeout=5,
        )

    def query(self, sql, params=(), port=None):
        with self.connect(port) as conn:
            return conn.execute(sql, params).fetchall()

    # --- the app's processes --------------------------------------------------------------
    @property
    def env(self):
        env = {
            **{k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "MALL_"))},
            "DJANGO_SETTINGS_MODULE": "mall.settings",
            "DJANGO_DEBUG": "0",
            "DJANGO_SECRET_KEY": "scale-out-test-only",
            "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost",
            "DJANGO_LANGUAGE_CODE": "en",
            "DATABASE_URL": self.url(self.primary_port),
            "DATABASE_REPLICA_URLS": self.url(self.replica_port),
            "REDIS_URL": f"redis://127.0.0.1:{self.redis_port}/0",
            "CELERY_BROKER_URL": f"redis://127.0.0.1:{self.redis_port}/1",
            "MALL_CELERY_VISIBILITY_TIMEOUT_S": "8",
            "MALL_CELERY_RESTORE_INTERVAL_S": "2",
            "MALL_CELERY_RESTORE_THROTTLE": "1",
            "MALL_REPLICA_MAX_LAG_S": str(MAX_LAG_S),
            "DJANGO_CONN_MAX_AGE": "60",  # kept connections, as in production
            "MALL_REPLICA_CHECK_S": "0.5",
            "MALL_DATABASE_HEADER": "1",
            "DJANGO_EMAIL_BACKEND": "tests.scaleout.mailbox.MailboxBackend",
            "MALL_TEST_MAILBOX": str(self.mailbox),
            "MALL_CACHE_DIR": str(self.tmp / "cache"),
            "PYTHONPATH": str(ROOT),
        }
        return env

    def spawn(self, name, command):
        log = open(self.tmp / f"{name}.log", "ab")  # noqa: SIM115 - closed with the stack
        process = subprocess.Popen(
            command,
            cwd=ROOT,
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        self.children.append((process, log))
        return process

    def manage(self, *args, stdin=None):
        subprocess.run(
            [BIN / "python", "manage.py", *args],
            cwd=ROOT,
            env=self.env,
            check=True,
            input=stdin,
            text=True,
            stdout=subprocess.DEVNULL,
        )

    def start_app(self):
        self.spawn(
            "redis",
            [
                "redis-server",
                "--port",
                str(self.redis_port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
            ],
        )
        wait_for(lambda: self.redis_ping(), 20, "redis-server")
        self.mailbox.parent.mkdir()
        self.manage("migrate", "--noinput")
        self.manage("shell", stdin=SEED)
        for index, port in enumerate(self.web_ports, start=1):
            self.spawn(
                f"web{index}",
                [
                    BIN / "gunicorn",
                    "mall.wsgi",
                    "--bind",
                    f"127.0.0.1:{port}",
                    "--workers",
                    "2",
                    "--timeout",
                    "60",
                    "--no-control-socket",
                ],
            )
        for base in self.webs:
            wait_for(lambda base=base: self.healthy(base), 60, f"gunicorn at {base}")
        self.worker = self.start_worker("worker1")

    def start_worker(self, name):
        worker = self.spawn(
            name,
            [
                BIN / "celery",
                "-A",
                "mall",
                "worker",
                "--pool",
                "solo",
                "--loglevel",
                "INFO",
                "--without-gossip",
                "--without-mingle",
                "--without-heartbeat",
                "-n",
                f"{name}@%h",
            ],
        )
        wait_for(lambda: b"ready" in (self.tmp / f"{name}.log").read_bytes(), 60, f"celery {name}")
        return worker

    def redis_ping(self):
        with (
            contextlib.suppress(OSError),
            socket.create_connection(("127.0.0.1", self.redis_port), timeout=1) as sock,
        ):
            sock.sendall(b"PING\r\n")
            return sock.recv(16).startswith(b"+PONG")
        return False

    def healthy(self, base):
        with contextlib.suppress(requests.RequestException):
            return requests.get(f"{base}/healthz", timeout=2).status_code == 200
        return False

    @property
    def webs(self):
        return [f"http://127.0.0.1:{port}" for port in self.web_ports]

    # --- what was sent ----------------------------------------------------------------------
    def sent(self):
        if not self.mailbox.exists():
            return []
        return [json.loads(line) for line in self.mailbox.read_text().splitlines() if line]

    def sent_count(self, email_id):
        return sum(1 for line in self.sent() if line["id"] == str(email_id))

    def stop(self):
        for process, _log in reversed(self.children):
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGTERM)
        for process, log in reversed(self.children):
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=5)
            log.close()
        for data_dir in (self.replica_dir, self.primary_dir):
            if (data_dir / "postmaster.pid").exists():
                subprocess.run(
                    as_postgres(self.pg / "pg_ctl", "stop", "-D", data_dir, "-m", "immediate"),
                    check=False,
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                )


SEED = f"""
from mall.models import Product
from tests import factories
for name in {MEMBERS!r}:
    factories.UserFactory(username=name)
factories.order_admin(username="orderadmin")
factories.UserFactory(username="lockme")
factories.ProductFactory(sku="SCALE-1", name="Scale mug", price="20.00", stock=1000)
factories.ProductFactory(sku="LOAD-1", name="Load cap", price="10.00", stock=100000)
"""


@pytest.fixture(scope="module")
def stack(request):
    if not shutil.which("redis-server"):
        pytest.fail("redis-server is missing: apt-get install redis-server (.ci/run does)")
    tmp = Path(tempfile.mkdtemp(prefix="mall-scaleout-"))
    if os.geteuid() == 0:
        shutil.chown(tmp, "postgres", "postgres")
        tmp.chmod(0o777)
    stack = Stack(tmp)
    failed_before = request.session.testsfailed
    try:
        stack.start_databases()
        stack.start_app()
        yield stack
    finally:
        stack.stop()
        if request.session.testsfailed > failed_before:
            # Keep every process's log for the one who reads the failure.
            keep = ROOT / "test-artifacts" / "scaleout"
            keep.mkdir(parents=True, exist_ok=True)
            for log in [*tmp.glob("*.log"), *tmp.glob("*.jsonl"), *tmp.glob("mail/*")]:
                shutil.copy(log, keep / log.name)
        shutil.rmtree(tmp, ignore_errors=True)


def browser():
    session = requests.Session()
    session.cookies.set("django_language", "en")
    return session


def sign_in(session, base, username):
    page = session.get(f"{base}/accounts/login/", timeout=10)
    csrf = CSRF_RE.search(page.text).group(1)
    response = session.post(
        f"{base}/accounts/login/",
        data={"csrfmiddlewaretoken": csrf, "username": username, "password": PASSWORD},
        allow_redirects=False,
        timeout=30,
    )
    assert response.status_code == 302, response.text[:500]


def forget_writes(session):
    """Drop the read-your-writes cookie: the next page is one opened after the window."""
    for cookie in list(session.cookies):
        if cookie.name == "mall_wrote":
            session.cookies.clear(cookie.domain, cookie.path, cookie.name)


def product_id(stack, sku):
    return stack.query("SELECT id FROM mall_product WHERE sku = %s", (sku,))[0][0]


def checkout(stack, session, base, sku="SCALE-1", quantity=2):
    """Cart add and order POST through ``base``, the checkout page (which issues the
    one-time token, kept in the session) through the other process; the order number."""
    page_base = next(web for web in stack.webs if web != base)
    csrf = session.cookies.get("csrftoken")
    added = session.post(
        f"{base}/cart/add/",
        data={"csrfmiddlewaretoken": csrf, "product": product_id(stack, sku), "quantity": quantity},
        allow_redirects=False,
        timeout=30,
    )
    assert added.status_code == 302
    page = session.get(f"{page_base}/checkout/", timeout=30)
    assert page.status_code == 200
    token = TOKEN_RE.search(page.text).group(1)
    placed = session.post(
        f"{base}/checkout/",
        data={
            "csrfmiddlewaretoken": session.cookies.get("csrftoken"),
            "checkout_token": token,
            "payment_method": "cod",
            "note": "",
            "recipient": "Zhou Min",
            "phone": "139 0000 1234",
            "region": "Zhejiang",
            "city": "Hangzhou",
            "address_line": "18 Binjiang Road, Building 2, Room 801",
            "postcode": "310000",
        },
        allow_redirects=False,
        timeout=30,
    )
    assert placed.status_code == 302, placed.text[:500]
    number = placed.headers["Location"].rstrip("/").rsplit("/", 1)[-1]
    return number


def outbox(stack, number):
    """``{kind: (id, state, attempts)}`` of order ``number``'s e-mails (primary)."""
    rows = stack.query(
        "SELECT e.kind, e.id, e.state, e.attempts FROM orders_outboxemail e "
        "JOIN orders_order o ON o.id = e.order_id WHERE o.number = %s",
        (number,),
    )
    return {kind: (pk, state, attempts) for kind, pk, state, attempts in rows}


def list_row(html, number):
    for row in re.findall(r"<tr\b.*?</tr>", html, flags=re.S):
        if f"/staff/orders/{number}/" in row:
            return row
    return ""


@pytest.fixture(scope="module")
def placed(stack):
    """A member signs in through web 1 and checks out through web 2 (the session is in
    Redis, so either process knows them)."""
    web1, web2 = stack.webs
    member = browser()
    sign_in(member, web1, MEMBERS[0])
    number = checkout(stack, member, web2)
    return {"member": member, "number": number}


def test_sign_in_on_one_web_process_and_check_out_on_the_other(stack, placed):
    number = placed["number"]
    rows = stack.query(
        "SELECT o.status, u.username, (SELECT sum(quantity) FROM orders_orderline l "
        "WHERE l.order_id = o.id) FROM orders_order o JOIN auth_user u ON u.id = o.customer_id "
        "WHERE o.number = %s",
        (number,),
    )
    assert rows == [("submitted", MEMBERS[0], 2)]
    assert stack.query("SELECT stock FROM mall_product WHERE sku = 'SCALE-1'") == [(998,)]
    # The member's order page answers on both processes.
    for base in stack.webs:
        page = placed["member"].get(f"{base}/account/orders/{number}/", timeout=10)
        assert page.status_code == 200 and number in page.text


def test_confirm_on_the_primary_and_the_list_from_the_replica(stack, placed):
    web1, web2 = stack.webs
    number = placed["number"]
    admin = browser()
    sign_in(admin, web1, "orderadmin")
    detail = admin.get(f"{web2}/staff/orders/{number}/", timeout=10)
    # The action page reads the primary.
    assert detail.status_code == 200
    assert detail.headers["X-Mall-Database"] == "default"
    version = VERSION_RE.search(detail.text).group(1)
    confirmed = admin.post(
        f"{web2}/staff/orders/{number}/confirm/",
        data={
            "csrfmiddlewaretoken": admin.cookies.get("csrftoken"),
            "version": version,
            "call_note": "Spoke to the member; all as ordered.",
        },
        allow_redirects=False,
        timeout=30,
    )
    assert confirmed.status_code == 302
    assert confirmed.headers["X-Mall-Database"] == "default"
    assert stack.query("SELECT status FROM orders_order WHERE number = %s", (number,)) == [
        ("confirmed",)
    ]
    # Right after their own write the admin's list reads the primary (read-your-writes).
    mine = admin.get(f"{web1}/staff/orders/?q={number}", timeout=10)
    assert mine.headers["X-Mall-Database"] == "default"
    assert "Confirmed" in list_row(mine.text, number)
    # Once that window is over the list is served from the replica, and shows the
    # confirmation within the lag bound.
    forget_writes(admin)
    started = time.monotonic()

    def replica_shows_it():
        page = admin.get(f"{web1}/staff/orders/?q={number}", timeout=10)
        assert page.status_code == 200
        if page.headers["X-Mall-Database"] != "replica1":
            return None
        return "Confirmed" in list_row(page.text, number)

    wait_for(replica_shows_it, MAX_LAG_S, "the replica's list to show the order confirmed")
    assert time.monotonic() - started <= MAX_LAG_S
    for base in stack.webs:
        for page in ("/staff/", "/staff/reports/", "/staff/orders/"):
            response = admin.get(f"{base}{page}", timeout=30)
            assert response.status_code == 200
            assert response.headers["X-Mall-Database"] == "replica1"
    # The replica's own copy says so too.
    assert stack.query(
        "SELECT status FROM orders_order WHERE number = %s", (number,), port=stack.replica_port
    ) == [("confirmed",)]


def test_the_worker_sends_each_email_exactly_once(stack, placed):
    number = placed["number"]
    mails = wait_for(
        lambda: (
            (m := outbox(stack, number))
            and all(s == "sent" for _pk, s, _a in m.values())
            and len(m) == 2
            and m
        ),
        30,
        "the placed and confirmed e-mails to be sent",
    )
    time.sleep(2)  # anything sent twice would show by now
    for kind in ("placed", "confirmed"):
        email_id, state, attempts = mails[kind]
        assert (state, attempts) == ("sent", 1)
        assert stack.sent_count(email_id) == 1
        line = next(line for line in stack.sent() if line["id"] == str(email_id))
        assert line["to"] == [f"{MEMBERS[0]}@example.com"]
        assert number in line["subject"]
        assert line["pid"] == stack.worker.pid  # the worker sent it, not a web process


def test_a_worker_killed_mid_send_loses_nothing_and_sends_once(stack, placed):
    web2 = stack.webs[1]
    slow = stack.mailbox.with_name("slow")
    started = stack.mailbox.with_name("started")
    slow.write_text("30")
    number = checkout(stack, placed["member"], web2, quantity=1)
    email_id = wait_for(lambda: outbox(stack, number).get("placed"), 10, "the outbox row")[0]
    wait_for(
        lambda: started.exists() and str(email_id) in started.read_text().split(),
        30,
        "the worker to start sending",
    )
    os.killpg(stack.worker.pid, signal.SIGKILL)
    stack.worker.wait(timeout=10)
    slow.unlink()
    assert stack.sent_count(email_id) == 0
    stack.worker = stack.start_worker("worker2")
    wait_for(lambda: stack.sent_count(email_id), 90, "the new worker to send the e-mail")
    time.sleep(3)
    assert stack.sent_count(email_id) == 1
    # The killed run's transaction (its attempt count with it) rolled back with its
    # connection: the row shows the one attempt that sent it, by the new worker.
    assert outbox(stack, number)["placed"][1:] == ("sent", 1)
    assert started.read_text().split() == [str(email_id)]  # the first run did start
    line = next(line for line in stack.sent() if line["id"] == str(email_id))
    assert line["pid"] == stack.worker.pid


def test_login_throttling_counts_across_web_processes(stack):
    # django-axes keeps its counts in the database: failures on either process add up.
    web1, web2 = stack.webs
    visitor = browser()
    answers = []
    for attempt in range(5):  # AXES_FAILURE_LIMIT
        base = (web1, web2)[attempt % 2]
        page = visitor.get(f"{base}/accounts/login/", timeout=10)
        answers.append(
            visitor.post(
                f"{base}/accounts/login/",
                data={
                    "csrfmiddlewaretoken": CSRF_RE.search(page.text).group(1),
                    "username": "lockme",
                    "password": "wrong password",
                },
                timeout=30,
            ).status_code
        )
    assert answers == [200, 200, 200, 200, 429]
    for base in (web1, web2):  # even the right password, on either process
        page = visitor.get(f"{base}/accounts/login/", timeout=10)
        csrf = CSRF_RE.search(page.text).group(1) if page.status_code == 200 else ""
        right = visitor.post(
            f"{base}/accounts/login/",
            data={"csrfmiddlewaretoken": csrf, "username": "lockme", "password": PASSWORD},
            allow_redirects=False,
            timeout=30,
        )
        assert right.status_code == 429


def test_a_stopped_replica_sends_reads_to_the_primary(stack, placed):
    admin = browser()
    sign_in(admin, stack.webs[0], "orderadmin")
    forget_writes(admin)
    stack.pg_ctl(stack.replica_dir, "stop", "-m", "fast")
    for base in stack.webs:
        for page in ("/staff/orders/", "/staff/", "/staff/reports/", "/staff/orders/", "/staff/"):
            response = admin.get(f"{base}{page}", timeout=30)
            assert response.status_code == 200, response.text[:500]
            assert response.headers["X-Mall-Database"] == "default"
    found = admin.get(f"{stack.webs[1]}/staff/orders/?q={placed['number']}", timeout=30)
    assert "Confirmed" in list_row(found.text, placed["number"])


def test_restarting_the_primary_under_checkout_load(stack, placed):
    results = stack.tmp / "load.jsonl"
    config = stack.tmp / "load.json"
    config.write_text(
        json.dumps(
            {
                "webs": stack.webs,
                "members": MEMBERS,
                "password": PASSWORD,
                "product": product_id(stack, "LOAD-1"),
                "results": str(results),
            }
        )
    )
    load = subprocess.Popen(
        [
            BIN / "locust",
            "-f",
            ROOT / "tests/scaleout/locust_checkout.py",
            "--headless",
            "-u",
            str(len(MEMBERS)),
            "-r",
            str(len(MEMBERS)),
            "-t",
            f"{LOAD_SECONDS}s",
            "--host",
            stack.webs[0],
            "--only-summary",
            "--exit-code-on-error",
            "0",
        ],
        cwd=ROOT,
        env={**os.environ, "SCALEOUT_CONFIG": str(config)},
        stdout=open(stack.tmp / "locust.log", "ab"),  # noqa: SIM115
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        time.sleep(LOAD_SECONDS / 3)
        stack.pg_ctl(stack.primary_dir, "restart", "-m", "fast")
        load.wait(timeout=LOAD_SECONDS * 3)
    finally:
        if load.poll() is None:
            os.killpg(load.pid, signal.SIGKILL)
    lines = [json.loads(line) for line in results.read_text().splitlines()]
    bad = [line for line in lines if line["outcome"] == "bad"]
    assert bad == []
    placed_ok = [
        line for line in lines if line["name"] == "place order" and line["outcome"] == "ok"
    ]
    refused = [line for line in lines if line["outcome"] == "try_again"]
    assert len(placed_ok) > 10  # the load did run, before and after the restart
    assert refused, "the restart should have refused something with 'please try again'"
    # Every order is whole: lines, the placed event, money; stock balances the lines.
    load_id = product_id(stack, "LOAD-1")
    orders = stack.query(
        "SELECT o.id, o.subtotal, (SELECT count(*) FROM orders_orderevent e "
        "WHERE e.order_id = o.id AND e.kind = 'placed'), "
        "(SELECT coalesce(sum(l.line_total), 0) FROM orders_orderline l WHERE l.order_id = o.id), "
        "(SELECT count(*) FROM orders_orderline l WHERE l.order_id = o.id) "
        "FROM orders_order o"
    )
    for _pk, subtotal, placed_events, line_sum, line_count in orders:
        assert line_count >= 1 and placed_events == 1 and subtotal == line_sum
    sold = stack.query(
        "SELECT coalesce(sum(quantity), 0) FROM orders_orderline WHERE product_id = %s", (load_id,)
    )[0][0]
    stock = stack.query("SELECT stock FROM mall_product WHERE id = %s", (load_id,))[0][0]
    assert stock + sold == 100000
    # One unit per order placed; a resubmit after a lost session save is answered with
    # the order already placed (the same Location), not a second one.
    assert sold >= len({line["location"] for line in placed_ok})
    # Every placed order's e-mail is sent exactly once, across the restart too.
    wait_for(
        lambda: (
            stack.query("SELECT count(*) FROM orders_outboxemail WHERE state <> 'sent'")[0][0] == 0
        ),
        120,
        "the worker to send every e-mail",
        interval=1,
    )
    ids = [line["id"] for line in stack.sent()]
    assert len(ids) == len(set(ids))
    total = stack.query("SELECT count(*) FROM orders_outboxemail")[0][0]
    assert len(ids) == total
