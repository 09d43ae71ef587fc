"""Inline interpreter scripts: ``python -c``, ``python3 - <<'PY'``, ``perl -e``, ``node -e``, ``ruby -e``,
``lua -e``, an awk program, and the commands ``vim -c`` runs.

These scripts are read with patterns, not parsed. For each call that runs a shell command or deletes
files, a literal argument is judged as if typed in the shell (``os.system("rm -rf /")`` is
``rm -rf /``; ``shutil.rmtree("build")`` is ``rm -rf build``); a call whose argument is computed
fails closed. String literals that look like destructive SQL are judged as SQL. Code that can write
files and names one of agentguard's own is judged by selfguard.code_findings.

Shells themselves (``bash -c``, ``sh script.sh``, ``… | sh``) are unwrapped in unwrap.py.
"""

from __future__ import annotations

import os

from agentguard.model import Finding, Invocation

TYPE_CHECKING = False
if TYPE_CHECKING:
    from agentguard.context import Context
    from agentguard.shapes import Pack

MAX_CODE = 512 * 1024

LANGS = {"python": "python", "python2": "python", "python3": "python", "pypy": "python", "pypy3": "python",
         "py": "python", "perl": "perl", "ruby": "ruby", "node": "node", "nodejs": "node", "deno": "node", "bun": "node",
         "tsx": "node", "ts-node": "node", "php": "php", "lua": "lua", "luajit": "lua", "awk": "awk", "gawk": "awk",
         "mawk": "awk", "nawk": "awk", "vim": "vim", "nvim": "vim", "vi": "vim", "ex": "vim", "view": "vim", "gvim": "vim"}

# Calls that run a shell command. The first argument, when literal, is judged as a shell string or argv.
SHELL_CALLS = {
    "python": ("os.system", "os.popen", "subprocess.run", "subprocess.call", "subprocess.check_call",
               "subprocess.check_output", "subprocess.Popen", "subprocess.getoutput",
               "subprocess.getstatusoutput", "pty.spawn", "os.execv", "os.execvp", "os.execl", "os.execlp",
               "os.execve", "os.execvpe", "os.execle", "os.execlpe", "os.posix_spawn", "os.posix_spawnp",
               "os.spawnv", "os.spawnl", "os.spawnlp", "os.spawnvp", "os.spawnve", "os.spawnvpe", "os.spawnle",
               "os.spawnlpe", "create_subprocess_shell", "create_subprocess_exec", ".create_subprocess_shell",
               ".create_subprocess_exec", ".system", ".popen", "run", "call",
               "check_call", "check_output", "Popen", "getoutput"),
    "perl": ("system", "exec", "qx", "open"),
    "ruby": ("system", "exec", "spawn", "IO.popen", "Open3.capture2", "Open3.capture3", "Open3.popen3",
             "%x"),
    "node": ("execSync", "exec", "spawn", "spawnSync", "execFile", "execFileSync", "Bun.spawn", "Bun.spawnSync",
             "Deno.run", "new Deno.Command", "$"),
    "php": ("system", "exec", "shell_exec", "passthru", "popen", "proc_open"),
    "lua": ("os.execute", "io.popen"),
    "awk": ("system",),
    "vim": ("system", "systemlist", "jobstart", "job_start", "termopen", "term_start"),
}
CODE_CALLS = {"python": ("exec", "eval", "compile"), "perl": ("eval",), "ruby": ("eval", "instance_eval"),
              "node": ("eval", "new Function", "vm.runInNewContext", "vm.runInThisContext"), "php": ("eval",),
              "lua": ("load", "loadstring", "dofile"), "awk": (), "vim": ("execute", "exe")}
DELETE_CALLS = {
    "python": ("shutil.rmtree", "os.remove", "os.unlink", "os.rmdir", "os.removedirs", "rmtree", ".unlink",
               ".rmdir", "os.truncate", "send2trash"),
    "perl": ("unlink", "rmtree", "remove_tree", "rmdir", "File::Path::rmtree"),
    "ruby": ("FileUtils.rm_rf", "FileUtils.rm_r", "FileUtils.rm", "FileUtils.rm_f", "FileUtils.remove_dir",
             "FileUtils.remove_entry", "FileUtils.remove_entry_secure", "File.delete", "File.unlink",
             "Dir.rmdir", "Dir.delete", "rm_rf", "rm_r"),
    "node": ("fs.rmSync", "fs.rm", "fs.rmdirSync", "fs.rmdir", "fs.unlinkSync", "fs.unlink", "rmSync", "rmdirSync",
             "unlinkSync", "fsPromises.rm", "fs.promises.rm", "rimraf", "removeSync", "emptyDirSync",
             "Deno.remove", "Deno.removeSync", "fse.remove"),
    "php": ("unlink", "rmdir"),
    "lua": ("os.remove",),
    "awk": (),
    "vim": ("delete",),
}
# Calls that write a whole file, emptying what it held first: judged like `> path` (only a file that
# exists and matters, such as a database or a secrets file, is a finding).
TRUNCATE_CALLS = {
    "python": (".write_text", ".write_bytes"), "perl": (), "php": ("file_put_contents",),
    "ruby": ("File.write", "IO.write", "File.binwrite", "IO.binwrite", "File.truncate"),
    "node": ("fs.writeFileSync", "writeFileSync", "fs.writeFile", "fsPromises.writeFile", "fs.promises.writeFile",
             "fs.truncateSync", "truncateSync", "Deno.writeTextFile", "Deno.writeTextFileSync", "Bun.write"),
    "lua": (), "awk": (), "vim": ("writefile",),
}
# Calls that put another file in place of their second argument (copy over it, move onto it).
REPLACE_CALLS = {
    "python": ("shutil.copy", "shutil.copyfile", "shutil.copy2", "shutil.move", "os.replace", "os.rename",
               "copyfile", "copy2"),
    "perl": ("copy", "move", "File::Copy::copy", "File::Copy::move", "rename"),
    "ruby": ("FileUtils.cp", "FileUtils.copy", "FileUtils.copy_file", "FileUtils.mv", "FileUtils.move",
             "File.rename"),
    "node": ("fs.copyFileSync", "copyFileSync", "fs.renameSync", "renameSync", "fs.copyFile", "fs.rename",
             "fs.cpSync", "cpSync", "fse.copySync", "fse.moveSync"),
    "php": ("copy", "rename"), "lua": ("os.rename",), "awk": (), "vim": ("rename",),
}
MOVES = ("move", "replace", "rename", "mv", "renameSync", "moveSync")
# Calls that open a file with a mode: a mode that truncates ("w", "w+", "wb") empties it at once.
OPEN_CALLS = {"python": ("open", "io.open", "codecs.open"), "lua": ("io.open",), "php": ("fopen",),
              "ruby": ("File.open", "File.new"), "node": ("fs.openSync", "fs.open")}
