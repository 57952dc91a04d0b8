"""Webhook mode: a small HTTP server that hands Telegram's updates to the Application.

PTB's own webhook server (``Application.run_webhook``) lets tornado buffer
bodies of up to 100 MB before its handler runs, and compares the secret token
with ``!=``; neither can be configured. This module replaces it with the same
tornado (PTB's ``webhooks`` extra brings it), configured so that:

- a body over :data:`MAX_BODY_BYTES` is refused from its ``Content-Length``
  (or as soon as a chunked body passes the limit) before it is read: tornado's
  ``max_body_size`` answers 400 and closes the connection;
- a slow body is cut off after :data:`BODY_TIMEOUT` seconds;
- the ``X-Telegram-Bot-Api-Secret-Token`` header is compared in constant time;
- nothing of a request (body, headers, address) is logged.

It speaks plain HTTP: TLS ends at a reverse proxy on the same host (see the
README), which forwards ``https://<WEBHOOK_URL>/telegram`` here.
"""

from __future__ import annotations

import asyncio
import hmac
import json
import logging
import signal
from http import HTTPStatus
from typing import Any

import tornado.web
from telegram import Update
from tornado.httpserver import HTTPServer

from bot.application import ALLOWED_UPDATES
from bot.context import YardemApplication
from bot.settings import Settings

log = logging.getLogger(__name__)

MAX_BODY_BYTES = 1_000_000
"""Telegram's updates are a few kilobytes; 1 MB leaves room and stops a flood of big bodies."""
BODY_TIMEOUT = 10.0
PATH = "telegram"
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"  # noqa: S105 - a header name


class UpdateHandler(tornado.web.RequestHandler):
    """``POST /telegram``: check the secret, parse the update, queue it."""

    SUPPORTED_METHODS = ("POST",)

    def initialize(self, bot_application: YardemApplication, secret: bytes) -> None:
        self.bot_application = bot_application
        self.secret = secret

    async def post(self) -> None:
        given = self.request.headers.get(SECRET_HEADER, "").encode("utf-8", "replace")
        # compare_digest: the time taken does not tell how much of a guess was right.
        if not hmac.compare_digest(given, self.secret):
            self._answer(HTTPStatus.FORBIDDEN)
            return
        content_type = self.request.headers.get("Content-Type", "").split(";")[0].strip()
        if content_type != "application/json":
            self._answer(HTTPStatus.UNSUPPORTED_MEDIA_TYPE)
            return
        try:
            data = json.loads(self.request.body)
            update = Update.de_json(data, self.bot_application.bot)
        except Exception:  # any malformed body: refuse it, never log it
            self._answer(HTTPStatus.BAD_REQUEST)
            return
        if update is None:
            self._answer(HTTPStatus.BAD_REQUEST)
            return
        await self.bot_application.update_queue.put(update)
        self._answer(HTTPStatus.OK)

    def _answer(self, status: HTTPStatus) -> None:
        self.set_status(status)
        self.finish()

    def log_exception(self, typ: Any, value: Any, tb: Any) -> None:
        # tornado's default logs the request; keep the exception's type only.
        log.error("webhook request failed [%s]", getattr(typ, "__name__", "error"))


class WebhookApp(tornado.web.Application):
    def __init__(self, application: YardemApplication, secret: str) -> None:
        super().__init__(
            [
                (
                    rf"/{PATH}/?",
                    UpdateHandler,
                    {"bot_application": application, "secret": secret.encode("utf-8")},
                )
            ]
        )

    def log_request(self, handler: tornado.web.RequestHandler) -> None:
        """No access log: a request's time and origin are nobody's business."""


def make_server(application: YardemApplication, secret: str) -> HTTPServer:
    return HTTPServer(
        WebhookApp(application, secret),
        max_body_size=MAX_BODY_BYTES,
        body_timeout=BODY_TIMEOUT,
        idle_connection_timeout=60,
    )


def run_webhook(application: YardemApplication, settings: Settings) -> None:
    """Serve until SIGTERM or SIGINT, as ``run_polling`` does for long polling."""
    asyncio.run(_serve(application, settings))


async def _serve(application: YardemApplication, settings: Settings) -> None:
    assert settings.webhook_url is not None
    assert settings.webhook_secret is not None
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    server: HTTPServer | None = None
    await application.initialize()
    try:
        if application.post_init is not None:
            await application.post_init(application)
        server = make_server(application, settings.webhook_secret)
        server.listen(settings.webhook_port, address=settings.webhook_listen)
        await application.start()
        await application.bot.set_webhook(
            url=settings.webhook_url.rstrip("/") + "/" + PATH,
            secret_token=settings.webhook_secret,
            allowed_updates=list(ALLOWED_UPDATES),
        )
        log.info("webhook server listening on port %d", settings.webhook_port)
        await stop.wait()
    finally:
        if server is not None:
            server.stop()
            await server.close_all_connections()
        if application.running:
            await application.stop()
        await application.shutdown()
        if application.post_shutdown is not None:
            await application.post_shutdown(application)
