"""Sockets in one state, asked of the kernel through netlink `NETLINK_SOCK_DIAG`.

Reading /proc/net/tcp makes the kernel walk its whole TCP hash table and print every
socket, listening or not, which costs milliseconds on a busy host however few listeners
there are. A `SOCK_DIAG_BY_FAMILY` dump with a state filter walks only what it is asked
for (the listening hash for TCP_LISTEN) and answers in binary: the same sockets as
/proc/net/* (same network namespace, same state), at a fraction of the cost, and what
`ss` uses. Standard library only (`socket.AF_NETLINK` and `struct`): pyroute2 does the
same but importing it costs the exporter megabytes of resident memory for one request.
"""

from __future__ import annotations

import os
import socket
import struct
from typing import NamedTuple

NETLINK_SOCK_DIAG = 4  # linux/netlink.h; not in Python's socket module
SOCK_DIAG_BY_FAMILY = 20  # linux/sock_diag.h
NLM_F_REQUEST = 0x1
NLM_F_DUMP = 0x300  # NLM_F_ROOT | NLM_F_MATCH
NLMSG_ERROR = 2
NLMSG_DONE = 3
TCP_LISTEN = 10  # include/net/tcp_states.h
TCP_CLOSE = 7  # an unconnected (bound) UDP socket's state

# struct nlmsghdr: len, type, flags, seq, pid (host byte order).
_HEADER = struct.Struct("=IHHII")
# struct inet_diag_req_v2: family, protocol, ext, pad, states, then inet_diag_sockid
# (sport, dport, src[16], dst[16], if, cookie[2]), all zero: no filter but the states.
_REQUEST = struct.Struct("=BBBxI48x")
# struct inet_diag_msg: family, state, timer, retrans, then the sockid: source port
# (network byte order) and source address, then expires .. uid, inode at offset 68.
_FAMILY = struct.Struct("=B")
_SPORT = struct.Struct("!H")
_INODE = struct.Struct("=I")
_MSG_LEN = 72
_SRC = 8
_INODE_AT = 68
_ERRNO = struct.Struct("=i")
# One dump part is at most 32 KiB (the kernel's cap on a netlink dump skb); room to spare.
_BUFFER = 65536
# The kernel answers a dump synchronously; this only bounds a thread if it ever did not.
_TIMEOUT = 5.0


class DiagSocket(NamedTuple):
    """One socket from a dump: its local address (4 or 16 bytes), port and inode."""

    address: bytes
    port: int
    inode: int


class SockDiag:
    """One netlink socket for a few dumps in a row; use as a context manager."""

    def __init__(self) -> None:
        # Fails where netlink is not offered (no AF_NETLINK, a seccomp filter): OSError.
        self._sock = socket.socket(socket.AF_NETLINK, socket.SOCK_DGRAM, NETLINK_SOCK_DIAG)
        self._sock.settimeout(_TIMEOUT)
        self._buffer = bytearray(_BUFFER)
        self._seq = 0

    def __enter__(self) -> SockDiag:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Close the netlink socket."""
        self._sock.close()

    def dump(self, family: int, protocol: int, state: int) -> list[DiagSocket]:
        """Every `family`/`protocol` socket in `state` in this network namespace.

        Raises OSError with the kernel's errno when it refuses (e.g. ENOENT: no
        `udp_diag` module for UDP), and when the answer cannot be read.
        """
        self._seq += 1
        request = _REQUEST.pack(family, protocol, 0, 1 << state)
        header = _HEADER.pack(
            _HEADER.size + len(request),
            SOCK_DIAG_BY_FAMILY,
            NLM_F_REQUEST | NLM_F_DUMP,
            self._seq,
            0,
        )
        self._sock.sendto(header + request, (0, 0))
        found: list[DiagSocket] = []
        while True:
            size, _, flags, _ = self._sock.recvmsg_into([self._buffer])
            if flags & socket.MSG_TRUNC:
                raise OSError("netlink answer truncated")
            if self._parse(memoryview(self._buffer)[:size], family, found):
                return found

    def _parse(self, data: memoryview, family: int, found: list[DiagSocket]) -> bool:
        """Add one datagram's sockets to `found`; True once the dump's end is in it."""
        addr_len = 4 if family == socket.AF_INET else 16
        offset = 0
        while offset + _HEADER.size <= len(data):
            length, kind, _, seq, _ = _HEADER.unpack_from(data, offset)
            if length < _HEADER.size or offset + length > len(data):
                raise OSError(f"malformed netlink message (length {length})")
            body = offset + _HEADER.size
            # Messages are 4-byte aligned (NLMSG_ALIGN).
            offset += (length + 3) & ~3
            if seq != self._seq:
                continue  # left over from an earlier dump on this socket
            if kind == NLMSG_DONE:
                return True
            if kind == NLMSG_ERROR:
                (error,) = _ERRNO.unpack_from(data, body)
                if error == 0:
                    return True  # an acknowledgement: the request ended without sockets
                raise OSError(-error, os.strerror(-error))
            if kind != SOCK_DIAG_BY_FAMILY or length - _HEADER.size < _MSG_LEN:
                continue
            if _FAMILY.unpack_from(data, body)[0] != family:
                continue
            src = body + _SRC
            found.append(
                DiagSocket(
                    bytes(data[src : src + addr_len]),
                    _SPORT.unpack_from(data, body + 4)[0],
                    _INODE.unpack_from(data, body + _INODE_AT)[0],
                )
            )
        return False
