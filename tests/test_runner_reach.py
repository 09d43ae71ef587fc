"""The hook reads what a task runner will start and what a substitution feeds a delete: rake's
Rakefile tasks, cargo-make's Makefile.toml, nx targets, turbo's package scripts, gulp and grunt
files, pdm's script shortcut and hooks, poe's script calls, run-s and concurrently inside a package
script; and `docker rm -f $(docker ps -aq)`.

Driven through the real hook command from the installed settings, in a project of real files: a
destructive task is refused naming the file and line it came from, a file whose task cannot be told
apart asks a human, and everyday tasks pass. No runner is installed or run: the hook reads files."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import make_project
from helpers import Installed, install_agentguard
from test_hook_reads_files import refusal
from test_hooks import run_hook, shell_payload, verdict

pytestmark = pytest.mark.e2e


@pytest.fixture
def inst(isolated_env: dict[str, str]) -> Installed:
    home = Path(isolated_env["HOME"])
    make_project(home)
    installed = install_agentguard(home, [], "--claude-code", "--cursor")
    installed.set_passphrase("correct horse battery staple")
    (home / "work" / "data").mkdir(parents=True)
    (home / "work" / "data" / "orders.csv").write_text("1,paid\n")
    return installed


def _app(inst: Installed, name: str) -> Path:
    app = inst.home / "work" / name
    (app / "src").mkdir(parents=True)
    return app


def _allowed(inst: Installed, command: str, cwd: Path) -> None:
    out = run_hook(inst, "cursor", shell_payload("cursor", command, str(cwd)))
    assert verdict("cursor", out) == ("allow", ""), (command, out.stdout)


def _refused(inst: Installed, command: str, cwd: Path, where: str) -> str:
    reason = refusal(inst, "cursor", command, cwd)
    assert where in reason, (command, reason)
    assert (inst.home / "work" / "data" / "orders.csv").exists()
    return reason


RAKEFILE = """\
require "rake/testtask"

Rake::TestTask.new(:test) do |t|
  t.pattern = "test/**/*_test.rb"
end

task default: :test

desc "Remove all data"
task :clean_all do
  sh "rm -rf ../data"
end

task :build do
  if ENV["CI"]
    sh "bundle exec rubocop"
  end
  rm_rf "dist"
end

task release: [:build, "ops:wipe"]

namespace :ops do
  task :wipe do
    FileUtils.rm_rf "../data"
  end
  task(:drop) { system("psql -c 'DROP DATABASE app'") }
end
"""


def test_rake_reads_the_task_it_runs(inst: Installed) -> None:
    app = _app(inst, "rb")
    (app / "Rakefile").write_text(RAKEFILE)
    (app / "rakelib").mkdir()
    (app / "rakelib" / "infra.rake").write_text("namespace :infra do\n  task :down do\n"
                                                "    sh \"terraform destroy -auto-approve\"\n  end\nend\n")
    _refused(inst, "rake clean_all", app, "Rakefile:11")
    _refused(inst, "bundle exec rake clean_all", app, "Rakefile:11")
    _refused(inst, "rake ops:wipe", app, "Rakefile:25")  # FileUtils without parentheses
    _refused(inst, "rake release", app, "Rakefile:25")  # a prerequisite in another namespace
    _refused(inst, "rake ops:drop", app, "Rakefile:27")  # a one-line brace block
    _refused(inst, "rake infra:down", app, "rakelib/infra.rake:3")
    _refused(inst, "rake -f Rakefile clean_all[1,2]", app / "src", "Rakefile:11")
    for everyday in ("rake", "rake test", "rake build", "rake -T", "rake --dry-run clean_all"):
        _allowed(inst, everyday, app)


def test_rails_tasks_in_lib_tasks_and_imported_rake_files(inst: Installed) -> None:
    app = _app(inst, "rails")
    (app / "Rakefile").write_text('require_relative "config/application"\nimport "ops/extra.rake"\n'
                                  "Rails.application.load_tasks\n")
    (app / "lib" / "tasks" / "db").mkdir(parents=True)
    (app / "lib" / "tasks" / "db" / "nuke.rake").write_text(
        'namespace :data do\n  task nuke: :environment do\n    sh "rm -rf ../data"\n  end\nend\n')
    (app / "lib" / "tasks" / "stats.rake").write_text('task :counts do\n  puts "counting"\nend\n')
    (app / "ops").mkdir()
    (app / "ops" / "extra.rake").write_text('task :wipe do\n  FileUtils.rm_r "../data"\nend\n')
    for command in ("rake data:nuke", "rails data:nuke", "bin/rails data:nuke", "bundle exec rails data:nuke"):
        _refused(inst, command, app, "lib/tasks/db/nuke.rake:3")
    _refused(inst, "rake wipe", app, "ops/extra.rake:2")
    for everyday in ("rake counts", "rails counts", "rails db:migrate", "rails server", "rails test", "rails g model x"):
        _allowed(inst, everyday, app)


def test_rake_tasks_that_cannot_be_told_apart_ask(inst: Installed) -> None:
    app = _app(inst, "rb")
    (app / "Rakefile").write_text("%w[a b].each do |name|\n  task name do\n    sh \"find ../data -delete\"\n"
                                  "  end\nend\n\ntask :build do\n  sh \"make\"\nend\n")
    reason = _refused(inst, "rake build", app, "Rakefile:3")
    assert "told" in reason
    # Nothing destructive anywhere in the file: nothing to ask about, whichever block runs.
    (app / "Rakefile").write_text("%w[a b].each do |name|\n  task name do\n    sh \"make test\"\n  end\nend\n")
    _allowed(inst, "rake a", app)


MAKEFILE_TOML = """\
[env]
DATA = "../data"

