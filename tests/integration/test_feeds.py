"""Feeds through the real binary: warning lists, every import format on the shared data,
broken input (nothing written), idempotent re-imports, and a round trip through TAXII."""
import glob
import json
import os
import re
import shutil
import tempfile
import unittest

from harness import COLLECTION, SECRET_COLLECTION, SHARED, Node, cordon, read_shared

WARNINGLISTS = sorted(glob.glob(os.path.join(SHARED, "misp/warninglists/*.json")))


def counts(stdout):
    m = re.search(r"added (\d+), updated (\d+), unchanged (\d+), rejected (\d+), skipped (\d+), "
                  r"warning-list hits (\d+)", stdout)
    assert m, stdout
    return dict(zip(["added", "updated", "unchanged", "rejected", "skipped", "hits"], map(int, m.groups())))


class FeedsTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.node = Node()
        cls.tmp = tempfile.mkdtemp(prefix="cordon-feeds-")
        cordon("warninglist", "add", "--data", cls.node.data, *WARNINGLISTS)

    @classmethod
    def tearDownClass(cls):
        cls.node.close()
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def imp(self, *args, collection=COLLECTION, check=True):
        return cordon("import", "--data", self.node.data, "--collection", collection, *args, check=check)

    def versions(self, collection=COLLECTION):
        out = cordon("collection", "list", "--data", self.node.data).stdout
        return int(re.search(collection + r".*\((\d+) object versions\)", out).group(1))

    def write(self, name, data):
        path = os.path.join(self.tmp, name)
        with open(path, "wb") as f:
            f.write(data if isinstance(data, bytes) else data.encode())
        return path

    def test_warninglist_commands(self):
        out = cordon("warninglist", "list", "--data", self.node.data).stdout
        self.assertEqual(len(out.strip().splitlines()), len(WARNINGLISTS))
        self.assertIn("list-of-rfc-1918-cidr-blocks  cidr  3 entries", out)
        bad = self.write("bad-list.json", '{"name": "x", "type": "cidr", "list": ["10.0.0.0/8", "10.1.0.0/99"]}')
        p = cordon("warninglist", "add", "--data", self.node.data, bad, check=False)
        self.assertEqual(p.returncode, 2)
        self.assertIn('"list"[1] \'10.1.0.0/99\'', p.stderr)
        extra = self.write("extra.json", json.dumps({"name": "Test list", "type": "string", "list": ["a.example"]}))
        cordon("warninglist", "add", "--data", self.node.data, extra)
        cordon("warninglist", "remove", "--data", self.node.data, "test-list")
        p = cordon("warninglist", "remove", "--data", self.node.data, "test-list", check=False)
        self.assertEqual(p.returncode, 2)

    def test_netset_then_reimport_is_unchanged(self):
        path = os.path.join(SHARED, "indicators/firehol/firehol_level1.netset")
        with open(path) as f:
            entries = [l for l in f if l.strip() and not l.startswith("#")]
        first = self.imp("--format", "netset", "--source", "FireHOL level 1", "--tlp", "clear", path,
                         collection=SECRET_COLLECTION)
        c = counts(first.stdout)
        self.assertEqual(c["added"], len(entries))
        self.assertEqual(c["rejected"], 0)
        # Bogons in level 1 are on the RFC 1918 / 5735 warning lists.
        self.assertRegex(first.stdout, r"warning line \d+ '10\.0\.0\.0/8': on warning list 'List of RFC 1918")
        again = counts(self.imp("--format", "netset", "--source", "FireHOL level 1", "--tlp", "clear", path,
                                collection=SECRET_COLLECTION).stdout)
        self.assertEqual((again["added"], again["updated"], again["unchanged"]), (0, 0, len(entries)))
        # A changed property (confidence) is a new version of every indicator.
        changed = counts(self.imp("--format", "netset", "--source", "FireHOL level 1", "--tlp", "clear",
                                  "--confidence", "80", path, collection=SECRET_COLLECTION).stdout)
        self.assertEqual(changed["updated"], len(entries))
        self.assertEqual(self.versions(SECRET_COLLECTION), 2 * len(entries) + 1)

    def test_plain_hosts_and_csv_on_real_lists(self):
        domains = os.path.join(SHARED, "indicators/urlhaus/urlhaus-filter-domains.txt")
        c = counts(self.imp("--format", "plain", "--source", "urlhaus-domains", domains).stdout)
        self.assertGreater(c["added"], 1000)
        ransomware = os.path.join(SHARED, "indicators/blocklistproject/ransomware.txt")  # hosts format
        c = counts(self.imp("--format", "hosts", "--source", "blocklistproject", ransomware).stdout)
        self.assertGreater(c["added"], 1000)
        hosts = os.path.join(SHARED, "indicators/urlhaus/urlhaus-filter-hosts.txt")
        p = self.imp("--format", "hosts", "--source", "urlhaus", "--valid-for", "7d", "--label", "malware", hosts)
        c = counts(p.stdout)
        self.assertGreater(c["added"], 1000)
        self.assertIn("on warning list 'List of known dynamic DNS domains'", p.stdout)
        csv = os.path.join(SHARED, "indicators/urlhaus/urlhaus-filter-splunk-online.csv")
        c = counts(self.imp("--format", "csv", "--source", "urlhaus-csv", "--columns",
                            "value=host,description=message", csv).stdout)
        self.assertGreater(c["added"], 1000)

    def test_misp_events_and_feed(self):
        event = os.path.join(SHARED, "misp/events/pymisp/long_event.json")
        p = self.imp("--format", "misp", "--source", "CIRCL", event, check=False)
        self.assertEqual(p.returncode, 1, p.stdout + p.stderr)  # some attribute types have no mapping
        c = counts(p.stdout)
        self.assertGreater(c["added"], 50)
        self.assertRegex(p.stdout, r"rejected event [0-9a-f-]+ attribute [0-9a-f-]+ '.*': type 'imphash'")
        self.assertIn("skipped", p.stdout)
        again = counts(self.imp("--format", "misp", "--source", "CIRCL", event, check=False).stdout)
        self.assertEqual(again["unchanged"], c["added"])
        # A MISP feed: manifest.json plus one file per event.
        feed = os.path.join(self.tmp, "feed")
        os.makedirs(feed, exist_ok=True)
        manifest = {}
        for path in sorted(glob.glob(os.path.join(SHARED, "misp/events/eset/sshdoor/misp-events/*.json"))):
            with open(path) as f:
                ev = json.load(f)["Event"]
            manifest[ev["uuid"]] = {"info": ev["info"], "timestamp": ev["timestamp"]}
            shutil.copy(path, os.path.join(feed, ev["uuid"] + ".json"))
        with open(os.path.join(feed, "manifest.json"), "w") as f:
            json.dump(manifest, f)
        c = counts(self.imp("--format", "misp-feed", "--source", "ESET", feed, check=False).stdout)
        self.assertGreater(c["added"] + c["skipped"], 50)

    def test_broken_input_writes_nothing(self):
        before = self.versions()
        text = read_shared("misp/events/pymisp/long_event.json")
        truncated = self.write("truncated.json", text[: len(text) // 2])
        p = self.imp("--format", "misp", "--source", "x", truncated, check=False)
        self.assertEqual(p.returncode, 2)
        self.assertIn("not a JSON document", p.stderr)
        self.assertIn("nothing imported", p.stderr)
        csv = self.write("short.csv", "evil.example,domain\nother.example\n")
        p = self.imp("--format", "csv", "--source", "x", "--columns", "value=1,type=2", csv, check=False)
        self.assertEqual(p.returncode, 2)
        self.assertIn("line 2: 1 fields, but column 2 (type) is mapped", p.stderr)
        # A good file and a broken one in the same import: neither is written.
        good = self.write("good.txt", "good-but-not-written.example\n")
        p = self.imp("--format", "csv", "--source", "x", "--columns", "value=1,type=2", good, csv, check=False)
        self.assertEqual(p.returncode, 2)
        self.assertEqual(self.versions(), before)
        # Bad lines are rejected with their line; the good ones are imported.
        netset = self.write("bad.netset", "192.0.2.0/24\n192.0.2.1/24\n300.1.2.3\n")
        p = self.imp("--format", "netset", "--source", "bad-netset", netset, check=False)
        self.assertEqual(p.returncode, 1)
        self.assertIn("rejected line 2 '192.0.2.1/24'", p.stdout)
        self.assertIn("rejected line 3 '300.1.2.3'", p.stdout)
        self.assertEqual(counts(p.stdout)["added"], 1)
        p = self.imp("--format", "plain", "x.example", check=False)
        self.assertEqual(p.returncode, 2)
        self.assertIn("--source", p.stderr)

    def test_round_trip_through_taxii(self):
        """Import, read the indicators back over TAXII, re-import their values: unchanged."""
        col = "3a3b5c6d-7e8f-4a0b-9c1d-2e3f4a5b6c7d"  # the harness's write-only drop box, admin reads it
        path = os.path.join(SHARED, "indicators/firehol/spamhaus_drop.netset")
        c = counts(self.imp("--format", "netset", "--source", "Spamhaus", "--tlp", "amber", path,
                            collection=col).stdout)
        self.node.start(tls=False)
        try:
            client = self.node.client()
            objs, nxt = [], None
            while True:
                env = client.get(f"/cordon/collections/{col}/objects/?limit=1000&match[type]=indicator"
                                 + (f"&next={nxt}" if nxt else "")).json()
                objs += env.get("objects", [])
                if not env.get("more"):
                    break
                nxt = env["next"]
            client.close()
        finally:
            self.node.kill()
        self.assertEqual(len(objs), c["added"])
        amber = "marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421"
        for o in objs:
            self.assertEqual(o["object_marking_refs"], [amber])
            self.assertTrue(o["pattern"].startswith("[ipv4-addr:value = '"))
            self.assertLess(o["valid_from"], o["valid_until"])
        bundle = self.write("names.txt", "\n".join(o["name"] for o in objs) + "\n")
        again = counts(self.imp("--format", "netset", "--source", "Spamhaus", "--tlp", "amber", bundle,
                                collection=col).stdout)
        self.assertEqual((again["added"], again["updated"], again["unchanged"]), (0, 0, c["added"]))


if __name__ == "__main__":
    unittest.main()