SQL_STARTS = ("drop ", "truncate ", "delete ", "update ", "alter ", "merge ", "drop\n", "truncate\n", "delete\n")


def classify(inv: Invocation, pack: Pack, ctx: Context) -> list[Finding]:
    lang = LANGS.get(inv.tool) or ("python" if inv.tool.startswith("python") else
                                   "lua" if inv.tool.startswith("lua5.") else None)
    if lang is None:
        return []  # shells, eval and source are unwrapped in unwrap.py
    if lang == "vim":
        return vim_findings(inv, ctx)
    code, reads_stdin = awk_program(inv) if lang == "awk" else inline_code(inv, lang)
    if code is None:
        if reads_stdin and inv.stdin_state in ("unknown", "too-large"):
            return [ctx.finding("shell.pipe-to-shell", inv, f"{inv.tool} runs a script arriving on a pipe")]
        return []
    if code == "\0dynamic":
        return [ctx.finding("shell.interpreter-shell", inv, "the script itself is computed at run time")]
    from agentguard.classify.selfguard import code_findings

    found = scan_code(code[:MAX_CODE], lang, inv, ctx, 0) + code_findings(code[:MAX_CODE], lang, inv, ctx)
    return found or _program_paths(code[:MAX_CODE], lang, inv, ctx)


def _program_paths(code: str, lang: str, inv: Invocation, ctx: Context) -> list[Finding]:
    """A literal path to a program agentguard judges (``'/bin/rm'``, ``'/usr/bin/psql'``) that is not
    what a call read above starts (``from os import execv``, ``import subprocess as s``, ``getattr``,
    asyncio, the sh and plumbum libraries, pcntl_exec): whatever runs it never meets a shim, and it
    cannot be read here, so it is held."""
    from agentguard.classify.selfguard import _folded

    tools = ctx.book["tools"]
    names = tuple(n for n in SHELL_CALLS.get(lang, ()) if n[:1].isalpha() or n[:1] == ".")
    for text in dict.fromkeys((code, _folded(code, lang))):
        for start, _, value in literal_spans(text, lang)[:2000]:
            path = value.strip()
            if not path.startswith(("/", "./", "~/")) or any(ch.isspace() for ch in path) or len(path) > 256:
                continue
            tool = os.path.basename(path)
            if tools.get(tool, "shell") == "shell":  # type: ignore[attr-defined]
                continue
            before = text[max(0, start - 80):start].rstrip()
            before = before[:-1].rstrip() if before.endswith("[") else before
            if before.endswith("(") and _ends_with_call(before[:-1].rstrip(), names, lang):
                continue  # subprocess.run(['/bin/rm', …]), os.execv('/bin/rm', …): judged above as that program
            if lang == "python" and _pattern_spawn_mode(before, names):
                continue
            if before.endswith("(") and _ends_with_call(before[:-1].rstrip(), _LOOKS_AT, lang):
                continue  # os.path.exists('/usr/bin/psql'): a look at the file, nothing run
            return [ctx.finding("shell.interpreter-shell", inv,
                                f"{inv.tool} code names {path}, which it can run past the shims")]
    return []


_LOOKS_AT = ("os.path.exists", "os.path.isfile", "os.path.islink", "os.path.realpath", "os.path.getsize", "os.access",
             "os.stat", "os.lstat", "os.readlink", "print", "file_exists", "is_executable", "existsSync", "statSync",
             "accessSync", "File.exist?", "File.executable?", "-e", "-x")


def _ends_with_call(text: str, names: tuple[str, ...], lang: str) -> bool:
    """Whether ``text`` ends with a call name as calls_at finds it (not ``s.run``, not ``pcntl_exec``)."""
    for name in names:
        if not text.endswith(name):
            continue
        k = len(text) - len(name)
        before = text[k - 1] if k > 0 else " "
        if name[0].isalpha() and (before.isalnum() or before == "_" or
                                  (before == "." and lang == "python" and not name.startswith("."))):
            continue
        return True
    return False


def _pattern_spawn_mode(before: str, names: tuple[str, ...]) -> bool:
    """os.spawnv(os.P_WAIT, '/bin/rm', …): the program follows the mode."""
    head, comma, _ = before.rpartition(",")
    return bool(comma) and head.rstrip().rpartition("(")[0].rstrip().endswith(tuple(n for n in names if "spawn" in n))


def inline_code(inv: Invocation, lang: str) -> tuple[str | None, bool]:
    """(inline script or None, whether the interpreter reads its script from stdin)."""
    argv = inv.argv
    parts: list[str] = []
    i = 0
    while i < len(argv):
        tok = argv[i]
        nxt = argv[i + 1] if i + 1 < len(argv) else None
        code_index = None
        if lang == "python":
            if tok == "-c":
                code_index = i + 1
            elif tok.startswith("-c") and len(tok) > 2:
                parts.append(tok[2:])
                return "\n".join(parts), False
            elif tok in ("-m",) or (tok.startswith("-m") and len(tok) > 2):
                return None, False
            elif tok in ("-W", "-X", "--check-hash-based-pycs"):
                i += 2
                continue
            elif tok.startswith("-") and tok != "-" and "c" in tok[1:] and not tok.startswith("--"):
                code_index = i + 1
        elif lang in ("perl", "ruby"):
            if len(tok) > 2 and tok.startswith(("-M", "-m", "-I", "-r", "-i", "-x", "-d", "-C")):
                pass  # an attached value (-MFile::Path=rmtree, -rfileutils), not -e
            elif tok.startswith("-") and not tok.startswith("--") and tok != "-" and tok[-1] in "eE":
                code_index = i + 1
        elif lang == "node":
            if inv.tool == "deno" and tok == "eval":
                code_index = i + 1
            elif tok in ("-e", "--eval", "-p", "--print", "-pe"):
                code_index = i + 1
            elif tok.startswith(("--eval=", "--print=")):
                parts.append(tok.split("=", 1)[1])
                i += 1
                continue
        elif lang == "php" and tok == "-r":
            code_index = i + 1
        elif lang == "lua" and tok == "-e":
            code_index = i + 1
        elif lang == "lua" and tok in ("-l",):
            i += 2
            continue
        if code_index is not None:
            if nxt is None:
                return None, False
            if inv.is_dynamic(code_index):
                return "\0dynamic", False
            parts.append(nxt)
            i += 2
            if lang == "python":
                break
            continue
        if not tok.startswith("-") or tok == "-":
            # The first operand is a script file (or - for stdin); the rest are its arguments.
            if parts:
                break
            if tok == "-":
                return _stdin_code(inv)
            return None, False
        i += 1
    if parts:
        return "\n".join(parts), False
    return _stdin_code(inv)


