"""`cordon match` end to end on the real shared logs: alerts, sightings read back
over TAXII, re-runs that neither double-count sightings nor version them when nothing changed, and --follow with
an indicator added while the stream runs (hot swap: no line lost or counted twice)."""
import json
import os
import shutil
import signal
import subprocess
import tempfile
import time
import unittest

from harness import CORDON, SHARED, Node, cordon, read_shared, wait_until

INTEL = "7d1f7c1e-3b9a-4c4e-9d55-0a8c2c7f1a01"
SIGHTINGS = "7d1f7c1e-3b9a-4c4e-9d55-0a8c2c7f1a02"
LIVE_INTEL = "7d1f7c1e-3b9a-4c4e-9d55-0a8c2c7f1a03"
SLIPS = os.path.join(SHARED, "logs/zeek/stratosphere-slips-test9-mixed")


def ind(n, pattern, valid_from="1970-01-01T00:00:00Z"):
    return {"type": "indicator", "spec_version": "2.1", "id": f"indicator--{n:08x}-0000-4000-8000-00000000abcd",
            "created": "2024-01-01T00:00:00.000Z", "modified": "2024-01-01T00:00:00.000Z",
            "pattern": pattern, "pattern_type": "stix", "valid_from": valid_from}


def bundle(objects):
    return {"type": "bundle", "id": "bundle--5d0092c5-5f74-4287-9642-33f4c354e56d", "objects": objects}


def write_json(path, obj):
    with open(path, "w") as f:
        json.dump(obj, f)


def read_text(path):
    with open(path) as f:
        return f.read()


def json_lines(path_or_bytes):
    if isinstance(path_or_bytes, bytes):
        data = path_or_bytes
    else:
        with open(path_or_bytes, "rb") as f:
            data = f.read()
    return [json.loads(l) for l in data.decode().splitlines() if l.strip()]


class MatchTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.node = Node()
        cls.tmp = tempfile.mkdtemp(prefix="cordon-match-")
        for cid, title in ((INTEL, "Partner indicators"), (SIGHTINGS, "Our sightings"), (LIVE_INTEL, "Live")):
            cordon("collection", "add", "--data", cls.node.data, "--id", cid, "--title", title)
        # Values that truly occur in the logs (counted below from the logs themselves) and one that does not.
        cls.eve_path = os.path.join(cls.tmp, "eve.json")
        with open(cls.eve_path, "wb") as f:
            f.write(read_shared("logs/suricata/stratosphere-test6-malicious.eve.json.zst"))
        cls.indicators = [
            ind(1, "[domain-name:value = 'wpad.felk.cvut.cz']"),
            ind(2, "[url:value = 'http://103.41.26.58/Mozi.m']"),
            ind(3, "[ipv4-addr:value = '193.46.255.92']"),
            ind(4, "[file:hashes.MD5 = 'df7c845e4eadd7bac6cbfe2087bbd482']"),
            ind(5, "[domain-name:value = 'never-seen.invalid-tld-for-tests']"),
            ind(6, "[network-traffic:dst_ref.value = '192.168.1.1' AND network-traffic:dst_port = 53]"),
        ]
        path = os.path.join(cls.tmp, "intel.json")
        write_json(path, bundle(cls.indicators))
        cordon("import", "--data", cls.node.data, "--collection", INTEL, path)

    @classmethod
    def tearDownClass(cls):
        cls.node.close()
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def expected_counts(self):
        """Records in which each planted value occurs, from the logs (not from cordon)."""
        want = {}
        dns = json_lines(os.path.join(SLIPS, "dns.log"))
        want[1] = sum(1 for r in dns if r.get("query") == "wpad.felk.cvut.cz" or "wpad.felk.cvut.cz" in r.get("answers", []))
        http = json_lines(os.path.join(SLIPS, "http.log"))
        want[2] = sum(1 for r in http if r.get("host") == "103.41.26.58" and r.get("uri") == "/Mozi.m")
        files = json_lines(os.path.join(SLIPS, "files.log"))
        want[4] = sum(1 for r in files if r.get("md5") == "df7c845e4eadd7bac6cbfe2087bbd482")
        eve = json_lines(self.eve_path)
        want[3] = sum(1 for r in eve if "193.46.255.92" in (r.get("src_ip"), r.get("dest_ip")))
        want[6] = sum(1 for r in eve if r.get("dest_ip") == "192.168.1.1" and r.get("dest_port") == 53)
        want[5] = 0
        for k in (1, 2, 3, 4, 6):
            self.assertGreater(want[k], 0, k)
        return want

    def run_match(self, alerts):
        logs = [os.path.join(SLIPS, n) for n in ("dns.log", "http.log", "files.log", "conn.log")]
        p1 = cordon("match", "--data", self.node.data, "--collection", INTEL, "--format", "zeek",
                    "--sightings-to", SIGHTINGS, "--alerts", alerts, *logs)
        p2 = cordon("match", "--data", self.node.data, "--collection", INTEL, "--format", "eve",
                    "--sightings-to", SIGHTINGS, "--alerts", alerts, self.eve_path)
        return p1, p2

    def sightings_over_taxii(self):
        c = self.node.client()
        env = c.get(f"/cordon/collections/{SIGHTINGS}/objects/?match[type]=sighting&limit=1000").json()
        identities = c.get(f"/cordon/collections/{SIGHTINGS}/objects/?match[type]=identity").json()
        c.close()
        return env.get("objects", []), identities.get("objects", [])

    def test_alerts_and_sightings_over_taxii_and_rerun(self):
        want = self.expected_counts()
        alerts_path = os.path.join(self.tmp, "alerts.jsonl")
        p1, p2 = self.run_match(alerts_path)
        self.assertIn("0 malformed", p1.stderr)
        self.assertIn("5000 events, 0 malformed", p2.stderr)
        alerts = json_lines(alerts_path)
        got = {}
        for a in alerts:
            n = int(a["indicator"].split("--")[1][:8], 16)
            got[n] = got.get(n, 0) + 1
            # The alert names a line of its source that holds the matched value.
            if a["value"] is not None:
                with open(a["source"], "rb") as f:
                    line = f.read().split(b"\n")[a["line"] - 1].decode()
                self.assertIn(a["value"].replace("http://", "").replace("/Mozi.m", ""), line)
        for k, v in want.items():
            self.assertEqual(got.get(k, 0), v, f"indicator {k}")
        self.node.start(tls=False)
        try:
            sightings, identities = self.sightings_over_taxii()
            self.assertEqual(len(identities), 1)
            identity = identities[0]["id"]
            per_indicator = {}
            for s in sightings:
                self.assertEqual(s["where_sighted_refs"], [identity])
                self.assertLessEqual(s["first_seen"], s["last_seen"])
                n = int(s["sighting_of_ref"].split("--")[1][:8], 16)
                per_indicator[n] = per_indicator.get(n, 0) + s["count"]
            self.assertEqual({k: v for k, v in per_indicator.items()}, {k: v for k, v in want.items() if v})
            first = {s["id"]: s for s in sightings}

            # Same logs again: the same sightings with the same counts, so no new version at all.
            time.sleep(0.01)
            for p in self.run_match(os.path.join(self.tmp, "alerts2.jsonl")):
                self.assertIn(" 0 sighting versions written", p.stderr)
            again, identities = self.sightings_over_taxii()
            self.assertEqual(len(identities), 1)
            self.assertEqual({s["id"]: s for s in again}, first)

            # A count that changed (a log cut short): a new version, same id and created, later modified.
            dns = os.path.join(self.tmp, "dns-head.log")
            with open(os.path.join(SLIPS, "dns.log")) as f, open(dns, "w") as out:
                lines = [l for l in f if "wpad.felk.cvut.cz" in l]
                out.writelines(lines[:1])
            p = cordon("match", "--data", self.node.data, "--collection", INTEL, "--format", "zeek",
                       "--sightings-to", SIGHTINGS, dns)
            self.assertIn(" 1 sighting versions written", p.stderr)
            changed = [s for s in self.sightings_over_taxii()[0] if s != first[s["id"]]]
            self.assertEqual(len(changed), 1)
            s = changed[0]
            self.assertEqual((s["count"], s["created"]), (1, first[s["id"]]["created"]))
            self.assertGreater(s["modified"], first[s["id"]]["modified"])
        finally:
            self.node.kill()

    def test_indicators_bundle_and_malformed_lines(self):
        log = os.path.join(self.tmp, "mixed.log")
        with open(log, "w") as f:
            f.write("evil.example\n192.0.2.1\nnot a value!\nhttp://evil.example/x\ngood.example\n")
        path = os.path.join(self.tmp, "lines-intel.json")
        write_json(path, bundle([ind(20, "[domain-name:value = 'evil.example']"),
                          ind(21, "[ipv4-addr:value ISSUBSET '192.0.2.0/24']")]))
        p = cordon("match", "--data", self.node.data, "--indicators", path, "--format", "lines",
                   "--alerts", "-", log)
        alerts = [json.loads(l) for l in p.stdout.splitlines()]
        self.assertEqual([(a["line"], a["indicator"][11:19]) for a in alerts],
                         [(1, "00000014"), (2, "00000015"), (4, "00000014")])
        self.assertIn("mixed.log:3: malformed record", p.stderr)
        self.assertIn("1 malformed", p.stderr)

    def test_connection_sides_normalised_constants_and_ja3(self):
        """A Zeek conn and ssl record through the real decoders: network-traffic sides are told apart,
        patterns confirmed by evaluation compare normalised values, and JA3 values can be evaluated."""
        conn = os.path.join(self.tmp, "sides")
        os.makedirs(conn, exist_ok=True)
        with open(os.path.join(conn, "conn.log"), "w") as f:
            f.write("#separator \\x09\n#fields\tts\tuid\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\tproto\n"
                    "1600000000.000000\tC1\t10.0.0.1\t5353\t192.0.2.53\t53\tudp\n")
        ja3 = "e7d705a3286e19ea42f587b344ee6865"
        with open(os.path.join(conn, "ssl.log"), "w") as f:
            f.write("#separator \\x09\n#fields\tts\tuid\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\tserver_name\tja3\n"
                    f"1600000000.000000\tC2\t10.0.0.1\t40000\t192.0.2.54\t443\tWWW.Evil.Example\t{ja3}\n")
        intel = os.path.join(conn, "intel.json")
        write_json(intel, bundle([
            ind(40, "[network-traffic:dst_ref.value = '10.0.0.1']"),           # the source: no
            ind(41, "[network-traffic:src_ref.value = '10.0.0.1']"),           # yes (twice: conn and ssl)
            ind(42, "[network-traffic:dst_port = 5353]"),                      # the source port: no
            ind(43, "[network-traffic:dst_port = 53]"),                        # yes
            ind(44, "[domain-name:value = 'WWW.EVIL.EXAMPLE.' AND domain-name:value LIKE '%evil%']"),  # yes
            ind(45, f"[x-ja3:value = '{ja3.upper()}'] REPEATS 1 TIMES"),       # yes
        ]))
        p = cordon("match", "--data", self.node.data, "--indicators", intel, "--format", "zeek", "--alerts", "-",
                   os.path.join(conn, "conn.log"), os.path.join(conn, "ssl.log"))
        got = sorted(json.loads(l)["indicator"][11:19] for l in p.stdout.splitlines())
        self.assertEqual(got, ["00000029", "00000029", "0000002b", "0000002c", "0000002d"])

    def test_email_addresses_from_zeek_smtp_logs(self):
        """E-mail indicators against the real smtp.log files (TSV and JSON): envelope and header addresses."""
        tsv = os.path.join(SHARED, "logs/zeek/wrccdc-2018/tsv/smtp.log")
        js = os.path.join(SLIPS, "smtp.log")
        # Expected counts read from the logs here, independently of cordon's decoder.
        with open(tsv) as f:
            rows = [l.rstrip("\n").split("\t") for l in f if not l.startswith("#")]
        with open(tsv) as f:
            fields = next(l for l in f if l.startswith("#fields")).rstrip("\n").split("\t")[1:]
        mailfrom = [r[fields.index("mailfrom")] for r in rows]
        def addresses(record):
            out = []
            for k in ("mailfrom", "rcptto", "from", "to", "reply_to"):
                v = record.get(k) or []
                for a in (v if isinstance(v, list) else [v]):
                    out.append((k, a[a.rfind("<") + 1:a.rfind(">")] if "<" in a else a))
            return out
        with open(js) as f:
            records = [json.loads(l) for l in f if l.strip()]
        john = "JohnDoe123456@gmail.com"  # in "to" headers with a display name, and in an envelope rcptto
        intel = os.path.join(self.tmp, "email-intel.json")
        write_json(intel, bundle([ind(50, "[email-addr:value = 'nessus49048747@hotmail.com']"),
                                  ind(51, "[email-addr:value = 'nessus1665256405@HOTMAIL.COM']"),  # domain case
                                  ind(52, f"[email-addr:value = '{john}']"),
                                  ind(53, "[email-addr:value = 'nobody@nowhere.example']")]))
        p = cordon("match", "--data", self.node.data, "--indicators", intel, "--format", "zeek", "--alerts", "-",
                   tsv, js)
        alerts = [json.loads(l) for l in p.stdout.splitlines()]
        count = lambda n: sum(1 for a in alerts if a["indicator"][11:19] == f"{n:08x}")
        self.assertEqual(count(50), mailfrom.count("nessus49048747@hotmail.com"))
        self.assertEqual(count(51), mailfrom.count("nessus1665256405@hotmail.com"))
        self.assertEqual(count(52), sum(1 for r in records if john in {a for _, a in addresses(r)}))
        self.assertGreater(count(50) * count(51) * count(52), 0)
        self.assertEqual(count(53), 0)

    def test_errors(self):
        p = cordon("match", "--data", self.node.data, "--format", "zeek", "x.log", check=False)
        self.assertEqual(p.returncode, 2)
        self.assertIn("no indicators", p.stderr)
        p = cordon("match", "--data", self.node.data, "--collection", INTEL, "--format", "pcap", "x.log", check=False)
        self.assertIn("unknown log format 'pcap'", p.stderr)
        p = cordon("match", "--data", self.node.data, "--collection", "00000000-0000-4000-8000-000000000000",
                   "--format", "zeek", "x.log", check=False)
        self.assertIn("no collection", p.stderr)

    def test_follow_hot_swap_and_rotation(self):
        log = os.path.join(self.tmp, "live.log")
        alerts_path = os.path.join(self.tmp, "live-alerts.jsonl")
        f = open(log, "w", buffering=1)
        proc = subprocess.Popen([CORDON, "match", "--data", self.node.data, "--collection", LIVE_INTEL,
                                 "--format", "lines", "--follow", "--reload-seconds", "0.1",
                                 "--alerts", alerts_path, log],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        try:
            written = []  # (file, line number) of every line naming the indicator's domain
            n = 0
            def write(count, fh, name):
                nonlocal n
                for _ in range(count):
                    n += 1
                    fh.write("hot.example\n")
                    written.append((name, n))
                    time.sleep(0.002)
            write(200, f, log)
            time.sleep(0.3)
            path = os.path.join(self.tmp, "hot.json")
            write_json(path, bundle([ind(30, "[domain-name:value = 'hot.example']")]))
            cordon("import", "--data", self.node.data, "--collection", LIVE_INTEL, path)
            write(800, f, log)  # the swap happens somewhere in here
            # Rotation: rename, then a new file at the same path.
            f.close()
            os.rename(log, log + ".1")
            f = open(log, "w", buffering=1)
            n = 0
            write(100, f, log)

            def complete_alerts():
                # The matcher may be caught mid-write: only lines with their '\n' count.
                return read_text(alerts_path).split("\n")[:-1] if os.path.exists(alerts_path) else []
            wait_until(lambda: len(complete_alerts()) >= 100 and
                       json.loads(complete_alerts()[-1])["line"] == 100, timeout=20)
        finally:
            f.close()
            proc.send_signal(signal.SIGTERM)
            out, err = proc.communicate(timeout=30)
        self.assertEqual(proc.returncode, 0, err)
        self.assertIn("1 index reloads", err)
        alerts = json_lines(alerts_path)
        keys = [a["line"] for a in alerts]
        # First file: the alerts form one unbroken run up to its last line
        # (every line after the swap exactly once, none before); then the
        # whole new file.
        first, second = keys[:-100], keys[-100:]
        self.assertEqual(second, list(range(1, 101)))
        self.assertGreater(len(first), 0)
        self.assertEqual(first, list(range(first[0], 1001)))
        self.assertGreater(first[0], 200)  # nothing matched before the indicator existed
        self.assertIn("1100 events", err)


if __name__ == "__main__":
    unittest.main()
