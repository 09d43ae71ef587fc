"""Shell strings → the simple commands they would run, using tree-sitter-bash.

Given ``cd app && cat <<EOF | psql -d prod`` this finds every command bash would execute (including
those inside ``$( )``, ``<( )``, ``${x:-$( )}``, functions, loops and conditionals), removes quotes
from each word the way bash does, and records what reaches each command's stdin (heredocs,
here-strings, ``echo … |``, ``< file``). Unwrapping ``sudo``/``sh -c``/``xargs`` … happens later
(unwrap.py); this module only reads one string.

Nothing here guesses: a word whose value depends on run-time state is marked ``dynamic`` and a tree
with syntax errors raises ShellSyntaxError, so callers can fail closed.
"""

from __future__ import annotations

import os

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Collection, Iterator, Mapping

    from tree_sitter import Node, Parser

MAX_DEPTH = 120  # nesting of tree nodes walked recursively; deeper input is refused
MAX_BYTES = 256 * 1024  # longer command strings are refused (fail closed) rather than parsed
MAX_READ = 1024 * 1024  # files read for stdin (`< f.sql`, `cat f.sql |`) are read up to this size
MAX_CALLS = 2000  # function bodies read at their calls; a string calling more is refused
MAX_LOOP_WORDS = 32  # a for loop over more words than this is read once, its variable unknown
MAX_LOOP_WALKS = 256  # loop bodies read per word in one string, nested loops included
UNKNOWN_CWD = "\0unknown"  # a working directory that depends on run-time state


class ShellSyntaxError(Exception):
    """The string is not valid bash, or uses something this reader cannot follow safely."""


class Word:
    """One argument after quote removal. ``dynamic``: contains expansions we could not resolve;
    ``glob``: contains unquoted pattern characters the shell would expand."""

    __slots__ = ("value", "dynamic", "glob")

    def __init__(self, value: str, dynamic: bool = False, glob: bool = False) -> None:
        self.value = value
        self.dynamic = dynamic
        self.glob = glob

    def __repr__(self) -> str:
        flags = ("$" if self.dynamic else "") + ("*" if self.glob else "")
        return f"Word({self.value!r}{', ' + flags if flags else ''})"


class Cmd:
    """A simple command found in a shell string."""

    __slots__ = ("words", "assigns", "stdin", "stdin_state", "stdin_path", "producer",
                 "out_paths", "source", "cwds", "nested", "exported", "line", "writes", "pipeline", "feed")

    def __init__(self, words: list[Word], source: str) -> None:
        self.words = words
        self.assigns: dict[str, Word] = {}
        self.stdin: str | None = None  # text known to reach stdin
        self.stdin_state = "none"  # none | text | unknown
        self.stdin_path: str | None = None  # `< path`
        self.producer = ""  # name of the command piping into this one, when its output is unknown
        self.out_paths: list[Word] = []  # `> path` / `>> path` targets
        self.source = source
        self.cwds: tuple[str, ...] = ()
        self.nested = False  # found inside $( ), <( ) or an expansion
        self.exported: dict[str, str] = {}  # variables exported earlier in the same string
        self.line = 1  # the line of the string it starts on, so a finding can say where in a file it is
        self.writes: list[tuple[Word, bool, bool]] = []  # (path, appends, gets stdout) per output redirect
        self.pipeline: tuple[Cmd, ...] = ()  # the commands of the pipeline it is in (they run at once)
        self.feed = ""  # the one simple command piping into this one, as written ("" when not one)

    @property
    def name(self) -> str:
        return self.words[0].value if self.words else ""

    def __repr__(self) -> str:
        return f"Cmd({[w.value for w in self.words]!r}, stdin={self.stdin!r})"


_PARSER: Parser | None = None


def _parser() -> Parser:
    global _PARSER
    if _PARSER is None:
        import tree_sitter

        _PARSER = tree_sitter.Parser(tree_sitter.Language(_bash_language()))
    return _PARSER


def _bash_language() -> object:
    """The grammar from tree_sitter_bash's compiled binding. The package's __init__ pulls in
    importlib.resources (and with it tempfile, random, pathlib …) for query files agentguard never
    reads, about 8 ms on every hook call, so the binding is loaded directly when it can be found."""
    import importlib.machinery
    import importlib.util
    import sys

    for base in sys.path:
        directory = os.path.join(base or ".", "tree_sitter_bash")
        if not os.path.isdir(directory):
            continue
        for suffix in importlib.machinery.EXTENSION_SUFFIXES:
            path = os.path.join(directory, "_binding" + suffix)
            if os.path.isfile(path):
                loader = importlib.machinery.ExtensionFileLoader("tree_sitter_bash._binding", path)
                spec = importlib.util.spec_from_file_location("tree_sitter_bash._binding", path, loader=loader)
                if spec is not None:
                    module = importlib.util.module_from_spec(spec)
                    loader.exec_module(module)
                    return module.language()
    import tree_sitter_bash

    return tree_sitter_bash.language()


def parse(text: str, env: Mapping[str, str] | None = None, cwd: str = "",
          called: Collection[str] = ()) -> list[Cmd]:
    """Every simple command ``text`` would run, in execution order (substitutions first).

    A function's body runs where the function is called, so it is read there; a function nothing
    calls runs nothing. ``called`` names what may call one from outside the string (the words of
    the command that sources it)."""
    if len(text) > MAX_BYTES:
        raise ShellSyntaxError(f"command string longer than {MAX_BYTES} bytes")
    if "\0" in text:
        raise ShellSyntaxError("command string contains a NUL byte")
    src = text.encode("utf-8", "surrogateescape")
    tree = _parser().parse(_masked(text, src))
    root = tree.root_node
    if root.has_error:
        raise ShellSyntaxError(_first_error(root, src))
    variables = dict(env or {})
    variables["PWD"] = cwd or os.getcwd()  # the command runs here, whatever the caller's PWD says
    walker = _Walker(src, variables, cwd or os.getcwd())
    walker.check_dropped_text(root)
    walker.walk(root, 0)
    walker.uncalled(called)
    return walker.out


