"""A small typed binding to Linux Landlock: landlock_create_ruleset, landlock_add_rule and
landlock_restrict_self through libc's syscall(2), with prctl(PR_SET_NO_NEW_PRIVS).

Only what agentguard's sandbox needs: path-beneath rules for the write rights, and the scopes that
keep a confined process from signalling or reaching abstract sockets outside its domain. Reads and
execution are never handled, so they stay allowed everywhere. Each right is asked for only when the
running kernel's ABI knows it; a right the sandbox depends on that the kernel lacks is reported by
``missing()``, never silently dropped. docs/sandbox.md explains why this is not a PyPI dependency.
"""

from __future__ import annotations

import ctypes
import errno
import os
import platform
import stat
from enum import IntFlag

# Landlock's syscall numbers are the same on every architecture that has the unified table.
SYSCALLS = {"create_ruleset": 444, "add_rule": 445, "restrict_self": 446}
KNOWN_MACHINES = ("x86_64", "amd64", "aarch64", "arm64", "armv7l", "armv8l", "i686", "i386", "riscv64", "ppc64le",
                  "ppc64", "s390x", "loongarch64")
CREATE_RULESET_VERSION = 1 << 0
RULE_PATH_BENEATH = 1
PR_SET_NO_NEW_PRIVS = 38
PR_CAPBSET_DROP = 24
PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL = 47, 4


class Access(IntFlag):
    """LANDLOCK_ACCESS_FS_* (include/uapi/linux/landlock.h)."""

    EXECUTE = 1 << 0
    WRITE_FILE = 1 << 1
    READ_FILE = 1 << 2
    READ_DIR = 1 << 3
    REMOVE_DIR = 1 << 4
    REMOVE_FILE = 1 << 5
    MAKE_CHAR = 1 << 6
    MAKE_DIR = 1 << 7
    MAKE_REG = 1 << 8
    MAKE_SOCK = 1 << 9
    MAKE_FIFO = 1 << 10
    MAKE_BLOCK = 1 << 11
    MAKE_SYM = 1 << 12
    REFER = 1 << 13  # ABI 2
    TRUNCATE = 1 << 14  # ABI 3
    IOCTL_DEV = 1 << 15  # ABI 5


class Scope(IntFlag):
    """LANDLOCK_SCOPE_* (ABI 6)."""

    ABSTRACT_UNIX_SOCKET = 1 << 0
    SIGNAL = 1 << 1


# The oldest ABI that knows each right.
SINCE = {Access.REFER: 2, Access.TRUNCATE: 3, Access.IOCTL_DEV: 5}
SCOPES_SINCE = 6
# Everything that changes the file system. Reads, execution and device ioctls are not handled: the
# sandbox confines writes, and a device can only be damaged through a descriptor opened for writing.
WRITES = (Access.WRITE_FILE | Access.REMOVE_DIR | Access.REMOVE_FILE | Access.MAKE_CHAR | Access.MAKE_DIR
          | Access.MAKE_REG | Access.MAKE_SOCK | Access.MAKE_FIFO | Access.MAKE_BLOCK | Access.MAKE_SYM
          | Access.REFER | Access.TRUNCATE)
# Handled but never granted: a device node made in the workspace (root can) would reach the raw disk.
NEVER = Access.MAKE_CHAR | Access.MAKE_BLOCK
# What a writable directory tree gets, and what a single writable file gets (the rights a file can carry).
TREE = WRITES & ~NEVER
FILE = Access.WRITE_FILE | Access.TRUNCATE
# Without REFER (ABI 1) no file can ever move between directories, which breaks `git` and `mv`;
# without TRUNCATE (ABI 2) a truncating open of a read-only file is allowed, which is the very
# `open(…, 'w')` the sandbox exists to stop.
REQUIRED_ABI = 3


class LandlockError(OSError):
    """A Landlock call failed; the message says which and why."""


class _RulesetAttr(ctypes.Structure):
    _fields_ = [("handled_access_fs", ctypes.c_uint64), ("handled_access_net", ctypes.c_uint64),
                ("scoped", ctypes.c_uint64)]


class _PathBeneathAttr(ctypes.Structure):
    _pack_ = 1  # the kernel's struct is __attribute__((packed)): 12 bytes
    _fields_ = [("allowed_access", ctypes.c_uint64), ("parent_fd", ctypes.c_int32)]


# Bytes of landlock_ruleset_attr each ABI reads: net rights came with 4, scopes with 6.
ATTR_SIZE = {1: 8, 2: 8, 3: 8, 4: 16, 5: 16}
_libc: ctypes.CDLL | None = None


def _syscall() -> ctypes._NamedFuncPointer:  # the stub's name for a CDLL attribute (not a runtime name)
    global _libc
    if _libc is None:
        _libc = ctypes.CDLL(None, use_errno=True)
        _libc.syscall.restype = ctypes.c_long
        _libc.prctl.restype = ctypes.c_int
    return _libc.syscall


def _call(name: str, *args: object) -> int:
    result = int(_syscall()(ctypes.c_long(SYSCALLS[name]), *args))
    if result == -1:
        err = ctypes.get_errno()
        raise LandlockError(err, f"landlock_{name}: {os.strerror(err)}")
    return result


