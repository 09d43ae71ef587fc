"""Where agentguard keeps things.

Data shipped with agentguard (rule packs, the shim template) lives in ``rules/`` and ``shims/`` at
the top of a source checkout, or in ``agentguard/_data/`` inside an installed wheel.

On the user's machine: XDG locations by default, everything under one directory when
``AGENTGUARD_HOME`` is set, and root-owned system locations for ``install --system``.
"""

from __future__ import annotations

import os

_HERE = os.path.dirname(os.path.abspath(__file__))


def data_dir(name: str) -> str:
    """The directory holding shipped data ``name`` (``rules`` or ``shims``)."""
    packaged = os.path.join(_HERE, "_data", name)
    if os.path.isdir(packaged):
        return packaged
    return os.path.join(os.path.dirname(_HERE), name)


def package_root() -> str:
    """The directory to put on ``sys.path`` so that ``import agentguard`` finds this copy."""
    return os.path.dirname(_HERE)


class Locations:
    """The four places agentguard writes to, resolved once from the environment."""

    __slots__ = ("config", "state", "shims", "cache", "system")

    def __init__(self, config: str, state: str, shims: str, cache: str, system: bool = False) -> None:
        self.config = config
        self.state = state
        self.shims = shims
        self.cache = cache
        self.system = system

    @property
    def audit_log(self) -> str:
        return os.path.join(self.state, "audit.jsonl")

    @property
    def compiled_policy(self) -> str:
        return os.path.join(self.state, "policy.marshal")

    def __repr__(self) -> str:
        return f"Locations(config={self.config!r}, state={self.state!r}, shims={self.shims!r})"


SYSTEM = Locations("/etc/agentguard", "/var/lib/agentguard", "/usr/local/lib/agentguard/shims",
                   "/var/cache/agentguard", system=True)


OVERRIDE = "AGENTGUARD_HOME"  # DIR: config, state, shims and cache all in DIR/<name>
# Each directory by XDG rules: (variable, its default below HOME, agentguard's place inside it).
# The shims' fast path derives the same places from this table.
XDG = {
    "config": ("XDG_CONFIG_HOME", ".config", "agentguard"),
    "state": ("XDG_STATE_HOME", ".local/state", "agentguard"),
    "shims": ("XDG_DATA_HOME", ".local/share", "agentguard/shims"),
    "cache": ("XDG_CACHE_HOME", ".cache", "agentguard"),
}


def locations(environ: dict[str, str] | None = None) -> Locations:
    env = os.environ if environ is None else environ
    home_override = env.get(OVERRIDE)
    if home_override:
        base = os.path.abspath(os.path.expanduser(home_override))
        return Locations(os.path.join(base, "config"), os.path.join(base, "state"), os.path.join(base, "shims"),
                         os.path.join(base, "cache"))
    home = env.get("HOME") or os.path.expanduser("~")

    def place(name: str) -> str:
        var, default, inside = XDG[name]
        value = env.get(var, "")
        return os.path.join(value if os.path.isabs(value) else os.path.join(home, default), inside)

    return Locations(place("config"), place("state"), place("shims"), place("cache"))
