"""`python -m actions.server` as its own process: malformed calls answer a short error with
nothing of the request (rasa-sdk's own handler echoes the whole tracker, slots included),
nothing of it reaches the logs, it listens on 127.0.0.1 by default, and a well-formed call
still runs the action."""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
import time
import urllib.error
import urllib.request
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.processes import free_port

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parents[2]
FAKE_CODE = "627898622241"
FAKE_PHONE = "+201001234567"
MARKER = "سر-لا-يظهر"  # a slot value with no digits, so log masking cannot hide a leak
SERVICE_TOKEN = "action-server-test-token-0123456789abcdef"
SECRETS = (FAKE_CODE, FAKE_PHONE, FAKE_PHONE[1:], MARKER, FAKE_CODE[-6:])


@dataclass
class ActionServer:
    url: str
    port: int
    log: Path

    def post(self, body: bytes, **headers: str) -> tuple[int, bytes]:
        request = urllib.request.Request(
            self.url + "/webhook",
            data=body,
            headers={"Content-Type": "application/json", **headers},
            method="POST",
        )
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                return response.status, response.read()
        except urllib.error.HTTPError as error:
            return error.code, error.read()


@contextlib.contextmanager
def running_server(log: Path, **extra_env: str) -> Iterator[ActionServer]:
    port = free_port()
    env = {**os.environ, "ACTIONS_PORT": str(port), "TASDEED_PROFILE": "eg", "REDIS_URL": "",
           "LOG_LEVEL": "DEBUG", "BILLING_URL": "http://127.0.0.1:9", "SERVICE_TOKEN": "",
           **extra_env}  # fmt: skip
    env.pop("ACTIONS_HOST", None)
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "actions.server"], cwd=ROOT, env=env, stdout=out, stderr=out
        )
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(200):
            try:
                with urllib.request.urlopen(url + "/health", timeout=2) as response:
                    if response.status == 200:
                        break
            except OSError:
                pass
            if process.poll() is not None:
                raise RuntimeError("actions.server died:\n" + log.read_text(errors="replace"))
            time.sleep(0.1)
        else:
            raise RuntimeError("actions.server did not start")
        yield ActionServer(url, port, log)
    finally:
        process.terminate()
        process.wait(timeout=20)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ActionServer]:
    with running_server(tmp_path_factory.mktemp("actions") / "server.log") as started:
        yield started


@pytest.fixture(scope="module")
def guarded_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ActionServer]:
    log = tmp_path_factory.mktemp("actions") / "guarded.log"
    with running_server(log, SERVICE_TOKEN=SERVICE_TOKEN) as started:
        yield started


def tracker(**overrides: Any) -> dict[str, Any]:
    return {
        "sender_id": "web:0123abcd",
        "slots": {"payment_code": FAKE_CODE, "phone": FAKE_PHONE, "note": MARKER},
        "latest_message": {"intent": {"name": "greet", "confidence": 0.99}, "text": "hello"},
        "events": [],
        "paused": False,
        "followup_action": None,
        "active_loop": {},
        "latest_action_name": "action_listen",
        **overrides,
    }


def call(action: str = "action_reply", **fields: Any) -> dict[str, Any]:
    body = {"next_action": action, "sender_id": "web:0123abcd", "tracker": tracker(),
            "domain": {"intents": ["greet"], "slots": {}}, "version": "3.6.21"}  # fmt: skip
    return {**body, **fields}


def assert_quiet(status: int, body: bytes, expected: int) -> None:
    assert status == expected, body
    assert len(body) < 100, body
    text = body.decode()
    for secret in SECRETS:
        assert secret not in text
    assert isinstance(json.loads(text)["error"], str)


def test_well_formed_call_runs_the_action(server: ActionServer) -> None:
    status, body = server.post(json.dumps(call()).encode())
    assert status == 200, body
    answer = json.loads(body)
    assert answer["events"] == [] and "Tasdeed" in answer["responses"][0]["text"]
    # Rasa may deflate its calls (RASA_COMPRESS_ACTION_SERVER_REQUEST).
    status, body = server.post(zlib.compress(json.dumps(call()).encode()), **{
        "Content-Encoding": "deflate"})  # fmt: skip
    assert status == 200 and json.loads(body)["responses"]


def test_health_answers(server: ActionServer) -> None:
    with urllib.request.urlopen(server.url + "/health", timeout=5) as response:
        assert response.status == 200 and json.loads(response.read()) == {"status": "ok"}


