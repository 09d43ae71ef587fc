# shellcheck shell=sh disable=SC2154,SC2195
# A runner (npx, uv run, poetry run, bundle exec …) puts the project's own bin directories first on
# PATH, so a guarded program it starts never meets that program's shim. It runs without Python only
# when no argument names a program agentguard judges, and every argument is a plain word (no path, no
# shell string, no `-c` code; no name in upper case or ending in .exe, which a case-blind file system
# would find as a judged program; options such as --noEmit may have capitals). Everything else goes
# to the classifier, which judges what the runner will start. So does an argument that may name a
# file of agentguard's, as the rm fast path sees them: a protected name, a symlink, or a directory on
# the way to one of agentguard's.
case $_ag_fast in 1)
  for _ag_a do
    case "$_ag_a" in
      ''|*[!A-Za-z0-9_.:=@+,-]*|[!-]*[A-Z]*|*.[Ee][Xx][Ee]|@RUNNER_REFUSED@)
        _ag_fast=0
        break ;;
    esac
    for _ag_v in "$_ag_a" "${_ag_a#*=}"; do  # an option's value (--file=x) may name a file too
      case "$_ag_v" in
        @RM_PROTECTED@) _ag_fast=0 ;;
      esac
      case "$_ag_cwd/$_ag_v" in
        @AG_ABOVE@) _ag_fast=0 ;;
      esac
      if [ -h "$_ag_v" ]; then
        _ag_fast=0
      fi
    done
    case $_ag_fast in
      0) break ;;
    esac
  done
;; esac
