"""`python -m actions.server`: the rasa-sdk action server, without its two leaks.

rasa-sdk's own entry point (`python -m rasa_sdk`) answers any exception with a 500 whose body
is `{"error": str(exception), "request_body": request.json}`: the whole tracker, slots and
latest message included (phone numbers, payment codes), and logs it with the traceback. It
binds 0.0.0.0 unless SANIC_HOST says otherwise, and allows every CORS origin. This entry
point builds the same app with rasa-sdk's `create_app` (same `/webhook`, `/health` and
`/actions`, same executor) and then:

- checks every `/webhook` call before rasa-sdk reads it: a JSON object (bounded depth and
  size, deflate included) with `next_action` naming a registered action and a `tracker`
  object with a `sender_id`; anything else is a 400 `{"error": "malformed action call"}`;
- replaces the error handler: an exception (in an action or anywhere) is a 500
  `{"error": "action failed"}`, a framework error its own status with a fixed phrase, and the
  log line names only the exception type, the action and where it was raised;
- rewrites rasa-sdk's own 4xx bodies for `/webhook` (rejections, missing domain) to a fixed
  phrase, keeping `action_name` when it is a registered action (Rasa reads it on a 400);
- allows no CORS origin and binds 127.0.0.1 unless ACTIONS_HOST says otherwise
  (ACTIONS_PORT, default 5055), in one process;
- with SERVICE_TOKEN set (production requires it), answers `/webhook` only to a caller
  carrying `Authorization: Bearer <SERVICE_TOKEN>` (Rasa sends it: the `headers` of
  `action_endpoint` in bot/endpoints.production.yml); anyone else gets a 401 before the body
  is read. `/health` stays open for probes.
"""

from __future__ import annotations

import argparse
import os
import traceback
import zlib
from http import HTTPStatus
from typing import Any

from rasa_sdk.endpoint import create_app
from rasa_sdk.executor import ActionExecutor
from sanic import Sanic, response
from sanic.exceptions import SanicException
from sanic.handlers import ErrorHandler
from sanic.request import Request
from sanic.response import BaseHTTPResponse, HTTPResponse

from tasdeed.logs import configure_logging, get_logger
from tasdeed.production import refuse_unsafe_defaults
from tasdeed.safe_json import loads_limited
from tasdeed.service_token import bearer_matches
from tasdeed.settings import get_settings

log = get_logger("actions.server")
DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 5055
# A tracker carries the conversation's events: generous, but bounded (Sanic's default is
# 100 MB), and the same bound for what a deflated body may inflate to.
MAX_BODY_BYTES = 8 * 1024 * 1024
MAX_JSON_DEPTH = 64
WEBHOOK = "/webhook"
# rasa-sdk's own refusals: a form's rejection (Rasa reads action_name), a domain it needs.
_PHRASES = {400: "action rejected", 404: "unknown action", 449: "domain required"}


class MalformedCall(ValueError):
    """What is wrong with an action call, in words that quote nothing from it."""


def read_action_call(body: bytes, content_encoding: str | None) -> dict[str, Any]:
    """The action call Rasa sends, checked for the shape rasa-sdk's executor relies on."""
    if content_encoding == "deflate":
        inflater = zlib.decompressobj()
        try:
            body = inflater.decompress(body, MAX_BODY_BYTES + 1)
        except zlib.error:
            raise MalformedCall("body is not deflate data") from None
        if len(body) > MAX_BODY_BYTES or inflater.unconsumed_tail:
            raise MalformedCall("body inflates past the limit")
    elif content_encoding not in (None, "", "identity"):
        raise MalformedCall("unsupported Content-Encoding")
    try:
        call = loads_limited(body, max_depth=MAX_JSON_DEPTH)
    except ValueError:
        raise MalformedCall("body is not JSON") from None
    if not isinstance(call, dict):
        raise MalformedCall("body is not a JSON object")
    if not isinstance(call.get("next_action"), str) or not call["next_action"]:
        raise MalformedCall("next_action is missing")
    tracker = call.get("tracker")
    if not isinstance(tracker, dict) or not isinstance(tracker.get("sender_id"), str):
        raise MalformedCall("tracker with sender_id is missing")
    for key, kind in (
        ("slots", dict),
        ("latest_message", dict),
        ("events", list),
        ("active_loop", dict),
    ):
        if tracker.get(key) is not None and not isinstance(tracker[key], kind):
            raise MalformedCall(f"tracker.{key} has the wrong type")
    if call.get("domain") is not None and not isinstance(call["domain"], dict):
        raise MalformedCall("domain is not an object")
    for key in ("version", "domain_digest"):
        if call.get(key) is not None and not isinstance(call[key], str):
            raise MalformedCall(f"{key} is not a string")
    return call


