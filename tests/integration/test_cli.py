"""The cordon CLI on real data: ATT&CK import, pattern vectors, errors."""
import json
import os
import tempfile
import unittest

from harness import COLLECTION, SHARED, SOURCE, Node, cordon, read_shared


class CliTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.node = Node()

    @classmethod
    def tearDownClass(cls):
        cls.node.close()

    def test_import_attack_ics_then_serve_it(self):
        path = os.path.join(SHARED, "stix/mitre-attack/ics-attack-18.1.json")
        expected = len(json.load(open(path))["objects"])
        p = cordon("import", "--data", self.node.data, "--collection", COLLECTION, path)
        self.assertIn(f"added {expected}, unchanged 0, rejected 0", p.stdout)
        p = cordon("import", "--data", self.node.data, "--collection", COLLECTION, path)
        self.assertIn(f"added 0, unchanged {expected}, rejected 0", p.stdout)
        self.node.start(tls=True)
        try:
            c = self.node.client()
            total, nxt = 0, None
            while True:
                env = c.get(f"/cordon/collections/{COLLECTION}/manifest/?limit=1000&match[type]=attack-pattern"
                            + (f"&next={nxt}" if nxt else "")).json()
                total += len(env.get("objects", []))
                if not env["more"]:
                    break
                nxt = env["next"]
            want = sum(1 for o in json.load(open(path))["objects"] if o["type"] == "attack-pattern")
            self.assertEqual(total, want)
            c.close()
        finally:
            self.node.kill()

    def test_import_stix20_enterprise_jsonl(self):
        text = read_shared("stix/mitre-attack/enterprise-attack-18.1.stix20.objects.jsonl.zst")
        lines = [l for l in text.splitlines() if l.strip()]
        with tempfile.NamedTemporaryFile(suffix=".jsonl", delete=False) as f:
            f.write(text)
        try:
            p = cordon("import", "--data", self.node.data, "--collection",
                       "52892447-4d7e-4f70-b94d-d7f22742ff63", f.name)
            self.assertIn(f"added {len(lines)}, unchanged 0, rejected 0", p.stdout)
        finally:
            os.unlink(f.name)

    def test_import_reports_rejections_and_keeps_the_valid(self):
        bundle = {"type": "bundle", "id": "bundle--6b1b4bb1-5a4b-4c4e-9d3c-2f1d8f3f9a11", "objects": [
            {"type": "indicator", "spec_version": "2.1", "id": "indicator--1c2d3e4f-0000-4000-8000-000000000001",
             "created": "2026-01-01T00:00:00Z", "modified": "2025-01-01T00:00:00Z", "pattern_type": "stix",
             "pattern": "[domain-name:value = 'a.example']", "valid_from": "2026-01-01T00:00:00Z"},
            {"type": "indicator", "spec_version": "2.1", "id": "indicator--1c2d3e4f-0000-4000-8000-000000000002",
             "created": "2026-01-01T00:00:00Z", "modified": "2026-01-01T00:00:00Z", "pattern_type": "stix",
             "pattern": "[domain-name:value = 'b.example']", "valid_from": "2026-01-01T00:00:00Z"}]}
        with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as f:
            json.dump(bundle, f)
        try:
            p = cordon("import", "--data", self.node.data, "--collection", COLLECTION, f.name, check=False)
            self.assertEqual(p.returncode, 1)
            self.assertIn("added 1, unchanged 0, rejected 1", p.stdout)
            self.assertIn("indicator--1c2d3e4f-0000-4000-8000-000000000001", p.stdout)
            self.assertIn("modified", p.stdout)
        finally:
            os.unlink(f.name)
        p = cordon("import", "--data", self.node.data, "--collection", COLLECTION, "-",
                   stdin='{"objects": [', check=False)
        self.assertEqual(p.returncode, 2)
        self.assertIn("error", p.stderr)

    def test_example_content_imports_cleanly(self):
        p = cordon("import", "--data", self.node.data, "--collection", COLLECTION,
                   os.path.join(SOURCE, "examples/example-bundle.json"))
        self.assertIn("rejected 0", p.stdout)

    def test_pattern_validate_vectors(self):
        vectors = [json.loads(l) for l in read_shared("patterns/stix-pattern-validator-vectors.jsonl").splitlines()
                   if l.strip()]
        for version in ("2.0", "2.1"):
            vs = [v for v in vectors if v["stix_version"] == version and "\n" not in v["pattern"]]
            p = cordon("pattern", "validate", "--stix-version", version, "-",
                       stdin="".join(v["pattern"] + "\n" for v in vs), check=False)
            lines = p.stdout.splitlines()
            self.assertEqual(len(lines), len(vs))
            for v, line in zip(vs, lines):
                self.assertEqual(line == "ok", v["valid"], f"{v['pattern']!r}: {line}")
                if not v["valid"]:
                    self.assertRegex(line, r"^error: column \d+: ")
            self.assertEqual(p.returncode, 0 if all(v["valid"] for v in vs) else 1)
        p = cordon("pattern", "validate", "[ipv4-addr:value = '1.2.3.4'", check=False)
        self.assertEqual(p.returncode, 1)
        self.assertIn("column", p.stdout)
        self.assertEqual(cordon("pattern", "validate", "[ipv4-addr:value = '1.2.3.4']").stdout, "ok\n")

    def test_pattern_match(self):
        observed = [{"type": "observed-data", "spec_version": "2.1",
                     "id": "observed-data--b67d30ff-02ac-498a-92f9-32f845f448cf",
                     "created": "2026-01-01T00:00:00.000Z", "modified": "2026-01-01T00:00:00.000Z",
                     "first_observed": "2026-01-01T00:00:00Z", "last_observed": "2026-01-01T00:00:00Z",
                     "number_observed": 1, "object_refs": ["domain-name--3c10e93f-798e-5a26-a0c1-08156efab7f5"]},
                    {"type": "domain-name", "spec_version": "2.1",
                     "id": "domain-name--3c10e93f-798e-5a26-a0c1-08156efab7f5", "value": "update-check.example.net"}]
        with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as f:
            json.dump(observed, f)
        try:
            p = cordon("pattern", "match", "[domain-name:value LIKE '%.example.net']", "--observed", f.name, check=False)
            self.assertEqual((p.returncode, p.stdout), (0, "match\n"))
            p = cordon("pattern", "match", "[domain-name:value = 'example.org']", "--observed", f.name, check=False)
            self.assertEqual((p.returncode, p.stdout), (1, "no match\n"))
            p = cordon("pattern", "match", "[domain-name:value = ", "--observed", f.name, check=False)
            self.assertEqual(p.returncode, 2)
            self.assertIn("column", p.stderr)
            p = cordon("pattern", "match", "[domain-name:value = 'x']", "--observed", "-", stdin="[{", check=False)
            self.assertEqual(p.returncode, 2)
        finally:
            os.unlink(f.name)

    def test_a_peer_record_this_version_cannot_read(self):
        """A record cordon cannot parse (a hand edit, another version) is listed, reported by sync, refused
        everything by the server (unit tests), and can be removed."""
        import sqlite3
        node = Node()
        cordon("peer", "add", "--data", node.data, "isp", "--read", COLLECTION, "--password-stdin", stdin="pw\n")
        cordon("peer", "add", "--data", node.data, "cert", "--read", COLLECTION, "--password-stdin", stdin="pw\n")
        db = sqlite3.connect(os.path.join(node.data, "federation.db"))
        db.execute("""UPDATE peers SET record = '{"name":"isp","tlp_ceiling":"AMBER-STRICT"}' WHERE name = 'isp'""")
        db.commit()
        db.close()
        listed = cordon("peer", "list", "--data", node.data).stdout
        self.assertIn("cert ", listed)
        self.assertIn("isp  -  UNREADABLE", listed)
        r = cordon("sync", "--data", node.data, "--once", check=False)
        self.assertEqual(r.returncode, 1)
        self.assertIn("isp: pulled 0", r.stdout)
        self.assertIn("record cannot be read", r.stdout)
        self.assertIn("peer isp removed", cordon("peer", "remove", "--data", node.data, "isp").stdout)
        self.assertNotIn("isp", cordon("peer", "list", "--data", node.data).stdout)

    def test_errors_go_to_stderr_with_nonzero_exit(self):
        p = cordon("serve", "--data", "/nonexistent/dir", "--listen", "127.0.0.1:0", "--insecure-http", check=False)
        self.assertNotEqual(p.returncode, 0)
        self.assertIn("cordon init", p.stderr)
        p = cordon("serve", "--data", self.node.data, "--listen", "127.0.0.1:0", check=False)
        self.assertNotEqual(p.returncode, 0)
        self.assertIn("--tls-cert", p.stderr)
        p = cordon("collection", "add", "--data", self.node.data, "--id", "not-a-uuid", "--title", "x", check=False)
        self.assertNotEqual(p.returncode, 0)
        self.assertIn("UUID", p.stderr)
        for cmd in (["--help"], ["serve", "--help"], ["import", "--help"], ["pattern", "validate", "--help"]):
            p = cordon(*cmd, check=False)
            self.assertEqual(p.returncode, 0)
            self.assertIn("Usage", p.stdout)


if __name__ == "__main__":
    unittest.main()