def _stdin_code(inv: Invocation) -> tuple[str | None, bool]:
    if inv.stdin_state == "text" and inv.stdin is not None:
        return inv.stdin, True
    return None, inv.stdin_state != "none"


def scan_code(code: str, lang: str, inv: Invocation, ctx: Context, depth: int, where: str = "") -> list[Finding]:
    """Findings for a script's code. ``where`` names the file it was read from: each finding then
    says the line of the call behind it (``scripts/clean.py:12``)."""
    found: list[Finding] = []
    if depth > 4:
        return [ctx.finding("shell.interpreter-shell", inv, "code evaluated inside code, too deeply to follow")]
    quiet = _comments_and_docs(code) if where and lang == "python" else None

    def at(pos: int, findings: list[Finding]) -> list[Finding]:
        if not where or not findings:
            return findings
        from agentguard.context import located

        return located(findings, f"{where}:{code.count(chr(10), 0, pos) + 1}")

    aliases = python_aliases(code) if lang == "python" else node_aliases(code) if lang == "node" else {}

    spans = literal_spans(code, lang)
    # A word inside a string is text, not a call without parentheses: `puts "bundle exec rubocop"`.
    # (One with them is kept: `"#{system("x")}"` interpolates a call.)
    texts = [(start, end) for start, end, _ in spans]

    def seen(names: tuple[str, ...]) -> list[tuple[int, str, str]]:
        spelled = names + tuple(a for a, real in aliases.items() if real in names)
        raw = calls_at(code, spelled, lang == "python")
        if lang != "python":
            raw = [(k, n, rest) for k, n, rest in raw
                   if code[k + len(n):].lstrip(" \t")[:1] == "(" or not any(a < k < b for a, b in texts)]
        hits = [(k, aliases.get(n, n), rest) for k, n, rest in raw]
        return [h for h in hits if not _inside(quiet, h[0])] if quiet else hits

    literals = [value for _, _, value in spans]
    for pos, name, args_text in seen(SHELL_CALLS[lang]):
        if name == "open" and lang == "perl" and "|" not in args_text:
            continue  # perl open() runs a command only with a pipe in the mode or name
        if lang == "node" and name == "$" and not args_text.startswith("`"):
            continue
        # Bare run()/call()/exec()/spawn() are shell calls only where the module that has them is used.
        if lang == "python" and "." not in name and "subprocess" not in code:
            continue
        if lang == "node" and "." not in name and name != "$" and "child_process" not in code and "execa" not in code:
            continue
        found += at(pos, _judge_shell_call(name, args_text, lang, inv, ctx))
    if lang in ("perl", "ruby", "php"):
        for pos, text in _backtick_bodies_at(code):
            found += at(pos, ctx.nested(text, inv, f"{inv.tool} `…`"))
    for pos, name, args_text in seen(CODE_CALLS[lang]):
        lit = first_literal(args_text, lang)
        if lit is None:
            computed = ctx.finding("shell.interpreter-shell", inv, f"{name}(…) runs code computed at run time")
            found += at(pos, [computed])
        else:
            found += at(pos, scan_code(lit, lang, inv, ctx, depth + 1))
    for pos, name, args_text in seen(DELETE_CALLS[lang]):
        lit = first_literal(args_text, lang)
        if lit is None and name.startswith("."):
            lit = _receiver_literal(code[:pos + len(name) + 1], name, lang)
        if lit is None or "\0" in lit:
            found += at(pos, [ctx.finding("shell.interpreter-delete", inv, f"{name}(…) with a computed path")])
            continue
        recursive = any(k in name for k in ("rmtree", "rm_rf", "rm_r", "remove_tree", "rmSync", "fs.rm", "rimraf",
                                             "removeSync", "emptyDir", "Deno.remove", "remove_dir", "remove_entry"))
        argv: tuple[str, ...] = ("-rf", lit) if recursive else (lit,)
        removal = inv.replace(tool="rm", argv=argv, dynamic=(), globs=(), via=inv.via + (f"{inv.tool} {name}",))
        found += at(pos, ctx.nested_invocation(removal))
    for pos, name, deletes in references(code, lang, aliases):
        if quiet and _inside(quiet, pos):
            continue
        rule, what = ("shell.interpreter-delete", "deletes") if deletes else ("shell.interpreter-shell", "runs commands")
        found += at(pos, [ctx.finding(rule, inv, f"{name} is passed on as a value: it {what} with arguments "
                                                 "computed at run time")])
    found += _truncating_writes(code, lang, inv, ctx, seen, at)
    if lang == "awk":
        found += _awk_pipes_and_redirects(code, inv, ctx, at)
    for pos, _, lit in spans:
        if lit.lstrip().lower().startswith(SQL_STARTS):
            from agentguard.classify.sql import classify_sql

            found += at(pos, classify_sql(lit, "postgres", inv, ctx))
        if "mutation" in lit:
            from agentguard.classify.http import judge_graphql

            found += at(pos, judge_graphql([lit], inv, ctx, "http.graphql-destructive", "http.graphql-unreadable")[0])
    if lang in ("python", "ruby", "node", "php"):
        from agentguard.classify.ormcalls import orm_findings

        found += orm_findings(code, lang, inv, ctx, at)
    # HTTP deletes from code: requests.delete(…), axios.delete(…), fetch(url, {method: "DELETE"})
    hits = [code.find(call) for call in HTTP_DELETE_CALLS if call in code and not _orm_session(call, code)]
    if hits or "DELETE" in literals:
        pos = min(hits) if hits else next(p for p, _, v in spans if v == "DELETE")
        found += at(pos, [ctx.finding("http.delete", inv, "an inline script sends an HTTP DELETE")])
    return found