def _masked(text: str, src: bytes) -> bytes:
    """What tree-sitter is allowed to see. tree-sitter-bash 0.25 reads out of bounds (and may
    crash) on a 4-byte UTF-8 character after `{` (tree-sitter/tree-sitter-bash#337), so every
    character outside the Basic Multilingual Plane becomes "éé" and every invalid byte "x": the
    same number of bytes, so node offsets still slice the original text."""
    if src.isascii() or all(ord(ch) < 0x10000 and not 0xDC80 <= ord(ch) <= 0xDCFF for ch in text):
        return src
    out = []
    for ch in text:
        code = ord(ch)
        if code >= 0x10000:
            out.append("éé")
        elif 0xDC80 <= code <= 0xDCFF:
            out.append("x")
        else:
            out.append(ch)
    masked = "".join(out).encode("utf-8")
    assert len(masked) == len(src)
    return masked


def _first_error(root, src: bytes) -> str:  # type: ignore[no-untyped-def]
    stack = [root]
    while stack:
        n = stack.pop()
        if n.type == "ERROR" or n.is_missing:
            line = n.start_point[0] + 1
            snippet = src[n.start_byte:n.end_byte][:40].decode("utf-8", "replace")
            return f"syntax error near line {line}: {snippet!r}" if snippet else f"syntax error near line {line}"
        stack.extend(n.children)
    return "syntax error"


# Node types whose text is a leaf for the dropped-text check (their inner spans are not children).
_LEAFY = frozenset({
    "heredoc_body", "heredoc_content", "string", "string_content", "raw_string", "ansi_c_string",
    "comment", "word", "translated_string", "regex", "extglob_pattern", "expansion",
    "arithmetic_expansion", "simple_expansion", "number", "heredoc_start", "heredoc_end",
})
_SHELLS = frozenset({"sh", "bash", "zsh", "dash", "ksh", "mksh", "ash", "busybox"})
_PRODUCERS = frozenset({"echo", "printf", "cat"})


def _only_space(gap: bytes) -> bool:
    return not gap.replace(b"\\\n", b"").strip(b" \t\r\n")


