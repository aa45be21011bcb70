"""Try one QUIC (HTTP/3) handshake: ``python quic_client.py PORT SERVER_NAME``; exit 0 if it completes, 1 if not.

Run as its own process by ``test_proxy_quic.py``: aioquic leaves a failed handshake's future unretrieved, and in the
test process that surfaced at a random later garbage collection as an unraisable-exception warning.
"""

from __future__ import annotations

import asyncio
import ssl
import sys

from aioquic.asyncio import connect
from aioquic.quic.configuration import QuicConfiguration


async def handshake(port: int, server_name: str) -> bool:
    configuration = QuicConfiguration(
        is_client=True, alpn_protocols=["h3"], server_name=server_name, verify_mode=ssl.CERT_NONE
    )
    try:
        async with asyncio.timeout(4):
            async with connect("127.0.0.1", port, configuration=configuration, wait_connected=True):
                return True
    except (TimeoutError, ConnectionError):
        return False


if __name__ == "__main__":
    sys.exit(0 if asyncio.run(handshake(int(sys.argv[1]), sys.argv[2])) else 1)