[tasks.lint]
command = "cargo"
args = ["clippy"]

[tasks.clean-data]
command = "rm"
args = ["-rf", "${DATA}"]

[tasks.drop]
script = '''
echo dropping
psql -c 'DROP DATABASE app'
'''

[tasks.reset]
dependencies = ["lint", "clean-data"]

[tasks.py]
script_runner = "python"
script = "import shutil; shutil.rmtree('../data')"

[tasks.rusty]
script_runner = "@rust"
script = "fn main() {}"

[tasks.platform]
command = "echo"
[tasks.platform.linux]
command = "terraform"
args = ["destroy", "-auto-approve"]
"""


def test_cargo_make_reads_makefile_toml(inst: Installed) -> None:
    app = _app(inst, "rs")
    (app / "Makefile.toml").write_text(MAKEFILE_TOML)
    _refused(inst, "cargo make clean-data", app, "Makefile.toml:8")
    _refused(inst, "makers reset", app, "Makefile.toml:8")  # a dependency
    _refused(inst, "cargo make drop", app, "Makefile.toml:")
    _refused(inst, "cargo make py", app, "Makefile.toml:")
    _refused(inst, "cargo make platform", app, "Makefile.toml:")
    assert "@rust" in _refused(inst, "cargo make rusty", app, "Makefile.toml:")
    for everyday in ("cargo make lint", "cargo make test", "cargo make --list-all-steps", "cargo build", "cargo clean"):
        _allowed(inst, everyday, app)


def test_nx_reads_targets_and_inferred_scripts(inst: Installed) -> None:
    app = _app(inst, "mono")
    (app / "nx.json").write_text("{}\n")
    (app / "apps" / "api").mkdir(parents=True)
    (app / "apps" / "api" / "project.json").write_text(
        '{\n  "name": "api",\n  "targets": {\n'
        '    "reset": {"executor": "nx:run-commands", "options": {"commands": ["echo a", "rm -rf ../data"]}},\n'
        '    "build": {"executor": "@nx/js:tsc", "options": {}},\n'
        '    "typecheck": {"command": "tsc --noEmit"},\n'
        '    "wipe": {"command": "find data -delete", "options": {"cwd": ".."}, "dependsOn": ["typecheck"]}\n'
        '  }\n}\n')
    (app / "apps" / "web").mkdir(parents=True)
    (app / "apps" / "web" / "package.json").write_text(
        '{\n  "name": "web",\n  "scripts": {\n    "test": "vitest run",\n'
        '    "reset-db": "psql -c \'DROP DATABASE app\'"\n  }\n}\n')
    _refused(inst, "nx run api:reset", app, "apps/api/project.json:4")
    _refused(inst, "nx wipe api", app, "apps/api/project.json:7")
    _refused(inst, "npx nx run-many -t reset", app, "apps/api/project.json:4")
    _refused(inst, "nx reset-db web", app, "apps/web/package.json:5")
    _refused(inst, "nx run web:reset-db", app, "apps/web/package.json:5")
    # `nx reset` is nx's own command (it clears nx's cache), not the api project's reset target.
    for everyday in ("nx build api", "nx run api:typecheck", "nx test web", "nx run-many -t build test", "nx reset",
                     "nx graph"):
        _allowed(inst, everyday, app)


def test_nx_fails_closed_when_the_workspace_is_too_large_to_look_through(inst: Installed) -> None:
    app = _app(inst, "mono")
    (app / "nx.json").write_text("{}\n")
    for k in range(5001):
        (app / "libs" / f"lib{k}").mkdir(parents=True)
    assert "5000 directories" in _refused(inst, "nx build lib1", app, "nx projects")
    # Dependencies and hidden folders are not looked through: they hold no projects of the workspace.
    (app / "libs").rename(app / "node_modules")
    _allowed(inst, "nx build lib1", app)


def test_turbo_reads_each_packages_script(inst: Installed) -> None:
    app = _app(inst, "mono")
    (app / "package.json").write_text('{"name": "root", "workspaces": ["apps/*"], "scripts": {"clean": "turbo run clean"}}\n')
    (app / "turbo.json").write_text('{"tasks": {"clean": {"cache": false}, "build": {}}}\n')
    (app / "apps" / "web").mkdir(parents=True)
    (app / "apps" / "web" / "package.json").write_text(
        '{\n  "name": "web",\n  "scripts": {\n    "build": "tsc",\n    "clean": "rm -rf ../../../data"\n  }\n}\n')
    _refused(inst, "turbo run clean", app, "apps/web/package.json:5")
    _refused(inst, "turbo clean", app, "apps/web/package.json:5")
    _refused(inst, "npx turbo run clean --filter web", app, "apps/web/package.json:5")
    _refused(inst, "npm run clean", app, "apps/web/package.json:5")  # the root script runs turbo
    for everyday in ("turbo run build", "turbo build", "turbo prune web", "turbo run clean --filter=other"):
        _allowed(inst, everyday, app)


def test_gulp_and_grunt_files_are_judged_whole(inst: Installed) -> None:
    app = _app(inst, "js")
    (app / "gulpfile.js").write_text("const { series } = require('gulp');\nfunction build(cb) { cb(); }\n"
                                     "exports.build = build;\nexports.default = series(build);\n")
    for everyday in ("gulp", "gulp build", "npx gulp build", "gulp --tasks"):
        _allowed(inst, everyday, app)
    (app / "gulpfile.js").write_text("const { execSync } = require('child_process');\n"
                                     "function clean(cb) {\n  execSync('rm -rf ../data');\n  cb();\n}\n"
                                     "function build(cb) { cb(); }\nexports.clean = clean;\nexports.build = build;\n")
    _refused(inst, "gulp clean", app, "gulpfile.js:3")
    assert "told apart" in _refused(inst, "gulp build", app, "gulpfile.js")  # which code build reaches is unknown
    (app / "Gruntfile.js").write_text("module.exports = function (grunt) {\n  grunt.loadTasks('tasks');\n};\n")
    (app / "tasks").mkdir()
    (app / "tasks" / "wipe.js").write_text("module.exports = (grunt) => {\n  grunt.registerTask('wipe', () => {\n"
                                           "    require('fs').rmSync('../data', { recursive: true });\n  });\n};\n")
    _refused(inst, "grunt wipe", app, "tasks/wipe.js:3")
    _allowed(inst, "grunt --help", app)


def test_gulp_reads_the_projects_modules_it_imports(inst: Installed) -> None:
    app = _app(inst, "js")
    (app / "gulp").mkdir()
    (app / "gulpfile.js").write_text("const { series } = require('gulp');\nconst clean = require('./gulp/clean');\n"
                                     "exports.build = series(clean);\n")
    (app / "gulp" / "clean.js").write_text("const h = require('./helpers');\nmodule.exports = (cb) => { h.wipe(); cb(); };\n")
    (app / "gulp" / "helpers.js").write_text("// helpers\nexports.wipe = () => require('child_process')"
                                             ".execSync('find ../data -delete');\n")
    _refused(inst, "gulp build", app, "gulp/helpers.js:2")
    (app / "gulp" / "helpers.js").write_text("exports.wipe = () => require('child_process').execSync('rm -rf dist');\n")
    _allowed(inst, "gulp build", app)


def test_run_s_and_concurrently_run_package_scripts(inst: Installed) -> None:
    app = _app(inst, "js")
    (app / "package.json").write_text(
        '{\n  "name": "js",\n  "scripts": {\n    "lint": "eslint .",\n    "clean:data": "rm -rf ../data",\n'
        '    "build": "run-s lint clean:*",\n    "dev": "concurrently \\"npm:lint\\" \\"vite\\"",\n'
        '    "ci": "npm-run-all --parallel lint"\n  }\n}\n')
    _refused(inst, "npm run build", app, "package.json:5")  # a wildcard names clean:data
    _refused(inst, "npx run-s clean:data", app, "package.json:5")
    _refused(inst, "concurrently 'npm:clean:*' 'vite'", app, "package.json:5")
    _refused(inst, "concurrently -n a,b 'vite' 'find ../data -delete'", app, "find")
    for everyday in ("npm run dev", "npm run ci", "run-s lint", "concurrently 'npm:lint' 'tsc -w'"):
        _allowed(inst, everyday, app)


PYPROJECT = """\
[project]
name = "app"