def _truncating_writes(code: str, lang: str, inv: Invocation, ctx: Context, seen, at) -> list[Finding]:  # type: ignore[no-untyped-def]
    from agentguard.classify.files import overwrite_findings

    found: list[Finding] = []
    for pos, name, args_text in seen(TRUNCATE_CALLS.get(lang, ())):
        if name.startswith("."):  # Path("x").write_text(…): the path is the receiver
            lit = _receiver_literal(code[:pos + len(name) + 1], name, lang)
        else:
            lit = first_literal(args_text, lang)
        if lang == "vim" and lit is None:  # writefile(LINES, "path"): the path is the second argument
            args = _literal_args(args_text[args_text.find(",") + 1:], lang) if "," in args_text else None
            lit = args[0] if args else None
        if lit and "\0" not in lit:
            found += at(pos, overwrite_findings(lit, False, f"{inv.tool} {name}(…)", inv.cwd, ctx))
    for pos, name, args_text in seen(OPEN_CALLS.get(lang, ())):
        args = _literal_args(args_text, lang)
        if args and len(args) >= 2 and "w" in args[1] and "\0" not in args[0]:
            found += at(pos, overwrite_findings(args[0], False, f"{inv.tool} {name}(…, {args[1]!r})", inv.cwd, ctx))
    for pos, name, args_text in seen(REPLACE_CALLS.get(lang, ())):
        second = _argument(args_text, 1)  # the source may be computed; the destination is what goes
        dest = first_literal(second, lang) if second is not None else None
        literal = bool(dest) and "\0" not in (dest or "") and second is not None and \
            _skip_literal(second.lstrip()) >= len(second.strip())
        if literal and dest:
            found += at(pos, overwrite_findings(dest, False, f"{inv.tool} {name}(…, {dest!r})", inv.cwd, ctx))
        first = _argument(args_text, 0)
        src = first_literal(first, lang) if first is not None and name.rsplit(".", 1)[-1] in MOVES else None
        if src and "\0" not in src and first is not None and _skip_literal(first.lstrip()) >= len(first.strip()):
            from agentguard.classify.files import move_findings

            # A move takes the source away from where it was, as `mv SRC DEST` does.
            moved = inv.replace(tool="mv", argv=(src, dest if literal and dest else "?"), dynamic=() if literal else (1,),
                                globs=(), via=(*inv.via, f"{inv.tool} {name}"))
            found += at(pos, move_findings(moved, ctx))
    if lang == "perl":
        found += _perl_open_writes(code, inv, ctx, seen, at)
    return found


def _perl_open_writes(code: str, inv: Invocation, ctx: Context, seen, at) -> list[Finding]:  # type: ignore[no-untyped-def]
    """Perl's open(FH, ">", PATH) and open(FH, ">PATH"): a write mode (> or +>) empties the file;
    >> and +< keep it."""
    from agentguard.classify.files import overwrite_findings

    found: list[Finding] = []
    for pos, name, args_text in seen(("open",)):
        args = _literal_args(args_text.split(",", 1)[1] if "," in args_text else "", "perl") or []
        if len(args) >= 2 and args[0].strip() in (">", "+>", ">:raw", ">:utf8", ">:encoding(UTF-8)"):
            path = args[1]
        elif len(args) == 1 and args[0].lstrip().startswith(">") and not args[0].lstrip().startswith(">>"):
            path = args[0].lstrip()[1:].strip()
        elif len(args) == 1 and args[0].lstrip().startswith("+>"):
            path = args[0].lstrip()[2:].strip()
        else:
            continue
        if path and "\0" not in path:
            found += at(pos, overwrite_findings(path, False, f"perl open(…, '>', {path!r})", inv.cwd, ctx))
    return found


def awk_program(inv: Invocation) -> tuple[str | None, bool]:
    """The program awk runs: the first operand, or what -e/--source give (gawk), or the files -f
    names (read when small); None when there is none to read."""
    argv = inv.argv
    parts: list[str] = []
    i = 0
    while i < len(argv):
        tok = argv[i]
        if tok == "--":
            i += 1
            break
        if tok in ("-F", "-v", "--assign", "--field-separator", "-i", "--include", "-l", "--load"):
            i += 2
            continue
        if tok in ("-f", "--file", "-e", "--source") or tok.startswith(("--file=", "--source=")):
            if "=" in tok:
                value, k = tok.split("=", 1)[1], i
            elif i + 1 < len(argv):
                value, k = argv[i + 1], i + 1
                i += 1
            else:
                return None, False
            if inv.is_dynamic(k):
                return "\0dynamic", False
            parts.append(value if tok.startswith(("-e", "--source")) else _small_file(value, inv.cwd))
            i += 1
            continue
        if tok.startswith("-") and tok != "-":
            i += 1
            continue
        break
    if parts:
        return "\n".join(parts), False
    if i < len(argv):
        return ("\0dynamic", False) if inv.is_dynamic(i) else (argv[i], False)
    return None, False


def _small_file(path: str, cwd: str) -> str:
    full = path if os.path.isabs(path) or not cwd else os.path.join(cwd, path)
    try:
        with open(full, encoding="utf-8", errors="replace") as f:
            return f.read(MAX_CODE)
    except OSError:
        return ""


def _awk_pipes_and_redirects(code: str, inv: Invocation, ctx: Context, at) -> list[Finding]:  # type: ignore[no-untyped-def]
    """`print … | "sh"` and `"cmd" | getline` run a command; `print > "file"` empties the file; a
    pipe from print to a computed command fails closed."""
    from agentguard.classify.files import overwrite_findings

    found: list[Finding] = []
    spans = literal_spans(code, "awk")
    for pos, end, lit in spans:
        before = code[:pos].rstrip()
        after = code[end:].lstrip()
        if before.endswith("|") and not before.endswith("||"):
            from agentguard.classify.unwrap import SHELLS

            words = lit.split()
            if words and os.path.basename(words[0]) in SHELLS and "-c" not in words:
                # `print … | "sh"`: the shell runs whatever the lines printed say, known only at run time
                found += at(pos, [ctx.finding("shell.pipe-to-shell", inv, f"{inv.tool} prints commands into {words[0]}")])
            else:
                found += at(pos, ctx.nested(lit, inv, f"{inv.tool} print | …"))
        elif after.startswith("|") and not after.startswith("||") and after[1:].lstrip().startswith("getline"):
            found += at(pos, ctx.nested(lit, inv, f"{inv.tool} … | getline"))
        elif before.endswith(">") and not before.endswith((">>", "=>", "<>")):
            found += at(pos, overwrite_findings(lit, False, f"{inv.tool} print > {lit}", inv.cwd, ctx))
    inside = [(p, e) for p, e, _ in spans]
    for k, ch in enumerate(code):
        if ch != "|" or code[k - 1:k] == "|" or code[k + 1:k + 2] == "|" or any(p <= k < e for p, e in inside):
            continue
        statement = code[:k].replace("}", ";").replace("{", ";").replace("\n", ";").rsplit(";", 1)[-1]
        rest = code[k + 1:].lstrip()
        computed_target = statement.lstrip().startswith(("print", "printf")) and rest[:1] not in ("'", '"')
        computed_source = rest.startswith("getline") and not statement.rstrip().endswith(('"', "'"))
        if computed_target or computed_source:
            found += at(k, [ctx.finding("shell.interpreter-shell", inv, "awk pipes to or from a command computed at run time")])
            break
    return found


