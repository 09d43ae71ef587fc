# shellcheck shell=sh disable=SC2154,SC2195
# TOOL --help or TOOL --version (the pack's help flags), and nothing else: the tool prints and exits,
# and the classifier does not look past a help flag.
case $_ag_fast:$# in 1:1)
  case "$1" in
    @HELP_FLAGS@) exec "$_ag_real" "$@" ;;
  esac
;; esac
