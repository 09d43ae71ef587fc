"""Generating, recognising and removing shims.

A shim is one small generated script per wrapped tool, rendered from ``shims/shim.sh.in``. Its fast
path runs the real binary directly for forms that are read-only by construction (``terraform plan``,
``kubectl get``, ``rm`` of plain relative files); everything else goes to the Python classifier.
Shims carry a marker line, so agentguard only ever rewrites or removes files it wrote.
"""

from __future__ import annotations

import os

from agentguard.paths import data_dir

MARKER = "agentguard-shim v1"
SAFE_WORD = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.:=*-")


def sh_quote(text: str) -> str:
    return "'" + text.replace("'", "'\\''") + "'"


def is_shim(path: str) -> bool:
    """True when ``path`` is an agentguard shim (ours or another installation's)."""
    try:
        with open(path, "rb") as f:
            head = f.read(512)
    except OSError:
        return False
    return MARKER.encode() in head


SHEBANG = "#!/bin/sh"  # POSIX sh: the cheapest start (+0.5 ms), and it reads no ENV file when not interactive


def _exec_line(tool: str, real: str) -> str:
    """How the fast path runs the real binary. Plain sh has no `exec -a`, so argv[0] becomes the
    binary's path; of the tools with a fast path only coreutils rm prints argv[0] as given, so rm is
    found by name in its own directory instead (rm runs no other program, so the narrowed PATH it
    sees changes nothing). The classifier path always keeps argv[0] through os.execv."""
    if tool == "rm" and os.path.basename(real) == tool and ":" not in real:
        return f"PATH={sh_quote(os.path.dirname(real))} exec {tool} \"$@\""
    return 'exec "$_ag_real" "$@"'

def _words_ok(word: str) -> bool:
    return bool(word) and all(ch in SAFE_WORD for ch in word)


def readonly_case(entries: list[str], exec_line: str, tool: str) -> str:
    """A `case` on $1 (and $2) that runs the real binary for the read-only forms listed.
    Options never match a wildcard word: `aws --region describe-x …` must not look read-only."""
    first: dict[str, list[str]] = {}
    options: list[str] = []
    for entry in entries:
        words = entry.split()
        if not words or not all(_words_ok(w) for w in words) or len(words) > 2:
            continue
        if words[0].startswith("-"):
            if len(words) == 1:
                options.append(words[0])
            continue
        first.setdefault(words[0], []).append(" ".join(words[1:]))
    guard = _env_guard(tool)
    run = f"{guard}{exec_line}" if guard else exec_line
    lines = ['  case "$1" in']
    if options:  # --version and --help print and exit, whatever else is given
        lines.append(f"    {'|'.join(options)}) {exec_line} ;;")
    lines.append("    -*) ;;")
    single = sorted(w for w, rest in first.items() if "" in rest)
    if single:
        lines.append(f"    {'|'.join(single)}) {run} ;;")
    for word, rests in sorted(first.items()):
        seconds = sorted(r for r in rests if r)
        if word in single or not seconds:
            continue
        lines.append(f'    {word}) case "$2" in -*) ;; {"|".join(seconds)}) {run} ;; esac ;;')
    lines.append("  esac")
    return "\n".join(lines)


def _env_guard(tool: str) -> str:
    if tool in ("terraform", "tofu"):
        # TF_CLI_ARGS and TF_CLI_ARGS_<command> add arguments no one sees on the command line.
        return '[ -z "${TF_CLI_ARGS-}" ] && eval "[ -z \\"\\${TF_CLI_ARGS_$1-}\\" ]" && '
    return ""


