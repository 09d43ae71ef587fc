"""aws: `aws [global options] SERVICE OPERATION [args]`.

Destroying operations are named for what they do (delete-*, terminate-*, remove-*, purge-* …), and
anything that destroys backups is critical. Parameters may hide in ``--cli-input-json file://…``;
that file is read so that ``SkipFinalSnapshot: true`` counts as if it were on the command line.
"""

from __future__ import annotations

from agentguard.classify.argv import pack_args

from agentguard.classify.rulematch import declared_findings
from agentguard.classify.sources import read_text
from agentguard.model import Finding, Invocation

TYPE_CHECKING = False
if TYPE_CHECKING:
    from agentguard.context import Context
    from agentguard.shapes import Pack

READ_PREFIXES = ("describe-", "list-", "get-", "head-", "search-", "lookup-", "batch-get-", "query", "scan",
                 "select", "estimate-", "preview-", "validate-", "test-", "simulate-", "filter-", "view-",
                 "wait", "help", "ls", "presign", "download-", "export-")
HIDDEN_BACKUP_KEYS = ('"skipfinalsnapshot": true', '"deleteautomatedbackups": true',
                      '"skipfinalclustersnapshot": true', '"backupretentionperiod": 0', "skipfinalsnapshot: true",
                      "deleteautomatedbackups: true", "backupretentionperiod: 0")
# Options whose value (inline, or a file:// the call names) is read for what the call really does.
PAYLOAD_OPTIONS = ("--change-batch", "--request-items", "--cli-input-json", "--cli-input-yaml")


def classify(inv: Invocation, pack: Pack, ctx: Context) -> list[Finding]:
    # argparse, which the AWS CLI is built on, takes an unambiguous prefix of a long option by default:
    # the pack's long_options are read abbreviated, and only a sure --dry-run makes the call harmless.
    args = pack_args(inv.argv, pack)
    if "help" in args.words[:3] or args.has_surely("--dry-run"):
        return []
    found = declared_findings(pack, inv, args)
    op = args.words[1] if len(args.words) > 1 else ""
    for option in PAYLOAD_OPTIONS:
        payload = args.value(option)
        if payload is None:
            continue
        text = _read_input(payload, inv)
        if text is None and option in ("--change-batch", "--request-items"):
            # what the batch changes (deletes?) is in a file that cannot be read
            found.append(ctx.finding("aws.hidden-input", inv, f"{option} {payload} could not be read"))
        compact = "".join((text or "").split()).lower()
        if '"action":"delete"' in compact or "action=delete" in compact or '"deleterequest"' in compact:
            found.append(ctx.finding("aws.delete", inv, f"{option} deletes records"))
    spec = args.value("--cli-input-json", "--cli-input-yaml")
    if spec is not None and not op.startswith(READ_PREFIXES):
        text = _read_input(spec, inv)
        if text is None:
            found.append(ctx.finding("aws.hidden-input", inv, f"parameters in {spec} could not be read"))
        elif any(k in " ".join(text.lower().split()) for k in HIDDEN_BACKUP_KEYS):
            found.append(ctx.finding("aws.backups", inv, f"{spec} skips or deletes the final snapshot / backups"))
    return found


def _read_input(spec: str, inv: Invocation) -> str | None:
    if not spec.startswith(("file://", "fileb://")):
        return spec  # inline JSON or YAML
    if inv.remote:
        return None
    return read_text(spec.split("://", 1)[1], inv.cwd, 1024 * 1024)
