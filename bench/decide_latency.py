#!/usr/bin/env python3
"""Time from `cordon decide block` to a running Unbound answering with the policy (issue 4).

Usage: bench/decide_latency.py [--data DIR] [--runs N] [--cordon build/cordon] [--xfr]

Starts, on loopback, an authoritative Unbound for example.test and a recursive Unbound with
the RPZ zone written by `cordon export rpz --watch --reload "unbound-control auth_zone_reload"`
(or, with --xfr, transferred from `cordon export rpz --watch --xfr ... --notify ...`: the
resolver is a secondary of cordon and gets each change by IXFR), then N times: imports a fresh indicator for a name the resolver answers, runs
`cordon decide block --indicator ...` and polls with dig until the answer is NXDOMAIN.
--data: an existing node (e.g. one made by `KEEP=DIR bench/export_bench.sh 1000000`) so that
the zone holds that many entries; default: a new, nearly empty node.
"""
import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "../tests/integration"))
from test_resolvers import dig, free_port  # noqa: E402

COL = "0c6c1c2e-7f4e-4d55-9a49-3c9b8e1f0a01"


def run(cordon, *args):
    p = subprocess.run([cordon, *args], capture_output=True, text=True)
    if p.returncode != 0:
        raise SystemExit(f"cordon {' '.join(args)}: {p.stderr}")
    return p.stdout