class _Walker:
    def __init__(self, src: bytes, env: dict[str, str], cwd: str) -> None:
        self.src = src
        self.env = env  # variables known to hold a value (caller's env + assignments seen so far)
        self.cwds: tuple[str, ...] = (cwd,)
        self.exports: dict[str, str] = {}  # `export X=v` (and assignments to inherited variables)
        self.inherited = frozenset(env)
        self.out: list[Cmd] = []
        self.repaired: dict[int, list[str]] = {}  # command start byte → words tree-sitter dropped
        self.functions: dict[str, object] = {}  # name → body node of the latest definition
        self.walked: set[tuple[int, tuple[str, ...]]] = set()  # (definition, cwds) already read
        self.calling: list[int] = []  # definitions being read, innermost last (recursion stops here)
        self.words_seen: set[str] = set()  # every literal word, so `trap f EXIT` counts as a call
        self.calls = 0
        self.loop_walks = 0
        self.used_feed = ""  # the command whose output a loop variable of the current command holds

    # -- helpers -------------------------------------------------------------------------------

    def text(self, node) -> str:  # type: ignore[no-untyped-def]
        return self.src[node.start_byte:node.end_byte].decode("utf-8", "surrogateescape")

    def check_dropped_text(self, root) -> None:  # type: ignore[no-untyped-def]
        """tree-sitter-bash silently drops a lone ``-`` before a heredoc (``python3 - <<'PY'``).
        Any other text not covered by a node means the tree is wrong: refuse it."""
        stack = [root]
        while stack:
            n = stack.pop()
            if n.type in _LEAFY or n.child_count == 0:
                continue
            pos = n.start_byte
            for c in n.children:
                if c.start_byte > pos:
                    self._gap(n, c, self.src[pos:c.start_byte])
                pos = max(pos, c.end_byte)
                stack.append(c)
            if n.end_byte > pos:
                self._gap(n, None, self.src[pos:n.end_byte])

    def _gap(self, parent, child, gap: bytes) -> None:  # type: ignore[no-untyped-def]
        if _only_space(gap):
            return
        if parent.type == "redirected_statement" and child is not None and child.type == "heredoc_redirect" \
                and gap.split() and all(w == b"-" for w in gap.split()):
            body = parent.child_by_field_name("body")
            if body is not None:
                self.repaired.setdefault(body.start_byte, []).extend("-" for _ in gap.split())
                return
        raise ShellSyntaxError(f"could not read part of the command: {gap.strip()[:40].decode('utf-8', 'replace')!r}")

    # -- the walk ------------------------------------------------------------------------------

    def walk(self, node, depth: int, nested: bool = False) -> list[Cmd]:  # type: ignore[no-untyped-def]
        """Walk ``node``; append what it runs to self.out and return the top-level commands found."""
        if depth > MAX_DEPTH:
            raise ShellSyntaxError("command nests too deeply to check")
        t = node.type
        if t == "command":
            return [self._command(node, depth, nested)]
        if t == "redirected_statement":
            return self._redirected(node, depth, nested)
        if t == "pipeline":
            return self._pipeline([c for c in node.children if c.is_named], depth, nested)
        if t in ("list", "program"):
            return self._sequence(node, depth, nested)
        if t in ("subshell", "command_substitution", "process_substitution"):
            saved = self.cwds
            inner = self._children(node, depth, nested or t != "subshell")
            self.cwds = saved
            return inner if t == "subshell" else []
        if t in ("variable_assignment", "variable_assignments"):
            self._assignment_statement(node, depth)
            return []
        if t == "declaration_command":
            return self._declaration(node, depth, nested)
        if t in ("comment", "heredoc_start", "heredoc_end"):
            return []
        if t == "for_statement":
            each = self._for_each(node, depth, nested)
            if each is not None:
                return each
        if t in ("for_statement", "c_style_for_statement"):
            # A loop variable takes many values: whatever it holds is only known at run time.
            for name in self._loop_variables(node):
                self._bind(name, Word("$" + name, True))
            values = node.children_by_field_name("value") if t == "for_statement" else []
            var = node.child_by_field_name("variable")
            if len(values) == 1 and values[0].type == "command_substitution" and var is not None:
                # `for c in $(docker ps -aq)`: each value is a word of that output, as `docker rm
                # $(docker ps -aq)` takes them all, so the variable reads as the substitution.
                self.env[self.text(var) + "\0feed"] = self.text(values[0])
            elif len(values) == 1 and values[0].type in ("simple_expansion", "expansion") and var is not None:
                held = self.text(values[0]).lstrip("$").strip("{}")
                if held + "\0subst" in self.env:  # `files=$(ls data); for f in $files`
                    self.env[self.text(var) + "\0feed"] = self.env[held + "\0subst"]
            if t == "c_style_for_statement":
                before = self.cwds
                found = []
                for c in node.named_children:
                    if c.type == "do_group":
                        found += self.walk(c, depth + 1, nested)
                    else:
                        self._nested_in(c, depth)  # (( … )) only computes; $( ) in it still runs
                self.cwds = tuple(dict.fromkeys(before + self.cwds))
                return found
        if t == "function_definition":
            name = node.child_by_field_name("name")
            body = node.child_by_field_name("body")
            if name is not None and body is not None:
                self.functions[self.text(name)] = body
                return []
        if t in ("if_statement", "while_statement", "for_statement", "c_style_for_statement",
                 "case_statement", "function_definition"):
            # Bodies may run or not, any number of times: a cd inside leaves the cwd uncertain.
            before = self.cwds
            found = self._children(node, depth, nested)
            self.cwds = tuple(dict.fromkeys(before + self.cwds))
            return found
        return self._children(node, depth, nested)

    def _for_each(self, node, depth: int, nested: bool) -> list[Cmd] | None:  # type: ignore[no-untyped-def]
        """`for f in data/* notes.txt; do rm "$f"; done`: the body read once for each word of a list
        written out (a glob stands for its matches, quoted "$f" or not), so what it removes is
        judged as `rm data/*` and `rm notes.txt` are. None when the list is not written out."""
        var = node.child_by_field_name("variable")
        body = _child_of_type(node, "do_group")
        values = node.children_by_field_name("value")
        if var is None or body is None or not values or len(values) > MAX_LOOP_WORDS or \
                self.loop_walks + len(values) > MAX_LOOP_WALKS:
            return None  # read once, its variable unknown (nested loops multiply: the walks are bounded)
        items = [self.word(v, depth + 1) for v in values]
        if any(w.dynamic or not w.value for w in items):
            return None
        self.loop_walks += len(items)
        name = self.text(var)
        before = self.cwds
        seen = before
        found: list[Cmd] = []
        for item in items:
            self.cwds = before
            self._bind(name, Word(item.value))
            if item.glob:
                self.env[name + "\0glob"] = "1"
            found += self.walk(body, depth + 1, nested)
            seen = tuple(dict.fromkeys(seen + self.cwds))
            self.env.pop(name + "\0glob", None)
        self.cwds = seen
        self._bind(name, Word("$" + name, True))  # after the loop: its last word, or none
        return found

    def _loop_variables(self, node) -> list[str]:  # type: ignore[no-untyped-def]
        names = []
        var = node.child_by_field_name("variable")
        if var is not None:
            names.append(self.text(var))
        for c in node.children:
            if c.type == "do_group":
                break
            stack = [c]
            while stack:
                n = stack.pop()
                if n.type in ("variable_assignment", "update_expression", "binary_expression"):
                    first = n.named_children[0] if n.named_children else None
                    if first is not None and first.type == "variable_name":
                        names.append(self.text(first))
                stack.extend(n.children)
        return names

    def _children(self, node, depth: int, nested: bool) -> list[Cmd]:  # type: ignore[no-untyped-def]
        found: list[Cmd] = []
        for c in node.named_children:
            found += self.walk(c, depth + 1, nested)
        return found

    def _sequence(self, node, depth: int, nested: bool) -> list[Cmd]:  # type: ignore[no-untyped-def]
        # `a && b && c` nests left-deep; flatten it without recursion so long chains stay cheap.
        items = []
        stack = [node]
        while stack:
            n = stack.pop()
            if n.type in ("list", "program"):
                stack.extend(reversed(n.named_children))
            else:
                items.append(n)
        found: list[Cmd] = []
        for item in items:
            found += self.walk(item, depth + 1, nested)
        return found

    def _pipeline(self, elements: list, depth: int, nested: bool) -> list[Cmd]:  # type: ignore[type-arg]
        found: list[Cmd] = []
        previous: list[Cmd] = []
        saved = self.cwds
        for element in elements:
            self.cwds = saved  # every element of a pipeline runs in its own subshell
            current = self.walk(element, depth + 1, nested)
            if previous:
                text, producer = _output_of(previous)
                for cmd in current[:1] if element.type in ("command", "redirected_statement") else current:
                    if cmd.stdin_state == "none":
                        if text is not None:
                            cmd.stdin, cmd.stdin_state = text, "text"
                        else:
                            cmd.stdin_state, cmd.producer = "unknown", producer
                            if len(previous) == 1:
                                cmd.feed = previous[0].source
            found += current
            previous = current
        self.cwds = saved
        for cmd in found:
            cmd.pipeline = tuple(found)
        return found

    def _redirected(self, node, depth: int, nested: bool) -> list[Cmd]:  # type: ignore[no-untyped-def]
        body = node.child_by_field_name("body")
        found = self.walk(body, depth + 1, nested) if body is not None else []
        if body is None:  # `> file` alone still truncates file
            holder = Cmd([], self.text(node).strip())
            holder.cwds = self.cwds
            holder.line = node.start_point[0] + 1
            self.out.append(holder)
            found = [holder]
        # tree-sitter hangs `cd x && cat <<EOF` 's heredoc on the whole list; bash gives it to `cat`.
        if body is not None and body.type in ("list", "pipeline") and found:
            target: Cmd | None = [c for c in found if not c.nested][-1]
        else:
            target = found[0] if len(found) == 1 else None
        continuation: list = []  # type: ignore[type-arg]
        # A here-string after a compound command (`done <<< "$x"`) has no field name in the grammar.
        for redirect in node.children:
            if redirect.type in ("file_redirect", "heredoc_redirect", "herestring_redirect") and \
                    redirect != body:
                self._apply_redirect(redirect, found, target, depth, continuation)
        if continuation:
            # `cat <<EOF | psql && echo ok`: tree-sitter hangs the rest of the line off the heredoc.
            found += self._continuation([target] if target else found, continuation, depth, nested)
        return found

    def _apply_redirect(self, redirect, found: list[Cmd], target: Cmd | None, depth: int,  # type: ignore[no-untyped-def]
                        continuation: list[Node]) -> None:
        t = redirect.type
        if t == "heredoc_redirect":
            start = redirect.child_by_field_name("start") or _child_of_type(redirect, "heredoc_start")
            quoted = start is not None and any(q in self.text(start) for q in "'\"\\")
            body_text = ""
            nl, misread = self._misread_heredoc(redirect, start, quoted)
            for c in redirect.children:
                if misread is not None and c.start_byte > nl and c.type != "heredoc_end":
                    continue  # the body's first lines, misread as words
                if c.type == "heredoc_body":
                    body_text = self._heredoc_text(c, quoted, depth)
                elif c.type in ("pipeline", "list", "command", "redirected_statement", "subshell",
                                "compound_statement"):
                    continuation.append(c)
                elif c.type == "file_redirect":
                    self._file_redirect(c, found, target, depth)
                elif c.type in ("&&", "||", ";", "|", "|&", "&"):
                    continuation.append(c)
            if misread is not None:
                body_text = misread
            if "<<-" in self.text(redirect)[:4]:
                body_text = "\n".join(line.lstrip("\t") for line in body_text.split("\n"))
            for cmd in [target] if target else found:
                cmd.stdin, cmd.stdin_state = body_text, "text"
        elif t == "herestring_redirect":
            word = None
            for c in redirect.named_children:
                word = self.word(c, depth)
                self._nested_in(c, depth)
            value = (word.value if word else "") + "\n"
            # `<<< "$(docker ps -aq)"`: the output of that one command, as from a pipe.
            fed = _substituted(word.value.strip('"')) if word is not None and word.dynamic else ""
            for cmd in [target] if target else found:
                cmd.stdin, cmd.stdin_state = value, "text"
                if word is not None and word.dynamic:
                    cmd.stdin_state = "text"  # dynamic parts stay as source text; SQL parsing fails closed
                if fed and not cmd.feed:
                    cmd.feed = fed
        elif t == "file_redirect":
            self._file_redirect(redirect, found, target, depth)
        else:
            self._nested_in(redirect, depth)

    def _file_redirect(self, redirect, found: list[Cmd], target: Cmd | None, depth: int) -> None:  # type: ignore[no-untyped-def]
        op = ""
        descriptor = ""
        for c in redirect.children:
            if not c.is_named:
                op = c.type
            elif c.type == "file_descriptor":
                descriptor = self.text(c)
        for dest in redirect.children_by_field_name("destination"):
            self._nested_in(dest, depth)
            word = self.word(dest, depth)
            cmds = [target] if target else found
            if op in ("<",):
                # `done < <(docker ps -aq)`: the loop reads that command's output, as from a pipe.
                fed = _substituted(self.text(dest)) if dest.type == "process_substitution" else ""
                for cmd in cmds:
                    cmd.stdin_path = word.value if not word.dynamic else None
                    text = None if word.dynamic else _read_text(word.value, self.cwds[0])
                    cmd.stdin, cmd.stdin_state = (text, "text") if text is not None else (None, "unknown")
                    if text is None:
                        cmd.producer = f"< {word.value}"
                    if fed and not cmd.feed:
                        cmd.feed = fed
                        self._track_read(cmd)  # `mapfile -t ids < <(cmd)`: what ids holds comes from cmd
            elif op in (">", ">>", "&>", "&>>", ">|"):
                for cmd in cmds:
                    cmd.out_paths.append(word)
                    cmd.writes.append((word, op in (">>", "&>>"), descriptor in ("", "1")))

    def _continuation(self, head: list[Cmd], nodes: list, depth: int, nested: bool) -> list[Cmd]:  # type: ignore[type-arg]
        found: list[Cmd] = []
        piped = bool(nodes) and not nodes[0].is_named and nodes[0].type in ("|", "|&")
        for n in nodes:
            if not n.is_named:
                continue
            if n.type == "pipeline" and n.children and n.children[0].type in ("|", "|&"):
                rest = [c for c in n.children if c.is_named]
                found += self._pipe_into(head, rest, depth, nested)
            elif piped and not found:
                found += self._pipe_into(head, [n], depth, nested)
            else:
                found += self.walk(n, depth + 1, nested)
        return found

    def _pipe_into(self, head: list[Cmd], rest: list, depth: int, nested: bool) -> list[Cmd]:  # type: ignore[type-arg]
        # The first element may be a list (`| psql && echo ok`): only its first command reads the pipe.
        first, tail = rest[0], rest[1:]
        if first.type == "list":
            kids = first.named_children
            consumer = self._pipeline_from(head, kids[:1], depth, nested)
            others: list[Cmd] = []
            for k in kids[1:]:
                others += self.walk(k, depth + 1, nested)
            return consumer + others + self._pipeline_from([], tail, depth, nested)
        return self._pipeline_from(head, [first, *tail], depth, nested)

    def _pipeline_from(self, head: list[Cmd], elements: list, depth: int, nested: bool) -> list[Cmd]:  # type: ignore[type-arg]
        if not elements:
            return []
        found = self._pipeline(elements, depth, nested)
        if head and found:
            text, producer = _output_of(head)
            first = found[0]
            if first.stdin_state == "none":
                if text is not None:
                    first.stdin, first.stdin_state = text, "text"
                else:
                    first.stdin_state, first.producer = "unknown", producer
        return found

    def _misread_heredoc(self, redirect, start, quoted: bool) -> tuple[int, str | None]:  # type: ignore[no-untyped-def]
        """tree-sitter-bash reads a heredoc body whose first line starts with a backslash (psql's
        ``\\set``) as words of the command line. Then the body is what bash reads: every line after the
        one the redirect is on, up to the delimiter. (position of that line's end, the body or None)."""
        if start is None:
            return -1, None
        nl = self.src.find(b"\n", start.end_byte)
        body = _child_of_type(redirect, "heredoc_body")
        end = _child_of_type(redirect, "heredoc_end")
        if nl < 0 or end is None or (body is not None and body.start_byte <= nl + 1) or \
                (body is None and end.start_byte <= nl + 1):
            return nl, None
        for c in redirect.children:
            if c.start_byte < nl < c.end_byte and c.type not in ("word", "raw_string", "string"):
                raise ShellSyntaxError("a heredoc whose first line starts with a backslash, in a pipeline")
        text = self.src[nl + 1:end.start_byte].decode("utf-8", "surrogateescape")
        if not quoted:
            if "$" in text or "`" in text:
                raise ShellSyntaxError("an unquoted heredoc whose first line starts with a backslash")
            text = text.replace("\\\n", "").replace("\\\\", "\\")
        return nl, text

    def _heredoc_text(self, body, quoted: bool, depth: int) -> str:  # type: ignore[no-untyped-def]
        if quoted:
            return self.text(body)
        # An unquoted heredoc expands $x and runs $( ): walk those and substitute known values.
        parts: list[str] = []
        pos = body.start_byte
        for c in body.children:
            parts.append(self.src[pos:c.start_byte].decode("utf-8", "surrogateescape"))
            if c.type in ("simple_expansion", "expansion"):
                self._nested_in(c, depth)
                parts.append(self.word(c, depth).value)
            elif c.type in ("command_substitution", "arithmetic_expansion"):
                self.walk(c, depth + 1, True)
                parts.append(self.text(c))
            else:
                parts.append(self.text(c))
            pos = c.end_byte
        parts.append(self.src[pos:body.end_byte].decode("utf-8", "surrogateescape"))
        return "".join(parts)

    def _nested_in(self, node, depth: int) -> None:  # type: ignore[no-untyped-def]
        """Walk command/process substitutions inside a word (they run before the command)."""
        stack = [(node, depth)]
        while stack:
            n, d = stack.pop()
            if d > MAX_DEPTH:
                raise ShellSyntaxError("command nests too deeply to check")
            if n.type in ("command_substitution", "process_substitution"):
                saved = self.cwds
                self._children(n, d + 1, True)
                self.cwds = saved
            else:
                stack.extend((c, d + 1) for c in reversed(n.children))

    def _command(self, node, depth: int, nested: bool) -> Cmd:  # type: ignore[no-untyped-def]
        outer_feed, self.used_feed = self.used_feed, ""  # a $( ) among the words is a command of its own
        words: list[Word] = []
        assigns: dict[str, Word] = {}
        redirects = []
        for c in node.children:
            if c.type == "variable_assignment":
                self._nested_in(c, depth)
                key, value = self._assignment(c, depth)
                if key:
                    assigns[key] = value
            elif c.type in ("herestring_redirect", "file_redirect", "heredoc_redirect"):
                redirects.append(c)
            elif c.is_named and c.type != "comment":
                self._nested_in(c, depth)
                part = c.named_children[0] if c.type == "command_name" and c.named_children else c
                words.extend(self._fields(part, self.word(part, depth)))
        if node.start_byte in self.repaired:
            words += [Word(w) for w in self.repaired.pop(node.start_byte)]
        source = self.text(node).strip()
        cmd = Cmd(words, source)
        if self.used_feed:
            cmd.feed = _substituted(self.used_feed)
        self.used_feed = outer_feed
        cmd.assigns = assigns
        cmd.cwds = self.cwds
        cmd.nested = nested
        cmd.exported = dict(self.exports)
        if not words:
            # `X=value` alone sets a shell variable for what follows.
            for key, value in assigns.items():
                self._bind(key, value)
        cmd.line = node.start_point[0] + 1
        self.out.append(cmd)
        for r in redirects:
            self._apply_redirect(r, [cmd], cmd, depth, [])
        self._track_cd(cmd)
        self._track_read(cmd)
        for w in words:
            if not w.dynamic:
                self.words_seen.update(_name_tokens(w.value))
        if words and not words[0].dynamic and words[0].value in self.functions:
            self._call(words[0].value, depth, nested)
        return cmd

    def _fields(self, node, word: Word) -> list[Word]:  # type: ignore[no-untyped-def]
        """Field splitting: an unquoted expansion whose value holds blanks is several words, as bash
        splits it (``c='rm -rf data'; $c`` runs rm). With IFS set in the string the fields are not
        known; an expansion glued to other text that holds blanks is not followed either."""
        kinds = ("simple_expansion", "expansion")
        if word.dynamic or node.type not in kinds and not (node.type == "concatenation" and
                                                           any(c.type in kinds for c in node.children)):
            return [word]
        if "IFS" in self.env or "IFS\0dynamic" in self.env:
            return [Word(word.value, True, word.glob)]
        if not any(ch in word.value for ch in " \t\n"):
            return [word]
        if node.type not in kinds:
            return [Word(word.value, True, word.glob)]
        fields = word.value.split()
        return [Word(f, False, any(ch in f for ch in "*?[")) for f in fields] or [word]

    def _call(self, name: str, depth: int, nested: bool) -> None:
        """Read a function's body where it is called: what it runs, in the caller's directory."""
        body = self.functions[name]
        # By definition, not name: a function may redefine itself, and the call then runs the new body.
        key = (body.start_byte, self.cwds)  # type: ignore[attr-defined]
        if body.start_byte in self.calling or key in self.walked:  # type: ignore[attr-defined]
            return
        self.calls += 1
        if self.calls > MAX_CALLS:
            raise ShellSyntaxError(f"more than {MAX_CALLS} function calls to follow")
        self.walked.add(key)
        self.calling.append(body.start_byte)  # type: ignore[attr-defined]
        try:
            self.walk(body, depth + 1, nested)
        finally:
            self.calling.pop()

    def uncalled(self, called: Collection[str]) -> None:
        """A function whose name appears anywhere (`trap f EXIT`, `export -f f`, the sourcing
        command) may be called in ways this reader does not follow: read it as if called."""
        for name, body in list(self.functions.items()):
            if (name in self.words_seen or name in called) and \
                    not any(k[0] == body.start_byte for k in self.walked):  # type: ignore[attr-defined]
                self._call(name, 0, False)

    def _track_read(self, cmd: Cmd) -> None:
        """`read f` (`while read -r f; do rm "$f"; done`): each line of input lands in f, so a word
        holding it names any of them, as a word xargs appends does."""
        if cmd.name in ("mapfile", "readarray"):
            self._track_mapfile(cmd)
            return
        if cmd.name != "read":
            return
        names: list[str] = []
        args = [w.value for w in cmd.words[1:]]
        i = 0
        while i < len(args):
            a = args[i]
            if a.startswith("-") and len(a) > 1:
                letter = next((ch for ch in a[1:] if ch in "adinNptu"), "")
                if letter and a.endswith(letter):  # the value is the next word
                    if letter == "a" and i + 1 < len(args):
                        names.append(args[i + 1])
                    i += 2
                    continue
                if letter == "a":
                    names.append(a[a.index("a") + 1:])
            else:
                names.append(a)
            i += 1
        for name in names or ["REPLY"]:
            self._bind_input(name, cmd)

    def _track_mapfile(self, cmd: Cmd) -> None:
        """`mapfile -t ids < <(docker ps -aq)`: the array holds every line of input."""
        args = [w.value for w in cmd.words[1:]]
        name, i = "MAPFILE", 0
        while i < len(args):
            a = args[i]
            if a.startswith("-") and len(a) > 1:
                i += 2 if a[-1] in "dnOsuCc" else 1  # the value is the next word
                continue
            name = a
            i += 1
        self._bind_input(name, cmd)

    def _bind_input(self, name: str, cmd: Cmd) -> None:
        if name.isidentifier():
            self._bind(name, Word("$" + name, True))
            self.env[name + "\0input"] = "1"
            if cmd.feed:  # what pipes into the read: the one command its lines come from
                self.env[name + "\0infeed"] = "$(" + cmd.feed + ")"

    def _track_cd(self, cmd: Cmd) -> None:
        if cmd.name not in ("cd", "pushd") or cmd.nested:
            return
        args = [w for w in cmd.words[1:] if not w.value.startswith("-") or w.value == "-"]
        if not args:
            dest: str | None = self.env.get("HOME")
        elif args[0].dynamic or args[0].glob or args[0].value == "-":
            dest = None
        else:
            dest = args[0].value
        # cd -P resolves symlinks before `..`; plain cd (-L, the last of the two wins) drops `..` by
        # name, as normpath does.
        mode = "L"
        for w in cmd.words[1:]:
            if not w.value.startswith("-") or w.value in ("-", "--"):
                break
            mode = next((ch for ch in reversed(w.value) if ch in "LP"), mode)
        physical = mode == "P"
        new = []
        for base in self.cwds:
            if dest is None or base == UNKNOWN_CWD:
                new.append(UNKNOWN_CWD)
            elif physical:
                new.append(os.path.realpath(os.path.join(base, dest)))
            else:
                new.append(os.path.normpath(os.path.join(base, dest)))
        # A cd that fails leaves the old directory in place, so both stay possible.
        self.cwds = tuple(dict.fromkeys(self.cwds + tuple(new)))

    def _assignment(self, node, depth: int) -> tuple[str, Word]:  # type: ignore[no-untyped-def]
        name = node.child_by_field_name("name")
        value = node.child_by_field_name("value")
        key = self.text(name) if name is not None else ""
        if value is None:
            return key, Word("")
        return key, self.word(value, depth)

    def _bind(self, key: str, value: Word, export: bool = False) -> None:
        for mark in ("\0input", "\0infeed", "\0feed", "\0subst"):
            self.env.pop(key + mark, None)
        if export or key in self.inherited or key in self.exports:
            self.exports[key] = value.value
        if value.dynamic or value.glob:
            self.env.pop(key, None)
            self.env[key + "\0dynamic"] = "1"
        else:
            self.env[key] = value.value
            self.env.pop(key + "\0dynamic", None)

    def _assignment_statement(self, node, depth: int) -> None:  # type: ignore[no-untyped-def]
        nodes = [node] if node.type == "variable_assignment" else node.named_children
        for n in nodes:
            if n.type == "variable_assignment":
                self._nested_in(n, depth)
                key, value = self._assignment(n, depth)
                if key:
                    self._bind(key, value)
                    held = n.child_by_field_name("value")
                    if held is not None and _substituted(self.text(held).strip('"')):
                        self.env[key + "\0subst"] = self.text(held).strip('"')  # `files=$(ls data)`

    def _declaration(self, node, depth: int, nested: bool) -> list[Cmd]:  # type: ignore[no-untyped-def]
        # export/local/declare/readonly: record assignments, walk substitutions in their values.
        words = [Word(self.text(node.children[0]))]
        export = words[0].value in ("export", "declare -x", "typeset -x")
        for c in node.named_children:
            self._nested_in(c, depth)
            if c.type == "variable_assignment":
                key, value = self._assignment(c, depth)
                if key:
                    self._bind(key, value, export)
                words.append(Word(f"{key}={value.value}", value.dynamic))
            else:
                words.append(self.word(c, depth))
        cmd = Cmd(words, self.text(node))
        cmd.cwds = self.cwds
        cmd.nested = nested
        cmd.line = node.start_point[0] + 1
        self.out.append(cmd)
        for w in words:
            if not w.dynamic:
                self.words_seen.update(_name_tokens(w.value))
        return [cmd]

    # -- quote removal -------------------------------------------------------------------------

    def word(self, node, depth: int, tilde: bool = True) -> Word:  # type: ignore[no-untyped-def]
        """Quote removal. ``tilde``: this node starts a word, where an unquoted ~ expands."""
        if depth > MAX_DEPTH:
            raise ShellSyntaxError("word nests too deeply to check")
        t = node.type
        txt = self.text(node)
        if t in ("word", "number"):
            value, glob = _unescape_word(txt)
            if tilde and value.startswith("~") and not txt.startswith("\\"):
                return self._tilde(value, glob)
            return Word(value, False, glob)
        if t == "raw_string":
            return Word(txt[1:-1])
        if t == "ansi_c_string":
            return Word(decode_ansi_c(txt[2:-1]).partition("\0")[0])  # bash ends the string at a NUL
        if t in ("string", "translated_string"):
            return self._double_quoted(node, depth)
        if t == "concatenation":
            parts = [self.word(c, depth + 1, tilde=False) for c in node.children]
            joined = Word("".join(p.value for p in parts), any(p.dynamic for p in parts), any(p.glob for p in parts))
            # ~ expands only when the unquoted word it starts reaches a slash: in ~'' or ~"/x" a quoted
            # character is part of the tilde prefix, and bash leaves the ~ alone.
            if tilde and parts and node.children[0].type == "word" and parts[0].value.startswith("~") \
                    and "/" in parts[0].value:
                return self._tilde(joined.value, joined.glob, joined.dynamic)
            return joined
        if t == "simple_expansion":
            return self._variable(txt[1:], txt)
        if t == "expansion":
            return self._expansion(node, txt)
        if t in ("extglob_pattern", "regex"):
            return Word(txt, False, True)
        if t == "command_substitution":
            known = self._known_substitution(node)
            if known is not None:
                return Word(known)
        # $( ), ` `, <( ), $(( )), brace expansion {a,b}: value known only at run time
        return Word(txt, True)

    def _known_substitution(self, node) -> str | None:  # type: ignore[no-untyped-def]
        """$(pwd) is the working directory; $(mktemp …) a fresh path under /tmp."""
        inner = self.text(node)
        inner = inner[2:-1] if inner.startswith("$(") else inner[1:-1]
        words = inner.split()
        if words == ["pwd"] and len(self.cwds) == 1 and self.cwds[0] != UNKNOWN_CWD:
            return self.cwds[0]
        if words[:1] == ["mktemp"] and all(w.startswith("-") and w in ("-d", "-q", "-u", "--directory")
                                          for w in words[1:]):
            return "/tmp/tmp.agentguard"
        return None

    def _tilde(self, value: str, glob: bool, dynamic: bool = False) -> Word:
        head, sep, rest = value.partition("/")
        if head == "~":
            home = self.env.get("HOME")
            if home is None:
                return Word(value, True, glob)
            return Word(home + (sep + rest if sep else ""), dynamic, glob)
        return Word(value, True, glob)  # ~user/...: another user's home, unknown here

    def _double_quoted(self, node, depth: int) -> Word:  # type: ignore[no-untyped-def]
        parts: list[str] = []
        dynamic = glob = False
        inner = [c for c in node.children if c.type not in ('"', '$"')]
        pos = node.start_byte + (2 if self.text(node).startswith('$"') else 1)
        end = node.end_byte - 1
        for c in inner:
            if c.start_byte > pos:
                parts.append(_unescape_dq(self.src[pos:c.start_byte].decode("utf-8", "surrogateescape")))
            if c.type == "string_content":
                parts.append(_unescape_dq(self.text(c)))
            else:
                w = self.word(c, depth + 1)
                parts.append(w.value)
                dynamic = dynamic or w.dynamic
                glob = glob or (w.glob and c.type in ("simple_expansion", "expansion"))  # "$f" of a for glob
            pos = c.end_byte
        if end > pos:
            parts.append(_unescape_dq(self.src[pos:end].decode("utf-8", "surrogateescape")))
        return Word("".join(parts), dynamic, glob)

    def _variable(self, name: str, source: str) -> Word:
        if name + "\0input" in self.env:
            self.used_feed = self.env.get(name + "\0infeed", self.used_feed)
            return Word("{xargs}", True)  # a line of input, any of them (`read f`)
        if name in self.env and name + "\0dynamic" not in self.env:
            return Word(self.env[name], False, name + "\0glob" in self.env)  # a for loop's glob word
        if name + "\0feed" in self.env:
            # A word of `for x in $(cmd)`: any word of cmd's output, as xargs hands them out.
            self.used_feed = self.env[name + "\0feed"]
            return Word("{xargs}", True)
        return Word(source, True)

    def _expansion(self, node, txt: str) -> Word:  # type: ignore[no-untyped-def]
        names = [c for c in node.named_children if c.type == "variable_name"]
        plain = len(node.named_children) == 1 and names
        if plain:
            return self._variable(self.text(names[0]), txt)
        kids = node.named_children
        if len(kids) == 1 and kids[0].type == "subscript":  # `"${ids[@]}"` of an array `mapfile` filled
            array = _child_of_type(kids[0], "variable_name")
            if array is not None and self.text(array) + "\0input" in self.env:
                return self._variable(self.text(array), txt)
        return Word(txt, True)


