# shellcheck shell=sh disable=SC2154,SC2195
case $_ag_fast in 1)
  exec "$_ag_real" "$@"
;; esac
