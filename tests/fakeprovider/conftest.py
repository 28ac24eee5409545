"""Fixtures: a fresh fake provider per test and real SDK clients pointed at it."""

from __future__ import annotations

from collections.abc import Iterator

import anthropic
import openai
import pytest

from fakeprovider import FakeProvider

API_KEY = "sk-test-123"


@pytest.fixture
def fake() -> Iterator[FakeProvider]:
    with FakeProvider() as provider:
        yield provider


@pytest.fixture
def oai(fake: FakeProvider) -> Iterator[openai.OpenAI]:
    with openai.OpenAI(base_url=fake.base_url, api_key=API_KEY, max_retries=0, timeout=10) as client:
        yield client


@pytest.fixture
def anth(fake: FakeProvider) -> Iterator[anthropic.Anthropic]:
    with anthropic.Anthropic(base_url=fake.anthropic_base_url, api_key=API_KEY, max_retries=0, timeout=10) as client:
        yield client
