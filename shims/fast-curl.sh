# shellcheck shell=sh disable=SC2154,SC2195
# curl: a plain GET of http(s) URLs with options that change only what is printed, when none of
# the files curl reads options from exists (the pack's config_files; a file under an unset or
# empty variable is not read). -q/--disable is not an option taken here, so whether curl reads
# those files never matters. GraphQL in a URL is judged by the classifier.

_ag_no_config() {  # the files curl reads options from
  for _ag_f do
    if [ -e "$_ag_f" ] || [ -h "$_ag_f" ]; then
      return 1
    fi
  done
}

case $_ag_fast in 1)
  _ag_no_config @CONFIG_FILES@ || _ag_fast=0
  [ "$#" -gt 0 ] || _ag_fast=0
;; esac
case $_ag_fast in 1)
  _ag_value=0
  for _ag_a do
    if [ "$_ag_value" = 1 ]; then
      case "$_ag_a" in
        ''|*[!0-9.]*)
          _ag_fast=0
          break ;;
      esac
      _ag_value=0
      continue
    fi
    case "$_ag_a" in
      *mutation*|*query=*)
        _ag_fast=0
        break ;;
      http://*|https://*)
        case "$_ag_a" in
          *[!A-Za-z0-9:/._%?=+,@#-]*)
            _ag_fast=0
            break ;;
        esac ;;
      --silent|--show-error|--location|--fail|--insecure|--include|--verbose|--compressed|--globoff|--http1.1|--http2) ;;
      --max-time|--connect-timeout|--retry|-m) _ag_value=1 ;;
      -[sSLfkiv]*)
        case "${_ag_a#-}" in
          *[!sSLfkiv]*)
            _ag_fast=0
            break ;;
        esac ;;
      *)
        _ag_fast=0
        break ;;
    esac
  done
  [ "$_ag_value" = 0 ] || _ag_fast=0
;; esac
