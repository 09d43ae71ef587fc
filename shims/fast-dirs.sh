# shellcheck shell=sh disable=SC2154,SC2195
# agentguard's own directories. Those known when this shim was written (the installation's, the
# defaults below the home directories, the system ones; each as named and as resolved) are in the
# patterns below. Self-protection also protects those the environment names now: HOME must be a
# home directory known here, and what AGENTGUARD_HOME and XDG_* name must be among the known
# directories, or the classifier decides. The working directory must be inside none of them.

_ag_known() {  # $1: a directory of agentguard's in this environment
  case "$1" in
    @AG_DIRS@) ;;
    *) _ag_fast=0 ;;
  esac
}

_ag_places() {  # $1: the value of AGENTGUARD_HOME, then agentguard's directories under it
  _ag_base=$1
  shift
  for _ag_p do
    _ag_known "$_ag_base/$_ag_p"
  done
}

_ag_xdg() {  # pairs: an XDG variable's value, agentguard's place in what it names
  while [ "$#" -ge 2 ]; do
    case "$1" in
      /*) _ag_known "$1/$2" ;;  # a relative value is ignored, as by paths.locations()
    esac
    shift 2
  done
}

if [ "$_ag_fast" = 1 ]; then
  case "$_ag_cwd/" in
    @AG_INSIDE@) _ag_fast=0 ;;
  esac
  # Nor inside a home directory's dot-directories: they hold what decides how shells and agents
  # start (fish's configuration, agents' settings) and agentguard's default directories.
  case "$_ag_cwd/" in
    @HOME_DOTS@) _ag_fast=0 ;;
  esac
  # HOME must be one known here, whose default directories are known.
  case "${HOME-}" in
    @HOMES@) ;;
    *) _ag_fast=0 ;;
  esac
  _ag_override=@OVERRIDE@
  [ -z "$_ag_override" ] || _ag_places "$_ag_override" @OVERRIDE_PLACES@
  _ag_xdg_now=@XDG_VALUES@
  [ -z "$_ag_xdg_now" ] || _ag_xdg @XDG_PLACES@
fi