[tool.pdm.scripts]
test = "pytest"
clean = "rm -rf ../data"
pre_build = "rm -rf dist"
post_install = "psql -c 'DROP DATABASE app'"

[tool.poe.tasks]
test = "pytest"
rmdata = { script = "shutil:rmtree('../data')" }
serve = { script = "uvicorn:run('app:app')" }
"""


def test_pdm_shortcuts_hooks_and_poe_script_calls(inst: Installed) -> None:
    app = _app(inst, "py")
    (app / "pyproject.toml").write_text(PYPROJECT)
    _refused(inst, "pdm clean", app, "pyproject.toml:6")  # `pdm NAME` runs the script NAME
    _refused(inst, "pdm install", app, "pyproject.toml:8")  # its post_install hook
    _refused(inst, "pdm sync", app, "pyproject.toml:8")
    _refused(inst, "poe rmdata", app, "pyproject.toml:12")  # a standard module's function, with its arguments
    for everyday in ("pdm test", "pdm run pytest", "pdm build", "pdm install --skip post_install", "pdm lock",
                     "poe test", "poe serve"):
        _allowed(inst, everyday, app)


def test_a_substitution_that_lists_every_object_is_a_whole_inventory_delete(inst: Installed) -> None:
    app = _app(inst, "ops")
    for command in ("docker rm -f $(docker ps -aq)", "docker rm $(docker ps -a -q)", "docker rmi -f $(docker images -q)",
                    "docker container rm -f `docker container ls -aq`", "docker network rm $(docker network ls -q)",
                    "docker ps -aq | xargs docker rm -f", "docker images -q | xargs -r docker rmi",
                    "sudo docker rm -f $(sudo docker ps -aq)", "podman rm -f \"$(podman ps -aq)\"",
                    "podman pod rm -f $(podman pod ps -q)", "for c in $(docker ps -aq); do docker rm -f \"$c\"; done",
                    "docker ps -aq | while read c; do docker rm -f $c; done"):
        _refused(inst, command, app, "containers.remove-every")
    for command in ("docker rm -f web", "docker rm $(docker ps -aq --filter status=exited)",
                    "docker rm $(docker ps -aq | head -1)", "docker stop $(docker ps -q)",
                    "docker ps -aq -f name=test- | xargs docker rm -f", "docker ps -a",
                    "for c in $(docker ps -aq); do docker logs \"$c\"; done"):
        _allowed(inst, command, app)
