"""Valid-token authentication with the failed-token throttle's table empty and full.

The reference is the same `Authenticator.require` call, for the same valid token and
address, measured in this run (in alternation, best of 7) with no failures recorded; the
comparison fills the table to its bound (every slot a blocked address) first. A ratio
near 1 means a guessing flood from many addresses does not slow clients whose tokens are
right.
"""

from __future__ import annotations

import time

from aiohttp.test_utils import make_mocked_request

from receiver.config import TokenConfig
from receiver.http.auth import Authenticator
from receiver.http.throttle import MAX_ADDRESSES, FailureThrottle
from servicekit.values import Secret

ROUNDS = 20_000
TOKEN = "bench-valid-token-4e1f"


def _authenticator() -> Authenticator:
    tokens = [
        TokenConfig(name=f"t{i}", roles=["admin"], token=Secret(f"{TOKEN}-{i}")) for i in range(4)
    ]
    tokens.append(TokenConfig(name="valid", roles=["ingest"], token=Secret(TOKEN)))
    return Authenticator(tokens, FailureThrottle())


def _best_per_call(auths: list[Authenticator], repeats: int = 7) -> list[float]:
    """Best time per call of each, measured in alternation so drift hits both alike."""
    request = make_mocked_request(
        "POST", "/webhook/alertmanager", headers={"Authorization": f"Bearer {TOKEN}"}
    )
    best = [float("inf")] * len(auths)
    for _ in range(repeats):
        for i, auth in enumerate(auths):
            start = time.perf_counter()
            for _ in range(ROUNDS):
                auth.require(request, "ingest")
            best[i] = min(best[i], (time.perf_counter() - start) / ROUNDS)
    return best


def main() -> int:
    empty = _authenticator()
    full = _authenticator()
    for i in range(MAX_ADDRESSES):
        key = f"10.{i >> 16 & 255}.{i >> 8 & 255}.{i & 255}"
        for _ in range(full.throttle.max_failures):
            full.throttle.failed(key)
    assert len(full.throttle) == MAX_ADDRESSES
    reference, loaded = _best_per_call([empty, full])
    print(f"valid token, throttle table empty:            {reference * 1e6:.2f} µs per check")
    print(
        f"valid token, table full ({MAX_ADDRESSES} blocked): {loaded * 1e6:.2f} µs per check"
        f"  ({loaded / reference:.2f}x the empty table)"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
