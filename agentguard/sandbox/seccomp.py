"""A seccomp filter that keeps a process inside `agentguard run` from typing into its terminal.

`ioctl(fd, TIOCSTI, &c)` pushes a character into a terminal's input queue, as if typed. The terminal
`run` was started from is the human's: whatever a process inside pushes there, the shell outside
reads as its next command once `run` ends, unconfined. Landlock cannot help (the terminal's
descriptors were opened before the sandbox, and its IOCTL_DEV right would also refuse the ioctls a
terminal needs), and Linux still allows it where `dev.tty.legacy_tiocsti` is 1. So the command gets a
seccomp filter, inherited by everything it starts and never lifted, that answers EPERM to
TIOCSTI and TIOCLINUX (which can paste a console's selection) and lets every other call through.

The filter checks the architecture the call was made with, so that a 32-bit compat call (`int 0x80`
on x86_64) or an x32 one is judged by its own ioctl number."""

from __future__ import annotations

import ctypes
import errno
import sys

PR_SET_SECCOMP = 22
SECCOMP_MODE_FILTER = 2
SECCOMP_RET_ALLOW = 0x7FFF0000
SECCOMP_RET_ERRNO = 0x00050000
TIOCSTI = 0x5412
TIOCLINUX = 0x541C
X32 = 0x40000000
# AUDIT_ARCH_* (linux/audit.h) → the ioctl syscall's numbers under it
IOCTL = {
    0xC000003E: (16, X32 | 16, X32 | 514),  # x86_64, and x32
    0x40000003: (54,),  # i386
    0xC00000B7: (29,),  # aarch64
    0x40000028: (54,),  # arm
    0xC00000F3: (29,),  # riscv64
    0xC0000015: (54,),  # ppc64le
    0x80000015: (54,),  # ppc64
    0x80000016: (54,),  # s390x
    0xC0000102: (29,),  # loongarch64
}
# struct seccomp_data: int nr; u32 arch; u64 instruction_pointer; u64 args[6]. The command is the
# low 32 bits of args[1].
NR, ARCH = 0, 4
CMD = 24 if sys.byteorder == "little" else 28

LD_ABS, JEQ, RET = 0x20, 0x15, 0x06  # BPF_LD|BPF_W|BPF_ABS, BPF_JMP|BPF_JEQ|BPF_K, BPF_RET|BPF_K


class _Filter(ctypes.Structure):
    _fields_ = [("code", ctypes.c_uint16), ("jt", ctypes.c_uint8), ("jf", ctypes.c_uint8), ("k", ctypes.c_uint32)]


class _Program(ctypes.Structure):
    _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.POINTER(_Filter))]


def program() -> list[tuple[int, int, int, int]]:
    """The filter, as (code, jt, jf, k) instructions."""
    cmds = tuple(dict.fromkeys((TIOCSTI, TIOCLINUX, *_native())))
    # Laid out as: an arch test per architecture, each jumping to its block of number tests; every
    # number test jumps to the command tests; the command tests end in deny or allow.
    arches = list(IOCTL.items())
    blocks_len = sum(1 + len(nrs) for _, nrs in arches)
    code: list[tuple[int, int, int, int]] = [(LD_ABS, 0, 0, ARCH)]
    block_at = 1 + len(arches) + 1  # the first block: after the load, the arch tests and the allow that ends them
    for i, (arch, nrs) in enumerate(arches):
        here = len(code)
        code.append((JEQ, block_at - here - 1, 0, arch))
        block_at += 1 + len(nrs)
    allow_after_arches = len(code)
    code.append((RET, 0, 0, SECCOMP_RET_ALLOW))  # an architecture not listed
    cmd_at = allow_after_arches + 1 + blocks_len
    allow_at = cmd_at + 1 + len(cmds)
    for _, nrs in arches:
        code.append((LD_ABS, 0, 0, NR))
        for j, nr in enumerate(nrs):
            here = len(code)
            last = j == len(nrs) - 1
            code.append((JEQ, cmd_at - here - 1, (allow_at - here - 1) if last else 0, nr))
    code.append((LD_ABS, 0, 0, CMD))
    for j, cmd in enumerate(cmds):
        here = len(code)
        last = j == len(cmds) - 1
        code.append((JEQ, allow_at + 1 - here - 1, (allow_at - here - 1) if last else 0, cmd))
    code.append((RET, 0, 0, SECCOMP_RET_ALLOW))
    code.append((RET, 0, 0, SECCOMP_RET_ERRNO | errno.EPERM))
    assert all(jt < 256 and jf < 256 for _, jt, jf, _ in code)
    return code


def _native() -> tuple[int, ...]:
    try:
        import termios

        return (int(termios.TIOCSTI),)
    except (ImportError, AttributeError):
        return ()


class Installer:
    """Build the filter in the parent; ``install`` it in the child between fork and exec, after
    no_new_privs (which seccomp requires of a process without CAP_SYS_ADMIN)."""

    def __init__(self) -> None:
        code = program()
        self._filters = (_Filter * len(code))(*(_Filter(*ins) for ins in code))
        self._program = _Program(len(code), ctypes.cast(self._filters, ctypes.POINTER(_Filter)))
        self._libc = ctypes.CDLL(None, use_errno=True)
        self._libc.prctl.restype = ctypes.c_int

    def install(self) -> None:
        if self._libc.prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, ctypes.byref(self._program), 0, 0) != 0:
            err = ctypes.get_errno()
            raise OSError(err, f"prctl(PR_SET_SECCOMP): {errno.errorcode.get(err, err)}, so the terminal could be "
                               "typed into from inside")
