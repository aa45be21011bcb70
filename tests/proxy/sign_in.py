"""Proxy sign-ins as a client makes them, for the Identity tests: a flow from an address with Basic credentials,
answered as mitmproxy answers a hook (awaiting what it returns), and a clock the tests move."""

from __future__ import annotations

import asyncio
import base64
from collections.abc import Awaitable, Callable

from mitmproxy.test import tflow

from breather.proxy.identity import Identity


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def basic(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


def connect_flow(client_ip: str, user: str | None = None, password: str = "") -> tflow.http.HTTPFlow:
    flow = tflow.tflow()
    flow.client_conn.peername = (client_ip, 50000)
    if user is not None:
        flow.request.headers["proxy-authorization"] = basic(user, password)
    return flow


def answer(hook: Callable[[tflow.http.HTTPFlow], Awaitable[None] | None], flow: tflow.http.HTTPFlow) -> None:
    """Call a hook as mitmproxy does: await what it returns, if anything."""
    checking = hook(flow)
    if checking is not None:
        asyncio.run(awaited(checking))


async def awaited(checking: Awaitable[None]) -> None:
    await checking


def sign_in(identity: Identity, client_ip: str, user: str, password: str) -> tflow.http.HTTPFlow:
    flow = connect_flow(client_ip, user, password)
    answer(identity.http_connect, flow)
    return flow
