"""Recognising shell commands that can do serious, hard-to-undo harm.

Two views of a command are checked:

* its *simple commands* (argv lists, found by shell-like tokenising), for rules about a
  program and its flags: `rm -r`, `mkfs`, `git push --force`, …;
* its *normalised text* (quotes, backslashes and `$IFS` removed, whitespace collapsed),
  for rules about shape: pipes into a shell, fork bombs, redirects onto system paths.

Tokenising undoes trivial obfuscation (`r\\m -r""f`, `"rm" -rf`, `/bin/rm`, `sudo rm`,
`bash -c 'rm -rf x'`, `$(rm -rf x)`). The rules lean towards asking: a false alarm costs
one prompt, a miss can cost a disk. They are not a sandbox.
"""

from __future__ import annotations

import posixpath
import re
import shlex
from dataclasses import dataclass
from typing import Callable, Iterator

Argv = list[str]


@dataclass(frozen=True)
class DangerMatch:
    """One rule a command tripped: a stable key (for "always") and a human reason."""

    key: str
    reason: str


@dataclass(frozen=True)
class _Rule:
    key: str
    reason: str
    on_argv: Callable[[Argv], bool] | None = None
    on_text: Callable[[str], object] | None = None


# ---------------------------------------------------------------------------
# Tokenising

_SEPARATORS = {";", "&", "&&", "|", "||", "|&", "(", ")", "()", ";;", "{", "}", "$", "!", "\n"}
_REDIRECTS = {">", ">>", "<", "<<", "<<<", ">&", "&>", "&>>", ">|", "<>", "<&"}
_KEYWORDS = {"if", "then", "else", "elif", "fi", "do", "done", "while", "until", "time"}
# Wrappers that run their arguments as a command; value-taking options are skipped too.
_WRAPPERS: dict[str, set[str]] = {
    "sudo": {"-u", "-g", "-h", "-p", "-C", "-r", "-t", "-U", "-D"},
    "doas": {"-u", "-C"},
    "env": {"-u", "-C", "-S"},
    "nohup": set(),
    "nice": {"-n"},
    "ionice": {"-c", "-n"},
    "exec": {"-a"},
    "command": set(),
    "builtin": set(),
    "xargs": {"-n", "-I", "-L", "-P", "-d", "-s", "-E", "-a"},
    "timeout": {"-s", "-k"},
    "stdbuf": {"-i", "-o", "-e"},
    "chroot": set(),
    "watch": {"-n", "-d"},
}
_SHELLS = {"sh", "bash", "zsh", "dash", "ksh", "fish", "busybox"}
_ASSIGNMENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*=")


def _raw_tokens(command: str) -> list[str]:
    lexer = shlex.shlex(command.replace("\n", " ; "), posix=True, punctuation_chars=True)
    lexer.whitespace_split = True
    lexer.commenters = ""  # `#` mid-word is not a comment in sh; never let it hide code
    try:
        return list(lexer)
    except ValueError:  # unbalanced quotes: fall back to a crude split, still catches rm -rf
        crude = re.sub(r"[\"'\\]", "", command)
        return re.findall(r"[;&|()<>]+|[^\s;&|()<>]+", crude)


def _split_backticks(tokens: list[str]) -> list[str]:
    out = []
    for tok in tokens:
        if "`" in tok:
            for i, part in enumerate(tok.split("`")):
                if i:
                    out.append(";")
                if part:
                    out.append(part)
        else:
            out.append(tok)
    return out


def _unwrap(argv: Argv) -> Argv:
    """Strip `VAR=x`, `sudo -u root`, `xargs -0`, `/usr/bin/` … to reach the real program."""
    i = 0
    while i < len(argv):
        tok = argv[i]
        if _ASSIGNMENT.match(tok) or tok in _KEYWORDS:
            i += 1
            continue
        name = posixpath.basename(tok)
        if name in _WRAPPERS:
            i += 1
            takes_value = _WRAPPERS[name]
            while i < len(argv) and (argv[i].startswith("-") or _ASSIGNMENT.match(argv[i])):
                i += 2 if argv[i] in takes_value else 1
            if name == "timeout" and i < len(argv):
                i += 1  # the duration
            continue
        break
    rest = argv[i:]
    if rest:
        rest = [posixpath.basename(rest[0])] + rest[1:]
    return rest


