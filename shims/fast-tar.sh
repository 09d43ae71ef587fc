# shellcheck shell=sh disable=SC2154,SC2195
# tar -t (list an archive) and tar -c into a new archive: the first word is -t or -c with only v, z,
# j, J and f (f last, its archive next), or the same letters in tar's old style (`tf x.tar`); the
# other words are -v, -z, -j, -J, -f ARCHIVE, --file=ARCHIVE or plain names (members, or what goes
# into the archive). One archive, plain; for -c it does not exist yet ('-' is standard output).
# TAR_OPTIONS, which adds options no one sees, is empty.

_ag_bundle() {  # $1: tar's first word without its '-'
  case "$1" in
    ''|*[!ctvzjJf]*|*f?*|*c*t*|*t*c*) return 1 ;;
    *c*) _ag_mode=c ;;
    *t*) _ag_mode=t ;;
    *) return 1 ;;
  esac
  case "$1" in
    *f) _ag_want=1 ;;
  esac
}

case $_ag_fast in 1)
  [ -z "${TAR_OPTIONS-}" ] || _ag_fast=0
  _ag_mode=
  _ag_want=0
  _ag_file=
  _ag_files=0
  _ag_first=1
;; esac
case $_ag_fast in 1)
  for _ag_a do
    if [ "$_ag_want" = 1 ]; then
      _ag_file=$_ag_a
      _ag_files=$((_ag_files + 1))
      _ag_want=0
      continue
    fi
    if [ "$_ag_first" = 1 ]; then
      _ag_first=0
      _ag_bundle "${_ag_a#-}" || _ag_fast=0
      continue
    fi
    case "$_ag_a" in
      -v|-z|-j|-J) ;;
      -f) _ag_want=1 ;;
      --file=*)
        _ag_file=${_ag_a#--file=}
        _ag_files=$((_ag_files + 1)) ;;
      *) _ag_plain "$_ag_a" || _ag_fast=0 ;;
    esac
    case $_ag_fast in
      0) break ;;
    esac
  done
  [ "$_ag_want" = 0 ] && [ "$_ag_files" = 1 ] || _ag_fast=0
;; esac
case $_ag_fast:$_ag_file in
  1:-|0:*) ;;
  *)
    if [ "$_ag_mode" = c ]; then
      _ag_new "$_ag_file" || _ag_fast=0
    else
      _ag_plain "$_ag_file" || _ag_fast=0
    fi ;;
esac
