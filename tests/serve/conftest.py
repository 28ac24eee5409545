"""The gateway under test: `herald serve` in a thread on a loopback socket, in front of the fake provider.

The `serve` extra (prometheus-client) is required: without it these tests skip on a developer's
machine and FAIL in CI (`CI` or `HERALD_REQUIRE_SERVE` set), so a missing install step cannot
pass as green.
"""

from __future__ import annotations

import importlib.util
import os

import pytest

if importlib.util.find_spec("prometheus_client") is None:
    if os.environ.get("CI") or os.environ.get("HERALD_REQUIRE_SERVE"):
        raise RuntimeError("the gateway tests need the serve extra: pip install -e '.[serve]'")
    pytest.skip("the gateway tests need pip install -e '.[serve]'", allow_module_level=True)


from typing import Iterator  # noqa: E402

from fakeprovider import FakeProvider  # noqa: E402
from .harness import Running, close_sdk_clients, config_for, gateway_thread  # noqa: E402


@pytest.fixture
def gateway(fake: FakeProvider) -> Iterator[Running]:
    """A gateway in front of the shared fake provider (keys required: `harness.GATEWAY_KEY`)."""
    with gateway_thread(config_for(fake)) as running:
        yield running


@pytest.fixture(autouse=True)
def _close_sdk_clients() -> Iterator[None]:
    yield
    close_sdk_clients()