def vim_findings(inv: Invocation, ctx: Context) -> list[Finding]:
    """What ``vim -c CMD``, ``+CMD`` and ``--cmd CMD`` run: ``!cmd`` and ``r !cmd`` are shell
    commands, ``delete(path, "rf")`` removes a tree, ``system()`` runs a command."""
    cmds: list[str] = []
    argv = inv.argv
    i = 0
    while i < len(argv):
        tok = argv[i]
        # `ex -sc CMD`: vim reads the letters of a short option one by one, and c takes the next argument
        clustered = len(tok) > 2 and tok[0] == "-" and tok[1] != "-" and tok[-1] == "c" and set(tok[1:-1]) <= set("esENnRbZAlmMhLy")
        if (tok in ("-c", "--cmd") or clustered) and i + 1 < len(argv):
            if inv.is_dynamic(i + 1):
                return [ctx.finding("shell.interpreter-shell", inv, f"{inv.tool} {tok} runs a command computed at run time")]
            cmds.append(argv[i + 1])
            i += 2
            continue
        if tok.startswith("+") and len(tok) > 1 and not tok[1:].isdigit() and tok[1] != "/":
            cmds.append(tok[1:])
        i += 1
    found: list[Finding] = []
    pieces = [c.strip().lstrip(":").strip() for text in cmds for c in text.split("|")]  # `:cmd1 | cmd2`
    for cmd in pieces:
        found += _vim_command(cmd, inv, ctx)
    # `-c '%d' -c wq FILE`: every line deleted, then written: the file is emptied
    empties = any(c in ("%d", "%delete", "1,$d", "1,$delete", "%d_", "%norm dd") or c.startswith(("%d ", "%s/.*//", "%delete "))
                  for c in pieces)
    writes = any(c.rstrip("!") in ("w", "wq", "x", "up", "update", "write", "xit", "wqa", "xa", "wa") for c in pieces)
    if empties and writes:
        from agentguard.classify.files import overwrite_findings

        for k, a in enumerate(argv):
            before = argv[k - 1] if k else ""
            if a.startswith(("-", "+")) or before in ("-c", "--cmd", "-S", "-u", "-i", "-T", "-w", "-W") or \
                    (before.startswith("-") and not before.startswith("--") and before.endswith("c")):
                continue
            found += overwrite_findings(a, inv.is_dynamic(k), f"{inv.tool} %d | w {a}", inv.cwd, ctx)
    return found


def _vim_command(cmd: str, inv: Invocation, ctx: Context) -> list[Finding]:
    c = cmd.strip().lstrip(":").strip()
    while c.startswith(("silent!", "silent ", "sil ", "sil!", "keepalt ", "noautocmd ")):
        c = c.split(None, 1)[1] if " " in c else ""
    words = c.split(None, 1)
    if c.startswith("!"):
        return ctx.nested(c[1:], inv, f"{inv.tool} :!")
    if words and words[0].rstrip("!") in ("r", "read", "w", "write") and len(words) > 1 and words[1].startswith("!"):
        return ctx.nested(words[1][1:], inv, f"{inv.tool} :{words[0]} !")
    found: list[Finding] = []
    for pos, name, args_text in calls_at(c, ("delete",)):
        args = _literal_args(args_text, "vim")
        if args is None:
            found.append(ctx.finding("shell.interpreter-delete", inv, "delete(…) with a computed path"))
            continue
        if not args:
            continue
        recursive = len(args) > 1 and ("rf" in args[1] or "d" in args[1])
        removal = inv.replace(tool="rm", argv=("-rf", args[0]) if recursive else (args[0],), dynamic=(), globs=(),
                              via=inv.via + (f"{inv.tool} delete()",))
        found += ctx.nested_invocation(removal)
    return found + scan_code(c, "vim", inv, ctx, 0)


def _comments_and_docs(code: str) -> list[tuple[int, int]] | None:
    """Where a Python file holds comments and docstrings (offsets), so that a call mentioned there
    is not read as one; None when the file does not tokenize (then everything is read)."""
    import io
    import tokenize

    starts = [0]
    for line in code.splitlines(keepends=True):
        starts.append(starts[-1] + len(line))
    out = []
    previous = tokenize.NEWLINE
    try:
        for tok in tokenize.generate_tokens(io.StringIO(code).readline):
            if tok.type == tokenize.COMMENT or (tok.type == tokenize.STRING and previous in (
                    tokenize.NEWLINE, tokenize.NL, tokenize.INDENT, tokenize.DEDENT)):
                out.append((starts[tok.start[0] - 1] + tok.start[1], starts[tok.end[0] - 1] + tok.end[1]))
            if tok.type not in (tokenize.COMMENT, tokenize.NL):
                previous = tok.type
    except (tokenize.TokenError, SyntaxError, IndexError):
        return None
    return out


def _inside(spans: list[tuple[int, int]], pos: int) -> bool:
    return any(a <= pos < b for a, b in spans)


HTTP_DELETE_CALLS = ("requests.delete(", "httpx.delete(", "session.delete(", "client.delete(", "axios.delete(",
                     "HTTParty.delete(", "RestClient.delete(", "Net::HTTP::Delete", "urllib3.request(\"DELETE\"",
                     "ky.delete(", "got.delete(", "superagent.delete(")


def _orm_session(call: str, code: str) -> bool:
    """`db.session.delete(user)`: an ORM session deleting the one object it is given (SQLAlchemy,
    Flask-SQLAlchemy), not an HTTP client's, when no HTTP client library is in the code."""
    return call == "session.delete(" and not any(lib in code for lib in ("requests", "httpx", "aiohttp", "urllib3",
                                                                         "Session(", "fetch"))


