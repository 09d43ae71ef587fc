# shellcheck shell=sh disable=SC2154,SC2195
# The pack's read-only forms: an option that only prints (--version, --help), a read-only
# subcommand, or a read-only pair of words (`state list`, `* describe-*`). Forms that a rule of
# the pack could still match were left out when this shim was written. The words checked are
# made of letters, digits and _.:=- only, so "$1 $2" reads back unambiguously (and a list with
# nothing in it is written as ' ', which none of them can be).
case $_ag_fast in 1)
  _ag_fast=0
  case "${1-}" in
    ''|*[!A-Za-z0-9_.:=-]*) ;;
    @RO_OPTIONS@) _ag_fast=1 ;;
    -*) ;;
    @RO_WORDS@) _ag_fast=1 ;;
    *)
      case "${2-}" in
        ''|-*|*[!A-Za-z0-9_.:=-]*) ;;
        *)
          case "$1 $2" in
            @RO_PAIRS@) _ag_fast=1 ;;
          esac ;;
      esac ;;
  esac
;; esac