@pytest.mark.parametrize(
    "body",
    [
        json.dumps(call()).encode()[:-40],  # cut short: not JSON
        b"\xff" + json.dumps(call()).encode(),  # not UTF-8
        json.dumps([FAKE_CODE, FAKE_PHONE, MARKER]).encode(),
        json.dumps(call(tracker=None, slots=tracker()["slots"])).encode(),  # no tracker
        json.dumps(call(tracker={"slots": tracker()["slots"]})).encode(),  # no sender_id
        json.dumps(call(tracker=tracker(latest_message=[FAKE_CODE]))).encode(),
        json.dumps(call(tracker=tracker(slots=[FAKE_CODE, MARKER]))).encode(),
        json.dumps(call(next_action=None)).encode(),
        json.dumps(call(domain=[FAKE_PHONE])).encode(),
        json.dumps(call()).replace('"greet"', "NaN", 1).encode(),
        b'{"next_action": "action_reply", "tracker": ' + b"[" * 5000 + b"]" * 5000 + b"}",
    ],
)
def test_malformed_call_is_a_short_400(server: ActionServer, body: bytes) -> None:
    assert FAKE_CODE.encode() in body or b"[[[" in body or b"\xff" in body
    status, answer = server.post(body)
    assert_quiet(status, answer, 400)


def test_deflate_bomb_is_a_400(server: ActionServer) -> None:
    status, answer = server.post(
        zlib.compress(b" " * (64 * 1024 * 1024), 9), **{"Content-Encoding": "deflate"}
    )
    assert_quiet(status, answer, 400)


def test_unknown_action_named_after_a_secret_is_not_echoed(server: ActionServer) -> None:
    status, answer = server.post(json.dumps(call(action=f"{FAKE_CODE} {MARKER}")).encode())
    assert_quiet(status, answer, 404)


def test_exception_in_an_action_is_a_short_500(server: ActionServer) -> None:
    # The intent is a string where the action expects an object: `.get` raises inside it.
    broken = tracker(latest_message={"intent": f"{FAKE_CODE} {MARKER}", "text": FAKE_PHONE})
    status, answer = server.post(json.dumps(call(tracker=broken)).encode())
    assert_quiet(status, answer, 500)
    assert json.loads(answer) == {"error": "action failed", "action_name": "action_reply"}


def test_missing_domain_keeps_rasas_449(server: ActionServer) -> None:
    status, answer = server.post(json.dumps(call(domain=None)).encode())
    assert status in (200, 449)  # 200 once a domain was sent before (rasa-sdk caches it)
    if status == 449:
        assert_quiet(status, answer, 449)


def test_logs_hold_nothing_of_the_requests(server: ActionServer) -> None:
    # Every request above has been answered; the log is what the server wrote meanwhile.
    server.post(json.dumps(call(tracker=tracker(latest_message={"intent": FAKE_CODE}))).encode())
    server.post(b'{"next_action": "action_reply", "tracker": {"x": "' + FAKE_CODE.encode())
    time.sleep(0.2)
    log = server.log.read_text(errors="replace")
    assert "action failed" in log and "malformed action call" in log
    for secret in SECRETS:
        assert secret not in log


def test_listens_on_loopback_only_by_default(server: ActionServer) -> None:
    """The kernel's table of listening sockets: the server's port on 127.0.0.1 only."""
    listening = []
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        if not os.path.exists(table):
            continue
        for line in Path(table).read_text().splitlines()[1:]:
            fields = line.split()
            address, port = fields[1].rsplit(":", 1)
            if int(port, 16) == server.port and fields[3] == "0A":  # LISTEN
                listening.append(address)
    assert listening == ["0100007F"]  # 127.0.0.1, little-endian hex


@pytest.mark.parametrize(
    "authorization", ["", "Bearer ", "Bearer wrong-token", SERVICE_TOKEN, f"Basic {SERVICE_TOKEN}"]
)
def test_without_the_service_token_an_action_call_is_a_401(
    guarded_server: ActionServer, authorization: str
) -> None:
    headers = {"Authorization": authorization} if authorization else {}
    status, body = guarded_server.post(json.dumps(call()).encode(), **headers)
    assert_quiet(status, body, 401)


def test_with_the_service_token_an_action_call_runs(guarded_server: ActionServer) -> None:
    status, body = guarded_server.post(
        json.dumps(call()).encode(), Authorization=f"Bearer {SERVICE_TOKEN}"
    )
    assert status == 200, body
    assert "Tasdeed" in json.loads(body)["responses"][0]["text"]
    with urllib.request.urlopen(guarded_server.url + "/health", timeout=5) as response:
        assert response.status == 200  # probes need no token
