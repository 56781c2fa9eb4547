"""Submit-to-receipt latency per campaign: bucket counters in Redis, percentiles from them.

The buckets grow by 20 % from 0.1 s (bucket k holds latencies up to 0.1 * 1.2**k
seconds), so about 85 counters cover four days and a percentile is exact to
within 20 % (reported as its bucket's upper bound, rounded up, never flattering).
"""

from __future__ import annotations

import math

FIRST = 0.1
RATIO = 1.2
LAST = 90  # 0.1 * 1.2**90: far beyond any receipt TTL
PERCENTILES = (("p50", 0.50), ("p90", 0.90), ("p99", 0.99))
_LOG_RATIO = math.log(RATIO)


def bucket(seconds: float) -> int:
    """The bucket of one latency (negative clock skew counts as the first bucket)."""
    if seconds <= FIRST:
        return 0
    return min(LAST, math.ceil(math.log(seconds / FIRST) / _LOG_RATIO - 1e-9))


def upper_bound(index: int) -> float:
    return FIRST * RATIO**index


def _round_up(seconds: float) -> float:
    """Two significant digits, rounded up."""
    scale = 10.0 ** (math.floor(math.log10(seconds)) - 1)
    return float(f"{math.ceil(seconds / scale - 1e-9) * scale:.6g}")


def percentiles(counts: dict[str, str]) -> dict[str, float | int | None]:
    """{"count", "p50", "p90", "p99"} (seconds; None without receipts) from a bucket hash."""
    buckets = sorted((int(k), int(v)) for k, v in counts.items() if k.isdigit() and int(v) > 0)
    total = sum(n for _, n in buckets)
    out: dict[str, float | int | None] = {"count": total}
    for name, q in PERCENTILES:
        out[name] = None
        if not total:
            continue
        rank, seen = q * total, 0
        for index, n in buckets:
            seen += n
            if seen >= rank:
                out[name] = _round_up(upper_bound(index))
                break
    return out