def simple_commands(command: str, _depth: int = 0) -> Iterator[Argv]:
    """Yield the argv of every simple command in `command`, wrappers stripped, recursing
    into `sh -c '…'`, `eval …` and command substitutions."""
    if _depth > 4:
        return
    tokens = _split_backticks(_raw_tokens(command.replace("${IFS}", " ").replace("$IFS", " ")))
    current: Argv = []
    skip_next = False
    pieces: list[Argv] = []
    for tok in tokens:
        if skip_next:
            skip_next = False
            continue
        if tok in _REDIRECTS:
            skip_next = True  # the redirect target is not an argument
            continue
        if tok in _SEPARATORS or (set(tok) <= set(";&|()") and tok):
            if current:
                pieces.append(current)
            current = []
            continue
        current.append(tok)
    if current:
        pieces.append(current)
    for piece in pieces:
        argv = _unwrap(piece)
        if not argv:
            continue
        yield argv
        if argv[0] in _SHELLS and "-c" in argv[1:]:
            idx = argv.index("-c")
            if idx + 1 < len(argv):
                yield from simple_commands(argv[idx + 1], _depth + 1)
        elif argv[0] == "eval":
            yield from simple_commands(" ".join(argv[1:]), _depth + 1)
        elif argv[0] == "su" and "-c" in argv[1:]:
            idx = argv.index("-c")
            if idx + 1 < len(argv):
                yield from simple_commands(argv[idx + 1], _depth + 1)
    # `$(…)` inside double quotes survives tokenising as one word: look inside it too.
    for inner in re.findall(r"\$\(([^()]*)\)", command):
        yield from simple_commands(inner, _depth + 1)


def normalise(command: str) -> str:
    """The command as text with quotes, backslashes and `$IFS` removed and whitespace collapsed."""
    text = command.replace("${IFS}", " ").replace("$IFS", " ")
    text = re.sub(r"[\"'\\]", "", text)
    return " ".join(text.split())


# ---------------------------------------------------------------------------
# Paths

