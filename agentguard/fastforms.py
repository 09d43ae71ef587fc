"""Fast paths for the everyday forms of tools whose classifier reads much more than these forms show
(``shims/fast-help.sh``, ``fast-forms.sh`` and one fragment per tool):

- every one of them: a help flag of its pack alone (``shred --help``, ``pgbench -V``);
- ``tar -t`` and ``tar -c`` into a new archive, ``zip`` into a new archive (both: or to standard
  output, ``-``), ``dd`` without ``of=``, ``crontab -l``, and ``rsync`` into a destination that
  does not exist yet with options that neither delete nor remove, spelled plainly, with plain
  relative names.

Anything else a call holds (another option, a name that is not plain, an archive that exists, a
variable that adds options) goes to the classifier. shred, truncate and pgbench have no
form here beyond help: what they do with their operands (overwrite, empty, drop and create
tables) is what the classifier is for, as it is for rsync onto what exists.
"""

from __future__ import annotations

from agentguard.fastpath import NOTHING, exact, sh_patterns

# tool → the fragment with its everyday forms ('' for help flags only)
FORMS = {"tar": "fast-tar.sh", "zip": "fast-zip.sh", "dd": "fast-dd.sh", "crontab": "fast-crontab.sh",
         "rsync": "fast-rsync.sh", "shred": "", "truncate": "", "pgbench": ""}
# what `agentguard which` says each form is
SHOWN = {"tar": "tar -t, and tar -c into a new archive (-v -z -j -J -f, plain names), with TAR_OPTIONS empty",
         "zip": "zip into a new archive or to standard output (-r -q -j -0..-9, plain names), with ZIPOPT and ZIP empty",
         "dd": "dd without of= (if= a plain name or a device that holds nothing, sizes, counts, status=)",
         "crontab": "crontab -l",
         "rsync": "rsync of plain local names into a new destination (-a -v -r -l -p -t -g -o -D -z -h -n -u -c -i -W)"}


def form_parts(tool: str) -> list[str]:
    """The fragments of ``tool``'s fast path after the guard and the directory checks."""
    form = FORMS[tool]
    return ["fast-help.sh"] + (["fast-forms.sh", form, "fast-exec.sh"] if form else [])


def form_values(book: dict[str, object], tool: str) -> dict[str, str] | None:
    """The help flags of the tool's pack, and for dd the devices it may read that hold nothing (the
    pack's harmless devices, exact names only). None when the tool is in no pack."""
    from agentguard.rules import family_of

    family = family_of(book, tool)
    if family is None:
        return None
    flags = book["families"][family]["help_flags"]  # type: ignore[index]
    devices = [d for d in book["paths"]["harmless_devices"] if not d.endswith("/")]  # type: ignore[index]
    return {
        "HELP_FLAGS": sh_patterns({exact(str(f)) for f in flags}),
        "DD_READS": sh_patterns({exact("if=" + d) for d in devices}) if devices else NOTHING,
    }