def _receiver_literal(code: str, name: str, lang: str) -> str | None:
    """`Path('x.txt').unlink()`: the path is the literal given to the object the method is called on."""
    k = code.find(name + "(")
    head = code[:k].rstrip()
    if not head.endswith(")"):
        return None
    open_paren = head.rfind("(")
    if open_paren < 0 or not head[:open_paren].rstrip().endswith(("Path", "pathlib.Path", "PosixPath")):
        return None
    return first_literal(head[open_paren + 1:], lang)


def _judge_shell_call(name: str, args_text: str, lang: str, inv: Invocation, ctx: Context) -> list[Finding]:
    via = f"{inv.tool} {name}()"
    stripped = args_text.lstrip()
    if stripped.startswith("["):
        items = list_literal(stripped, lang)
        if items is None:
            return [ctx.finding("shell.interpreter-shell", inv, f"{name}([…]) with computed arguments")]
        if not items:
            return []
        inner = inv.replace(tool=os.path.basename(items[0]), argv=tuple(items[1:]), dynamic=(), globs=(),
                            stdin=None, stdin_state="none", via=inv.via + (via,), source=" ".join(items))
        return ctx.nested_invocation(inner)
    if lang == "python" and name.startswith("os.spawn"):
        # os.spawnv(mode, path, args): the mode comes first
        comma = stripped.find(",")
        if comma < 0:
            return [ctx.finding("shell.interpreter-shell", inv, f"{name}(…) runs a command computed at run time")]
        stripped = stripped[comma + 1:].lstrip()
    lit = first_literal(stripped, lang)
    if lit is None or "\0" in lit:
        return [ctx.finding("shell.interpreter-shell", inv, f"{name}(…) runs a command computed at run time")]
    if lang == "python" and name.endswith("create_subprocess_exec"):  # (program, *args)
        rest = stripped[_skip_literal(stripped):].lstrip()
        items = _literal_args(rest[1:], lang) if rest.startswith(",") else [] if rest.startswith(")") else None
        if items is None:
            return [ctx.finding("shell.interpreter-shell", inv, f"{name}(…) with computed arguments")]
        inner = inv.replace(tool=os.path.basename(lit), argv=tuple(items), dynamic=(), globs=(),
                            stdin=None, stdin_state="none", via=inv.via + (f"{inv.tool} {name}()",),
                            source=" ".join([lit, *items]))
        return ctx.nested_invocation(inner)
    if lang == "python" and name.startswith(("os.exec", "os.spawn", "os.posix_spawn")):
        # os.execv(path, [argv0, *args]) and os.execl(path, argv0, *args): the program, then its argv
        # (argv0 included); past the shims when path is absolute, so judged here as that program
        rest = stripped[_skip_literal(stripped):].lstrip()
        rest = rest[1:].lstrip() if rest.startswith(",") else ""
        items = list_literal(rest, lang) if rest.startswith(("[", "(")) else _literal_args(rest, lang)
        if rest.startswith("(") and items is None:
            items = list_literal("[" + rest[1:].replace(")", "]", 1), lang)
        if items is None:
            return [ctx.finding("shell.interpreter-shell", inv, f"{name}(…) with computed arguments")]
        inner = inv.replace(tool=os.path.basename(lit), argv=tuple(items[1:]), dynamic=(), globs=(),
                            stdin=None, stdin_state="none", via=inv.via + (f"{inv.tool} {name}()",),
                            source=" ".join([lit, *items[1:]]))
        return ctx.nested_invocation(inner)
    if lang in ("node", "ruby", "perl", "php") and name in ("spawn", "spawnSync", "execFile", "execFileSync",
                                                            "exec", "system") and "," in stripped:
        # spawn("rm", ["-rf", "x"]) / system("rm", "-rf", "x"): program and argv given separately
        rest = stripped[stripped.find(",") + 1:].lstrip()
        items = list_literal(rest, lang) if rest.startswith("[") else _literal_args(rest, lang)
        if items is not None and not (name in ("exec", "system") and lang in ("node", "php")):
            inner = inv.replace(tool=os.path.basename(lit), argv=tuple(items), dynamic=(), globs=(),
                                stdin=None, stdin_state="none", via=inv.via + (via,), source=" ".join([lit, *items]))
            return ctx.nested_invocation(inner)
    return ctx.nested(lit, inv, via)


def calls_at(code: str, names: tuple[str, ...], python: bool = False) -> list[tuple[int, str, str]]:
    """(offset, name, text after the opening parenthesis) for each call of one of ``names``."""
    out = []
    for name in names:
        start = 0
        while True:
            k = code.find(name, start)
            if k < 0:
                break
            start = k + len(name)
            before = code[k - 1] if k > 0 else " "
            # Python lists module-qualified names (subprocess.run); a bare `run` must not be `asyncio.run`.
            attribute_ok = not python or name.startswith(".")
            if name[0].isalpha() and (before.isalnum() or before == "_" or (before == "." and not attribute_ok)):
                continue
            j = start
            while j < len(code) and code[j] in " \t":
                j += 1
            if j < len(code) and code[j] == "(":
                out.append((k, name, code[j + 1:j + 2000]))
            elif j < len(code) and code[j] in "'\"`{[/" and (name in ("system", "exec", "qx", "unlink", "rmdir", "%x",
                                                                      "$", "eval", "rmtree", "open", "os.execute",
                                                                      "os.remove", "io.popen")
                                                                   or (not python and j > start and code[j] in "'\"")):
                out.append((k, name, code[j:j + 2000]))  # perl/ruby call without parentheses; qx{…}; $`…`
            elif not python and j > start and j < len(code) and (code[j].isalpha() or code[j] in "$@"):
                out.append((k, name, code[j:j + 2000]))  # perl/ruby: `unlink glob "*"`, `system $cmd`
    return out


def first_literal(text: str, lang: str) -> str | None:
    """The string literal at the start of ``text`` (after whitespace), or None when it is computed.
    Interpolated parts (f-strings, template literals, "$x" in perl/ruby/php) are returned with a NUL."""
    t = text.lstrip()
    prefix = ""
    while t[:1].lower() in ("r", "b", "u", "f") and len(t) > 1 and t[1] in "'\"rbfRBF":
        prefix += t[0].lower()
        t = t[1:]
    if not t or t[0] not in "'\"`":
        return None
    quote = t[0]
    value: str | None
    if lang == "python" and t.startswith(quote * 3):
        end = t.find(quote * 3, 3)
        if end < 0:
            return None
        value = t[3:end]
    else:
        value, end = _read_quoted(t, quote)
        if value is None:
            return None
    after = t[end + (3 if lang == "python" and t.startswith(quote * 3) else 1):].lstrip()
    if after[:1] in ("+", "%") or after.startswith((".format", "||")):
        return None  # the string is built up further
    if lang in ("awk", "lua") and after[:1] not in ("", ")", ",", ";", "}", "|", ">", "\n") and not after.startswith(("]",)):
        return None  # awk joins strings by juxtaposition ("rm " $1), Lua with `..`
    interpolated = ("f" in prefix or quote == "`" and "${" in value or
                    quote == '"' and lang in ("perl", "ruby", "php") and ("$" in value or "#{" in value))
    if interpolated:
        return value + "\0"
    return value


