"""A seccomp filter that refuses netlink sockets, as a container runtime's profile can.

Installed in a child process (it cannot be removed again), it makes `socket(AF_NETLINK,
...)` fail with EAFNOSUPPORT, so the code that falls back when netlink is unavailable is
tested against the real refusal, not a stand-in.
"""

from __future__ import annotations

import ctypes
import platform
import socket

# linux/audit.h architecture and the socket(2) syscall number on it.
_ARCHES = {"x86_64": (0xC000003E, 41), "aarch64": (0xC00000B7, 198)}
_PR_SET_SECCOMP = 22
_PR_SET_NO_NEW_PRIVS = 38
_SECCOMP_MODE_FILTER = 2
_RET_ALLOW = 0x7FFF0000
_RET_ERRNO = 0x00050000
_EAFNOSUPPORT = 97
_LD_ABS_W = 0x20  # BPF_LD | BPF_W | BPF_ABS
_JEQ_K = 0x15  # BPF_JMP | BPF_JEQ | BPF_K
_RET_K = 0x06  # BPF_RET | BPF_K


class _Filter(ctypes.Structure):
    _fields_ = [
        ("code", ctypes.c_ushort),
        ("jt", ctypes.c_ubyte),
        ("jf", ctypes.c_ubyte),
        ("k", ctypes.c_uint),
    ]


class _Program(ctypes.Structure):
    _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.POINTER(_Filter))]


def supported() -> bool:
    """Whether this machine's architecture is one the filter knows."""
    return platform.machine() in _ARCHES


def refuse_netlink() -> None:
    """From now on this process (and what it execs) cannot open a netlink socket."""
    arch, nr_socket = _ARCHES[platform.machine()]
    # seccomp_data: nr at 0, arch at 4, args[0] (low word, little-endian) at 16.
    code = [
        (_LD_ABS_W, 0, 0, 4),
        (_JEQ_K, 0, 5, arch),
        (_LD_ABS_W, 0, 0, 0),
        (_JEQ_K, 0, 3, nr_socket),
        (_LD_ABS_W, 0, 0, 16),
        (_JEQ_K, 0, 1, socket.AF_NETLINK),
        (_RET_K, 0, 0, _RET_ERRNO | _EAFNOSUPPORT),
        (_RET_K, 0, 0, _RET_ALLOW),
    ]
    filters = (_Filter * len(code))(*(_Filter(*c) for c in code))
    program = _Program(len(code), filters)
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(_PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0:
        raise OSError(ctypes.get_errno(), "prctl(PR_SET_NO_NEW_PRIVS)")
    if libc.prctl(_PR_SET_SECCOMP, _SECCOMP_MODE_FILTER, ctypes.byref(program), 0, 0) != 0:
        raise OSError(ctypes.get_errno(), "prctl(PR_SET_SECCOMP)")
