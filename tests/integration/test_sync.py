"""Three real nodes on loopback syncing over HTTPS (issue 5): a national CERT publishes, an ISP
(TLP:GREEN, free text redacted) and a foreign CERT (TLP:AMBER, signatures required) pull; the ISP's
matcher (`cordon match` over a small Zeek log) sights a CERT indicator, signs the sighting and it is
pushed back; kill -9 during a sync converges without duplicates;
a tampered object is rejected; background sync in `cordon serve`; the CERT's audit trail verifies."""
import json
import os
import signal
import sqlite3
import subprocess
import tempfile
import time
import unittest

from harness import CORDON, COLLECTION, Node, cordon, indicator, wait_until

GREEN = "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb"
AMBER = "marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421"
RED = "marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1"
SIGNATURE_EXTENSION = "extension-definition--1ade2b29-5fa9-4475-a83b-39492cfd87c0"
BASE = f"/cordon/collections/{COLLECTION}"


def identity(node, name, country):
    out = cordon("identity", "init", "--data", node.data, "--name", name, "--sector", "government",
                 "--country", country).stdout.split()
    return out[0], out[3]  # id, public key


def all_versions(node):
    """Every stored (id, version) of the shared collection at `node`, through TAXII manifests."""
    c = node.client()
    seen, nxt = [], None
    while True:
        q = f"{BASE}/manifest/?limit=1000&match[version]=all" + (f"&next={nxt}" if nxt else "")
        r = c.get(q)
        if r.status != 200:
            break
        body = r.json()
        seen += [(o["id"], o["version"]) for o in body.get("objects", [])]
        if not body.get("more"):
            break
        nxt = body["next"]
    c.close()
    return seen


def get_object(node, object_id):
    c = node.client()
    r = c.get(f"{BASE}/objects/{object_id}/")
    c.close()
    return r.json()["objects"][0] if r.status == 200 else None


class SyncTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.cert, cls.isp, cls.foreign = Node(), Node(), Node()
        cls.cert_id, cls.cert_key = identity(cls.cert, "National CERT", "FR")
        cls.isp_id, cls.isp_key = identity(cls.isp, "ISP", "FR")
        cls.foreign_id, _ = identity(cls.foreign, "Foreign CERT", "JP")
        cls.cert.start(tls=True)
        # The CERT's agreements: the ISP reads GREEN without free text and may write back (signed); the foreign
        # CERT reads up to AMBER.
        cordon("peer", "add", "--data", cls.cert.data, "isp", "--identity", cls.isp_id, "--public-key",
               cls.isp_key, "--require-signatures", "--read", COLLECTION,
               "--write", COLLECTION, "--tlp", "GREEN", "--redact-free-text", "--password-stdin",
               stdin="isp-pw\n")
        cordon("peer", "add", "--data", cls.cert.data, "foreign", "--identity", cls.foreign_id, "--read",
               COLLECTION, "--tlp", "AMBER", "--password-stdin", stdin="foreign-pw\n")
        url = f"https://localhost:{cls.cert.port}/taxii2/"
        for node, user in ((cls.isp, "isp"), (cls.foreign, "foreign")):
            pw = os.path.join(node.dir, "cert.pw")
            with open(pw, "w") as f:
                f.write(f"{user}-pw\n")
            args = ["peer", "add", "--data", node.data, "cert", "--identity", cls.cert_id, "--public-key",
                    cls.cert_key, "--url", url, "--remote-user", user, "--remote-password-file", pw,
                    "--ca-file", cls.cert.cert, "--pull", f"{COLLECTION}={COLLECTION}", "--password-stdin"]
            if node is cls.isp:  # what the ISP pushes back: TLP:GREEN at most, free text redacted
                args += ["--push", f"{COLLECTION}={COLLECTION}", "--redact-free-text"]
            else:
                args += ["--require-signatures"]
            cordon(*args, stdin="unused-pw\n")
        cls.isp.start(tls=True)
        cls.foreign.start(tls=True)

    @classmethod
    def tearDownClass(cls):
        for n in (cls.cert, cls.isp, cls.foreign):
            n.close()

    def publish(self, objects):
        c = self.cert.client()
        r = c.post_objects(COLLECTION, objects)
        c.close()
        self.assertEqual(r.status, 202, r.body)
        return r.json()

    def sync(self, node, check=True):
        r = cordon("sync", "--data", node.data, "--once", check=False)
        if check:
            self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        return r.stdout

    def test_1_tlp_and_redaction_per_agreement(self):
        objs = []
        for n, marking in ((1, GREEN), (2, AMBER), (3, RED)):
            o = indicator(100 + n, marking=marking)
            o["description"] = f"seen by analyst{n}@cert.example"
            objs.append(o)
        self.publish(objs)
        green, amber, red = (o["id"] for o in objs)
        self.sync(self.isp)
        self.sync(self.foreign)
        self.assertIsNotNone(get_object(self.isp, green))
        self.assertIsNone(get_object(self.isp, amber))
        self.assertIsNone(get_object(self.isp, red))
        self.assertNotIn("description", get_object(self.isp, green))
        self.assertIsNotNone(get_object(self.foreign, green))
        self.assertIsNotNone(get_object(self.foreign, amber))
        self.assertIsNone(get_object(self.foreign, red))
        self.assertEqual(get_object(self.foreign, amber)["description"], "seen by analyst2@cert.example")
        for node, hidden in ((self.isp, {amber, red}), (self.foreign, {red})):
            listed = {i for i, _ in all_versions(node)}
            self.assertFalse(hidden & listed)
            c = node.client()
            for oid in hidden:
                self.assertEqual(c.get(f"{BASE}/objects/{oid}/versions/").status, 404)
            c.close()
        # A second round brings nothing new (the checkpoint moved past the page).
        self.assertIn("pulled 0 new", self.sync(self.isp))

    def isp_sightings(self):
        c = self.isp.client()
        r = c.get(f"{BASE}/objects/?match[type]=sighting&limit=1000")
        c.close()
        return r.json().get("objects", []) if r.status == 200 else []

    def test_2_isp_matcher_sighting_reaches_the_cert_signed(self):
        ind = dict(indicator(200, marking=GREEN, pattern="[domain-name:value = 'sighted.cert.example']"),
                   created_by_ref=self.cert_id)
        self.publish([ind])
        self.sync(self.isp)
        # The ISP's own indicator: its sighting concerns no partner and stays home.
        local = indicator(201, pattern="[domain-name:value = 'local.isp.example']")
        # A sighting of the CERT's indicator that the ISP did not make is not pushed either.
        other = {"type": "sighting", "spec_version": "2.1", "id": "sighting--6a1f5bd4-29c6-4a0e-9c0a-000000000201",
                 "created_by_ref": "identity--00000000-0000-4000-8000-000000000001",
                 "created": "2026-02-01T00:00:00.000Z", "modified": "2026-02-01T00:00:00.000Z",
                 "sighting_of_ref": ind["id"], "count": 3}
        c = self.isp.client()
        self.assertEqual(c.post_objects(COLLECTION, [local, other]).status, 202)
        c.close()
        log = os.path.join(self.isp.dir, "dns.log")
        with open(log, "w") as f:  # Zeek JSON: event times of their own, so a re-run is the same run
            for ts, query in ((1769940000.25, "sighted.cert.example"), (1769940060.5, "sighted.cert.example"),
                              (1769940100.0, "local.isp.example"), (1769940200.0, "benign.example")):
                f.write(json.dumps({"ts": ts, "id.orig_h": "10.0.0.7", "id.resp_h": "10.0.0.53",
                                    "query": query}) + "\n")
        match = ["match", "--data", self.isp.data, "--collection", COLLECTION, "--format", "zeek",
                 "--sightings-to", COLLECTION, log]
        self.assertIn("3 hits, 2 sighting versions written", cordon(*match).stderr)
        mine = [s for s in self.isp_sightings() if s["sighting_of_ref"] == ind["id"] and s["id"] != other["id"]]
        self.assertEqual(len(mine), 1)
        sighting = mine[0]
        self.assertEqual((sighting["created_by_ref"], sighting["where_sighted_refs"], sighting["count"]),
                         (self.isp_id, [self.isp_id], 2))
        self.assertEqual((sighting["first_seen"], sighting["last_seen"]),
                         ("2026-02-01T10:00:00.250Z", "2026-02-01T10:01:00.500Z"))
        # Signed at creation by the ISP's key (the local copy, before any push).
        self.assertIn(SIGNATURE_EXTENSION, sighting.get("extensions", {}))
        # Shared no wider than the TLP:GREEN indicator it sights.
        self.assertEqual(sighting.get("object_marking_refs"), [GREEN])
        out = self.sync(self.isp)
        self.assertIn("pushed 1 (0 refused)", out)
        # Readable at the CERT, which requires the ISP's signature: the very bytes the ISP's matcher signed.
        self.assertEqual(get_object(self.cert, sighting["id"]), sighting)
        self.assertIsNone(get_object(self.cert, other["id"]))
        # The same logs again: nothing new to store, nothing new to push.
        self.assertIn("0 sighting versions written", cordon(*match).stderr)
        self.assertEqual([s for s in self.isp_sightings() if s["id"] == sighting["id"]], [sighting])
        self.assertIn("pushed 0 ", self.sync(self.isp))

    def test_2b_push_goes_through_the_agreement_and_is_audited(self):
        ind = dict(indicator(210, marking=GREEN, pattern="[domain-name:value = 'pushed.cert.example']"),
                   created_by_ref=self.cert_id)
        self.publish([ind])
        self.sync(self.isp)
        base = {"spec_version": "2.1", "created_by_ref": self.isp_id, "created": "2026-02-02T00:00:00.000Z",
                "modified": "2026-02-02T00:00:00.000Z"}
        red = dict(base, type="report", id="report--6a1f5bd4-29c6-4a0e-9c0a-000000000210", name="victims",
                   published="2026-02-02T00:00:00.000Z", object_refs=[ind["id"]], object_marking_refs=[RED],
                   description="Alice Dupont clicked")
        amber = dict(base, type="opinion", id="opinion--6a1f5bd4-29c6-4a0e-9c0a-000000000211", opinion="agree",
                     object_refs=[ind["id"]], object_marking_refs=[AMBER])
        green = dict(base, type="note", id="note--6a1f5bd4-29c6-4a0e-9c0a-000000000212", content="call Alice",
                     abstract="ours", object_refs=[ind["id"]], object_marking_refs=[GREEN])
        # An opinion first GREEN, then re-marked RED before the round: neither version leaves.
        remarked_v1 = dict(base, type="opinion", id="opinion--6a1f5bd4-29c6-4a0e-9c0a-000000000213",
                           opinion="disagree", object_refs=[ind["id"]], object_marking_refs=[GREEN])
        remarked_v2 = dict(remarked_v1, modified="2026-02-03T00:00:00.000Z", object_marking_refs=[RED])
        c = self.isp.client()
        self.assertEqual(c.post_objects(COLLECTION, [red, amber, green, remarked_v1, remarked_v2]).status, 202)
        c.close()
        out = self.sync(self.isp)
        self.assertIn("pushed 1 (0 refused), 4 withheld by the agreement", out)
        self.assertIsNone(get_object(self.cert, remarked_v1["id"]))
        self.assertIsNone(get_object(self.cert, red["id"]))
        self.assertIsNone(get_object(self.cert, amber["id"]))
        # The note reached the CERT without its free text (its required content a placeholder, so that it
        # stays a valid note), signed by the ISP over what was sent (the CERT requires the ISP's signature).
        note = get_object(self.cert, green["id"])
        self.assertIsNotNone(note)
        self.assertEqual(note["content"], "[redacted]")
        self.assertNotIn("abstract", note)
        self.assertIn(SIGNATURE_EXTENSION, note.get("extensions", {}))
        # The push is in the ISP's audit trail with the id it sent, and only that one.
        with open(os.path.join(self.isp.data, "audit.log")) as f:
            pushes = [json.loads(l) for l in f if '"action":"sync.push"' in l]
        self.assertEqual([e["actor"] for e in pushes if green["id"] in e["ids"]], ["cert"])
        self.assertFalse([e for e in pushes if red["id"] in e["ids"] or amber["id"] in e["ids"]])

    def test_3_kill_9_during_sync_converges_without_duplicates(self):
        objs = [indicator(10000 + n, marking=GREEN) for n in range(6000)]
        for i in range(0, len(objs), 2000):
            self.publish(objs[i:i + 2000])
        before = set(all_versions(self.foreign))
        db = os.path.join(self.foreign.data, "federation.db")

        def checkpoint():
            with sqlite3.connect(db) as c:
                row = c.execute("SELECT value FROM sync_checkpoint WHERE peer='cert' AND direction='pull'").fetchone()
            return row[0] if row else ""

        interrupted = 0
        for _ in range(2):
            start = checkpoint()
            p = subprocess.Popen([CORDON, "sync", "--data", self.foreign.data, "--once", "--page-size", "200"],
                                 stdout=subprocess.PIPE, stderr=subprocess.PIPE)
            # Killed just after a page was stored and its checkpoint committed.
            wait_until(lambda: p.poll() is not None or checkpoint() != start, timeout=30)
            p.send_signal(signal.SIGKILL)
            interrupted += p.wait() == -signal.SIGKILL
            p.communicate()
        self.assertGreater(interrupted, 0, "no sync was killed mid-way")
        # The killed runs' progress was kept: the last run pulls only the rest.
        last = self.sync(self.foreign)
        pulled = int(last.split("pulled ")[1].split(" ")[0])
        self.assertLess(pulled, len(objs), last)
        after = all_versions(self.foreign)
        self.assertEqual(len(after), len(set(after)), "duplicate versions stored")
        ids = {i for i, _ in after}
        for o in objs:
            self.assertIn(o["id"], ids)
        self.assertEqual(len({i for i, _ in set(after) - before} & {o["id"] for o in objs}), len(objs))

    def test_3b_source_killed_mid_sync_converges_after_restart(self):
        objs = [indicator(20000 + n, marking=GREEN) for n in range(4000)]
        for i in range(0, len(objs), 2000):
            self.publish(objs[i:i + 2000])
        db = os.path.join(self.isp.data, "federation.db")

        def checkpoint():
            with sqlite3.connect(db) as c:
                row = c.execute("SELECT value FROM sync_checkpoint WHERE peer='cert' AND direction='pull'").fetchone()
            return row[0] if row else ""

        start = checkpoint()
        p = subprocess.Popen([CORDON, "sync", "--data", self.isp.data, "--once", "--page-size", "100"],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        wait_until(lambda: p.poll() is not None or checkpoint() != start, timeout=30)
        port = self.cert.port
        self.cert.kill(signal.SIGKILL)  # the CERT dies mid-sync
        out, _ = p.communicate(timeout=60)
        self.assertEqual(p.returncode, 1, out)  # retried with back-off, then reported
        self.assertIn("error: pull", out)
        self.cert.start(tls=True, port=port)
        self.sync(self.isp)
        after = all_versions(self.isp)
        self.assertEqual(len(after), len(set(after)), "duplicate versions stored")
        ids = {i for i, _ in after}
        self.assertTrue(all(o["id"] in ids for o in objs))
        # And the CERT itself lost nothing it had acknowledged.
        self.assertTrue({o["id"] for o in objs} <= {i for i, _ in all_versions(self.cert)})

    def test_4_tampered_object_is_rejected_by_the_partner(self):
        good = dict(indicator(300, marking=GREEN), created_by_ref=self.cert_id)
        bad = dict(indicator(301, marking=GREEN), created_by_ref=self.cert_id)
        with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as f:
            json.dump({"objects": [good, bad]}, f)
        signed = json.loads(cordon("identity", "sign", "--data", self.cert.data, f.name).stdout)["objects"]
        os.unlink(f.name)
        tampered = dict(signed[1], pattern="[ipv4-addr:value = '203.0.113.66']")
        self.publish([signed[0], tampered])
        out = self.sync(self.foreign)
        self.assertIn("1 rejected", out)
        self.assertIsNotNone(get_object(self.foreign, signed[0]["id"]))
        self.assertIsNone(get_object(self.foreign, tampered["id"]))
        # The refusal is kept and readable: newest first, with peer, collection, version and reason.
        r = cordon("sync", "--data", self.foreign.data, "--rejections", "--peer", "cert", "--limit", "1")
        self.assertRegex(r.stdout, rf"^\S+Z cert {COLLECTION} {tampered['id']} {tampered['modified']}: .*signature")
        self.assertEqual(len(r.stdout.splitlines()), 1)
        r = cordon("sync", "--data", self.foreign.data, "--rejections", "--peer", "isp")
        self.assertEqual((r.stdout, r.stderr), ("", "no rejected objects from isp\n"))

    def test_5_background_sync_in_serve(self):
        self.foreign.kill()  # restarted with a sync interval
        try:
            args = [CORDON, "serve", "--data", self.foreign.data, "--listen", "127.0.0.1:0", "--tls-cert",
                    self.foreign.cert, "--tls-key", self.foreign.key, "--sync-interval", "0.2"]
            self.foreign.proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            line = self.foreign.proc.stdout.readline()
            self.foreign.port = int(line.rsplit(":", 1)[1].split("/")[0])
            ind = indicator(400, marking=GREEN)
            t0 = time.time()
            self.publish([ind])
            if not wait_until(lambda: get_object(self.foreign, ind["id"]) is not None, timeout=10):
                self.foreign.proc.kill()
                self.fail("not synced in the background: " + self.foreign.proc.communicate()[1])
            latency = time.time() - t0
            # The 2 s target is measured by bench/sync_bench.py; here only a bound that a loaded CI
            # machine keeps (one 0.2 s interval plus a round).
            self.assertLess(latency, 5.0)
            # SIGTERM stops the sync thread and the server cleanly.
            self.foreign.proc.send_signal(signal.SIGTERM)
            self.assertEqual(self.foreign.proc.wait(timeout=20), 0)
            self.foreign.proc = None
        finally:
            self.foreign.kill()

    def test_7_wrong_ca_or_password_fails_precisely(self):
        pw = os.path.join(self.isp.dir, "bad.pw")
        with open(pw, "w") as f:
            f.write("wrong-pw\n")
        url = f"https://localhost:{self.cert.port}/taxii2/"
        common = ["--url", url, "--remote-user", "isp", "--pull", f"{COLLECTION}={COLLECTION}", "--password-stdin"]
        cordon("peer", "add", "--data", self.isp.data, "badca", "--remote-password-file", pw, "--ca-file",
               self.isp.cert, *common, stdin="x\n")
        r = cordon("sync", "--data", self.isp.data, "--once", "--peer", "badca", check=False)
        self.assertEqual(r.returncode, 1)
        self.assertIn("TLS handshake", r.stdout)
        cordon("peer", "add", "--data", self.isp.data, "badpw", "--remote-password-file", pw, "--ca-file",
               self.cert.cert, *common, stdin="x\n")
        r = cordon("sync", "--data", self.isp.data, "--once", "--peer", "badpw", check=False)
        self.assertEqual(r.returncode, 1)
        self.assertIn("HTTP 401", r.stdout)
        for name in ("badca", "badpw"):
            cordon("peer", "remove", "--data", self.isp.data, name)
        r = cordon("sync", "--data", self.isp.data, "--once", "--peer", "nobody", check=False)
        self.assertEqual(r.returncode, 2)
        self.assertIn("no peer named 'nobody'", r.stderr)

    def test_6_cert_audit_trail_verifies_and_detects_tampering(self):
        self.assertIn("audit log OK", cordon("audit", "verify", "--data", self.cert.data).stdout)
        path = os.path.join(self.cert.data, "audit.log")
        with open(path) as f:
            lines = f.readlines()
        self.assertIn('"actor":"isp"', "".join(lines))
        saved = list(lines)
        lines[0] = lines[0].replace('"actor":"', '"actor":"x', 1)
        with open(path, "w") as f:
            f.writelines(lines)
        try:
            self.assertEqual(cordon("audit", "verify", "--data", self.cert.data, check=False).returncode, 1)
        finally:
            with open(path, "w") as f:
                f.writelines(saved)


if __name__ == "__main__":
    unittest.main()