_SYSTEM_DIRS = ("/etc", "/usr", "/boot", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32", "/sys", "/proc", "/var", "/root", "/opt", "/srv", "/home")
# Writes are risky in fewer places than chmod/chown: /home and /var/tmp hold user data.
_SYSTEM_WRITE_DIRS = ("/etc", "/usr", "/boot", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32", "/sys", "/proc")
_BLOCK_DEVICE = re.compile(r"^/dev/(sd|hd|vd|xvd|nvme|mmcblk|disk|mapper/|md\d|loop|dm-)")


def _clean(path: str) -> str:
    path = re.sub(r"/+", "/", path)
    return posixpath.normpath(path) if path.startswith("/") else path


def _under(path: str, dirs: tuple[str, ...]) -> bool:
    path = _clean(path)
    return any(path == d or path.startswith(d + "/") for d in dirs)


def is_system_path(path: str) -> bool:
    """True for paths whose modification can break the system: /etc, /usr, /boot, disks, …"""
    path = _clean(path)
    return _under(path, _SYSTEM_WRITE_DIRS) or bool(_BLOCK_DEVICE.match(path))


def _is_root_or_system_dir(path: str) -> bool:
    path = _clean(path)
    return path in ("/", "/*", "~", "~/", "$HOME") or _under(path, _SYSTEM_DIRS)


# ---------------------------------------------------------------------------
# argv rules


def _operands(argv: Argv) -> Argv:
    return [a for a in argv[1:] if not a.startswith("-")]


def _short_flags(argv: Argv) -> str:
    """All letters of short-option clusters before `--` (`-rf -v` → "rfv")."""
    letters = []
    for arg in argv[1:]:
        if arg == "--":
            break
        if arg.startswith("-") and not arg.startswith("--"):
            letters.append(arg[1:])
    return "".join(letters)


def _rm_recursive(argv: Argv) -> bool:
    if argv[0] != "rm":
        return False
    flags = _short_flags(argv)
    return "r" in flags or "R" in flags or "--recursive" in argv


def _find_delete(argv: Argv) -> bool:
    if argv[0] != "find":
        return False
    if "-delete" in argv:
        return True
    for i, arg in enumerate(argv):
        if arg in ("-exec", "-execdir", "-ok") and i + 1 < len(argv) and posixpath.basename(argv[i + 1]) in ("rm", "shred", "unlink"):
            return True
    return False


def _mkfs(argv: Argv) -> bool:
    return argv[0] == "mkfs" or argv[0].startswith("mkfs.") or argv[0] in ("mke2fs", "mkswap")


_HARMLESS_DEVICES = ("/dev/null", "/dev/zero", "/dev/stdout", "/dev/stderr", "/dev/tty")


def _dd_device(argv: Argv) -> bool:
    if argv[0] != "dd":
        return False
    return any(a.startswith("of=/dev/") and a[3:] not in _HARMLESS_DEVICES for a in argv[1:])


def _partition(argv: Argv) -> bool:
    return argv[0] in ("fdisk", "sfdisk", "cfdisk", "gdisk", "sgdisk", "parted", "wipefs", "blkdiscard")


def _shred(argv: Argv) -> bool:
    return argv[0] == "shred"


def _chmod_system(argv: Argv) -> bool:
    if argv[0] not in ("chmod", "chown", "chgrp"):
        return False
    recursive = "R" in _short_flags(argv) or "--recursive" in argv
    targets = _operands(argv)[1:]  # the first operand is the mode / owner
    if any(_clean(t) == "/" for t in targets):
        return True
    return recursive and any(_is_root_or_system_dir(t) for t in targets)


def _system_write(argv: Argv) -> bool:
    prog = argv[0]
    operands = _operands(argv)
    if prog == "tee":
        return any(is_system_path(p) for p in operands)
    if prog in ("cp", "mv", "install", "ln", "rsync", "truncate") and operands:
        return is_system_path(operands[-1])
    if prog in ("rm", "unlink", "rmdir"):
        return any(is_system_path(p) or _clean(p) == "/" for p in operands)
    if prog == "sed" and any(a.startswith("-i") or a == "--in-place" for a in argv[1:]):
        return any(is_system_path(p) for p in operands[1:])
    return False


def _shutdown(argv: Argv) -> bool:
    if argv[0] in ("shutdown", "reboot", "halt", "poweroff"):
        return True
    if argv[0] in ("init", "telinit") and len(argv) > 1 and argv[1] in ("0", "6"):
        return True
    return argv[0] == "systemctl" and any(a in ("poweroff", "reboot", "halt", "kexec") for a in argv[1:])


def _git_subcommand(argv: Argv) -> tuple[str, Argv]:
    """The git subcommand and its arguments, skipping global options like `-C dir`."""
    i = 1
    while i < len(argv) and argv[i].startswith("-"):
        i += 2 if argv[i] in ("-C", "-c", "--git-dir", "--work-tree", "--namespace") else 1
    return (argv[i], argv[i + 1 :]) if i < len(argv) else ("", [])


def _git_force_push(argv: Argv) -> bool:
    if argv[0] != "git":
        return False
    sub, rest = _git_subcommand(argv)
    if sub != "push":
        return False
    for arg in rest:
        if arg in ("--force", "--force-with-lease", "--mirror", "--delete") or arg.startswith("--force-with-lease="):
            return True
        if arg.startswith("-") and not arg.startswith("--") and ("f" in arg[1:] or "d" in arg[1:]):
            return True
        if arg.startswith("+") or (arg.startswith(":") and len(arg) > 1):  # +ref forces, :ref deletes
            return True
    return False


def _git_discard(argv: Argv) -> bool:
    if argv[0] != "git":
        return False
    sub, rest = _git_subcommand(argv)
    if sub == "reset":
        return "--hard" in rest
    if sub == "clean":
        return any(a.startswith("-") and not a.startswith("--") and "f" in a for a in rest) or "--force" in rest
    return False


def _kill_all(argv: Argv) -> bool:
    if argv[0] not in ("kill", "pkill", "killall"):
        return False
    if argv[0] == "killall":
        return len(_operands(argv)) == 0 and "-u" not in argv  # bare killall5-style sweep
    if argv[0] == "pkill":
        return False
    args = argv[1:]
    if args and args[0] in ("-s", "-n", "--signal"):
        args = args[2:]
    elif len(args) > 1 and args[0].startswith("-") and args[0] != "--":
        args = args[1:]  # the signal, e.g. -9, -KILL, or -1 (SIGHUP) when a pid follows
    if args and args[0] == "--":
        args = args[1:]
    return "-1" in args


# ---------------------------------------------------------------------------
# text rules

_DOWNLOADER = r"(?:curl|wget|fetch|aria2c)"
_INTERPRETER = r"(?:sudo\s+(?:-\S+\s+)*)?(?:\S*/)?(?:ba|z|da|k|tc|fi|c)?sh|(?:\S*/)?(?:python[\d.]*|perl|ruby|node|php)"

_PIPE_TO_SHELL = re.compile(
    rf"\b{_DOWNLOADER}\b.*\|\s*(?:{_INTERPRETER})(?:\s|$)"  # curl … | sh
    rf"|(?:{_INTERPRETER})\s+(?:-\S+\s+)*(?:<\(|\$\(|`)\s*{_DOWNLOADER}\b"  # bash <(curl …), sh -c "$(curl …)"
    rf"|\bsource\s+<\(\s*{_DOWNLOADER}\b|(?:^|[;&|]\s*)\.\s+<\(\s*{_DOWNLOADER}\b"
)
_FORK_BOMB = re.compile(r"([\w:.]+)\s*\(\s*\)\s*\{\s*\1\s*\|\s*\1\s*&")
_REDIRECT_TARGET = re.compile(r"(?<![<>&\d])(?:\d|&)?>{1,2}\|?\s*([^\s;&|()<>]+)")


def _redirect_to_system(text: str) -> bool:
    return any(is_system_path(target) for target in _REDIRECT_TARGET.findall(text))


# ---------------------------------------------------------------------------

RULES: tuple[_Rule, ...] = (
    _Rule("rm-recursive", "recursive delete (rm -r)", on_argv=_rm_recursive),
    _Rule("find-delete", "mass delete with find (-delete / -exec rm)", on_argv=_find_delete),
    _Rule("mkfs", "formats a filesystem (mkfs)", on_argv=_mkfs),
    _Rule("dd-device", "dd writing onto a device (dd of=/dev/…)", on_argv=_dd_device),
    _Rule("partition", "partitions or wipes a disk (fdisk / parted / wipefs)", on_argv=_partition),
    _Rule("shred", "irrecoverably overwrites files (shred)", on_argv=_shred),
    _Rule("chmod-system", "recursive permission/ownership change on / or a system directory", on_argv=_chmod_system),
    _Rule("system-write", "modifies a system path (/etc, /usr, /boot, a disk device, …)", on_argv=_system_write),
    _Rule("system-redirect", "redirects output onto a system path (/etc, /usr, /boot, a disk device, …)", on_text=_redirect_to_system),
    _Rule("shutdown", "shuts down or reboots the machine", on_argv=_shutdown),
    _Rule("git-force-push", "force-pushes or deletes a remote git branch (history loss)", on_argv=_git_force_push),
    _Rule("git-discard", "discards uncommitted git work (reset --hard / clean -f)", on_argv=_git_discard),
    _Rule("kill-all", "kills every process you can signal (kill -1)", on_argv=_kill_all),
    _Rule("fork-bomb", "fork bomb", on_text=_FORK_BOMB.search),
    _Rule("pipe-to-shell", "runs a downloaded script without review (curl … | sh)", on_text=_PIPE_TO_SHELL.search),
)


def find_dangers(command: str) -> list[DangerMatch]:
    """Every rule `command` trips, in rule order, each once. Empty means no approval needed."""
    argvs = list(simple_commands(command))
    text = normalise(command)
    hits: list[DangerMatch] = []
    for rule in RULES:
        if rule.on_argv is not None:
            tripped = any(rule.on_argv(argv) for argv in argvs)
        else:
            assert rule.on_text is not None
            tripped = bool(rule.on_text(text))
        if tripped:
            hits.append(DangerMatch(rule.key, rule.reason))
    return hits
