# shellcheck shell=sh disable=SC2154,SC2195
# Self-protection takes any argument of a program it does not know (an operand, a value after
# '=', the PATH of -oPATH) for a path the program may write, and any such program run inside
# agentguard's directories for one that writes there. So an argument takes the fast path only
# when it cannot name an existing file: relative, no '..' or '~', and no first component that
# exists here. Nor may it mention agentguard, a shell profile or an agent's settings, be `--`
# (what follows is judged as a command of its own), or be one a rule of the pack looks at.

_ag_exists() {  # $1: a name an argument may be taken for; true when its first component exists
  _ag_first=${1%%/*}
  [ -n "$_ag_first" ] && { [ -e "$_ag_first" ] || [ -h "$_ag_first" ]; }
}

_ag_names() {  # $1: an argument with a '=' or a short option with more after it; true when no
               # name it may be taken for exists
  case "$1" in
    -[!-]?*) _ag_exists "${1#-?}" && return 1 ;;
    -*) ;;
    *) _ag_exists "$1" && return 1 ;;
  esac
  case "$1" in
    *=*) ! { _ag_exists "${1#*=}" || _ag_exists "${1##*=}"; } ;;
  esac
}

case $_ag_fast in 1)
  # A shim for every account cannot know each one's default directories, but they all mention
  # agentguard (left empty when the shim is one account's, whose directories are known).
  case "$_ag_cwd" in
    @CWD_MARKERS@) _ag_fast=0 ;;
  esac
;; esac
case $_ag_fast in 1)
  for _ag_a do
    case "$_ag_a" in
      --|/*|*=/*|-[!-]/*|*..*|*'~'*)
        _ag_fast=0
        break ;;
      @MARKERS@)
        _ag_fast=0
        break ;;
      @REFUSED_ARGS@)
        _ag_fast=0
        break ;;
      -[!-]?*|*=*)
        if ! _ag_names "$_ag_a"; then
          _ag_fast=0
          break
        fi ;;
      -?*) ;;
      */*)
        if _ag_exists "$_ag_a"; then
          _ag_fast=0
          break
        fi ;;
      *)
        if [ -e "$_ag_a" ] || [ -h "$_ag_a" ]; then
          _ag_fast=0
          break
        fi ;;
    esac
  done
;; esac