def _name_tokens(value: str) -> list[str]:
    for sep in ";&|()`'\"=":
        value = value.replace(sep, " ")
    return value.split()


def _child_of_type(node, type_: str):  # type: ignore[no-untyped-def]
    for c in node.children:
        if c.type == type_:
            return c
    return None


def _unescape_word(txt: str) -> tuple[str, bool]:
    """Quote removal for an unquoted word: ``\\x`` → ``x``, backslash-newline vanishes. Also reports
    whether an unescaped glob character remains."""
    out: list[str] = []
    glob = False
    i = 0
    n = len(txt)
    while i < n:
        ch = txt[i]
        if ch == "\\" and i + 1 < n:
            if txt[i + 1] != "\n":
                out.append(txt[i + 1])
            i += 2
            continue
        if ch in "*?[":
            glob = True
        out.append(ch)
        i += 1
    return "".join(out), glob


def _unescape_dq(txt: str) -> str:
    """Inside double quotes a backslash only escapes $ ` " \\ and newline."""
    out: list[str] = []
    i = 0
    n = len(txt)
    while i < n:
        ch = txt[i]
        if ch == "\\" and i + 1 < n and txt[i + 1] in '$`"\\\n':
            if txt[i + 1] != "\n":
                out.append(txt[i + 1])
            i += 2
            continue
        out.append(ch)
        i += 1
    return "".join(out)


