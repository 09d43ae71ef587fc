# shellcheck shell=sh disable=SC2154,SC2195
if [ "$_ag_fast" = 1 ]; then
  exec "$_ag_real" "$@"
fi
