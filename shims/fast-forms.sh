# shellcheck shell=sh disable=SC2154,SC2195
# What the everyday forms of tar, zip, dd and crontab below have in common: an operand they read or
# create is a plain relative name (no leading '-', no '/' at the start, no '..', '~', '=' or ':'),
# and mentions neither agentguard, a shell profile nor an agent's settings. A file they create must
# not exist yet (nor a link by that name): nothing is overwritten.

_ag_plain() {  # $1: an operand; true when it is a plain relative name
  case "$1" in
    ''|-*|/*|*..*|*'~'*|*=*|*:*) return 1 ;;
    @MARKERS@) return 1 ;;
  esac
}

_ag_new() {  # $1: a file to create; true when it is a plain name in this directory, not there yet
  case "$1" in
    */*) return 1 ;;
  esac
  _ag_plain "$1" && [ ! -e "$1" ] && [ ! -h "$1" ]
}