_SIMPLE_ESCAPES = {"a": "\a", "b": "\b", "e": "\x1b", "E": "\x1b", "f": "\f", "n": "\n", "r": "\r",
                   "t": "\t", "v": "\v", "\\": "\\", "'": "'", '"': '"', "?": "?"}


def _substituted(text: str) -> str:
    """The command inside ``$(cmd)``, ```cmd``` or ``<(cmd)`` ("" when the text is none of them)."""
    text = text.strip()
    if text[:2] in ("$(", "<(") and text.endswith(")") and not text.startswith("$(("):
        return text[2:-1].strip()
    if len(text) > 1 and text[0] == text[-1] == "`":
        return text[1:-1].strip()
    return ""


def decode_ansi_c(body: str) -> str:
    """Decode the inside of ``$'…'`` as bash does."""
    out: list[str] = []
    i = 0
    n = len(body)
    while i < n:
        ch = body[i]
        if ch != "\\" or i + 1 >= n:
            out.append(ch)
            i += 1
            continue
        nxt = body[i + 1]
        if nxt in _SIMPLE_ESCAPES:
            out.append(_SIMPLE_ESCAPES[nxt])
            i += 2
        elif nxt in "01234567":
            j = i + 1
            while j < n and j < i + 4 and body[j] in "01234567":
                j += 1
            out.append(chr(int(body[i + 1:j], 8) & 0xFF))
            i = j
        elif nxt in "xuU":
            limit = {"x": 2, "u": 4, "U": 8}[nxt]
            j = i + 2
            while j < n and j < i + 2 + limit and body[j] in "0123456789abcdefABCDEF":
                j += 1
            if j == i + 2:
                out.append("\\" + nxt)
            else:
                code = int(body[i + 2:j], 16)
                out.append(chr(code) if code < 0x110000 else "\ufffd")
            i = j if j > i + 2 else i + 2
        elif nxt == "c" and i + 2 < n:
            out.append(chr(ord(body[i + 2]) & 0x1F))
            i += 3
        else:
            out.append("\\" + nxt)
            i += 2
    return "".join(out)


