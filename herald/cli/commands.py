"""`herald config` and `herald sessions …`: print what is stored or configured.

Plain text, one record per line, so the output is as useful in a pipe as on a terminal.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Callable

from herald.cli.config import Settings
from herald.errors import ConfigError
from herald.llm.failover import FailoverPolicy
from herald.llm.redact import mask_key
from herald.sessions import SessionInfo, SessionStore

Echo = Callable[[str], None]


def show_config(settings: Settings, echo: Echo) -> None:
    """Every effective setting with where it came from; the key masked."""
    path = settings.config_path
    echo(f"config file: {path} ({'found' if path is not None and path.exists() else 'not found'})")
    try:
        endpoint = settings.endpoint()
    except ConfigError as error:
        endpoint = None
        echo(f"warning: {error}")
    rows: list[tuple[str, str, str]] = [("model", settings.model, settings.source("model"))]
    if endpoint is not None:
        rows.append(("base_url", endpoint.base_url, settings.source("base_url")))
        key_source = settings.source("api_key") if settings.api_key else (
            f"env {endpoint.key_source}" if endpoint.key_source else "not set"
        )
        if not settings.api_key and settings.api_keys:
            key_source = f"first of api_keys: {settings.source('api_keys')}"
        rows.append(("api_key", mask_key(endpoint.api_key), key_source))
        mode_source = settings.source("api_mode") if settings.api_mode else "detected from the base URL"
        rows.append(("api_mode", endpoint.api_mode, mode_source))
        rows += _failover_rows(settings)
    rows += [
        ("stream", _bool(settings.stream), settings.source("stream")),
        ("toolsets", ",".join(settings.toolsets) if settings.toolsets is not None else "all", settings.source("toolsets")),
        ("yolo", _bool(settings.yolo), settings.source("yolo")),
        (
            "show_reasoning",
            "auto (terminal: on, pipe: off)" if settings.show_reasoning is None else _bool(settings.show_reasoning),
            settings.source("show_reasoning"),
        ),
    ]
    width = max(len(name) for name, _, _ in rows)
    value_width = max(len(value) for _, value, _ in rows)
    for name, value, source in rows:
        echo(f"{name:<{width}}  {value:<{value_width}}  ({source})")


def _failover_rows(settings: Settings) -> list[tuple[str, str, str]]:
    """The key pool and the fallback providers, keys masked (nothing when none is configured)."""
    rows: list[tuple[str, str, str]] = []
    if settings.api_keys:
        masked = ", ".join(mask_key(key) for key in settings.api_keys)
        rows.append(("api_keys", f"{len(settings.api_keys)} keys: {masked}", settings.source("api_keys")))
    if settings.fallback:
        for number, provider in enumerate(settings.fallbacks(), 1):
            keys = ", ".join(mask_key(key) for key in provider.keys)
            where = provider.endpoint.key_source or "no key"
            value = f"{provider.model} via {provider.endpoint.base_url} ({provider.endpoint.api_mode}; key {keys})"
            rows.append((f"fallback[{number}]", value, f"{settings.source('fallback')}; key from {where}"))
    if settings.failover_cooldown is not None or settings.fallback or settings.api_keys:
        cooldown = settings.failover_cooldown if settings.failover_cooldown is not None else FailoverPolicy().cooldown
        rows.append(("failover_cooldown", f"{cooldown:g} s", settings.source("failover_cooldown")))
    return rows


def list_sessions(store: SessionStore, echo: Echo, limit: int = 20) -> None:
    sessions = store.list_sessions(limit)
    if not sessions:
        echo("no sessions yet")
        return
    for info in sessions:
        echo(_session_line(info))


def show_session(store: SessionStore, session_id: str, echo: Echo) -> None:
    info = store.get_session(session_id)
    echo(_session_line(info))
    if info.cwd:
        echo(f"cwd: {info.cwd}")
    for message in store.load_messages(info.id):
        echo(_message_line(message))


def search_sessions(store: SessionStore, text: str, echo: Echo, limit: int = 20) -> None:
    if not text.strip():
        raise ConfigError("search text is empty")
    hits = store.search(text, limit)
    if not hits:
        echo(f"no messages match {text!r}")
        return
    for hit in hits:
        echo(f"{hit.session_id}  {_time(hit.created_at)}  {hit.role:<9}  {hit.snippet}")


def delete_session(store: SessionStore, session_id: str, echo: Echo) -> None:
    info = store.get_session(session_id)  # accepts a unique prefix, like `show`
    store.delete_session(info.id)
    echo(f"deleted session {info.id}")


def _session_line(info: SessionInfo) -> str:
    title = " ".join((info.title or "(untitled)").split())
    return f"{info.id}  {_time(info.updated_at)}  {info.message_count:>4} msgs  {info.model or '-'}  {title}"


def _message_line(message: dict[str, Any]) -> str:
    role = str(message.get("role", "?"))
    content = message.get("content") or ""
    if not isinstance(content, str):
        content = str(content)
    calls = message.get("tool_calls") or []
    names = [c.get("function", {}).get("name", "?") for c in calls if isinstance(c, dict)]
    suffix = f" [calls {', '.join(names)}]" if names else ""
    flag = " [interrupted]" if message.get("interrupted") else ""
    return f"{role}:{flag} {content}{suffix}".rstrip()


def _time(value: datetime) -> str:
    return value.astimezone().strftime("%Y-%m-%d %H:%M")


def _bool(value: bool) -> str:
    return "true" if value else "false"
