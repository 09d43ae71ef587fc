# shellcheck shell=sh disable=SC2154,SC2195
# Variables that add arguments no one sees on the command line: TF_CLI_ARGS, and TF_CLI_ARGS_<word>
# for each read-only subcommand. All must be empty (one set sends every call to the classifier,
# which sees which one applies).
case $_ag_fast in 1)
  _ag_added=@ARGS_ENV@
  [ -z "$_ag_added" ] || _ag_fast=0
;; esac
