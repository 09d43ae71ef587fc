# shellcheck shell=sh disable=SC2154,SC2195
# crontab -l: it prints this account's table.
if [ "$_ag_fast" = 1 ]; then
  [ "$#" = 1 ] && [ "$1" = -l ] || _ag_fast=0
fi
