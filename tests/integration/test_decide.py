"""`cordon decide` and `cordon export` through the real binary: bad input, history, round trips."""
import json
import os
import shutil
import tempfile
import unittest

from harness import cordon

COL = "0c6c1c2e-7f4e-4d55-9a49-3c9b8e1f0a01"
OUT_COL = "0c6c1c2e-7f4e-4d55-9a49-3c9b8e1f0a02"
IND = "indicator--7c000000-0000-4000-8000-000000000001"


class DecideAndExport(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="cordon-decide-")
        self.data = os.path.join(self.dir, "data")
        cordon("init", "--data", self.data)
        cordon("collection", "add", "--data", self.data, "--id", COL, "--title", "feeds")
        cordon("collection", "add", "--data", self.data, "--id", OUT_COL, "--title", "round trip")
        bundle = {"type": "bundle", "id": "bundle--7c000000-0000-4000-8000-000000000000", "objects": [
            {"type": "indicator", "spec_version": "2.1", "id": IND, "created": "2026-01-01T00:00:00.000Z",
             "modified": "2026-01-01T00:00:00.000Z", "pattern_type": "stix", "valid_from": "2026-01-01T00:00:00Z",
             "pattern": "[domain-name:value = 'evil.example'] OR [ipv4-addr:value = '203.0.113.9']"}]}
        self.bundle = os.path.join(self.dir, "b.json")
        with open(self.bundle, "w") as f:
            json.dump(bundle, f)
        cordon("import", "--data", self.data, "--collection", COL, self.bundle)

    def tearDown(self):
        shutil.rmtree(self.dir, ignore_errors=True)

    def decide(self, *args, check=True):
        return cordon("decide", *args, "--data", self.data, check=check)

    def test_bad_input_is_refused_with_a_precise_message(self):
        base = ["--reason", "r", "--author", "a"]
        cases = [
            (["block", "--indicator", "identity--7c000000-0000-4000-8000-000000000001", *base], "not a STIX indicator id"),
            (["block", "--source", IND, *base], "not a STIX identity id"),
            (["block", "--collection", "feeds", *base], "not a collection id"),
            (["block", *base], "exactly one of --indicator, --source, --collection"),
            (["block", "--indicator", IND, "--for", "7", *base], "--for: bad duration '7'"),
            (["block", "--indicator", IND, "--expires", "2020-01-01T00:00:00Z", *base], "is not in the future"),
            (["block", "--indicator", IND, "--expires", "tomorrow", *base], "--expires:"),
            (["block", "--indicator", IND, "--policy", "drop", *base], "unknown policy 'drop'"),
            (["block", "--indicator", IND, "--policy", "cname:bad..name", *base], "bad walled-garden name"),
            (["revoke", "42"], "no decision 42"),
        ]
        for args, message in cases:
            with self.subTest(args=args):
                p = self.decide(*args, check=False)
                self.assertEqual(p.returncode, 2, p.stdout + p.stderr)
                self.assertIn(message, p.stderr)
        self.assertEqual(self.decide("list", "--all").stdout, "")  # nothing half-written
        p = cordon("export", "bind", "--data", self.data, check=False)
        self.assertEqual(p.returncode, 2)
        self.assertIn("unknown export format 'bind'", p.stderr)
        p = cordon("export", "suricata", "--data", self.data, check=False)
        self.assertIn("writes several files: give --output", p.stderr)

    def test_revocation_is_kept_as_history_and_stops_the_export(self):
        out = self.decide("block", "--indicator", IND, "--reason", "phishing", "--author", "alice").stdout
        decision_id = out.split()[1]
        plain = cordon("export", "plain", "--data", self.data).stdout
        self.assertEqual(plain, "evil.example\n203.0.113.9\n")
        self.decide("revoke", decision_id, "--author", "bob", "--reason", "false positive")
        self.assertEqual(cordon("export", "plain", "--data", self.data).stdout, "")
        self.assertEqual(self.decide("list").stdout, "")
        history = self.decide("list", "--all").stdout
        self.assertIn("REVOKED", history)
        self.assertIn("by bob (false positive)", history)
        again = self.decide("revoke", decision_id, check=False)
        self.assertIn("already revoked", again.stderr)
        with open(os.path.join(self.data, "audit.log")) as f:
            self.assertIn("decision.revoke", f.read())

    def test_stix_export_round_trips(self):
        self.decide("block", "--indicator", IND, "--reason", "phishing", "--author", "alice")
        out = os.path.join(self.dir, "export.json")
        cordon("export", "stix", "--data", self.data, "--output", out)
        with open(out) as f:
            exported = json.load(f)
        types = sorted(o["type"] for o in exported["objects"])
        self.assertEqual(types, ["indicator", "note"])
        note = next(o for o in exported["objects"] if o["type"] == "note")
        self.assertEqual(note["object_refs"], [IND])
        self.assertIn("phishing", note["content"])
        # The bundle is valid STIX for cordon's own importer, and the indicator is unchanged.
        report = cordon("import", "--data", self.data, "--collection", OUT_COL, out).stdout
        self.assertIn("added 2, unchanged 0, rejected 0", report)
        report = cordon("import", "--data", self.data, "--collection", COL, out).stdout
        self.assertIn("added 1, unchanged 1, rejected 0", report)  # the indicator is byte-identical


if __name__ == "__main__":
    unittest.main()
