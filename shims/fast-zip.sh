# shellcheck shell=sh disable=SC2154,SC2195
# zip into a new archive: options from r, q, j and the levels 0-9 (alone or bundled), then the
# archive, which does not exist yet (nor NAME.zip, which zip creates for a NAME without a suffix),
# or '-' (standard output), then plain names to put in it. ZIPOPT and ZIP, which add options no one
# sees, are empty.
case $_ag_fast in 1)
  [ -z "${ZIPOPT-}${ZIP-}" ] || _ag_fast=0
  _ag_file=
;; esac
case $_ag_fast in 1)
  for _ag_a do
    if [ -z "$_ag_file" ]; then
      case "$_ag_a" in
        -) _ag_file=- ;;
        -*[!rqj0-9]*) _ag_fast=0 ;;
        -*) ;;
        *)
          _ag_file=$_ag_a
          _ag_new "$_ag_a" && _ag_new "$_ag_a.zip" || _ag_fast=0 ;;
      esac
    else
      _ag_plain "$_ag_a" || _ag_fast=0
    fi
    case $_ag_fast in
      0) break ;;
    esac
  done
  [ -n "$_ag_file" ] || _ag_fast=0
;; esac
