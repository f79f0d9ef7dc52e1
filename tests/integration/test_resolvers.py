"""Proof on real resolvers: decisions exported as an RPZ zone are enforced by Unbound and BIND 9.

Everything runs on loopback with temporary directories and high ports: an authoritative Unbound
serves the test zone example.test; a recursive Unbound (and a recursive BIND 9) resolve it through a
stub/forward zone and load the RPZ zone `rpz.local` written by `cordon export rpz`. Every other name
is refused locally, so nothing leaves the machine. Queries go through dig.
"""
import json
import os
import shutil
import socket
import subprocess
import tempfile
import time
import unittest

from harness import CORDON, SHARED, cordon

COL = "0c6c1c2e-7f4e-4d55-9a49-3c9b8e1f0a01"
SRC = "identity--5c3f2c1a-0000-4000-8000-00000000beef"
IDS = {name: f"indicator--7a000000-0000-4000-8000-{i:012d}" for i, name in enumerate(
    ["evil", "nodata", "cname", "good", "popular", "expiring", "badip", "private", "suffix", "late", "corp", "xfr"],
    start=1)}
OTHER_SRC = "identity--5c3f2c1a-0000-4000-8000-00000000cafe"

ZONE = """$ORIGIN example.test.
$TTL 30
@ IN SOA ns.example.test. hostmaster.example.test. 1 3600 600 86400 30
@ IN NS ns.example.test.
ns IN A 127.0.0.1
evil IN A 192.0.2.10
www.evil IN A 192.0.2.11
nodata IN A 192.0.2.12
cname IN A 192.0.2.13
walled IN A 192.0.2.99
good IN A 192.0.2.20
popular IN A 192.0.2.21
expiring IN A 192.0.2.22
badip IN A 198.51.100.66
deep.a.suffix IN A 192.0.2.30
suffix IN A 192.0.2.31
late IN A 192.0.2.40
xfr IN A 192.0.2.41
"""


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as u, socket.socket() as t:
        t.bind(("127.0.0.1", 0))
        port = t.getsockname()[1]
        u.bind(("127.0.0.1", port))
        return port


def indicator(name, pattern, **extra):
    obj = {"type": "indicator", "spec_version": "2.1", "id": IDS[name], "created": "2026-01-01T00:00:00.000Z",
           "modified": "2026-01-01T00:00:00.000Z", "pattern": pattern, "pattern_type": "stix",
           "valid_from": "2026-01-01T00:00:00Z", "created_by_ref": SRC}
    obj.update(extra)
    return obj


def dig(port, name, rtype="A"):
    """(rcode, [answer records as (type, data)])

    No test expects a timeout or SERVFAIL: those are the resolver's upstream
    query (to the loopback authoritative server) running late on a loaded
    machine, so they are asked again, up to three times, before being returned."""
    for attempt in range(3):
        rcode, answers = dig_once(port, name, rtype)
        if rcode not in (None, "SERVFAIL"):
            break
        time.sleep(0.2)
    return rcode, answers


def dig_once(port, name, rtype):
    p = subprocess.run(["dig", "@127.0.0.1", "-p", str(port), "+tries=1", "+time=2", "+nocookie", name, rtype],
                       capture_output=True, text=True, timeout=20)
    rcode, answers, section = None, [], None
    for line in p.stdout.splitlines():
        if "status:" in line:
            rcode = line.split("status:")[1].split(",")[0].strip()
        if line.startswith(";; ANSWER SECTION"):
            section = "answer"
            continue
        if line.startswith(";;"):
            section = None if line.strip() != ";;" else section
            continue
        if section == "answer" and line.strip():
            parts = line.split()
            answers.append((parts[3], parts[4].rstrip(".")))
    return rcode, answers


