# shellcheck shell=sh disable=SC2154,SC2195
# find without an action that deletes, runs a command or writes a file (-delete, -exec, -execdir,
# -ok, -okdir, -fprint*, -fls): it only reads and prints, wherever it starts. Any argument spelled
# like one of those, even as the value of a test (`-name -delete`), goes to the classifier.
case $_ag_fast in 1)
  for _ag_a do
    case "$_ag_a" in
      @FIND_REFUSED@)
        _ag_fast=0
        break ;;
    esac
  done
;; esac
