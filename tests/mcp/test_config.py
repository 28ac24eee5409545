"""MCP server configuration: Herald's tables, other agents' mcpServers JSON, one-line errors."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from herald.cli.config import load_settings
from herald.errors import ConfigError
from herald.mcp import MCPServerConfig, parse_mcp_servers, read_mcp_json
from herald.mcp.config import expand_vars, safe_url


def one_line_error(value, source="mcp_servers") -> str:
    with pytest.raises(ConfigError) as caught:
        parse_mcp_servers(value, source=source)
    message = str(caught.value)
    assert "\n" not in message and "Traceback" not in message
    return message


def test_herald_tables_stdio_and_http():
    fs, docs = parse_mcp_servers({
        "fs": {"command": "npx", "args": ["-y", "server-fs", "."], "env": {"A": "1"}, "cwd": "sub",
               "timeout": 5, "connect_timeout": 2.5, "include": ["read_*"], "exclude": "read_secret", "trust": True},
        "docs": {"url": "https://example.org/mcp", "headers": {"Authorization": "Bearer x"}, "enabled": False},
    })
    assert (fs.name, fs.transport, fs.command, fs.args, dict(fs.env), fs.cwd) == ("fs", "stdio", "npx", ("-y", "server-fs", "."), {"A": "1"}, "sub")
    assert (fs.timeout, fs.connect_timeout, fs.include, fs.exclude, fs.trust, fs.enabled) == (5.0, 2.5, ("read_*",), ("read_secret",), True, True)
    assert (docs.transport, docs.url, dict(docs.headers), docs.enabled, docs.trust) == ("http", "https://example.org/mcp", {"Authorization": "Bearer x"}, False, False)
    assert (docs.timeout, docs.connect_timeout) == (120.0, 30.0)


def test_filters_are_shell_patterns_of_the_servers_own_names():
    (fs,) = parse_mcp_servers({"fs": {"command": "x", "include": ["read_*", "list"], "exclude": ["read_secret*"]}})
    assert [n for n in ["read_file", "read_secret_key", "list", "write_file"] if fs.offers(n)] == ["read_file", "list"]
    (everything,) = parse_mcp_servers({"all": {"command": "x"}})
    assert everything.offers("anything")


def test_secrets_stay_out_of_repr():
    (server,) = parse_mcp_servers({"s": {"url": "https://u:pw@h/mcp?token=t0k", "headers": {"X-Key": "hdr-secret"}, "type": "http"}})
    shown = repr(server) + server.target
    assert "hdr-secret" not in shown and "t0k" not in shown and "pw" not in shown
    assert server.target == "https://h/mcp"


def test_other_agents_mcpservers_document_is_read_as_it_is():
    document = {
        "mcpServers": {
            "filesystem": {"command": "npx", "args": ["-y", "@modelcontextprotocol/server-filesystem", "/tmp"],
                           "env": {"PORT": 8080}, "autoApprove": ["read"], "alwaysAllow": []},
            "remote": {"type": "streamable-http", "url": "https://example.org/mcp", "headers": {"Authorization": "Bearer t"}},
            "windsurf": {"serverUrl": "https://example.org/sse", "type": "sse"},
            "my server@2": {"command": "x", "disabled": True, "timeout": 60},
        }
    }
    servers = {s.name: s for s in parse_mcp_servers(document)}
    assert set(servers) == {"filesystem", "remote", "windsurf", "my_server_2"}
    assert dict(servers["filesystem"].env) == {"PORT": "8080"}
    assert servers["remote"].transport == "http" and servers["windsurf"].transport == "sse"
    assert servers["my_server_2"].enabled is False and servers["my_server_2"].timeout == 60


def test_read_mcp_json_files(tmp_path: Path):
    claude = tmp_path / "claude_desktop_config.json"
    claude.write_text(json.dumps({"mcpServers": {"a": {"command": "x"}}, "globalShortcut": "Ctrl+Space"}))
    vscode = tmp_path / "mcp.json"
    vscode.write_text(json.dumps({"servers": {"b": {"type": "http", "url": "http://127.0.0.1:1/mcp"}}, "inputs": []}))
    assert [s.name for s in read_mcp_json(claude)] == ["a"]
    assert [s.transport for s in read_mcp_json(vscode)] == ["http"]
    (tmp_path / "bad.json").write_text("{nope")
    for name, expected in [("bad.json", "not valid JSON"), ("missing.json", "no such MCP config file")]:
        with pytest.raises(ConfigError, match=expected):
            read_mcp_json(tmp_path / name)
    (tmp_path / "empty.json").write_text("{}")
    with pytest.raises(ConfigError, match="no \"mcpServers\""):
        read_mcp_json(tmp_path / "empty.json")


@pytest.mark.parametrize(
    ("entry", "expected"),
    [
        ({"comand": "x"}, "mcp_servers.s: unknown key 'comand' (known: command, args"),
        ({}, "mcp_servers.s: needs command (a stdio server) or url (a Streamable HTTP server)"),
        ({"command": "x", "url": "http://h/mcp"}, "give command (a stdio server) or url (an HTTP server), not both"),
        ({"command": "x", "args": "-v"}, "args must be a list of strings"),
        ({"command": "x", "args": [1]}, "args must be a list of strings"),
        ({"command": ""}, "command must be a non-empty string"),
        ({"url": "ftp://h/mcp"}, "url must start with http:// or https://"),
        ({"command": "x", "timeout": 0}, "timeout must be a number of seconds above 0"),
        ({"command": "x", "timeout": "10"}, "timeout must be a number of seconds above 0"),
        ({"command": "x", "connect_timeout": True}, "connect_timeout must be a number of seconds above 0"),
        ({"command": "x", "enabled": "yes"}, "enabled must be true or false"),
        ({"command": "x", "trust": 1}, "trust must be true or false"),
        ({"command": "x", "type": "websocket"}, "type must be \"stdio\", \"http\" or \"sse\""),
        ({"type": "http"}, "an http server needs url"),
        ({"command": "x", "env": ["A=1"]}, "env must be a table of strings"),
        ({"url": "http://h/mcp", "headers": {"Authorization": 123456}}, "headers.Authorization must be a string, not int"),
    ],
)
def test_bad_entries_are_one_line_errors_naming_the_source_and_server(entry, expected):
    message = one_line_error({"s": entry}, source="/home/me/config.toml")
    assert message.startswith("/home/me/config.toml: ")
    assert expected in message


def test_secret_values_are_not_echoed_in_errors():
    message = one_line_error({"s": {"url": "http://h/mcp", "headers": {"Authorization": 98765432123}}})
    assert "98765432123" not in message


def test_names_and_shapes():
    assert "may only use letters" in one_line_error({"my server": {"command": "x"}})
    assert "longer than 32" in one_line_error({"s" * 33: {"command": "x"}})
    assert "must be a table" in one_line_error({"s": "npx server"})
    assert "must be a table of servers" in one_line_error("npx")
    with pytest.raises(ConfigError, match="two MCP servers are named 'a'"):
        parse_mcp_servers([MCPServerConfig("a", command="x"), MCPServerConfig("a", command="y")])


def test_environment_variables_expand_at_start():
    env = {"TOKEN": "t-123"}
    assert expand_vars("Bearer ${TOKEN}", env) == "Bearer t-123"
    assert expand_vars("${MISSING:-fallback} $HOME ${TOKEN}", env) == "fallback $HOME t-123"
    with pytest.raises(KeyError, match="MISSING"):
        expand_vars("${MISSING}", env)


def test_safe_url_drops_credentials_query_and_fragment():
    assert safe_url("https://user:pw@host:8443/a/mcp?key=k#frag") == "https://host:8443/a/mcp"
    assert safe_url("http://127.0.0.1:9/mcp") == "http://127.0.0.1:9/mcp"


def write_config(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(text)
    return path


def test_config_toml_tables_and_mcp_config_files(tmp_path: Path):
    (tmp_path / "cursor.json").write_text(json.dumps({"mcpServers": {
        "shared": {"command": "from-json"}, "only_json": {"url": "http://127.0.0.1:1/mcp"}}}))
    path = write_config(tmp_path, '''
model = "m"
mcp_config = "cursor.json"

[mcp_servers.shared]
command = "from-toml"
trust = true

[mcp_servers.mine]
command = "mine"
args = ["--flag"]
''')
    settings = load_settings({}, environ={}, path=path)
    servers = {s.name: s for s in settings.mcp_servers}
    assert list(servers) == ["only_json", "shared", "mine"]
    assert servers["shared"].command == "from-toml" and servers["shared"].trust  # the table replaces the JSON entry
    assert servers["mine"].source == str(path) and servers["only_json"].source == str(tmp_path / "cursor.json")
    assert settings.mcp_config == (str(tmp_path / "cursor.json"),)
    assert settings.model == "m"  # flat keys are untouched


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('mcp_servers = "fs"\n', "mcp_servers must be a table"),
        ('[mcp_servers.fs]\ncommand = "x"\ncomand = "y"\n', "mcp_servers.fs: unknown key 'comand'"),
        ('[mcp_servers]\nfs = "x"\n', "mcp_servers.fs: must be a table with command or url"),
        ('mcp_config = "nowhere.json"\n', "nowhere.json: no such MCP config file"),
        ('mcp_config = [1]\n', "mcp_config must be a path or a list of paths"),
    ],
)
def test_config_file_errors_are_one_line(tmp_path: Path, text: str, expected: str):
    path = write_config(tmp_path, text)
    with pytest.raises(ConfigError) as caught:
        load_settings({}, environ={}, path=path)
    assert expected in str(caught.value) and "\n" not in str(caught.value)


def test_agent_takes_the_same_shapes_and_rejects_bad_ones_at_construction():
    from herald import AIAgent

    agent = AIAgent("m", base_url="http://127.0.0.1:9/v1", mcp_servers={"mcpServers": {"a": {"command": "x"}}})
    assert [s.name for s in agent.mcp_servers] == ["a"]
    with pytest.raises(ConfigError, match="mcp_servers: mcp_servers.a: unknown key 'cmd'"):
        AIAgent("m", base_url="http://127.0.0.1:9/v1", mcp_servers={"a": {"cmd": "x"}})
    assert AIAgent("m", base_url="http://127.0.0.1:9/v1").mcp is None


def test_without_the_extra_configured_servers_are_a_one_line_config_error(tmp_path: Path):
    script = (
        "import sys; sys.modules['mcp'] = None\n"  # as if the extra were not installed
        "from herald import AIAgent, ConfigError\n"
        "AIAgent('m', base_url='http://127.0.0.1:9/v1', mcp_servers={'off': {'command': 'x', 'enabled': False}})\n"
        "try:\n"
        "    AIAgent('m', base_url='http://127.0.0.1:9/v1', mcp_servers={'a': {'command': 'x'}})\n"
        "except ConfigError as e:\n"
        "    print(e)\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60,
                          cwd=Path(__file__).resolve().parents[2])
    assert done.stdout.strip() == "MCP servers are configured but the mcp package is not installed: pip install 'herald[mcp]'", done.stderr
