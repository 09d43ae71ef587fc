"""Self-protection judges real paths: agentguard's directories wherever they are (a custom
AGENTGUARD_HOME or the default XDG layout), reached by any spelling (relative, `..`, `cd`, symlinked
parents or files, hard links, globs, `--opt=PATH`), written by any program or redirect, or by inline
interpreter code. Reading and copying from them stays allowed."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest
from conftest import make_project
from helpers import Installed, install_agentguard

from agentguard.judge import judge_string
from agentguard.paths import locations

LAYOUTS = ("custom", "default")


class Setup:
    """An installation in an isolated HOME, its policy as the hook loads it, and the traps laid for it:
    c → config dir, s → state dir, x → shims dir, p → policy.toml, notes.log ↔ audit.jsonl (hard link)."""

    def __init__(self, home: Path, layout: str) -> None:
        make_project(home)
        self.home = home
        self.layout = layout
        if layout == "custom":
            inst = Installed(home, "")
            inst.env["AGENTGUARD_HOME"] = str(home / "ag-home")
            inst.base_path = inst.env["PATH"] = os.environ["PATH"]
            (home / ".profile").write_text(f'export PATH="{os.environ["PATH"]}"\n')
            inst.install("--claude-code")
        else:
            inst = install_agentguard(home, [], "--claude-code")
        self.inst = inst
        self.env = dict(inst.env)
        locs = locations(self.env)
        self.C, self.S, self.X = Path(locs.config), Path(locs.state), Path(locs.shims)
        assert (self.X / "rm").exists() and (self.S / "audit.jsonl").exists()
        if layout == "custom":
            inst.shims, inst.state, inst.config = self.X, self.S, self.C
        (self.C / "policy.toml").write_text("# the human's policy\n")
        for name, target in (("c", self.C), ("s", self.S), ("x", self.X), ("p", self.C / "policy.toml")):
            (home / name).symlink_to(target)
        os.link(self.S / "audit.jsonl", home / "notes.log")
        (home / "elsewhere").mkdir()
        (home / "e").symlink_to(home / "elsewhere")
        self._policy: dict[str, object] | None = None

    @property
    def policy(self) -> dict[str, object]:
        from agentguard.intercept import call_policy, load_compiled

        if self._policy is None:
            compiled = load_compiled(str(self.S))
            self.book = compiled["book"]
            self._policy = call_policy(compiled, str(self.home))
        return self._policy

    def fill(self, template: str) -> str:
        rel_c = str(self.C.relative_to(self.home))
        return template.format(
            C=self.C, S=self.S, X=self.X, H=self.home, relC=rel_c, relS=str(self.S.relative_to(self.home)),
            relX=str(self.X.relative_to(self.home)), Cname=self.C.name, Cparent=self.C.parent,
            partsC=", ".join(repr(p) for p in rel_c.split("/")))

    def judge(self, template: str, cwd: Path | None = None, env: dict[str, str] | None = None):  # type: ignore[no-untyped-def]
        policy = self.policy
        return judge_string(self.fill(template), self.book, cwd=str(cwd or self.home), env=env or self.env,
                            policy=policy)


@pytest.fixture(params=LAYOUTS)
def setup(request: pytest.FixtureRequest, isolated_env: dict[str, str]) -> Setup:
    return Setup(Path(isolated_env["HOME"]), request.param)


# Each technique, several ways. {C} config dir, {S} state dir, {X} shims dir (absolute); {relC} … relative
# to HOME; c/s/x symlinks to them, p a symlink to policy.toml, notes.log a hard link of the audit log.
WRITERS = [
    "sed -i s/a/b/ {X}/rm", "sed -i.bak -e s/a/b/ {X}/rm", "perl -pi -e s/a/b/ {X}/rm", "cp /bin/true {X}/rm",
    "install -m 755 /bin/true {X}/rm", "ln -sf /bin/true {X}/rm", "tee {X}/rm < /dev/null", "dd if=/dev/zero of={X}/rm",
    "truncate -s0 {X}/rm", "chmod 000 {X}/rm", "touch {X}/evil", "rsync /bin/true {X}/rm", "mv ~/project/notes.txt {X}/rm",
    "cp -t {X} /bin/true", "cp --target-directory={X} /bin/true", "gawk -i inplace 1 {X}/rm", "awk -i inplace 1 {X}/rm",
    "sponge {X}/rm", "vim -c wq {X}/rm", "ed {X}/rm", "patch {X}/rm fix.diff", "tar -xf x.tar -C {X}",
    "tar xzf x.tgz --directory={X}", "unzip -o x.zip -d {X}", "gzip {S}/audit.jsonl", "sort -o {C}/policy.toml notes.txt",
    "sort --output={C}/policy.toml notes.txt", "sed -n 'w {C}/policy.toml' project/notes.txt",
    "awk '{{print > \"{C}/policy.toml\"}}' project/notes.txt", "uniq project/notes.txt {C}/policy.toml",
    "curl -o {C}/policy.toml http://example.com/p", "curl --output={C}/policy.toml http://example.com/p",
    "wget -O {C}/policy.toml http://example.com/p", "git -C {C} init", "rsync -a --log-file={S}/audit.jsonl a b",
    "cp -r ~/project/docs {Cparent}/{Cname}", "shred -u {S}/audit.jsonl", "chown nobody {C}/policy.toml",
    "find {X} -type f -delete", "find {C} -name '*.toml' -exec rm {{}} +", "tar -c -f {S}/audit.jsonl src",
    "cpio -i -D {C} < a.cpio", "7z x a.7z -o{X}", "zip {S}/audit.jsonl notes.txt",
]
REDIRECTS = [
    "echo x > {C}/policy.toml", "echo x >> {C}/policy.toml", "echo x >| {C}/policy.toml", "ls &> {C}/policy.toml",
    "ls 2> {S}/audit.jsonl", ": > {S}/audit.jsonl", "cat notes.txt >> {S}/audit.jsonl", "tee -a {C}/policy.toml <<< x",
    "tee {C}/policy.toml <<'EOF'\nx\nEOF", "printf x > {X}/rm", "exec 3> {C}/policy.toml", "{{ echo x; }} > {C}/policy.toml",
    "(echo x) > {C}/policy.toml", "echo x | tee {S}/audit.jsonl",
]
RELATIVE = [
    "echo x > {relC}/policy.toml", "echo x > ./{relC}//policy.toml", "cd {C} && echo x > policy.toml",
    "cd {C} && sed -i d policy.toml", "cd {C} && cd .. && rm -rf {Cname}", "cd project && echo x > ../{relC}/policy.toml",
    "echo x > project/../{relC}/policy.toml", "echo x > {C}/../{Cname}/policy.toml", "cd {S} && : > audit.jsonl",
    "cd {X} && cp /bin/true rm", "cd {X} && rm -f *", "cd {C} && touch new.toml", "cd {S} && tar xf ~/x.tar",
    "cd {S} && unzip ~/x.zip", "cd {C} && patch -p1 < ~/fix.diff", "cd {C} && git checkout -- policy.toml",
    "cd project; cd ..; echo x > {relC}/policy.toml", "pushd {C} && echo x > policy.toml",
]
SYMLINKED = [
    "echo x > c/policy.toml", "cp evil c/policy.toml", "sed -i d c/policy.toml", "rm c/policy.toml", "rm -rf c/",
    "cd c && echo x > policy.toml", "cd c && rm -f policy.toml", "echo x > s/audit.jsonl", "cp /bin/true x/rm",
    "truncate -s0 s/audit.jsonl", "ln -sf /bin/true x/rm", "tee c/policy.toml < /dev/null", "mv evil c/policy.toml",
    "echo x > p", "sed -i d p", "truncate -s0 p", "tee p < /dev/null", "cp evil p", "dd if=/dev/zero of=p",
    "chmod 000 p", "echo x > ~/p", "cd project && echo x > ../c/policy.toml", "cd -P c/.. && echo x > {Cname}/policy.toml",
    "cd -P c && cd .. && rm -rf {Cname}", "echo x > c/../{Cname}/policy.toml",
]
HARDLINKS = [
    "ln {S}/audit.jsonl ~/x", "link {S}/audit.jsonl x", "cp -l {S}/audit.jsonl x", "cp --link {S}/audit.jsonl x",
    "ln s/audit.jsonl x", "truncate -s0 notes.log", ": > notes.log", "echo > ~/notes.log", "sed -i d notes.log",
    "cd project && : > ../notes.log",
]
SAME_LINE_LINKS = [
    "ln -s {C} d && echo x > d/policy.toml", "ln -s {C} d; cp evil d/policy.toml", "ln -sfn {S} d && cd d && : > audit.jsonl",
    "ln -s {relC} d; ln -s d d2; echo x > d2/policy.toml", "ln -s {C}/policy.toml q && echo x > q",
    "mkdir -p t && ln -s {X} t/l && cp /bin/true t/l/rm",
]
GLOBS = ["rm {X}/*", "sed -i d {C}/*.toml", "chmod 777 {X}/*", "cp x {X}/r?", "truncate -s0 {S}/audit.*"]
MOVERS = ["mv {C} ~/moved", "rm -rf {S}", "rm -rf {Cparent}/{Cname}", "chmod -R 777 {Cparent}", "mv {Cparent} ~/moved"]
CODE = [
    "python3 -c \"open('{C}/policy.toml','w').write('')\"",
    "python3 -c \"import os; os.remove('{S}/audit.jsonl')\"",
    "python3 -c \"import pathlib; pathlib.Path('{C}/policy.toml').write_text('')\"",
    "python3 -c \"import os; p = os.path.join(os.environ['HOME'], {partsC}, 'policy.toml'); open(p, 'w').write('')\"",
    "python3 -c \"from pathlib import Path; (Path.home() / '{relC}' / 'policy.toml').write_text('')\"",
    "python3 -c \"import os; open(os.path.expanduser('~/{relC}/policy.toml'), 'a').write('x')\"",
    "python3 -c \"import shutil; shutil.copy('/etc/hosts', '{C}/policy.toml')\"",
    "python3 -c \"import os; os.chmod('{X}/rm', 0)\"",
    "python3 -c \"import os; os.rename('{S}/audit.jsonl', '/dev/null')\"",
    "python3 - <<'EOF'\nopen('{C}/policy.toml', 'a').write('x')\nEOF",
    "python3 -c \"open('c/policy.toml', 'w')\"", "python3 -c \"open('notes.log', 'w')\"", "python3 -c \"open('p', 'w')\"",
    "cd {C} && python3 -c \"open('policy.toml', 'w')\"",
    "python3 -c \"import sys; open(sys.argv[1], 'w')\" {C}/policy.toml",
    "python3 -c \"m = 'w'; open('{C}/policy.toml', m)\"",
    "python3 -c \"import sys; open(sys.argv[1], 'w')\" p", "python3 -c \"from pathlib import Path; Path('e/x').replace('p')\"",
    "python3 -c \"m = 'w'; open('p', mode=m)\"",
    "perl -e 'open(F, \">{C}/policy.toml\")'",
    "perl -e 'my $p = \"$ENV{{HOME}}/{relC}/policy.toml\"; open(my $f, \">\", $p) or die'",
    "perl -e 'unlink \"{S}/audit.jsonl\"'",
    "node -e \"require('fs').writeFileSync('{C}/policy.toml', '')\"",
    "node -e \"const fs = require('fs'); fs.appendFileSync(process.env.HOME + '/{relC}/policy.toml', 'x')\"",
    "node -e \"require('fs').rmSync('{X}', {{recursive: true}})\"",
    "node -e \"require('fs').openSync('{S}/audit.jsonl', 'w')\"",
    "ruby -e \"File.write('{C}/policy.toml', '')\"",
    "ruby -e \"File.open(ENV['HOME'] + '/{relC}/policy.toml', 'w') {{ |f| f.puts 1 }}\"",
    "ruby -e \"require 'fileutils'; FileUtils.rm_rf('{X}')\"",
    "php -r \"file_put_contents('{C}/policy.toml', '');\"", "php -r \"unlink('{S}/audit.jsonl');\"",
    "php -r '$f = fopen(\"{C}/policy.toml\", \"w\");'",
]
CUSTOM_ONLY = [
    "python3 -c \"import os; open(os.environ['AGENTGUARD_HOME'] + '/config/policy.toml', 'w')\"",
    "echo x > ag-home/config/policy.toml", "cd ag-home && cp /bin/true shims/rm",
    "ruby -e 'File.open(\"#{{ENV[\"AGENTGUARD_HOME\"]}}/config/policy.toml\", \"w\")'",
    "php -r 'file_put_contents(getenv(\"AGENTGUARD_HOME\") . \"/config/policy.toml\", \"\");'",
    "node -e 'require(\"fs\").writeFileSync(`${{process.env.AGENTGUARD_HOME}}/config/policy.toml`, \"\")'",
    "perl -e 'open(F, \">\", \"$ENV{{AGENTGUARD_HOME}}/state/audit.jsonl\")'",
]
ALLOWED = [
    "cat {C}/policy.toml", "cat c/policy.toml", "cat p", "cp {C}/policy.toml ~/bak.toml", "cp c/policy.toml ~/bak.toml",
    "cp p ~/bak.toml", "cp -r {C} ~/bak", "tar czf ~/bak.tgz -C ~ {relC}", "rsync -a {C}/ ~/bak/", "grep -r x {C}",
    "sed -n 1p {C}/policy.toml", "awk '{{print}}' {S}/audit.jsonl", "sort {S}/audit.jsonl", "tail -n 5 notes.log",
    "python3 -c \"print(open('{C}/policy.toml').read())\"",
    "python3 -c \"import json; print(json.load(open('{S}/install.json')))\"",
    "python3 -c \"print(open('c/policy.toml').read().replace('a', 'b'))\"",
    "node -e \"console.log(require('fs').readFileSync('{C}/policy.toml', 'utf8'))\"",
    "perl -n -e 'print' {S}/audit.jsonl", "ruby -e \"puts File.read('{C}/policy.toml')\"",
    "php -r \"echo file_get_contents('{C}/policy.toml');\"", "cd {C} && cat policy.toml", "cd {S} && tail audit.jsonl",
    "cd {C} && ls -la && pwd", "ln -s {C}/policy.toml ~/view.toml", "ln -s {C} ~/cfg", "echo x > ~/other.txt",
    "echo x > e/file.txt", "cp project/notes.txt e/", "cd e && touch new.txt", "sed -i s/a/b/ project/notes.txt",
    "cd project && python3 -c \"open('out.txt', 'w').write('data')\"", "tar czf ~/src.tgz -C project src",
    "agentguard log", "cd {C} && agentguard doctor", "diff {C}/policy.toml project/notes.txt",
    "ln -s /tmp t && echo x > t/file", "python3 -c \"import shutil; shutil.copy('project/notes.txt', 'e/n.txt')\"",
    "python3 -c \"import sys; print(open(sys.argv[1]).read())\" p", "python3 -c \"open('p', encoding='utf-8').read()\"",
    "perl -e 'open(my $f, \"<\", \"p\"); print <$f>'", "node -e \"process.stdout.write(require('fs').readFileSync('p'))\"",
]


def _blocked(setup: Setup, template: str, **kw) -> None:  # type: ignore[no-untyped-def]
    verdict = setup.judge(template, **kw)
    rules = [f.rule for f in verdict.findings]
    assert "self.tamper" in rules and not verdict.allowed, (setup.fill(template), rules)


@pytest.mark.parametrize("template", WRITERS)
def test_writers(setup: Setup, template: str) -> None:
    _blocked(setup, template, cwd=setup.home / "project" if "~/" not in template else None)


@pytest.mark.parametrize("template", REDIRECTS)
def test_redirects(setup: Setup, template: str) -> None:
    _blocked(setup, template)


@pytest.mark.parametrize("template", RELATIVE)
def test_relative_paths_and_cd(setup: Setup, template: str) -> None:
    _blocked(setup, template)


@pytest.mark.parametrize("template", SYMLINKED)
def test_symlinked_parents_and_files(setup: Setup, template: str) -> None:
    _blocked(setup, template)


@pytest.mark.parametrize("template", HARDLINKS)
def test_hard_links(setup: Setup, template: str) -> None:
    _blocked(setup, template)


@pytest.mark.parametrize("template", SAME_LINE_LINKS)
def test_links_made_earlier_on_the_same_line(setup: Setup, template: str) -> None:
    _blocked(setup, template)


@pytest.mark.parametrize("template", GLOBS + MOVERS)
def test_globs_and_movers(setup: Setup, template: str) -> None:
    _blocked(setup, template)


@pytest.mark.parametrize("template", CODE)
def test_interpreter_code(setup: Setup, template: str) -> None:
    _blocked(setup, template)


@pytest.mark.parametrize("template", CUSTOM_ONLY)
def test_custom_home_by_its_own_names(isolated_env: dict[str, str], template: str) -> None:
    _blocked(Setup(Path(isolated_env["HOME"]), "custom"), template)


@pytest.mark.parametrize("template", ALLOWED)
def test_reading_and_copying_from_stay_allowed(setup: Setup, template: str) -> None:
    verdict = setup.judge(template)
    assert verdict.allowed, (setup.fill(template), [(f.rule, f.detail) for f in verdict.findings])


def test_pinned_paths_protect_without_the_environment(isolated_env: dict[str, str]) -> None:
    """The hook's environment may not name AGENTGUARD_HOME: the installation's pinned paths still count."""
    s = Setup(Path(isolated_env["HOME"]), "custom")
    env = {k: v for k, v in s.env.items() if k != "AGENTGUARD_HOME"}
    for template in ("echo x > c/policy.toml", "sed -i d {X}/rm", "cd {S} && : > audit.jsonl", "truncate -s0 notes.log",
                     "python3 -c \"open('{C}/policy.toml', 'w')\""):
        _blocked(s, template, env=env)


def test_the_default_layout_is_protected_under_a_custom_home(isolated_env: dict[str, str]) -> None:
    s = Setup(Path(isolated_env["HOME"]), "custom")
    default = locations({"HOME": str(s.home)})
    Path(default.config).mkdir(parents=True)
    (s.home / "d").symlink_to(default.config)
    for command in (f"echo x > {default.config}/policy.toml", "echo x > d/policy.toml",
                    "python3 -c \"open('.config/agentguard/policy.toml', 'w')\""):
        _blocked(s, command)


# ---------------------------------------------------------------- the real front ends

def _hook(s: Setup, payload: dict[str, object], env: dict[str, str] | None = None) -> tuple[str, str]:
    settings = json.loads((s.home / ".claude/settings.json").read_text())
    command = settings["hooks"]["PreToolUse"][0]["hooks"][0]["command"]
    out = subprocess.run(["sh", "-c", command], input=json.dumps(payload), capture_output=True, text=True,
                         env={**(env or s.env), "CLAUDECODE": "1"}, cwd=s.home, timeout=60)
    assert out.returncode == 0, out.stderr
    if not out.stdout:
        return "allow", ""
    specific = json.loads(out.stdout)["hookSpecificOutput"]
    return specific["permissionDecision"], specific["permissionDecisionReason"]


def _bash(s: Setup, command: str) -> dict[str, object]:
    return {"session_id": "s-1", "transcript_path": str(s.home / "t.jsonl"), "cwd": str(s.home),
            "permission_mode": "default", "hook_event_name": "PreToolUse", "tool_name": "Bash",
            "tool_input": {"command": command, "description": "run it"}, "tool_use_id": "toolu_01"}


def _write(s: Setup, path: str, cwd: Path) -> dict[str, object]:
    return {"session_id": "s-1", "transcript_path": str(s.home / "t.jsonl"), "cwd": str(cwd),
            "permission_mode": "default", "hook_event_name": "PreToolUse", "tool_name": "Write",
            "tool_input": {"file_path": path, "content": "[decisions.agent]\nhigh = 'allow'\n"}, "tool_use_id": "t2"}


def test_the_hook_refuses_writes_through_symlinks(setup: Setup) -> None:
    env_without = {k: v for k, v in setup.env.items() if k != "AGENTGUARD_HOME"}
    for env in (setup.env, env_without):
        for command in ("echo x > c/policy.toml", "cd c && sed -i d policy.toml", ": > notes.log",
                        setup.fill("python3 -c \"open('{C}/policy.toml', 'w')\"")):
            decision, why = _hook(setup, _bash(setup, command), env)
            assert decision == "deny" and "self.tamper" in why, (command, why)
        for path, cwd in (("c/policy.toml", setup.home), (str(setup.home / "p"), setup.home),
                          ("../c/policy.toml", setup.home / "project"), ("../notes.log", setup.home / "project")):
            decision, why = _hook(setup, _write(setup, path, cwd), env)
            assert decision == "deny" and "self.tamper" in why, (path, why)
    assert _hook(setup, _bash(setup, "cat c/policy.toml; cp p ~/bak.toml")) == ("allow", "")
    assert _hook(setup, _write(setup, "e/notes.md", setup.home)) == ("allow", "")
    assert (setup.C / "policy.toml").read_text() == "# the human's policy\n"


def test_the_rm_shim_refuses_through_a_symlink(setup: Setup) -> None:
    for command in ("rm -f c/policy.toml", "cd c && rm policy.toml", "rm s/audit.jsonl"):
        out = setup.inst.agent(f"{command}; echo exit=$?", cwd=setup.home)
        assert b"exit=77" in out.stdout and b"self.tamper" in out.stderr, (command, out.stderr)
    assert (setup.C / "policy.toml").exists() and (setup.S / "audit.jsonl").exists()
    fine = setup.inst.agent("rm -f e/gone.txt; echo exit=$?", cwd=setup.home)
    assert b"exit=0" in fine.stdout, fine.stderr
