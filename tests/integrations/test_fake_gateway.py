"""The fake gateway's own manners: a client hanging up mid-request (a worker that timed out
or was killed) prints nothing, while a fault in the gateway itself still shows."""

import http.client
import socket
import struct
import time
from urllib.parse import urlsplit

import pytest

from integrations.testing import FakeGateway
from tests.notifications.support import wait_for


def hang_up_mid_request(gateway: FakeGateway) -> None:
    """Send half a request, then reset the connection (as a killed process's socket is)."""
    address = urlsplit(gateway.url)
    client = socket.create_connection((address.hostname, address.port))
    client.sendall(b"POST /courses/runs HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\nab")
    client.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    client.close()


def test_a_client_hanging_up_prints_nothing_but_a_fault_of_the_gateway_shows(
    capsys, monkeypatch: pytest.MonkeyPatch
):
    with FakeGateway() as gateway:
        for _ in range(3):
            hang_up_mid_request(gateway)
        time.sleep(0.5)  # the server threads read the half requests and meet the resets

        def broken(handler) -> None:
            raise RuntimeError("the fake gateway is broken")

        monkeypatch.setattr(gateway, "_handle", broken)
        connection = http.client.HTTPConnection(urlsplit(gateway.url).netloc, timeout=5)
        connection.request("POST", "/courses/runs", body=b"{}")
        with pytest.raises((http.client.RemoteDisconnected, ConnectionError)):
            connection.getresponse()
        printed: list[str] = []

        def fault_shown() -> bool:
            """the gateway's fault printed"""
            printed.append(capsys.readouterr().err)
            return "the fake gateway is broken" in "".join(printed)

        wait_for(fault_shown, timeout=10)

    assert "ConnectionResetError" not in "".join(printed)
    assert "BrokenPipeError" not in "".join(printed)
