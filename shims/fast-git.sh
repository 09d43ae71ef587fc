# shellcheck shell=sh disable=SC2154,SC2194,SC2195
# git SUBCOMMAND …, when nothing but the arguments decides what it does. The subcommand comes
# first (no -c, -C, --git-dir or other global option), is one of the pack's everyday forms, and no
# argument is one a rule of the pack looks at for it. No GIT_* variable that points git at other
# configuration, another repository or a command is set. The repository is a plain .git directory
# (no gitfile, no commondir, no bare repository on the way up) with none of the hooks this
# subcommand runs, and no configuration file git reads (system, global, the repository's) sets a
# command this subcommand starts, a hooks path or an include: the classifier's own tables say which
# keys those are. A line the reading below is not sure of (a value continued on the next line, a
# header with more after it) sends the call to the classifier.
# sh reads a script one command at a time: each check is its own command, and the subcommands that
# write no file an argument names run git as soon as the checks their call needs are done, so the
# checks for arguments are not even read when there are none. Each @ARMS@) … ;; below is a list of
# case arms written from the classifier's tables, the last of them `*` (what no arm names).

_ag_git_key() {  # $1: a section as written ('.' at the end when it has a subsection), $2: a key
  # The table in every spelling, from the file beside the shims the first time it is needed; a
  # file that is missing or of another table sends the call to the classifier.
  case $_ag_keys in
    '')
      _ag_keys=-
      if [ -f @GIT_KEYS_FILE@ ] && [ -r @GIT_KEYS_FILE@ ]; then
        # shellcheck source=/dev/null
        . @GIT_KEYS_FILE@
      fi ;;
  esac
  if [ "$_ag_keys" = @GIT_KEYS_ID@ ]; then
    _ag_git_keys "$1" "$2"
  else
    _ag_fast=0
  fi
}

_ag_git_config() {  # $1: a configuration file git reads; IFS holds the blanks read drops
  [ -e "$1" ] || [ -h "$1" ] || return 0
  if [ ! -f "$1" ] || [ ! -r "$1" ]; then
    _ag_fast=0
    return 0
  fi
  _ag_sec=
  # The arms in the order lines are most often met: a key, a section header, a blank or comment.
  # Each line that decides breaks out of the loop at once (a test per line would cost more).
  while read -r _ag_l || [ -n "$_ag_l" ]; do
    case "$_ag_l" in
      *\\)
        _ag_fast=0
        break ;;
      [A-Za-z]*)
        _ag_k=${_ag_l%%[= 	]*}
        case "$_ag_k" in
          *[!A-Za-z0-9-]*)
            _ag_fast=0
            break ;;
        esac
        # The arms name the keys that count as git writes them, in the sections people's files
        # have, and a section none of whose keys counts; any other section or spelling goes to
        # _ag_git_key. A key that counts sets the letters of the sets of subcommands it starts a
        # command for (_ag_tags holds this subcommand's letters), or sends every one on.
        _ag_t=_
        case "$_ag_sec" in
          @GIT_KEYS_EXACT@) _ag_git_key "$_ag_sec" "$_ag_k" ;;
        esac
        case "$_ag_tags" in
          *[$_ag_t]*) _ag_fast=0 ;;
        esac
        case $_ag_fast in
          0) break ;;
        esac ;;
      '['*)
        _ag_h=${_ag_l#?}
        _ag_sec=${_ag_h%%[!A-Za-z0-9.-]*}
        case "${_ag_h#"$_ag_sec"}" in
          ']') ;;
          *]*]*)
            _ag_fast=0
            break ;;
          ' "'*'"]') _ag_sec=$_ag_sec. ;;
          *)
            _ag_fast=0
            break ;;
        esac
        case "$_ag_sec" in
          ''|.*)
            _ag_fast=0
            break ;;
          *.*) _ag_sec=${_ag_sec%%.*}. ;;
        esac ;;
      ''|'#'*|';'*) ;;
      *)
        _ag_fast=0
        break ;;
    esac
  done < "$1"
}

case $_ag_fast in 1)
  _ag_fast=0
  _ag_sub=${1-}
  case "$_ag_sub" in
    @GIT_WORDS@) _ag_fast=1 ;;
    *)
      case "$_ag_sub ${2-}" in
        @GIT_PAIRS@) _ag_fast=1 ;;
      esac ;;
  esac
;; esac
case $_ag_fast in 1)
  case @GIT_ENV@ in
    ?*) _ag_fast=0 ;;
  esac
;; esac
case $_ag_fast in 1)
  # The repository git uses from here: the first directory up with a .git in it.
  _ag_d=$_ag_cwd
  _ag_repo=
  while :; do
    if [ -d "$_ag_d/.git" ] && [ -f "$_ag_d/.git/HEAD" ]; then
      _ag_repo=$_ag_d/.git
      break
    fi
    if [ -e "$_ag_d/.git" ] || [ -h "$_ag_d/.git" ] || [ -e "$_ag_d/HEAD" ]; then
      _ag_fast=0
      break
    fi
    case $_ag_d in
      '') break ;;
    esac
    _ag_d=${_ag_d%/*}
  done
;; esac
case $_ag_fast:$_ag_repo in 1:?*)
  # Another repository's configuration and hooks: a worktree's common directory, submodules.
  if [ -e "$_ag_repo/commondir" ] || [ -e "$_ag_d/.gitmodules" ] || [ -h "$_ag_d/.gitmodules" ]; then
    _ag_fast=0
  fi
  # The hooks git runs for many subcommands, and those of this one: git runs a hook only when it
  # is executable, as the classifier reads them.
  case "$_ag_sub" in
    @GIT_HOOKS@) _ag_hooks= ;;
  esac
  for _ag_h in @GIT_COMMON_HOOKS@ $_ag_hooks; do
    if [ -x "$_ag_repo/hooks/$_ag_h" ]; then
      _ag_fast=0
      break
    fi
  done
;; esac
case $_ag_fast in 1)
  # A letter for each set of subcommands that a key names a command for.
  _ag_keys=
  case "$_ag_sub" in
    @GIT_TAGS@) _ag_tags=ABCDEFGHIJKLMNOPQRSTUVWXYZ ;;  # not listed: every key counts
  esac
  # read drops the blanks around a line (sh takes no IFS from the environment; it is set here)
  _ag_ifs=$IFS
  IFS=' 	'
  _ag_git_config @GIT_SYSTEM@
  _ag_git_config "${XDG_CONFIG_HOME:-$HOME/.config}/git/config"
  _ag_git_config "$HOME/.gitconfig"
  case $_ag_repo in
    ?*)
      _ag_git_config "$_ag_repo/config"
      _ag_git_config "$_ag_repo/config.worktree" ;;
  esac
  IFS=$_ag_ifs
;; esac
# Self-protection takes no argument of these for a file they write (fast-args.sh is for the rest).
case $_ag_fast:$# in 1:1)
  case "$_ag_sub" in
    @GIT_READERS@) exec "$_ag_real" "$@" ;;
  esac
;; esac
case $_ag_fast in 1)
  shift
  for _ag_a do
    case "$_ag_sub $_ag_a" in
      @GIT_REFUSED@)
        _ag_fast=0
        break ;;
    esac
  done
  set -- "$_ag_sub" "$@"
;; esac
case $_ag_fast in 1)
  case "$_ag_sub" in
    @GIT_READERS@) exec "$_ag_real" "$@" ;;
  esac
;; esac