def _read_quoted(t: str, quote: str) -> tuple[str | None, int]:
    out = []
    i = 1
    while i < len(t):
        ch = t[i]
        if ch == "\\" and i + 1 < len(t):
            nxt = t[i + 1]
            out.append({"n": "\n", "t": "\t"}.get(nxt, nxt))
            i += 2
            continue
        if ch == quote:
            return "".join(out), i
        out.append(ch)
        i += 1
    return None, i


def _argument(text: str, n: int) -> str | None:
    """The text of argument ``n`` of a call whose arguments start ``text`` (commas inside quotes and
    brackets do not separate); None when the call has fewer."""
    depth, quote, start, index = 0, "", 0, 0
    i = 0
    while i < len(text):
        ch = text[i]
        if quote:
            if ch == "\\":
                i += 1
            elif ch == quote:
                quote = ""
        elif ch in "'\"`":
            quote = ch
        elif ch in "([{":
            depth += 1
        elif ch in ")]}":
            if depth == 0:
                return text[start:i] if index == n else None
            depth -= 1
        elif ch == "," and depth == 0:
            if index == n:
                return text[start:i]
            index, start = index + 1, i + 1
        i += 1
    return text[start:] if index == n else None


def _literal_args(text: str, lang: str) -> list[str] | None:
    items: list[str] = []
    rest = text
    while True:
        rest = rest.lstrip()
        if rest.startswith(")"):
            return items
        lit = first_literal(rest, lang)
        if lit is None or "\0" in lit:
            return None
        items.append(lit)
        k = _skip_literal(rest)
        rest = rest[k:].lstrip()
        if rest.startswith(","):
            rest = rest[1:]
        elif rest.startswith(")") or not rest:
            return items
        else:
            return None


def list_literal(text: str, lang: str) -> list[str] | None:
    """["rm", "-rf", "x"] → its items, or None when any item is computed."""
    if not text.startswith("["):
        return None
    items: list[str] = []
    rest = text[1:]
    while True:
        rest = rest.lstrip()
        if rest.startswith("]"):
            return items
        lit = first_literal(rest, lang)
        if lit is None or "\0" in lit:
            return None
        items.append(lit)
        rest = rest[_skip_literal(rest):].lstrip()
        if rest.startswith(","):
            rest = rest[1:]
        elif not rest.startswith("]"):
            return None


def _skip_literal(t: str) -> int:
    i = 0
    while i < len(t) and t[i] not in "'\"`":
        i += 1
    if i >= len(t):
        return len(t)
    if t.startswith(t[i] * 3, i):
        end = t.find(t[i] * 3, i + 3)
        return end + 3 if end >= 0 else len(t)
    _, end = _read_quoted(t[i:], t[i])
    return i + end + 1


def string_literals(code: str, lang: str) -> list[str]:
    return [value for _, _, value in literal_spans(code, lang)]


def literal_spans(code: str, lang: str) -> list[tuple[int, int, str]]:
    """(start, end, value) of each string literal in ``code``, in order; comments are skipped."""
    out = []
    i = 0
    n = len(code)
    while i < n:
        ch = code[i]
        if ch == "#" and lang in ("python", "ruby", "perl"):
            nl = code.find("\n", i)
            i = n if nl < 0 else nl
            continue
        if ch in "'\"`":
            if lang == "python" and code.startswith(ch * 3, i):
                end = code.find(ch * 3, i + 3)
                if end < 0:
                    break
                out.append((i, end + 3, code[i + 3:end]))
                i = end + 3
                continue
            value, end = _read_quoted(code[i:], ch)
            if value is None:
                break
            out.append((i, i + end + 1, value))
            i += end + 1
            continue
        i += 1
    return out


def _backtick_bodies_at(code: str) -> list[tuple[int, str]]:
    out = []
    i = code.find("`")
    while i >= 0:
        j = code.find("`", i + 1)
        if j < 0:
            break
        out.append((i, code[i + 1:j]))
        i = code.find("`", j + 1)
    for opener, closer in (("qx{", "}"), ("qx(", ")"), ("%x{", "}"), ("%x(", ")")):
        k = code.find(opener)
        while k >= 0:
            e = code.find(closer, k + 3)
            if e < 0:
                break
            out.append((k, code[k + 3:e]))
            k = code.find(opener, e)
    return out


# A destructive function used as a value runs on arguments nobody can read at its name:
# `map(os.remove, paths)`, `f = shutil.rmtree`, `{rmSync: r} = require("fs")`, `array_map("unlink", …)`,
# `File.method(:delete)`, perl's `unlink` with no argument (it takes `$_`). Names generic enough to be
# something else (`run`, `exec`, `.unlink`) are left to the call readers above.
_REFERENCE_NAMES = frozenset({
    "rmtree", "rm_rf", "rm_r", "remove_tree", "rmSync", "rmdirSync", "unlinkSync", "rimraf", "removeSync",
    "emptyDirSync", "shell_exec", "passthru", "proc_open", "execSync", "spawnSync", "execFileSync"})
_BY_NAME = {  # functions a string or symbol names for a callback, by language
    "php": frozenset({"unlink", "rmdir", "system", "exec", "shell_exec", "passthru", "popen", "proc_open"}),
    "ruby": frozenset({"rm_rf", "rm_r", "rm", "rm_f", "remove_dir", "remove_entry", "remove_entry_secure", "delete",
                       "unlink", "rmdir", "system", "exec", "spawn"}),
}
_BARE_DEFAULT = {"perl": ("unlink", "rmdir")}  # with no argument they act on $_