class Resolvers(unittest.TestCase):
    procs = []

    @classmethod
    def setUpClass(cls):
        for tool in ("unbound", "unbound-control", "dig"):
            if not shutil.which(tool) and not os.path.exists(f"/usr/sbin/{tool}"):
                raise unittest.SkipTest(f"{tool} is not installed (scripts/install-deps.sh)")
        cls.dir = tempfile.mkdtemp(prefix="cordon-dns-")
        cls.data = os.path.join(cls.dir, "data")
        cls.rpz = os.path.join(cls.dir, "rpz.local.zone")
        cordon("init", "--data", cls.data)
        cordon("collection", "add", "--data", cls.data, "--id", COL, "--title", "feeds")
        bundle = {"type": "bundle", "id": "bundle--7a000000-0000-4000-8000-000000000000", "objects": [
            indicator("evil", "[domain-name:value = 'evil.example.test']"),
            indicator("nodata", "[domain-name:value = 'NoData.Example.Test.']"),
            indicator("cname", "[domain-name:value = 'cname.example.test']"),
            indicator("good", "[domain-name:value = 'good.example.test']"),
            indicator("popular", "[domain-name:value = 'popular.example.test']"),
            # Another source: no source-wide block covers it once its own decision expires.
            indicator("expiring", "[domain-name:value = 'expiring.example.test']",
                      created_by_ref=OTHER_SRC),
            indicator("late", "[domain-name:value = 'late.example.test']", created_by_ref=OTHER_SRC),
            indicator("corp", "[domain-name:value = 'corp.example.test']", created_by_ref=OTHER_SRC),
            indicator("xfr", "[domain-name:value = 'xfr.example.test']", created_by_ref=OTHER_SRC),
            indicator("badip", "[ipv4-addr:value = '198.51.100.66']"),
            indicator("private", "[ipv4-addr:value = '10.1.2.3'] OR [ipv4-addr:value = '192.168.0.0/16']"),
            indicator("suffix", "[domain-name:value LIKE '%.suffix.example.test']"),
        ]}
        path = os.path.join(cls.dir, "bundle.json")
        with open(path, "w") as f:
            json.dump(bundle, f)
        cordon("import", "--data", cls.data, "--collection", COL, path)
        # Warning lists: the real RFC 1918 list and a hostname list of our own.
        cordon("warninglist", "add", "--data", cls.data, os.path.join(SHARED, "misp/warninglists/rfc1918.json"))
        own = os.path.join(cls.dir, "popular.json")
        with open(own, "w") as f:
            json.dump({"name": "Popular test sites", "version": 1, "description": "known good", "type": "hostname",
                       "matching_attributes": ["domain", "hostname"], "list": ["popular.example.test", "www.corp.example.test"]}, f)
        cordon("warninglist", "add", "--data", cls.data, own)

        def decide(*args):
            cordon("decide", *args, "--data", cls.data, "--author", "tests", "--reason", "resolver test")
        decide("block", "--indicator", IDS["evil"], "--subdomains")
        decide("block", "--indicator", IDS["nodata"], "--policy", "nodata")
        decide("block", "--indicator", IDS["cname"], "--policy", "cname:walled.example.test")
        decide("block", "--source", SRC)  # covers good, popular, badip, private, suffix
        decide("allow", "--indicator", IDS["good"])
        # Its subtree holds a warning-listed name: the block must not reach the zone.
        decide("block", "--indicator", IDS["corp"], "--subdomains")
        decide("block", "--indicator", IDS["expiring"], "--for", "4s")
        cls.expiring_deadline = time.time() + 4
        cordon("export", "rpz", "--data", cls.data, "--output", cls.rpz)

        cls.auth_port, cls.unbound_port, cls.bind_port = free_port(), free_port(), free_port()
        cls.common = None
        zone = os.path.join(cls.dir, "example.test.zone")
        with open(zone, "w") as f:
            f.write(ZONE)
        common = ('  username: ""\n  chroot: ""\n  use-syslog: no\n  logfile: ""\n  num-threads: 1\n'
                  '  do-ip6: no\n  so-reuseport: no\n  interface: 127.0.0.1\n  verbosity: 1\n'
                  f'  directory: "{cls.dir}"\n'
                  '  local-zone: "test." nodefault\n')  # RFC 6761 names are refused by default
        cls.common = common
        auth_conf = os.path.join(cls.dir, "auth.conf")
        with open(auth_conf, "w") as f:
            f.write(f'server:\n{common}  port: {cls.auth_port}\n  pidfile: "{cls.dir}/auth.pid"\n'
                    f'auth-zone:\n  name: "example.test"\n  zonefile: "{zone}"\n'
                    '  for-downstream: yes\n  for-upstream: no\n')
        cls.ctl = os.path.join(cls.dir, "unbound.ctl")
        cls.res_conf = os.path.join(cls.dir, "resolver.conf")
        with open(cls.res_conf, "w") as f:
            f.write(f'server:\n{common}  port: {cls.unbound_port}\n  pidfile: "{cls.dir}/res.pid"\n'
                    f'{cls.resolver_conf()}rpz:\n  name: "rpz.local"\n  zonefile: "{cls.rpz}"\n  rpz-log: yes\n'
                    f'remote-control:\n  control-enable: yes\n  control-interface: "{cls.ctl}"\n'
                    '  control-use-cert: no\n')
        for conf in (auth_conf, cls.res_conf):
            subprocess.run(["unbound-checkconf", conf], check=True, capture_output=True)
            cls.procs.append(subprocess.Popen(["unbound", "-d", "-c", conf], stdout=subprocess.DEVNULL,
                                              stderr=open(conf + ".log", "w")))
        cls.bind = shutil.which("named") or (os.path.exists("/usr/sbin/named") and "/usr/sbin/named")
        if cls.bind:
            named_conf = cls.write_named_conf("named", cls.bind_port,
                                              f'type primary; file "{cls.rpz}";')
            with open(os.path.join(cls.dir, "root.zone"), "w") as f:
                # A local root that delegates `test` back to loopback: recursion never leaves the machine.
                f.write(f"$TTL 30\n@ SOA ns.root. h.root. 1 3600 600 86400 30\n@ NS ns.root.\nns.root. A 127.0.0.1\n"
                        f"test. NS ns.example.test.\nns.example.test. A 127.0.0.1\n")
            cls.procs.append(subprocess.Popen([cls.bind, "-g", "-4", "-c", named_conf], stdout=subprocess.DEVNULL,
                                              stderr=open(named_conf + ".log", "w")))
        cls.wait_ready(cls.unbound_port)
        if cls.bind:
            cls.wait_ready(cls.bind_port)

    @classmethod
    def resolver_conf(cls):
        """The recursive part of a resolver's server: clause (after its port and pidfile)."""
        return ('  module-config: "respip iterator"\n  do-not-query-localhost: no\n'
                '  cache-max-ttl: 0\n  cache-max-negative-ttl: 0\n'
                '  local-zone: "." refuse\n  local-zone: "example.test." transparent\n'
                f'stub-zone:\n  name: "example.test"\n  stub-addr: 127.0.0.1@{cls.auth_port}\n')

    @classmethod
    def write_named_conf(cls, name, port, rpz_zone):
        """A recursive BIND on `port` with the local root, example.test forwarded to the authoritative
        Unbound, and the RPZ zone rpz.local defined by `rpz_zone` (its zone clause's body)."""
        path = os.path.join(cls.dir, name + ".conf")
        with open(path, "w") as f:
            f.write(f"""options {{
  directory "{cls.dir}";
  pid-file "{cls.dir}/{name}.pid";
  listen-on port {port} {{ 127.0.0.1; }};
  listen-on-v6 {{ none; }};
  recursion yes;
  allow-query {{ 127.0.0.1; }};
  dnssec-validation no;
  max-cache-ttl 0;
  max-ncache-ttl 0;
  # BIND applies a changed RPZ at most once a minute unless told otherwise.
  response-policy {{ zone "rpz.local" min-update-interval 0; }};
}};
controls {{ }};
zone "." {{ type primary; file "{cls.dir}/root.zone"; }};
zone "example.test" {{ type forward; forward only; forwarders {{ 127.0.0.1 port {cls.auth_port}; }}; }};
zone "rpz.local" {{ {rpz_zone} }};
""")
        return path

    @classmethod
    def wait_ready(cls, port):
        deadline = time.time() + 20
        while time.time() < deadline:
            rcode, _ = dig_once(port, "walled.example.test", "A")
            if rcode == "NOERROR":
                return
            time.sleep(0.2)
        logs = {}
        for name in os.listdir(cls.dir):
            if name.endswith(".log"):
                with open(os.path.join(cls.dir, name)) as f:
                    logs[name] = f.read()[-2000:]
        raise AssertionError(f"resolver on port {port} not ready: {logs}")

    @classmethod
    def tearDownClass(cls):
        for p in cls.procs:
            p.terminate()
        for p in cls.procs:
            try:
                p.wait(timeout=10)
            except subprocess.TimeoutExpired:
                p.kill()
        if not os.environ.get("CORDON_KEEP_TMP"):
            if not os.environ.get("KEEP"): shutil.rmtree(cls.dir, ignore_errors=True)

    def resolvers(self):
        out = [("unbound", self.unbound_port)]
        if self.bind:
            out.append(("bind9", self.bind_port))
        return out

    def test_1_policies_are_enforced(self):
        with open(self.rpz) as f:
            zone = f.read()
        self.assertIn(IDS["evil"], zone)  # comments name the indicator
        self.assertNotIn("10.1.2.3", zone)
        self.assertNotIn("3.2.1.10.rpz-ip", zone)  # RFC 1918 address: warning-listed
        self.assertNotIn("16.0.0.168.192.rpz-ip", zone)
        self.assertNotIn("popular", zone)
        self.assertNotIn("good.example", zone)
        self.assertNotIn("corp.example", zone)
        for name, port in self.resolvers():
            with self.subTest(resolver=name):
                self.assertEqual(dig(port, "evil.example.test"), ("NXDOMAIN", []))
                self.assertEqual(dig(port, "www.evil.example.test")[0], "NXDOMAIN")  # --subdomains
                self.assertEqual(dig(port, "nodata.example.test"), ("NOERROR", []))
                rcode, answers = dig(port, "cname.example.test")
                self.assertEqual(rcode, "NOERROR")
                self.assertIn(("CNAME", "walled.example.test"), answers)
                self.assertNotIn(("A", "192.0.2.13"), answers)
                # LIKE '%.suffix.example.test': the subtree, not the name itself.
                self.assertEqual(dig(port, "deep.a.suffix.example.test")[0], "NXDOMAIN")
                self.assertEqual(dig(port, "suffix.example.test"), ("NOERROR", [("A", "192.0.2.31")]))
                # Allowed beats the source-wide block; warning-listed names are never blocked.
                self.assertEqual(dig(port, "good.example.test"), ("NOERROR", [("A", "192.0.2.20")]))
                self.assertEqual(dig(port, "popular.example.test"), ("NOERROR", [("A", "192.0.2.21")]))
                # rpz-ip: an answer carrying a blocked address is replaced.
                self.assertEqual(dig(port, "badip.example.test")[0], "NXDOMAIN")
                self.assertEqual(dig(port, "expiring.example.test")[0], "NXDOMAIN")

    def test_2_expired_decision_stops_blocking_after_next_export(self):
        time.sleep(max(0, self.expiring_deadline - time.time()) + 0.5)
        with open(self.rpz) as f:
            before = f.read()
        reload = f"unbound-control -c {self.res_conf} auth_zone_reload rpz.local"
        if self.bind:
            reload += f" && kill -HUP {self.procs[-1].pid}"  # named reloads its zones on SIGHUP
        cordon("export", "rpz", "--data", self.data, "--output", self.rpz, "--reload", reload)
        with open(self.rpz) as f:
            after = f.read()
        self.assertIn("expiring.example.test", before)
        self.assertNotIn("expiring.example.test", after)
        serial = lambda z: int(next(l for l in z.splitlines() if " SOA " in l).split()[5])
        self.assertGreater(serial(after), serial(before))
        for name, port in self.resolvers():
            with self.subTest(resolver=name):
                deadline = time.time() + 5  # BIND loads the zone asynchronously after SIGHUP
                while dig(port, "expiring.example.test")[0] != "NOERROR" and time.time() < deadline:
                    time.sleep(0.1)
                self.assertEqual(dig(port, "expiring.example.test"), ("NOERROR", [("A", "192.0.2.22")]))
                self.assertEqual(dig(port, "evil.example.test")[0], "NXDOMAIN")
        # Decisions listed in force no longer include it; the history keeps it.
        listing = cordon("decide", "list", "--data", self.data).stdout
        self.assertNotIn(IDS["expiring"], listing)
        self.assertIn("EXPIRED", cordon("decide", "list", "--data", self.data, "--all").stdout)
        # Every decision is in the node's audit trail too.
        with open(os.path.join(self.data, "audit.log")) as f:
            entries = [json.loads(line) for line in f]
        self.assertEqual([e["action"] for e in entries].count("decision.block"), 6)
        self.assertIn({"actor": "tests", "action": "decision.allow", "ids": [IDS["good"]]},
                      [{k: e[k] for k in ("actor", "action", "ids")} for e in entries])

    def test_3_watch_brings_a_new_decision_to_the_resolver(self):
        reload = f"unbound-control -c {self.res_conf} auth_zone_reload rpz.local"
        watch = subprocess.Popen([CORDON, "export", "rpz", "--data", self.data, "--output", self.rpz, "--watch",
                                  "--reload", reload], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        try:
            self.assertEqual(dig(self.unbound_port, "late.example.test"), ("NOERROR", [("A", "192.0.2.40")]))
            time.sleep(0.5)  # the first export is done
            start = time.monotonic()
            cordon("decide", "block", "--data", self.data, "--indicator", IDS["late"], "--author", "tests",
                   "--reason", "watch test")
            while dig(self.unbound_port, "late.example.test")[0] != "NXDOMAIN" and time.monotonic() - start < 10:
                time.sleep(0.05)
            latency = time.monotonic() - start
            self.assertEqual(dig(self.unbound_port, "late.example.test")[0], "NXDOMAIN")
            self.assertLess(latency, 5.0)
            print(f"\ndecide block -> Unbound answers NXDOMAIN: {latency:.2f} s")
        finally:
            watch.terminate()
            _, err = watch.communicate(timeout=10)
        self.assertEqual(watch.returncode, 0, err)
        self.assertIn("serial", err)

    def test_4_zone_transfer_brings_decisions_to_secondaries(self):
        """cordon serves the zone by AXFR/IXFR and NOTIFYs; Unbound (rpz: primary:) and BIND 9 (type
        secondary) are its secondaries."""
        xfr_port, res_port = free_port(), free_port()
        conf = os.path.join(self.dir, "secondary.conf")
        with open(conf, "w") as f:
            f.write(f'server:\n{self.common}  port: {res_port}\n  pidfile: "{self.dir}/secondary.pid"\n'
                    f'{self.resolver_conf()}rpz:\n  name: "rpz.local"\n  primary: 127.0.0.1@{xfr_port}\n'
                    f'  zonefile: "{self.dir}/secondary.rpz"\n')
        subprocess.run(["unbound-checkconf", conf], check=True, capture_output=True)
        secondaries = [("unbound", res_port)]
        if self.bind:
            secondaries.append(("bind9", free_port()))
        output = os.path.join(self.dir, "rpz-xfr.zone")
        notify = [arg for _, port in secondaries for arg in ("--notify", f"127.0.0.1:{port}")]
        watch = subprocess.Popen([CORDON, "export", "rpz", "--data", self.data, "--output", output, "--watch",
                                  "--xfr", f"127.0.0.1:{xfr_port}", *notify],
                                 stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        # The secondaries start once the zone is served: a secondary whose first
        # transfer finds no server backs off for longer than the test waits
        # (seen with BIND against a slow, sanitizer-built node).
        deadline = time.time() + 30
        while time.time() < deadline and watch.poll() is None:
            probe = subprocess.run(["dig", "@127.0.0.1", "-p", str(xfr_port), "+short", "+tries=1", "+time=1",
                                    "rpz.local", "SOA"], capture_output=True, text=True).stdout.split()
            if len(probe) == 7 and probe[2].isdigit():  # the SOA record, not dig's "connection refused"
                break
            time.sleep(0.05)
        procs = [subprocess.Popen(["unbound", "-d", "-c", conf], stdout=subprocess.DEVNULL,
                                  stderr=open(conf + ".log", "w"))]
        if self.bind:
            named_conf = self.write_named_conf(
                "named-secondary", secondaries[1][1],
                f'type secondary; primaries {{ 127.0.0.1 port {xfr_port}; }}; file "{self.dir}/bind-secondary.rpz";')
            procs.append(subprocess.Popen([self.bind, "-g", "-4", "-c", named_conf], stdout=subprocess.DEVNULL,
                                          stderr=open(named_conf + ".log", "w")))
        soa = lambda: int(subprocess.run(["dig", "@127.0.0.1", "-p", str(xfr_port), "+short", "rpz.local", "SOA"],
                                         capture_output=True, text=True).stdout.split()[2])

        def wait_for(port, name, rcode):
            deadline = time.time() + 10
            while dig(port, name)[0] != rcode and time.time() < deadline:
                time.sleep(0.05)

        try:
            for name, port in secondaries:
                self.wait_ready(port)
                # The first transfer (AXFR) carries what the file holds.
                wait_for(port, "evil.example.test", "NXDOMAIN")
                with self.subTest(secondary=name):
                    self.assertEqual(dig(port, "evil.example.test"), ("NXDOMAIN", []))
                    self.assertEqual(dig(port, "good.example.test"), ("NOERROR", [("A", "192.0.2.20")]))
            axfr = subprocess.run(["dig", "@127.0.0.1", "-p", str(xfr_port), "+nocookie", "rpz.local", "AXFR"],
                                  capture_output=True, text=True).stdout
            with open(output) as f:
                owners = {l.split()[0] for l in f if " CNAME " in l and not l.startswith(";")}
            self.assertEqual({l.split()[0].removesuffix(".rpz.local.") for l in axfr.splitlines()
                              if l.split()[3:4] == ["CNAME"]}, owners, axfr)
            before = soa()

            start = time.monotonic()
            out = cordon("decide", "block", "--data", self.data, "--indicator", IDS["xfr"], "--author", "tests",
                         "--reason", "xfr test").stdout
            decision = out.split()[1]
            for name, port in secondaries:
                wait_for(port, "xfr.example.test", "NXDOMAIN")
                latency = time.monotonic() - start
                with self.subTest(secondary=name):
                    self.assertEqual(dig(port, "xfr.example.test")[0], "NXDOMAIN")
                    self.assertLess(latency, 5.0)
                print(f"\ndecide block -> secondary {name} (IXFR + NOTIFY) answers NXDOMAIN: {latency:.2f} s")
            # The change went as a difference: SOA, old SOA, new SOA, the one record, SOA.
            ixfr = subprocess.run(["dig", "@127.0.0.1", "-p", str(xfr_port), "+nocookie", "rpz.local",
                                   f"IXFR={before}"], capture_output=True, text=True).stdout
            types = [l.split()[3] for l in ixfr.splitlines() if l and not l.startswith(";")]
            self.assertEqual(types, ["SOA"] * 3 + ["CNAME", "SOA"], ixfr)
            self.assertIn("xfr.example.test.rpz.local.", ixfr)

            # A revocation removes the record at the secondaries (an IXFR deletion).
            cordon("decide", "revoke", decision, "--data", self.data, "--reason", "xfr test done")
            for name, port in secondaries:
                wait_for(port, "xfr.example.test", "NOERROR")
                with self.subTest(secondary=name):
                    self.assertEqual(dig(port, "xfr.example.test"), ("NOERROR", [("A", "192.0.2.41")]))
                    self.assertEqual(dig(port, "evil.example.test")[0], "NXDOMAIN")
        finally:
            for p in procs:
                p.terminate()
                p.wait(timeout=10)
            watch.terminate()
            _, err = watch.communicate(timeout=10)
        self.assertEqual(watch.returncode, 0, err)
        # NOTIFYs after the block and the revocation were answered (the first, sent at start-up,
        # may be refused while the resolvers are still loading).
        lines = err.splitlines()
        exports = [i for i, l in enumerate(lines) if "serial" in l]
        self.assertEqual(len(exports), 3, err)
        self.assertFalse([l for l in lines[exports[1]:] if "NOTIFY" in l], err)

if __name__ == "__main__":
    unittest.main()