def _error(status: int, message: str, action_name: str | None = None) -> HTTPResponse:
    body: dict[str, Any] = {"error": message}
    if action_name is not None:
        body["action_name"] = action_name
    return response.json(body, status=status)


def _where(exception: BaseException) -> str:
    """The innermost frame an exception passed through, as file:line in function."""
    frames = traceback.extract_tb(exception.__traceback__)
    if not frames:
        return "?"
    frame = frames[-1]
    return f"{os.path.basename(frame.filename)}:{frame.lineno} in {frame.name}"


class QuietErrorHandler(ErrorHandler):
    """Every uncaught exception: a short fixed body, a log line without any of the request."""

    def __init__(self, executor: ActionExecutor):
        super().__init__()
        self.executor = executor

    def default(self, request: Request, exception: Exception) -> HTTPResponse:
        request.ctx.answered = True
        action = _action_name(request, self.executor)
        if isinstance(exception, SanicException):
            status = int(getattr(exception, "status_code", 500) or 500)
            if status >= 500:
                log.error("action server error", error=type(exception).__name__, action=action)
            else:
                log.info("action server refused", status=status, path=request.path)
            return _error(status, _phrase(status), action if request.path == WEBHOOK else None)
        log.error(
            "action failed",
            action=action,
            error=type(exception).__name__,
            where=_where(exception),
        )
        return _error(500, "action failed", action if request.path == WEBHOOK else None)


def _phrase(status: int) -> str:
    if status in _PHRASES:
        return _PHRASES[status]
    try:
        return HTTPStatus(status).phrase.lower()
    except ValueError:
        return "error"


def _action_name(request: Request, executor: ActionExecutor) -> str:
    """The called action's name when it is one of ours (safe to show), else ""."""
    name = getattr(request.ctx, "action_name", "")
    return name if isinstance(name, str) and name in executor.actions else ""


def build_app(package: str = "actions", service_token: str = "") -> Sanic[Any, Any]:
    executor = ActionExecutor()
    executor.register_package(package)
    # No browser calls the action server: no CORS origin is allowed.
    app: Sanic[Any, Any] = create_app(executor, cors_origins=None)
    app.config.REQUEST_MAX_SIZE = MAX_BODY_BYTES
    # rasa-sdk's handler (registered on the old ErrorHandler) echoes the request body.
    app.error_handler = QuietErrorHandler(executor)

    async def check_action_call(request: Request) -> HTTPResponse | None:
        if request.path != WEBHOOK:
            return None
        if service_token and not bearer_matches(
            request.headers.get("Authorization"), service_token
        ):
            log.warning("action call without the service token")
            request.ctx.answered = True
            return _error(401, "unauthorized")
        if request.method != "POST":
            return None
        try:
            call = read_action_call(request.body, request.headers.get("Content-Encoding"))
        except MalformedCall as exc:
            log.warning("malformed action call", reason=str(exc))
            request.ctx.answered = True
            return _error(400, "malformed action call", "")
        if call["next_action"] not in executor.actions:
            log.warning("action call for an unknown action")
            request.ctx.answered = True
            return _error(404, "unknown action", "")
        request.ctx.action_name = call["next_action"]
        return None

    async def quiet_refusals(request: Request, answer: BaseHTTPResponse) -> HTTPResponse | None:
        # rasa-sdk's own 400/404/449 bodies quote the action's error message.
        if (
            request.path != WEBHOOK
            or answer.status < 400
            or getattr(request.ctx, "answered", False)
        ):
            return None
        return _error(answer.status, _phrase(answer.status), _action_name(request, executor) or "")

    app.register_middleware(check_action_call, "request")
    app.register_middleware(quiet_refusals, "response")
    return app


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="the Tasdeed action server (rasa-sdk)")
    parser.add_argument("--host", default=os.environ.get("ACTIONS_HOST", DEFAULT_HOST))
    parser.add_argument(
        "--port", type=int, default=int(os.environ.get("ACTIONS_PORT", DEFAULT_PORT))
    )
    parser.add_argument("--actions", default="actions", help="the package of actions")
    args = parser.parse_args(argv)
    settings = get_settings()
    refuse_unsafe_defaults(settings, "actions")
    configure_logging(settings.log_level, settings.log_json)
    app = build_app(args.actions, settings.service_token)
    print(f"action server listening on http://{args.host}:{args.port}", flush=True)
    app.run(
        host=args.host,
        port=args.port,
        single_process=True,
        access_log=False,
        motd=False,
    )


if __name__ == "__main__":
    main()