def python_aliases(code: str) -> dict[str, str]:
    """Other spellings of the module functions the readers know, by the name they stand for:
    `import shutil as s` makes `s.rmtree` shutil.rmtree, `from os import remove as rm` makes `rm`
    os.remove, and `__import__("shutil")` or `importlib.import_module("shutil")` stand for shutil."""
    import re

    known = {n for table in (SHELL_CALLS, DELETE_CALLS, CODE_CALLS) for n in table["python"] if "." in n.strip(".")}
    modules: dict[str, str] = {}  # spelling → module
    for m in re.finditer(r"(?:^|;)[ \t]*import[ \t]+([\w., \t]+)(?=;|$)", code, re.M):
        for part in m.group(1).split(","):
            words = part.split()
            if len(words) == 3 and words[1] == "as":
                modules[words[2]] = words[0]
    for m in re.finditer(r"(?:__import__|importlib\.import_module)\(\s*(['\"])([\w.]+)\1\s*\)", code):
        modules[m.group(0)] = m.group(2)
    out: dict[str, str] = {}
    for spelling, module in modules.items():
        for name in known:
            if name.startswith(module + ".") and spelling != module:
                out[spelling + name[len(module):]] = name
    for m in re.finditer(r"(?:^|;)[ \t]*from[ \t]+([\w.]+)[ \t]+import[ \t]+\(?([\w, \t]+)\)?[ \t]*(?=;|$)", code, re.M):
        for part in m.group(2).split(","):
            words = part.split()
            if len(words) == 3 and words[1] == "as" and f"{m.group(1)}.{words[0]}" in known:
                out[words[2]] = f"{m.group(1)}.{words[0]}"
    return out


_NODE_FS = ("fs", "fs/promises", "node:fs", "node:fs/promises", "fs-extra")


def node_aliases(code: str) -> dict[str, str]:
    """Other spellings of fs's deleting functions: `const fsp = require("fs/promises")` makes
    `fsp.rm` fs.rm, `const {rm: del} = require("fs/promises")` or `import {unlink} from "fs"` makes
    the bound name fs's, and `fs["rmSync"]` is fs.rmSync."""
    import re

    known = {n for n in DELETE_CALLS["node"] if n.startswith("fs.")}
    source = r"(?:require\(\s*|from\s+)(?P<q>['\"`])(?:" + "|".join(re.escape(m) for m in _NODE_FS) + r")(?P=q)"
    spellings = {"fs"}
    out: dict[str, str] = {}
    for m in re.finditer(r"(?:const|let|var|import)\s+(?:\*\s+as\s+)?([\w$]+)\s*(?:=\s*)?" + source, code):
        spellings.add(m.group(1))
    for m in re.finditer(r"(?:const|let|var|import)\s*\{([^}]*)\}\s*(?:=\s*)?" + source, code):
        for item in m.group(1).split(","):
            words = item.replace(":", " as ").split()
            name, bound = (words[0], words[2]) if len(words) == 3 and words[1] == "as" else ((words or [""])[0], "")
            if f"fs.{name}" in known:
                out[bound or name] = f"fs.{name}"
    for spelling in spellings:
        for name in known:
            attr = name[3:]
            if spelling != "fs":
                out[f"{spelling}.{attr}"] = name
            for q in "'\"":
                out[f"{spelling}[{q}{attr}{q}]"] = name
    return out


def references(code: str, lang: str, aliases: dict[str, str] | None = None) -> list[tuple[int, str, bool]]:
    """(offset, name, deletes) of each destructive function used other than by calling it with its
    arguments written out; ``deletes`` False for one that runs a command. ``aliases`` are other
    spellings of those names (python_aliases)."""
    out: list[tuple[int, str, bool]] = []
    deletes = {n for n in DELETE_CALLS.get(lang, ()) if "." in n.strip(".") or n in _REFERENCE_NAMES}
    if lang == "python":
        deletes |= {"Path.unlink", "Path.rmdir", "pathlib.Path.unlink", "pathlib.Path.rmdir"}  # the method as a function
    shells = {n for n in SHELL_CALLS.get(lang, ()) if "." in n.strip(".") or n in _REFERENCE_NAMES}
    for spelling, real in (aliases or {}).items():
        (deletes if real in deletes else shells if real in shells else set()).add(spelling)
    for names, kind in ((deletes, True), (shells, False)):
        for name in names:
            start = 0
            while (k := code.find(name, start)) >= 0:
                start = k + len(name)
                before = code[k - 1] if k else " "
                if name[0].isalpha() and (before.isalnum() or before in "_.$"):
                    continue
                after = code[start:start + 1]
                if after.isalnum() or after == "_":
                    continue
                rest = code[start:start + 40].lstrip(" \t")
                if rest.startswith(("(", ".")) or lang != "python" and (
                        rest.startswith(("'", '"', "`", "$", "@")) or rest[:1].isalpha()):
                    continue  # a call (the readers above judge its arguments), or one of its attributes
                begin = max(code.rfind("\n", 0, k), code.rfind(";", 0, k)) + 1
                statement = code[begin:k].lstrip()
                if statement.startswith(("import ", "from ", "#", "//", "use ", "require ")) and not rest.startswith(":"):
                    continue  # importing the name, or a comment
                if statement.startswith(("const {", "let {", "var {", "import {")) and "=" not in statement and \
                        not rest.startswith(":"):
                    continue  # `const { rmSync } = require("fs")` names it for the calls that follow
                out.append((k, name, kind))
    for pos, _, value in literal_spans(code, lang) if lang in _BY_NAME else ():
        if value.lower() in _BY_NAME[lang] and lang == "php":
            out.append((pos, value, value.lower() in ("unlink", "rmdir")))
    if lang == "ruby":
        for fn in ("method(:", "send(:", "public_send(:", "__send__(:"):
            start = 0
            while (k := code.find(fn, start)) >= 0:
                start = k + len(fn)
                name = ""
                while start < len(code) and (code[start].isalnum() or code[start] in "_!?"):
                    name += code[start]
                    start += 1
                if name in _BY_NAME["ruby"]:
                    out.append((k, name, name not in ("system", "exec", "spawn")))
    if lang == "perl":  # \&unlink, \&CORE::unlink, \&File::Path::rmtree: a code reference to call later
        import re

        for m in re.finditer(r"\\&(?:CORE::|File::Path::)?(unlink|rmdir|rmtree|remove_tree|system|exec)\b", code):
            out.append((m.start(), m.group(1), m.group(1) not in ("system", "exec")))
    for name in _BARE_DEFAULT.get(lang, ()):
        start = 0
        while (k := code.find(name, start)) >= 0:
            start = k + len(name)
            before = code[k - 1] if k else " "
            rest = code[start:start + 20].lstrip(" \t")
            if not (before.isalnum() or before in "_$:>") and rest[:1] in (";", "}", ")", "") and \
                    not code[start:start + 1].isalnum():
                out.append((k, name, True))
    return out
