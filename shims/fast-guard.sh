# shellcheck shell=sh disable=SC2154,SC2195
# The fast path stands in for the classifier only where the rules it was generated from are all the
# rules there are: no project policy in the working directory or above it, and no system or user
# policy changed (or created) since this shim was written; `agentguard rehash` writes it again.
# The classifier sees the physical working directory, so the fast path does too; PWD is put back
# so that the program sees the directory it was given.
_ag_fast=0 _ag_pwd=${PWD-}
[ -x "$_ag_real" ] && cd -P . 2>/dev/null && case $PWD in /*) _ag_fast=1 ;; esac
_ag_cwd=$PWD
PWD=$_ag_pwd
case $_ag_fast in 1)
  _ag_d=$_ag_cwd
  while [ ! -e "$_ag_d/"@PROJECT_FILE@ ]; do
    case $_ag_d in
      '')
        _ag_d=-
        break ;;
    esac
    _ag_d=${_ag_d%/*}
  done
  # The system and user policy files, each as it was when this shim was written: one that
  # existed must not be newer than the shim, one that did not must still not exist.
  if @POLICY_CHANGED@; then
    _ag_d=
  fi
  case $_ag_d in
    -) ;;
    *) _ag_fast=0 ;;
  esac
;; esac