def _read_text(path: str, cwd: str) -> str | None:
    from agentguard.classify.sources import read_text

    return read_text(path, "" if cwd == UNKNOWN_CWD else cwd, MAX_READ)


def _echo_output(args: list[Word]) -> str:
    newline = True
    interpret = False
    i = 0
    while i < len(args) and args[i].value[:1] == "-" and set(args[i].value[1:]) <= set("neE") and len(args[i].value) > 1:
        flags = args[i].value[1:]
        newline = newline and "n" not in flags
        interpret = ("e" in flags) or (interpret and "E" not in flags)
        i += 1
    text = " ".join(w.value for w in args[i:])
    if interpret:
        text = decode_ansi_c(text)
    return text + ("\n" if newline else "")


def _printf_output(args: list[Word]) -> str:
    if not args:
        return ""
    fmt = decode_ansi_c(args[0].value)
    rest = [w.value for w in args[1:]]
    # Good enough to read SQL or a script: each %s/%b/%d takes the next argument, %% is a percent.
    out: list[str] = []
    i = taken = 0
    while True:
        piece: list[str] = []
        j = 0
        while j < len(fmt):
            if fmt[j] == "%" and j + 1 < len(fmt):
                k = j + 1
                while k < len(fmt) and fmt[k] in "-+ #0123456789.":
                    k += 1
                conv = fmt[k] if k < len(fmt) else ""
                if conv == "%":
                    piece.append("%")
                else:
                    piece.append(rest[i] if i < len(rest) else "")
                    i += 1
                j = k + 1
            else:
                piece.append(fmt[j])
                j += 1
        out.append("".join(piece))
        # printf repeats the format while arguments remain; a format that takes none (`%%`, plain
        # text) is printed once, whatever follows it.
        if i >= len(rest) or i == taken:
            break
        taken = i
    return "".join(out)