def abi_version() -> int:
    """The running kernel's Landlock ABI, 0 when it has none (not Linux, not built in, or disabled at boot)."""
    if platform.system() != "Linux" or platform.machine().lower() not in KNOWN_MACHINES:
        return 0
    try:
        return _call("create_ruleset", None, ctypes.c_size_t(0), ctypes.c_uint32(CREATE_RULESET_VERSION))
    except LandlockError as e:
        if e.errno in (errno.ENOSYS, errno.EOPNOTSUPP):
            return 0
        raise


def why_unavailable() -> str:
    """One line saying why Landlock cannot be used here, or '' when it can."""
    if platform.system() != "Linux":
        return f"Landlock is Linux's; this is {platform.system()}"
    if platform.machine().lower() not in KNOWN_MACHINES:
        return f"agentguard does not know Landlock's system calls on {platform.machine()}"
    try:
        abi = _call("create_ruleset", None, ctypes.c_size_t(0), ctypes.c_uint32(CREATE_RULESET_VERSION))
    except LandlockError as e:
        if e.errno == errno.ENOSYS:
            return f"this kernel ({platform.release()}) has no Landlock (5.13 or later, CONFIG_SECURITY_LANDLOCK)"
        if e.errno == errno.EOPNOTSUPP:
            return "Landlock is built in but disabled at boot: add `landlock` to the kernel's lsm= list"
        return str(e)
    if abi < REQUIRED_ABI:
        return (f"this kernel's Landlock ABI is {abi}; agentguard needs {REQUIRED_ABI} (Linux 6.2) so that renames "
                "between directories work and truncating a read-only file is denied")
    return ""


def known(abi: int) -> Access:
    """The write rights ABI ``abi`` can enforce."""
    rights = WRITES
    for right, since in SINCE.items():
        if abi < since:
            rights &= ~right
    return rights


def scopes(abi: int) -> Scope:
    return Scope.ABSTRACT_UNIX_SOCKET | Scope.SIGNAL if abi >= SCOPES_SINCE else Scope(0)


class Ruleset:
    """A ruleset that handles every write right the ABI knows; ``allow`` grants some of them beneath a
    path. Build it in the parent (errors are clear there), ``enforce`` it in the child before exec."""

    def __init__(self, abi: int | None = None) -> None:
        self.abi = abi_version() if abi is None else abi
        if self.abi < 1:
            raise LandlockError(errno.EOPNOTSUPP, why_unavailable() or "Landlock is not available")
        self.handled = known(self.abi)
        self.scoped = scopes(self.abi)
        attr = _RulesetAttr(int(self.handled), 0, int(self.scoped))
        size = ATTR_SIZE.get(self.abi, ctypes.sizeof(_RulesetAttr))
        self.fd = _call("create_ruleset", ctypes.byref(attr), ctypes.c_size_t(size), ctypes.c_uint32(0))
        self.rules: list[tuple[str, Access]] = []

    def allow(self, path: str, rights: Access) -> Access:
        """Grant ``rights`` (masked to what this ruleset handles) on ``path`` and everything beneath it.
        A regular file takes only file rights. Returns what was granted."""
        fd = os.open(path, os.O_PATH | os.O_CLOEXEC)
        try:
            if not stat.S_ISDIR(os.fstat(fd).st_mode):
                rights &= FILE
            granted = Access(rights & self.handled)
            if not granted:
                return granted
            attr = _PathBeneathAttr(int(granted), fd)
            try:
                _call("add_rule", ctypes.c_int(self.fd), ctypes.c_int(RULE_PATH_BENEATH), ctypes.byref(attr),
                      ctypes.c_uint32(0))
            except LandlockError as e:
                raise LandlockError(e.errno, f"cannot grant {path}: {e.strerror}") from None
        finally:
            os.close(fd)
        self.rules.append((path, granted))
        return granted

    def enforce(self) -> None:
        """Confine the calling thread and everything it starts from now on, irrevocably. Call it in a
        single-threaded child between fork and exec."""
        if os.getuid() == 0 or os.geteuid() == 0:
            drop_capabilities()
        no_new_privs()
        _call("restrict_self", ctypes.c_int(self.fd), ctypes.c_uint32(0))
        self.close()

    def close(self) -> None:
        if self.fd >= 0:
            os.close(self.fd)
            self.fd = -1


def no_new_privs() -> None:
    """Required before an unprivileged landlock_restrict_self; also keeps sudo and set-uid programs from
    raising a confined process's privileges."""
    _syscall()  # loads libc
    assert _libc is not None
    if _libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0:
        err = ctypes.get_errno()
        raise LandlockError(err, f"prctl(PR_SET_NO_NEW_PRIVS): {os.strerror(err)}")


def drop_capabilities() -> None:
    """Empty the capability bounding set so that a program root runs inside has no capabilities after
    exec: Landlock confines root's file writes, but not loading a kernel module or a BPF program."""
    _syscall()
    assert _libc is not None
    try:
        with open("/proc/sys/kernel/cap_last_cap", encoding="ascii") as f:
            last = int(f.read().strip())
    except (OSError, ValueError):
        last = 63
    _libc.prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0)  # EINVAL before Linux 4.3: none to clear
    for cap in range(last + 1):
        if _libc.prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) != 0:
            err = ctypes.get_errno()
            if err != errno.EINVAL:  # a capability this kernel does not have
                raise LandlockError(err, f"prctl(PR_CAPBSET_DROP, {cap}): {os.strerror(err)}")
