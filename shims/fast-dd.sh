# shellcheck shell=sh disable=SC2154,SC2195
# dd without of=: it writes to standard output. Its operands are if= (a plain name, or a device
# that holds nothing) and sizes, counts and status= (letters and digits).
case $_ag_fast in 1)
  for _ag_a do
    case "$_ag_a" in
      @DD_READS@) ;;
      if=*) _ag_plain "${_ag_a#if=}" || _ag_fast=0 ;;
      bs=*|ibs=*|obs=*|cbs=*|count=*|skip=*|status=*)
        case "${_ag_a#*=}" in
          ''|*[!A-Za-z0-9]*) _ag_fast=0 ;;
        esac ;;
      *) _ag_fast=0 ;;
    esac
    case $_ag_fast in
      0) break ;;
    esac
  done
;; esac
