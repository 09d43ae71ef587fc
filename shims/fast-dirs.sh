# shellcheck shell=sh disable=SC2154,SC2194,SC2195
# agentguard's own directories. Those known when this shim was written (the installation's, the
# defaults below the home directories, the system ones; each as named and as resolved) are in the
# patterns below. Self-protection also protects those the environment names now: HOME must be a
# home directory known here, and what AGENTGUARD_HOME and XDG_* name must be among the known
# directories, or the classifier decides. The working directory must be inside none of them.
# Every check is a case on a value against patterns written when the shim is: sh reads a shim a
# character at a time, so a check that needs no function of its own costs least.

case $_ag_fast in 1)
  # Inside none of them, nor inside a home directory's dot-directories: those hold what decides how
  # shells and agents start (fish's configuration, agents' settings) and agentguard's default
  # directories. One case for both: each pattern that another already covers is left out.
  case $_ag_cwd/ in
    @AG_INSIDE@) _ag_fast=0 ;;
  esac
  # HOME must be one known here, whose default directories are known.
  case ${HOME-} in
    @HOMES@) ;;
    *) _ag_fast=0 ;;
  esac
  # AGENTGUARD_HOME, when set, must be one whose directories are all known; so must each XDG
  # directory that names one of agentguard's (a relative value is ignored, as by
  # paths.locations()). The values that are, are written out when the shim is.
  case @OVERRIDE@ in
    @OVERRIDE_HOMES@) ;;
    *) _ag_fast=0 ;;
  esac
  @XDG_CHECKS@
;; esac
