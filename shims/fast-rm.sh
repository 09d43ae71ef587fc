# shellcheck shell=sh disable=SC2154,SC2195
# rm NAME… (and unlink NAME, rmdir NAME…, which the classifier judges as rm without options),
# where the classifier finds nothing to protect. Each NAME is plain: no option, no '/',
# no '..', no glob character, no leading '~', not '.', and not a symlink (the classifier judges
# what a link points to). None is a protected name (git history, credentials, databases, backups,
# infrastructure state, shell profiles, agents' settings, anything of agentguard's: the
# classifier's own lists) or a name on the way to one of agentguard's directories. The working
# directory is under the home directory (as named now and as resolved when this shim was written)
# or a temp directory that does not hold the home directory.
_ag_rm_dir=@RM_DIR@  # the real program's directory, to run it by its own name; '' to run it by path

if [ "$_ag_fast" = 1 ]; then
  [ "$#" -gt 0 ] || _ag_fast=0
  for _ag_a do
    case "$_ag_a" in
      ''|-*|*/*|.|*..*|'~'*|*'*'*|*'?'*|*'['*)
        _ag_fast=0
        break ;;
      @RM_PROTECTED@)
        _ag_fast=0
        break ;;
    esac
    case "$_ag_cwd/$_ag_a" in
      @AG_ABOVE@)
        _ag_fast=0
        break ;;
    esac
    if [ -h "$_ag_a" ]; then
      _ag_fast=0
      break
    fi
  done
fi

if [ "$_ag_fast" = 1 ]; then
  # HOME is a home directory known here, in normal form (fast-dirs.sh), as the classifier
  # compares it with the names it removes.
  _ag_place=0
  case "$_ag_cwd/" in
    @RM_HOMES@)
      case "$_ag_cwd/" in "${HOME-}"/*) _ag_place=1 ;; esac ;;
  esac
  case "$_ag_cwd/" in
    @TEMP_DIRS@)
      case "${HOME-}/" in "$_ag_cwd"/?*) ;; *) _ag_place=1 ;; esac ;;
  esac
  [ "$_ag_place" = 1 ] || _ag_fast=0
fi

if [ "$_ag_fast" = 1 ] && [ -n "$_ag_rm_dir" ]; then
  # argv[0] as given: coreutils names itself in its messages.
  PATH=$_ag_rm_dir exec @RM_NAME@ "$@"
fi