def written_text(cmd: Cmd) -> str | None:
    """What ``cmd`` writes to its standard output, redirects aside, when that is knowable without
    running it (``cat > x.sh <<'EOF'``, ``echo … > x``, ``tee x`` of known input); else None."""
    if os.path.basename(cmd.name) == "tee":
        return cmd.stdin if cmd.stdin_state == "text" else None
    return _output_of([cmd], redirected=True)[0]


def _output_of(cmds: list[Cmd], redirected: bool = False) -> tuple[str | None, str]:
    """What a pipeline element writes to its stdout, when that is knowable without running it."""
    top = [c for c in cmds if not c.nested] if not redirected else cmds
    if len(top) != 1:
        return None, top[0].name if top else ""
    cmd = top[0]
    name = os.path.basename(cmd.name)
    args = cmd.words[1:]
    if name not in _PRODUCERS or (cmd.out_paths and not redirected):
        return None, name
    if name == "echo":
        return _echo_output(args), name
    if name == "printf":
        return _printf_output(args), name
    # cat: its files (when they exist and are small), or its own stdin passed through.
    files = [w for w in args if w.value != "-" and not w.value.startswith("-")]
    if not files:
        return (cmd.stdin, name) if cmd.stdin_state == "text" else (None, cmd.producer or name)
    texts = []
    for w in files:
        if w.dynamic or w.glob:
            return None, name
        text = _read_text(w.value, cmd.cwds[0] if cmd.cwds else os.getcwd())
        if text is None:
            return None, f"cat {w.value}"
        texts.append(text)
    return "".join(texts), name


_SAFE = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_/.@%^-+=,:")


def quote_word(arg: str) -> str:
    """An argument as npm, git and the AWS CLI add it to a shell command they run: bare when it holds
    only characters the shell leaves alone, else in single quotes."""
    if arg and all(ch in _SAFE for ch in arg):
        return arg
    return "'" + arg.replace("'", "'\\''") + "'"
