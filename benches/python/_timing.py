"""Timing helpers shared by the Python bench drivers: the same method as
benches/bench.rs (batches of ~10 ms, 31 batches, median per call)."""

import json
import time

BATCHES = 31
BATCH_NS = 10_000_000


def median(values):
    values = sorted(values)
    return values[len(values) // 2]


def _batch_size(fn):
    clock = time.perf_counter_ns
    per_batch = 1
    while True:
        t = clock()
        for _ in range(per_batch):
            fn()
        elapsed = clock() - t
        if elapsed >= BATCH_NS or per_batch >= 1 << 24:
            return per_batch
        per_batch = int(per_batch * BATCH_NS / elapsed) + 1 if elapsed > 500_000 else per_batch * 4


def interleaved_ns(fns):
    """Median nanoseconds per call of each fn, the fns taking turns batch by
    batch so that they all see the same machine (its speed drifts by tens of
    percent over seconds on a busy 2-core VM)."""
    clock = time.perf_counter_ns
    sizes = [_batch_size(fn) for fn in fns]
    samples = [[] for _ in fns]
    for _ in range(BATCHES):
        for i, fn in enumerate(fns):
            n = sizes[i]
            t = clock()
            for _ in range(n):
                fn()
            samples[i].append((clock() - t) / n)
    return [median(s) for s in samples]


def row_ns(row, ns):
    print(json.dumps({"row": row, "median_ns": ns}), flush=True)


def row_value(row, value, unit, **extra):
    doc = {"row": row, "value": value, "unit": unit}
    doc.update(extra)
    print(json.dumps(doc), flush=True)
