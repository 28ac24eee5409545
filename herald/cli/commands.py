"""`herald config` and `herald sessions …`: print what is stored or configured.

Plain text, one record per line, so the output is as useful in a pipe as on a terminal.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Callable

from herald.agent.usage import session_usage
from herald.cli.config import Settings
from herald.cli.summary import usage_text
from herald.errors import ConfigError
from herald.llm.failover import FailoverPolicy
from herald.llm.redact import mask_key
from herald.sessions import SessionInfo, SessionStore
from herald.tools.toolsets import TOOLSETS

Echo = Callable[[str], None]


def show_config(settings: Settings, echo: Echo) -> None:
    """What a command with these settings will run, each value with where it came from; the key masked.

    On the local model, the settings shown are the ones it runs with (`local_settings`).
    """
    from herald.cli.local import planned_local_settings, uses_local_model

    path = settings.config_path
    echo(f"config file: {path} ({'found' if path is not None and path.exists() else 'not found'})")
    local = uses_local_model(settings)
    if local:
        settings = planned_local_settings(settings)
    rows: list[tuple[str, str, str]] = [("model", settings.model, settings.source("model"))]
    if local:
        rows += _local_rows(settings)
    else:
        rows += _endpoint_rows(settings, echo)
        rows += _failover_rows(settings)
    rows += [
        ("stream", _bool(settings.stream), settings.source("stream")),
        ("toolsets", _toolsets(settings.toolsets), settings.source("toolsets")),
        ("max_tokens", _number(settings.max_tokens, "the provider's default"), settings.source("max_tokens")),
        ("max_context_tokens", _number(settings.max_context_tokens, "learned from the provider"), settings.source("max_context_tokens")),
        (
            "max_continuations",
            str(settings.max_continuations) if settings.max_continuations is not None
            else f"chat: {settings.continuations(headless=False)}; -q, --json, batch: {settings.continuations(headless=True)}",
            settings.source("max_continuations"),
        ),
        ("max_time", _number(settings.max_time, "no limit", " s"), settings.source("max_time")),
        ("max_turns", _number(settings.max_turns, "no limit"), settings.source("max_turns")),
        ("max_output_tokens", _number(settings.max_output_tokens, "no limit"), settings.source("max_output_tokens")),
        ("temperature", _number(settings.temperature, "the provider's default"), settings.source("temperature")),
        ("continuation", settings.continuation, settings.source("continuation")),
        ("yolo", _bool(settings.yolo), settings.source("yolo")),
        (
            "show_reasoning",
            "auto (terminal: on, pipe: off)" if settings.show_reasoning is None else _bool(settings.show_reasoning),
            settings.source("show_reasoning"),
        ),
    ]
    if settings.mcp_servers:
        names = ", ".join(s.name + ("" if s.enabled else " (disabled)") for s in settings.mcp_servers)
        rows.append(("mcp_servers", names, "config file" + (f", {', '.join(settings.mcp_config)}" if settings.mcp_config else "")))
    elif "mcp_servers" in settings.sources:  # configured, but not offered (the local model)
        rows.append(("mcp_servers", "none", settings.source("mcp_servers")))
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
            if provider.continuation != "auto":
                value += f" continuation {provider.continuation}"
            rows.append((f"fallback[{number}]", value, f"{settings.source('fallback')}; key from {where}"))
    if settings.failover_cooldown is not None or settings.fallback or settings.api_keys:
        cooldown = settings.failover_cooldown if settings.failover_cooldown is not None else FailoverPolicy().cooldown
        rows.append(("failover_cooldown", f"{cooldown:g} s", settings.source("failover_cooldown")))
    return rows


def _local_rows(settings: Settings) -> list[tuple[str, str, str]]:
    from herald.local import default_model_path

    path = default_model_path()
    model_file = settings.local_model or (f"{path}" if path.is_file() else f"{path} (assembled on first use)")
    return [
        ("local", "true", settings.source("local")),
        ("local_model", str(model_file), settings.source("local_model") if settings.local_model else "bundled: herald[local]"),
        ("base_url", settings.base_url or "", settings.source("base_url")),
        ("api_key", "none needed", "local model"),
        ("api_mode", "chat_completions", "local model"),
    ]


def _endpoint_rows(settings: Settings, echo: Echo) -> list[tuple[str, str, str]]:
    try:
        endpoint = settings.endpoint()
    except ConfigError as error:
        echo(f"warning: {error}")
        return []
    key_source = settings.source("api_key") if settings.api_key else (
        f"env {endpoint.key_source}" if endpoint.key_source else "not set"
    )
    if not settings.api_key and settings.api_keys:
        key_source = f"first of api_keys: {settings.source('api_keys')}"
    mode_source = settings.source("api_mode") if settings.api_mode else "detected from the base URL"
    return [
        ("base_url", endpoint.base_url, settings.source("base_url")),
        ("api_key", mask_key(endpoint.api_key), key_source),
        ("api_mode", endpoint.api_mode, mode_source),
    ]


def _toolsets(toolsets: tuple[str, ...] | None) -> str:
    if toolsets is None:
        return "all (" + ",".join(TOOLSETS) + ")"
    return ",".join(toolsets) if toolsets else "none"


def _number(value: float | None, unset: str, unit: str = "") -> str:
    return unset if value is None else f"{value:g}{unit}"


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
    messages = store.load_messages(info.id)
    for message in messages:
        echo(_message_line(message))
    totals = session_usage(messages)
    if totals.responses:
        echo(f"usage: {usage_text(totals)} over {totals.responses} answer{'s' if totals.responses != 1 else ''}")


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
    usage = usage_text(message.get("usage")) if isinstance(message.get("usage"), dict) else ""
    tokens = f" [{usage}]" if usage else ""
    return f"{role}:{flag} {content}{suffix}".rstrip() + tokens


def _time(value: datetime) -> str:
    return value.astimezone().strftime("%Y-%m-%d %H:%M")


def _bool(value: bool) -> str:
    return "true" if value else "false"
