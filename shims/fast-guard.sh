# shellcheck shell=sh disable=SC2154,SC2195
# The fast path stands in for the classifier only where the rules it was generated from are all the
# rules there are: no project policy in the working directory or above it, and no system or user
# policy changed (or created) since this shim was written; `agentguard rehash` writes it again.
# The classifier sees the physical working directory, so the fast path does too; PWD is put back
# so that the program sees the directory it was given.
_ag_project=@PROJECT_FILE@
_ag_system_policy=@SYSTEM_POLICY@  # '' when this installation reads none
_ag_system_seen=@SYSTEM_SEEN@      # 1 when the file existed as this shim was written
_ag_user_policy=@USER_POLICY@
_ag_user_seen=@USER_SEEN@

_ag_changed() {  # $1: a policy file or '', $2: 1 when it existed as this shim was written
  [ -n "$1" ] || return 1
  if [ "$2" = 1 ]; then
    [ "$1" -nt "$0" ]
  else
    [ -e "$1" ] || [ -h "$1" ]
  fi
}

_ag_fast=0
_ag_pwd=${PWD-}
[ -x "$_ag_real" ] && cd -P . 2>/dev/null && case "$PWD" in /*) _ag_fast=1 ;; esac
_ag_cwd=$PWD
PWD=$_ag_pwd
if [ "$_ag_fast" = 1 ]; then
  _ag_d=$_ag_cwd
  while [ ! -e "$_ag_d/$_ag_project" ]; do
    if [ -z "$_ag_d" ]; then
      _ag_d=-
      break
    fi
    _ag_d=${_ag_d%/*}
  done
  [ "$_ag_d" = - ] || _ag_fast=0
  if _ag_changed "$_ag_system_policy" "$_ag_system_seen" || _ag_changed "$_ag_user_policy" "$_ag_user_seen"; then
    _ag_fast=0
  fi
fi
