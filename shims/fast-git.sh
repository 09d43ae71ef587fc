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

_ag_git_key() {  # for the section (_ag_s, as written; '.' at its end: with a subsection) and key (_ag_k)
  # The table in every spelling, from the file beside the shims the first time it is needed; a
  # file that is missing or of another table sends the call to the classifier. False when it does.
  case $_ag_keys in
    '')
      _ag_keys=- _ag_kf=@GIT_KEYS_FILE@
      # shellcheck source=/dev/null
      [ -f "$_ag_kf" ] && [ -r "$_ag_kf" ] && . "$_ag_kf" ;;
  esac
  case $_ag_keys in
    @GIT_KEYS_ID@) _ag_git_keys "$_ag_s" "$_ag_k" ;;
    *)
      _ag_fast=0
      return 1 ;;
  esac
}

# One case on the subcommand says whether it has a fast path and what it needs: the letters of the
# sets of subcommands that the configuration keys which count start a command for (_ag_tags),
# the hooks it runs beyond the common ones (_ag_hooks), and whether git runs at once when it is
# given nothing more (_ag_r: a subcommand that writes no file an argument could name). The arms
# come in the order agents call them: sh tries a case's patterns in order.
case $_ag_fast in 1)
  _ag_sub=${1-} _ag_r='' _ag_hooks=
  case $_ag_sub in
    @GIT_SUBS@) _ag_fast=0 ;;
  esac
;; esac
case $_ag_fast in 1)
  case @GIT_ENV@ in
    ?*) _ag_fast=0 ;;
  esac
;; esac
case $_ag_fast in 1)
  # The repository git uses from here: the first directory up with a .git in it (none: a name that
  # cannot exist, and git finds no repository either).
  _ag_d=$_ag_cwd
  _ag_repo=/dev/null/-
  while :; do
    if [ -d "$_ag_d/.git" ]; then
      # git takes it only when HEAD names a ref or a commit and it can search objects and refs;
      # otherwise it looks further up (where this reading does not follow).
      _ag_repo=$_ag_d/.git _ag_head=
      [ -f "$_ag_repo/HEAD" ] && [ ! -h "$_ag_repo/HEAD" ] && [ -x "$_ag_repo/objects" ] && [ -x "$_ag_repo/refs" ] &&
        IFS= read -r _ag_head < "$_ag_repo/HEAD"
      case $_ag_head in
        'ref: refs/'*) ;;
        *)
          _ag_head=${_ag_head%%[!0-9a-f]*}
          [ "${#_ag_head}" -ge 40 ] || _ag_fast=0 ;;
      esac
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
  # Another repository's configuration and hooks (a worktree's common directory, submodules), and
  # the hooks git may run for any subcommand and those of this one: git runs a hook only when it
  # is executable, as the classifier reads them.
  if [ -e "$_ag_repo/commondir" ] || [ -e "$_ag_d/.gitmodules" ] || [ -h "$_ag_d/.gitmodules" ] || @GIT_COMMON_HOOKS@; then
    _ag_fast=0
  fi
  for _ag_h in $_ag_hooks; do
    if [ -x "$_ag_repo/hooks/$_ag_h" ]; then
      _ag_fast=0
    fi
  done
;; esac
case $_ag_fast in 1)
  # Each configuration file git reads, a line at a time: read splits a line at its first blank,
  # '=' or carriage return (git reads CR LF as LF) into its first word (a key, a header, a
  # comment) and the rest (sh takes no IFS from the environment; it is set here and put back).
  # Each arm that decides breaks out at once; a key that counts adds the letters of the sets of
  # subcommands it starts a command for to _ag_t, which is checked once at the end.
  _ag_keys='' _ag_t=_ _ag_sys=@GIT_SYSTEM@
  # The system file, when it was judged as this shim was written (see fastgit.system_judged): it is
  # root's, which no other account can change, and it changed last when the stamp beside the shims
  # says, to the nanosecond. Its keys' letters are written here, and sh need not read it.
  @GIT_SYSTEM_JUDGED@
  # The editor, pager and askpass git falls back to, set in the environment (gitconfig.FALLBACK_ENV).
  @GIT_FALLBACK_ENV@
  IFS=@GIT_IFS@
  for _ag_f in "$_ag_sys" "${XDG_CONFIG_HOME:-$HOME/.config}/git/config" "$HOME/.gitconfig" "$_ag_repo/config" "$_ag_repo/config.worktree"; do
    # (git reads a name that leads nowhere, as one that is not there, as no configuration)
    [ -e "$_ag_f" ] || continue
    if [ ! -f "$_ag_f" ] || [ ! -r "$_ag_f" ]; then
      _ag_fast=0
      break
    fi
    _ag_s=
    # (read is false for a last line with no newline, but has split it: a CR may leave _ag_k empty)
    while read -r _ag_k _ag_v || [ -n "$_ag_k$_ag_v" ]; do
      case $_ag_k in
        [A-Za-z]*)
          # A value continued on the next line: what follows is not a key of this section.
          case $_ag_v in
            *\\)
              _ag_fast=0
              break ;;
          esac
          # The arms name the keys that count as git writes them, in the sections people's files
          # have, and a section none of whose keys counts; any other section or spelling goes to
          # _ag_git_key. (A key git would not take makes git refuse the whole file and run nothing.)
          case $_ag_s in
            @GIT_KEYS_EXACT@) _ag_git_key || break ;;
          esac ;;
        '['*)
          # [name] or [name "subsection"], and nothing after it.
          case $_ag_v in
            '')
              _ag_s=${_ag_k#?}
              case $_ag_s in
                *]) _ag_s=${_ag_s%]} ;;
                *)
                  _ag_fast=0
                  break ;;
              esac ;;
            *]*]*)
              _ag_fast=0
              break ;;
            '"'*'"]') _ag_s=${_ag_k#?}. ;;
            *)
              _ag_fast=0
              break ;;
          esac
          case $_ag_s in
            ''|.*|*[!A-Za-z0-9.-]*)
              _ag_fast=0
              break ;;
            *.*) _ag_s=${_ag_s%%.*}. ;;
          esac ;;
        '#'*|';'*) ;;
        '')
          # An empty line; or a line read splits at a CR before its first word, which git takes as
          # a blank (a key or header after it is git's as on any line).
          case $_ag_v in ?*)
            _ag_fast=0
            break ;;
          esac ;;
        *)
          _ag_fast=0
          break ;;
      esac
    done < "$_ag_f"
    case $_ag_fast in
      0) break ;;
    esac
  done
  IFS=@IFS_DEFAULT@
  case $_ag_tags in
    *[$_ag_t]*) _ag_fast=0 ;;
  esac
;; esac
# Self-protection takes no argument of these for a file they write (fast-args.sh is for the rest).
case $_ag_fast:$_ag_r:$# in 1:1:1)
  exec "$_ag_real" "$@"
;; esac
case $_ag_fast in 1)
  shift
  for _ag_a do
    case $_ag_a in
      @GIT_REFUSED_ANY@)
        _ag_fast=0
        break ;;
    esac
    case $_ag_sub in
      @GIT_REFUSED_SUBS@)
        case "$_ag_sub $_ag_a" in
          @GIT_REFUSED@)
            _ag_fast=0
            break ;;
        esac ;;
    esac
  done
  set -- "$_ag_sub" "$@"
;; esac
case $_ag_fast:$_ag_r in 1:1)
  exec "$_ag_real" "$@"
;; esac
