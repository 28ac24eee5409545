"""What the numbers were measured on: CPU, cores, interpreter and library versions."""

from __future__ import annotations

import os
import platform
import shlex
import sys
from importlib import metadata


def cpu_model() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as info:
            for line in info:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def version(distribution: str) -> str:
    try:
        return metadata.version(distribution)
    except metadata.PackageNotFoundError:
        return "not installed"


def http_library() -> str:
    """The HTTP library the openai SDK is built on (`httpx2` in recent SDKs, else `httpx`)."""
    import openai

    return openai.DefaultHttpxClient.__mro__[1].__module__.split(".")[0]


def describe(argv: list[str]) -> list[str]:
    """Lines describing the machine, versions and the exact command."""
    http = http_library()
    command = " ".join(shlex.quote(part) for part in [sys.executable, *argv])
    return [
        f"machine: {cpu_model()}, {os.cpu_count()} cores, {platform.system()} {platform.release()}",
        f"python {platform.python_version()} ({platform.python_implementation()}); "
        f"openai {version('openai')}, anthropic {version('anthropic')}, rich {version('rich')}, "
        f"{http} {version(http)}",
        f"command: PYTHONPATH=. {command}",
    ]