def transferred(conf, xfr_port):
    """Has the resolver cordon's current rpz.local (its serial in `unbound-control list_auth_zones`)?"""
    soa = subprocess.run(["dig", "@127.0.0.1", "-p", str(xfr_port), "+short", "rpz.local", "SOA"],
                         capture_output=True, text=True).stdout.split()
    p = subprocess.run(["unbound-control", "-c", conf, "list_auth_zones"], capture_output=True, text=True)
    return len(soa) > 2 and any(l.startswith("rpz.local.") and f"serial {soa[2]}" in l for l in p.stdout.splitlines())


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--data")
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--cordon", default=os.path.join(HERE, "../build/cordon"))
    ap.add_argument("--xfr", action="store_true", help="the resolver is a secondary of cordon (IXFR + NOTIFY)")
    a = ap.parse_args()
    cordon = os.path.abspath(a.cordon)
    tmp = tempfile.mkdtemp(prefix="cordon-latency-")
    procs = []
    try:
        data = a.data or os.path.join(tmp, "data")
        if not a.data:
            run(cordon, "init", "--data", data)
        run(cordon, "collection", "add", "--data", data, "--id", COL, "--title", "latency")
        # Fresh names and ids on every invocation: a kept node keeps the blocks of earlier runs.
        stamp = int(time.time())
        names = [f"late{i}-{stamp}" for i in range(a.runs)]
        objs = [{"type": "indicator", "spec_version": "2.1", "id": f"indicator--{uuid.uuid4()}",
                 "created": "2026-01-01T00:00:00.000Z", "modified": "2026-01-01T00:00:00.000Z",
                 "pattern": f"[domain-name:value = '{n}.example.test']", "pattern_type": "stix",
                 "valid_from": "2026-01-01T00:00:00Z"} for i, n in enumerate(names)]
        with open(os.path.join(tmp, "b.json"), "w") as f:
            json.dump({"type": "bundle", "id": "bundle--7b000000-0000-4000-8000-000000000000", "objects": objs}, f)
        run(cordon, "import", "--data", data, "--collection", COL, os.path.join(tmp, "b.json"))

        zone = os.path.join(tmp, "example.test.zone")
        with open(zone, "w") as f:
            f.write("$ORIGIN example.test.\n$TTL 30\n@ SOA ns h 1 3600 600 86400 30\n@ NS ns\nns A 127.0.0.1\n")
            f.writelines(f"{n} A 192.0.2.40\n" for n in names)
        rpz = os.path.join(tmp, "rpz.zone")
        auth_port, res_port, xfr_port = free_port(), free_port(), free_port()
        watch_args = [cordon, "export", "rpz", "--data", data, "--output", rpz, "--watch"]
        if a.xfr:
            watch_args += ["--xfr", f"127.0.0.1:{xfr_port}", "--notify", f"127.0.0.1:{res_port}"]
            # No zonefile: Unbound would rewrite its 50 MB copy after every transfer (~0.5 s).
            rpz_conf = f'rpz:\n  name: "rpz.local"\n  primary: 127.0.0.1@{xfr_port}\n'
            # The watcher serves the zone from its first export on.
            t0 = time.monotonic()
            watch = subprocess.Popen(watch_args, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
            procs.append(watch)
            while "serial" not in watch.stderr.readline():
                pass
            print(f"initial export (serving): {time.monotonic() - t0:.2f} s, {os.path.getsize(rpz)} bytes")
        else:
            t0 = time.monotonic()
            run(cordon, "export", "rpz", "--data", data, "--output", rpz)
            print(f"initial export: {time.monotonic() - t0:.2f} s, {os.path.getsize(rpz)} bytes")
            rpz_conf = f'rpz:\n  name: "rpz.local"\n  zonefile: "{rpz}"\n'
        common = ('  username: ""\n  chroot: ""\n  use-syslog: no\n  logfile: ""\n  num-threads: 1\n'
                  '  do-ip6: no\n  so-reuseport: no\n  interface: 127.0.0.1\n  local-zone: "test." nodefault\n'
                  f'  directory: "{tmp}"\n')
        ctl = os.path.join(tmp, "ctl")
        confs = {
            "auth": f'server:\n{common}  port: {auth_port}\nauth-zone:\n  name: "example.test"\n'
                    f'  zonefile: "{zone}"\n  for-downstream: yes\n  for-upstream: no\n',
            "res": f'server:\n{common}  port: {res_port}\n  module-config: "respip iterator"\n'
                   '  do-not-query-localhost: no\n  cache-max-ttl: 0\n  cache-max-negative-ttl: 0\n'
                   '  local-zone: "." refuse\n  local-zone: "example.test." transparent\n'
                   f'stub-zone:\n  name: "example.test"\n  stub-addr: 127.0.0.1@{auth_port}\n'
                   f'{rpz_conf}remote-control:\n  control-enable: yes\n  control-interface: "{ctl}"\n  control-use-cert: no\n',
        }
        for name, text in confs.items():
            path = os.path.join(tmp, name + ".conf")
            with open(path, "w") as f:
                f.write(text)
            procs.append(subprocess.Popen(["unbound", "-d", "-c", path], stdout=subprocess.DEVNULL,
                                          stderr=open(path + ".log", "w")))
        t0 = time.monotonic()
        ctl_conf = os.path.join(tmp, "res.conf")
        while dig(res_port, f"{names[0]}.example.test")[0] != "NOERROR" or (a.xfr and not transferred(ctl_conf, xfr_port)):
            if time.monotonic() - t0 > 300:
                with open(os.path.join(tmp, "res.conf.log")) as f:
                    raise SystemExit("resolver not ready: " + f.read()[-2000:])
            time.sleep(0.2)
        print(f"resolver ready (zone loaded) after {time.monotonic() - t0:.2f} s")
        if not a.xfr:
            reload = f"unbound-control -c {os.path.join(tmp, 'res.conf')} auth_zone_reload rpz.local"
            watch = subprocess.Popen(watch_args + ["--reload", reload], stdout=subprocess.DEVNULL,
                                     stderr=subprocess.PIPE, text=True)
            procs.append(watch)
            time.sleep(2)
        latencies = []
        for i, n in enumerate(names):
            start = time.monotonic()
            run(cordon, "decide", "block", "--data", data, "--indicator", objs[i]["id"], "--author", "bench",
                "--reason", "latency")
            while dig(res_port, f"{n}.example.test")[0] != "NXDOMAIN":
                if time.monotonic() - start > 120:
                    raise SystemExit(f"{n} never blocked")
                time.sleep(0.02)
            latencies.append(time.monotonic() - start)
            print(f"run {i + 1}: {latencies[-1]:.2f} s")
        print(f"decide block -> Unbound NXDOMAIN: median {statistics.median(latencies):.2f} s, "
              f"min {min(latencies):.2f} s, max {max(latencies):.2f} s ({len(latencies)} runs)")
    finally:
        for p in procs:
            p.terminate()
        for p in procs:
            p.wait(timeout=30)
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
