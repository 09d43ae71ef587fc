# shellcheck shell=sh disable=SC2154,SC2195
# The subcommands self-protection knows to write no file an argument names skipped the argument
# check (fast-args.sh): they take the fast path if nothing else stopped them.
[ "$_ag_fast" != 2 ] || _ag_fast=1
