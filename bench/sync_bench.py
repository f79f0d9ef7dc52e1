#!/usr/bin/env python3
"""Federation sync benchmark (never run by ctest; figures in docs/BENCHMARKS.md "Federation sync").

1. Throughput: a source node serving a collection of N objects (default 100,000 indicators, imported
   with `cordon import`) over HTTPS on loopback; a partner runs `cordon sync --once` (wall time,
   objects/s; target >= 20,000/s).
2. Latency: the partner runs `cordon serve --sync-interval S`; time from a POST at the source until
   the object is readable at the partner (median and max over R posts; target < 2 s).

Usage: CORDON_BIN=build/cordon python3 bench/sync_bench.py [N] [S] [R]
"""
import json
import os
import statistics
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "../tests/integration"))
from harness import CORDON, COLLECTION, Node, cordon, indicator, make_cert, wait_until  # noqa: E402

GREEN = "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb"


def main():
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000
    interval = sys.argv[2] if len(sys.argv) > 2 else "0.2"
    rounds = int(sys.argv[3]) if len(sys.argv) > 3 else 10
    src, dst = Node(), Node()
    try:
        bundle = os.path.join(src.dir, "bundle.json")
        with open(bundle, "w") as f:
            json.dump({"type": "bundle", "id": "bundle--5d0092c5-5f74-4287-9642-33f4c354e56d",
                       "objects": [indicator(n_, marking=GREEN) for n_ in range(n)]}, f)
        cordon("import", "--data", src.data, "--collection", COLLECTION, bundle)
        src.start(tls=True)
        cordon("peer", "add", "--data", src.data, "partner", "--read", COLLECTION, "--tlp", "GREEN",
               "--password-stdin", stdin="partner-pw\n")
        pw = os.path.join(dst.dir, "pw")
        with open(pw, "w") as f:
            f.write("partner-pw\n")
        cordon("peer", "add", "--data", dst.data, "source", "--url", f"https://localhost:{src.port}/taxii2/",
               "--remote-user", "partner", "--remote-password-file", pw, "--ca-file", src.cert,
               "--pull", f"{COLLECTION}={COLLECTION}", "--password-stdin", stdin="x\n")
        t0 = time.perf_counter()
        out = cordon("sync", "--data", dst.data, "--once").stdout.strip()
        dt = time.perf_counter() - t0
        print(f"throughput: {n} objects in {dt:.2f} s = {n / dt:,.0f} objects/s  ({out})")

        dst.cert, dst.key = make_cert(dst.dir)
        dst.proc = subprocess.Popen([CORDON, "serve", "--data", dst.data, "--listen", "127.0.0.1:0",
                                     "--tls-cert", dst.cert, "--tls-key", dst.key, "--sync-interval", interval],
                                    stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        dst.port = int(dst.proc.stdout.readline().rsplit(":", 1)[1].split("/")[0])
        post, read = src.client(), dst.client()
        lat = []
        for r in range(rounds):
            obj = indicator(n + 1 + r, marking=GREEN)
            t0 = time.perf_counter()
            assert post.post_objects(COLLECTION, [obj]).status == 202
            path = f"/cordon/collections/{COLLECTION}/objects/{obj['id']}/"
            assert wait_until(lambda: read.get(path).status == 200, timeout=30)
            lat.append(time.perf_counter() - t0)
        print(f"latency POST -> readable at partner (sync interval {interval} s, {rounds} posts): "
              f"median {statistics.median(lat):.3f} s, max {max(lat):.3f} s")
    finally:
        src.close()
        dst.close()


if __name__ == "__main__":
    main()
