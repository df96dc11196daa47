#!/usr/bin/env python3
"""The two backends side by side: reads bench/results-2.28.json and bench/results-3.6.json
(written by bench/run.sh on each backend) and prints one Markdown table of the medians and the
tlsx/raw-mbedTLS ratios, CPU time and wall clock, for docs/performance.md.

    python3 bench/side_by_side.py [results-2.28.json] [results-3.6.json]
    python3 bench/side_by_side.py --targets [results-2.28.json] [results-3.6.json]
"""
import json
import math
import sys

ROWS = [
    # (series id, label)
    ("w1.throughput", "W1 bulk in memory, TLS 1.2 (MB/s)"),
    ("w1.tls13.throughput", "W1 bulk in memory, TLS 1.3 (MB/s)"),
    ("w3.rate", "W3 64-byte ping-pong, TLS 1.2 (round trips/s)"),
    ("w3.tls13.rate", "W3 64-byte ping-pong, TLS 1.3 (round trips/s)"),
    ("w3.instructions", "W3 instructions per round trip, TLS 1.2"),
    ("w3.tls13.instructions", "W3 instructions per round trip, TLS 1.3"),
    ("w3.own_instructions", "W3 tlsx's own instructions per round trip, TLS 1.2"),
    ("w3.tls13.own_instructions", "W3 tlsx's own instructions per round trip, TLS 1.3"),
    ("w4.rate", "W4 full handshakes, TLS 1.2 (hs/s)"),
    ("w4.tls13.rate", "W4 full handshakes, TLS 1.3 (hs/s)"),
    ("w5.ticket", "W5 resumed by ticket, TLS 1.2 (hs/s)"),
    ("w5.tls13.ticket", "W5 resumed by ticket, TLS 1.3 (hs/s)"),
    ("w5.session_id", "W5 resumed by session ID, TLS 1.2 (hs/s)"),
    ("w6.rss", "W6 RSS per idle pair (KiB)"),
    ("w1.allocs", "W1 allocations per record, TLS 1.2"),
    ("w1.tls13.allocs", "W1 allocations per record, TLS 1.3"),
    ("w3.allocs", "W3 allocations per round trip, TLS 1.2"),
    ("w3.tls13.allocs", "W3 allocations per round trip, TLS 1.3"),
]


def load(path):
    try:
        with open(path) as f:
            doc = json.load(f)
    except OSError:
        return None, {}
    return doc["meta"], {s["id"]: s for s in doc["series"]}


def fmt(v, ratio=False):
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return "n/a"
    if ratio:
        return "%.2f" % v
    if abs(v) >= 1000:
        return "{:,.0f}".format(v).replace(",", " ")
    if abs(v) >= 100:
        return "%.1f" % v
    return "%.2f" % v if v != int(v) else "%d" % v


def cell(series, stack):
    if not series:
        return "n/a"
    st = series["stacks"].get(stack, {})
    if "note" in st:
        return st["note"].split(":")[0]
    return fmt(st.get("median"))


def ratio(series, other="mbedtls"):
    if not series:
        return "n/a"
    r = series.get("ratios", {}).get("tlsx/" + other)
    return fmt(r["median"], True) if r else "n/a"


def targets(a, b):
    """The targets table: each target's measured value and status on both backends."""
    docs = {}
    for name, path in (("2.28", a), ("3.6", b)):
        try:
            with open(path) as f:
                docs[name] = {t["target"]: t for t in json.load(f)["targets"]}
        except OSError:
            docs[name] = {}
    names = list(docs["3.6"] or docs["2.28"])
    print("| Target | 2.28 | 3.6 |")
    print("|---|---:|---:|")
    for n in names:
        row = ["| " + n]
        for name in ("2.28", "3.6"):
            t = docs[name].get(n)
            if not t or t["measured"] is None:
                row.append("n/a" if not t else "n/a (%s)" % t.get("note", "").split(":")[0])
                continue
            ratio = t["of"].startswith("tlsx/")
            v = fmt(t["measured"], ratio)
            row.append(v if t["status"] == "met" else "**%s %s**" % (v, t["status"].lower()))
        print(" | ".join(row) + " |")


def main():
    if len(sys.argv) > 1 and sys.argv[1] == "--targets":
        rest = sys.argv[2:] + ["bench/results-2.28.json", "bench/results-3.6.json"][len(sys.argv) - 2:]
        return targets(rest[0], rest[1])
    a = sys.argv[1] if len(sys.argv) > 1 else "bench/results-2.28.json"
    b = sys.argv[2] if len(sys.argv) > 2 else "bench/results-3.6.json"
    meta = {}
    data = {}
    for name, path in (("2.28", a), ("3.6", b)):
        meta[name], data[name] = load(path)
    print("| Workload | tlsx 2.28 | mbedTLS 2.28 | tlsx/mbedTLS 2.28 (CPU, wall) "
          "| tlsx 3.6 | mbedTLS 3.6 | tlsx/mbedTLS 3.6 (CPU, wall) |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for sid, label in ROWS:
        row = ["| " + label]
        for name in ("2.28", "3.6"):
            s = data[name].get(sid)
            w = data[name].get(sid + "_wall")
            both = ratio(s) + ((", " + ratio(w)) if w else "")
            row += [cell(s, "tlsx"), cell(s, "mbedtls"), both]
        print(" | ".join(row) + " |")
    for name in ("2.28", "3.6"):
        m = meta[name]
        if m:
            print("\n%s: %s, %s, %d runs, load average %s at the start, %s at the end, %s."
                  % (name, m.get("backend"), m.get("label"), m.get("runs"),
                     fmt(m.get("load_start"), True), fmt(m.get("load_end"), True), m.get("date")))


if __name__ == "__main__":
    main()
