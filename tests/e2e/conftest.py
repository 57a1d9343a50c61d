"""The whole stack in one test: the real billing backend (HTTP, PostgreSQL ledger), the real
gateway (HTTP) and real Redis for conversation state. Requests go over real sockets in the
aggregators' and Twilio's exact formats."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field

import aiohttp
import pytest
import redis.asyncio as aioredis
from aiohttp import web
from aiohttp.test_utils import TestServer

from billing.app import create_app as create_billing_app
from gateway.app import create_app as create_gateway_app
from tasdeed.settings import Settings
from tests.conftest import LedgerWorld, WorldFactory

REDIS_URL = "redis://127.0.0.1:6379/0"


@dataclass
class Stack:
    world: LedgerWorld
    gateway_url: str
    billing_app: web.Application
    settings: Settings
    http: aiohttp.ClientSession
    servers: list[TestServer] = field(default_factory=list)

    async def payments(self) -> int:
        return (await self.world.ledger.totals())["payments"]


StackFactory = Callable[..., Awaitable[Stack]]


async def serve(app: web.Application, port: int = 0) -> TestServer:
    server = TestServer(app, host="127.0.0.1", port=port)
    await server.start_server()
    return server


@pytest.fixture
async def make_stack(pg_world: WorldFactory) -> AsyncIterator[StackFactory]:
    prefix = f"test:{uuid.uuid4().hex[:10]}:"
    stacks: list[Stack] = []
    http = aiohttp.ClientSession()

    async def factory(
        profile_id: str = "eg",
        *,
        billing_middlewares: tuple[object, ...] = (),
        **overrides: object,
    ) -> Stack:
        world = await pg_world(profile_id)
        billing_app = create_billing_app(world.ledger)
        for middleware in billing_middlewares:
            billing_app.middlewares.insert(0, middleware)  # type: ignore[arg-type]
        billing = await serve(billing_app)
        settings = Settings(
            tasdeed_profile=profile_id,
            billing_url=str(billing.make_url("")).rstrip("/"),
            redis_url=REDIS_URL,
            redis_prefix=prefix,
            **overrides,  # type: ignore[arg-type]
        )
        gateway = await serve(create_gateway_app(settings))
        stack = Stack(world, str(gateway.make_url("")).rstrip("/"), billing_app, settings, http)
        stack.servers += [gateway, billing]
        stacks.append(stack)
        return stack

    yield factory
    for stack in stacks:
        for server in stack.servers:
            await server.close()
    await http.close()
    redis = aioredis.Redis.from_url(REDIS_URL)
    keys = [key async for key in redis.scan_iter(match=prefix + "*")]
    if keys:
        await redis.delete(*keys)
    await redis.aclose()
