"""The development stack gives manage.py the site's port for its links: `make run` records the
port it serves, and `make manage` and `make services` pass it on."""

import signal
import socket

import pytest

from config import devstack


@pytest.fixture
def data_dir(tmp_path, monkeypatch):
    """A .data directory of the test's own (never the checkout's)."""
    monkeypatch.setattr(devstack, "DATA_DIR", tmp_path)
    return tmp_path


@pytest.fixture
def serving():
    """A port something listens on, as the web server of `make run` does."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        yield str(listener.getsockname()[1])


@pytest.fixture
def signal_handlers():
    """The devstack commands take over SIGINT and SIGTERM: give the test process its own back."""
    saved = {number: signal.getsignal(number) for number in (signal.SIGINT, signal.SIGTERM)}
    yield
    for number, handler in saved.items():
        signal.signal(number, handler)


def test_the_port_of_the_running_site_is_used_for_links(data_dir, serving):
    devstack.site_port_record(serving, "8443")

    assert devstack.platform_port({}) == "8443"
    assert devstack.platform_port({"PORT": "9000"}) == "8443"
    # Set by hand, PLATFORM_PORT wins (empty: links without a port).
    assert devstack.platform_port({"PLATFORM_PORT": "443"}) == "443"
    assert devstack.platform_port({"PLATFORM_PORT": ""}) == ""


def test_without_a_running_site_links_use_the_port_run_would_serve(data_dir):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        stopped = str(probe.getsockname()[1])
    devstack.site_port_record(stopped, stopped)  # a run that died without cleaning up

    assert devstack.platform_port({}) == "8000"
    assert devstack.platform_port({"PORT": "8001"}) == "8001"


def test_a_run_forgets_only_its_own_port(data_dir, serving):
    devstack.site_port_record(serving, serving)

    devstack.site_port_forget("1")  # another run, on another port, ending
    assert devstack.running_site_port() == serving
    devstack.site_port_forget(serving)
    assert devstack.running_site_port() is None
    assert not (data_dir / "site.port").exists()


def test_services_prints_the_port_for_links_beside_the_servers(
    data_dir, serving, monkeypatch, capsys, signal_handlers
):
    monkeypatch.setenv("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/cohortly")
    monkeypatch.setenv("REDIS_URL", "redis://127.0.0.1:6379/0")
    monkeypatch.delenv("PLATFORM_PORT", raising=False)
    devstack.site_port_record(serving, serving)

    assert devstack.main(["services"]) == 0

    assert capsys.readouterr().out.splitlines() == [
        "export DATABASE_URL=postgres://postgres@127.0.0.1:5432/cohortly",
        "export REDIS_URL=redis://127.0.0.1:6379/0",
        f"export PLATFORM_PORT={serving}",
    ]


def test_manage_runs_a_command_whose_links_carry_the_sites_port(
    data_dir, serving, monkeypatch, capfd, signal_handlers
):
    monkeypatch.setenv("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/cohortly")
    monkeypatch.setenv("REDIS_URL", "redis://127.0.0.1:6379/0")
    monkeypatch.setenv("DJANGO_ENV", "development")
    monkeypatch.delenv("PLATFORM_PORT", raising=False)
    devstack.site_port_record(serving, serving)
    code = (
        "from tenants.models import Institution; from tenants.sites import institution_url;"
        "print(institution_url(Institution(code='demo'), '/accounts/login/'))"
    )

    status = devstack.main(["manage", "shell", "-c", code])

    assert status == 0
    assert capfd.readouterr().out.splitlines()[-1] == (
        f"http://demo.localhost:{serving}/accounts/login/"
    )


def test_manage_returns_the_commands_exit_status(data_dir, monkeypatch, signal_handlers):
    monkeypatch.setenv("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/cohortly")
    monkeypatch.setenv("REDIS_URL", "redis://127.0.0.1:6379/0")

    assert devstack.main(["manage", "shell", "-c", "raise SystemExit(3)"]) == 3
