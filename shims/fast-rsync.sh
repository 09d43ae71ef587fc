# shellcheck shell=sh disable=SC2154,SC2195
# rsync of plain local names into a destination that does not exist yet (the last name, one '/' at
# its end allowed): it creates that copy and touches nothing else. Options only from a, v, r, l, p,
# t, g, o, D, z, h, n, u, c, i, W (alone or bundled) and their long names: none deletes, removes a
# source, runs a command, or writes beside the copy. No popt file that could give an option
# another meaning exists (~/.popt, /etc/popt, /etc/popt.d).
case $_ag_fast in 1)
  for _ag_f in "${HOME-}/.popt" /etc/popt /etc/popt.d; do
    if [ -e "$_ag_f" ] || [ -h "$_ag_f" ]; then
      _ag_fast=0
    fi
  done
  _ag_n=0
  _ag_last=
;; esac
case $_ag_fast in 1)
  for _ag_a do
    case "$_ag_a" in
      --archive|--verbose|--recursive|--links|--perms|--times|--group|--owner|--devices|--specials|\
      --compress|--human-readable|--dry-run|--update|--checksum|--itemize-changes|--whole-file|--progress|\
      --stats) ;;
      -*[!avrlptgoDzhnuciW]*|-) _ag_fast=0 ;;
      -*) ;;
      *)
        _ag_plain "$_ag_a" || _ag_fast=0
        _ag_n=$((_ag_n + 1))
        _ag_last=$_ag_a ;;
    esac
    case $_ag_fast in
      0) break ;;
    esac
  done
  [ "$_ag_n" -ge 2 ] && _ag_new "${_ag_last%/}" || _ag_fast=0
;; esac
