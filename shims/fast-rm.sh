# shellcheck shell=sh disable=SC2154,SC2195
# rm [-f] NAME… (and unlink NAME, rmdir NAME…, which the classifier judges as rm without options),
# where the classifier finds nothing to protect. -f changes nothing here: without -r a directory
# is never removed, and a write-protected file is removed without asking when there is no
# terminal, as an agent has none. Each NAME is relative and each of its parts plain: not empty,
# no '..', no glob character, no leading '-' or '~', not '.', and not a symlink (the classifier
# judges what a link points to). No part is a protected name (git history, credentials, databases,
# backups, infrastructure state, shell profiles, agents' settings, anything of agentguard's: the
# [paths] lists of the rule book the classifier reads), no prefix ends in a protected name of more
# than one part (data/db), and no prefix is one of agentguard's directories or on the way to one.
# The working directory is under the home directory (as named now and as resolved when this shim
# was written) or a temp directory that does not hold the home directory.
_ag_rm_dir=@RM_DIR@  # the real program's directory, to run it by its own name; '' to run it by path
_ag_rm_force=@RM_FORCE@  # '-f' for rm; unlink and rmdir have no such option

case $_ag_fast in 1)
  _ag_n=0
  for _ag_a do
    case $_ag_rm_force in
      ?*)
        case $_ag_a in
          "$_ag_rm_force") continue ;;
        esac ;;
    esac
    _ag_n=1
    case "$_ag_a" in
      /*|*/)
        _ag_fast=0
        break ;;
    esac
    _ag_rest=$_ag_a
    _ag_pre=
    # Every check that sends the call on breaks out of this loop at once.
    while :; do
      _ag_part=${_ag_rest%%/*}
      case "$_ag_part" in
        ''|-*|.|*..*|'~'*|*'*'*|*'?'*|*'['*)
          _ag_fast=0
          break ;;
        @RM_PROTECTED@)
          _ag_fast=0
          break ;;
      esac
      _ag_pre=${_ag_pre:+$_ag_pre/}$_ag_part
      case "/$_ag_pre" in
        @RM_PROTECTED_PATHS@)
          _ag_fast=0
          break ;;
      esac
      case "$_ag_cwd/$_ag_pre" in
        @AG_ABOVE@)
          _ag_fast=0
          break ;;
      esac
      if [ -h "$_ag_pre" ]; then
        _ag_fast=0
        break
      fi
      case $_ag_rest in
        "$_ag_part") break ;;
      esac
      _ag_rest=${_ag_rest#*/}
    done
    case $_ag_fast in
      0) break ;;
    esac
  done
  case $_ag_n in
    0) _ag_fast=0 ;;
  esac
;; esac

case $_ag_fast in 1)
  # HOME is a home directory known here, in normal form (fast-dirs.sh), as the classifier
  # compares it with the names it removes.
  _ag_place=0
  case "$_ag_cwd/" in
    @RM_HOMES@)
      case "$_ag_cwd/" in "${HOME-}"/*) _ag_place=1 ;; esac ;;
  esac
  case "$_ag_cwd/" in
    @TEMP_DIRS@)
      case "${HOME-}/" in "$_ag_cwd"/?*) ;; *) _ag_place=1 ;; esac ;;
  esac
  case $_ag_place in
    0) _ag_fast=0 ;;
  esac
;; esac

case $_ag_fast:$_ag_rm_dir in 1:?*)
  # argv[0] as given: coreutils names itself in its messages.
  PATH=$_ag_rm_dir exec @RM_NAME@ "$@"
;; esac