def rm_fast_path(exec_line: str, home: str) -> str:
    """`rm name…` with no options, relative names, nothing protected, run from inside the home
    directory or /tmp (checked on the physical path): the same answer the classifier gives."""
    from agentguard.classify.files import (BACKUP_NAMES, CREDENTIAL_DIRS, CREDENTIAL_FILES, DATABASE_DIRS,
                                           DATABASE_FILES, IAC_STATE)

    names = {".git", ".git.*", ".git~"} | set(CREDENTIAL_FILES) | set(DATABASE_FILES) | set(BACKUP_NAMES) | \
        set(IAC_STATE) | set(DATABASE_DIRS) | {d.split("/")[0] for d in CREDENTIAL_DIRS} | {"*backup*", "*snapshot*"}
    patterns = sorted(p for p in names if all(ch in SAFE_WORD for ch in p.replace("*", "")))
    protected = "|".join(f"{p}|*/{p}|{p}/*|*/{p}/*" for p in patterns)
    home_q = sh_quote(home.rstrip("/"))
    return f"""  _ag_fast=1
  [ "$#" -gt 0 ] || _ag_fast=0
  for _ag_a in "$@"; do
    case "$_ag_a" in
      ''|-*|/*|'~'*|*..*|.|./|*/|*'*'*|*'?'*|*'['*) _ag_fast=0; break ;;
      {protected}) _ag_fast=0; break ;;
    esac
  done
  if [ "$_ag_fast" = 1 ] && cd -P . 2>/dev/null; then
    case "$PWD/" in
      */.git/*|*/.ssh/*|*/.aws/*|*/.kube/*|*/.gnupg/*|*backup*|*snapshot*) ;;
      {home_q}/*|/tmp/*) {exec_line} ;;
    esac
  fi"""


def curl_fast_path(exec_line: str) -> str:
    """A plain GET: URLs and flags that change nothing but output, with no curlrc to add options."""
    return """  _ag_fast=1
  [ -e "${CURL_HOME:-$HOME}/.curlrc" ] && _ag_fast=0
  [ -e "${XDG_CONFIG_HOME:-$HOME/.config}/curlrc" ] && _ag_fast=0
  _ag_value=0
  for _ag_a in "$@"; do
    if [ "$_ag_value" = 1 ]; then
      case "$_ag_a" in *[!0-9.]*|'') _ag_fast=0; break ;; esac
      _ag_value=0; continue
    fi
    case "$_ag_a" in
      http://*|https://*) case "$_ag_a" in *[!A-Za-z0-9:/._~%?=+,@#-]*) _ag_fast=0; break ;; esac ;;
      --silent|--show-error|--location|--fail|--insecure|--include|--verbose|--compressed|--globoff|--http1.1|--http2) ;;
      --max-time|--connect-timeout|--retry|-m) _ag_value=1 ;;
      -[sSLfkiv]*) case "${_ag_a#-}" in *[!sSLfkiv]*) _ag_fast=0; break ;; esac ;;
      *) _ag_fast=0; break ;;
    esac
  done
  [ "$#" -gt 0 ] && [ "$_ag_fast" = 1 ] && [ "$_ag_value" = 0 ] && """ + exec_line


def render(tool: str, real: str, python: str, state_dir: str, import_paths: list[str], readonly: list[str],
           home: str, fast: bool = True) -> str:
    """The shim for ``tool``. ``fast`` False turns the fast path off (custom rules for the tool)."""
    with open(os.path.join(data_dir("shims"), "shim.sh.in"), encoding="utf-8") as f:
        template = f.read()
    exec_line = _exec_line(tool, real)
    if not fast:
        fast_path = "  :"
    elif tool == "rm":
        fast_path = rm_fast_path(exec_line, home)
    elif tool == "curl":
        fast_path = curl_fast_path(exec_line)
    elif readonly:
        fast_path = readonly_case(readonly, exec_line, tool)
    else:
        fast_path = "  :"
    code = ("import sys; sys.path[:0] = " + repr(import_paths) +
            "; from agentguard.intercept import main; main()")
    out = template
    for key, value in (("@SHEBANG@", SHEBANG), ("@TOOL@", tool), ("@REAL@", sh_quote(real)),
                       ("@FASTPATH@", fast_path), ("@PYTHON@", sh_quote(python)), ("@CODE@", sh_quote(code)),
                       ("@TOOL_Q@", sh_quote(tool)), ("@STATE@", sh_quote(state_dir))):
        out = out.replace(key, value)
    return out


def write_shim(directory: str, tool: str, text: str) -> str:
    path = os.path.join(directory, tool)
    if os.path.lexists(path) and not is_shim(path):
        raise FileExistsError(f"{path} exists and is not an agentguard shim; move it away and run again")
    tmp = f"{path}.agentguard-tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        f.write(text)
    os.chmod(tmp, 0o755)
    os.replace(tmp, path)
    return path


def remove_shims(directory: str, keep: set[str] = frozenset()) -> list[str]:
    """Remove every shim in ``directory`` except ``keep``; other files are left alone."""
    removed = []
    try:
        names = os.listdir(directory)
    except OSError:
        return removed
    for name in names:
        path = os.path.join(directory, name)
        if name not in keep and os.path.isfile(path) and is_shim(path):
            os.remove(path)
            removed.append(name)
    return removed
