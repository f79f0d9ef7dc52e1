"""Sharing agreements through the real server: a partner sees only what its agreement allows on
every endpoint, TLP:RED never leaves, personal data is redacted, objects claiming a partner that
requires signatures are verified, and every partner request lands in a verifiable audit trail."""
import json
import os
import shutil
import tempfile
import unittest

from harness import COLLECTION, SECRET_COLLECTION, Node, cordon, indicator

CLEAR = "marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487"
GREEN = "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb"
AMBER = "marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421"
RED = "marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1"
BASE = f"/cordon/collections/{COLLECTION}"


def ids_of(env):
    return [o["id"] for o in env.get("objects", [])]


class FederationTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.node = Node()  # the national CERT
        data = cls.node.data
        cls.foreign_dir = tempfile.mkdtemp(prefix="cordon-it-foreign-")
        foreign = os.path.join(cls.foreign_dir, "data")
        cordon("init", "--data", foreign)
        out = cordon("identity", "init", "--data", foreign, "--name", "Foreign CERT", "--sector", "government",
                     "--country", "JP").stdout.split()
        cls.foreign_data, cls.foreign_id, cls.foreign_key = foreign, out[0], out[3]
        cordon("identity", "init", "--data", data, "--name", "National CERT", "--sector", "government",
               "--country", "FR", "--collection", SECRET_COLLECTION)
        cordon("peer", "add", "--data", data, "isp", "--read", COLLECTION, "--tlp", "GREEN",
               "--drop-types", "email-addr,user-account", "--redact-free-text", "--password-stdin",
               stdin="isp-pw\n")
        cordon("peer", "add", "--data", data, "foreign", "--identity", cls.foreign_id, "--public-key",
               cls.foreign_key, "--require-signatures", "--read", COLLECTION, "--write", COLLECTION,
               "--tlp", "AMBER", "--password-stdin", stdin="foreign-pw\n")
        # Content: 25 GREEN, 5 AMBER, 5 RED, 5 unmarked (with free text), personal-data observables.
        objs, cls.level = [], {}
        for n in range(40):
            marking = [GREEN, AMBER, RED, None][0 if n < 25 else 1 + (n - 25) // 5]
            o = indicator(n, marking=marking)
            o["description"] = f"reported by analyst{n}@cert.example"
            objs.append(o)
            cls.level[o["id"]] = {GREEN: "GREEN", AMBER: "AMBER", RED: "RED", None: "NONE"}[marking]
        objs.append({"type": "email-addr", "spec_version": "2.1",
                     "id": "email-addr--2d77a846-6264-5d51-b586-e43822ea1ea3", "value": "victim@example.org"})
        cls.level[objs[-1]["id"]] = "PERSONAL"
        cls.node.start(tls=True)
        admin = cls.node.client()
        r = admin.post_objects(COLLECTION, objs)
        assert r.status == 202 and r.json()["success_count"] == 41, r.body
        admin.close()

    @classmethod
    def tearDownClass(cls):
        cls.node.close()
        shutil.rmtree(cls.foreign_dir, ignore_errors=True)

    def page_all(self, client, endpoint, limit):
        seen, nxt, pages = [], None, 0
        while True:
            r = client.get(f"{BASE}/{endpoint}/?limit={limit}" + (f"&next={nxt}" if nxt else ""))
            self.assertEqual(r.status, 200, r.body)
            env = r.json()
            pages += 1
            if env["more"]:
                self.assertEqual(len(env["objects"]), limit)
            if env.get("objects"):
                self.assertIn("x-taxii-date-added-first", r.headers)
            seen += ids_of(env)
            if not env["more"]:
                return seen, pages
            nxt = env["next"]

    def allowed(self, ceiling, personal=False):
        order = ["NONE", "GREEN", "AMBER"]
        return sorted(i for i, lvl in self.level.items()
                      if (lvl in order and order.index(lvl) <= order.index(ceiling)) or
                      (personal and lvl == "PERSONAL"))

    def test_isp_sees_only_its_agreement_on_every_endpoint(self):
        isp = self.node.client("isp", "isp-pw")
        want = self.allowed("GREEN")  # 25 GREEN + 5 unmarked (counted as CLEAR)
        self.assertEqual(len(want), 30)
        for endpoint in ("objects", "manifest"):
            seen, pages = self.page_all(isp, endpoint, 4)
            self.assertEqual(sorted(seen), want, endpoint)
            self.assertEqual(len(seen), len(set(seen)))
            self.assertEqual(pages, 8)  # ceil(30 / 4): no empty trailing page
        for oid, lvl in self.level.items():
            r1 = isp.get(f"{BASE}/objects/{oid}/")
            r2 = isp.get(f"{BASE}/objects/{oid}/versions/")
            expect = 200 if lvl in ("GREEN", "NONE") else 404
            self.assertEqual((r1.status, r2.status), (expect, expect), (oid, lvl))
            if expect == 404:
                self.assertNotIn(b"RED", r1.body)
        # Filters cannot reach around the agreement.
        env = isp.get(f"{BASE}/objects/?match[type]=email-addr").json()
        self.assertEqual(env, {"more": False})
        # Collections outside the agreement do not exist for it.
        cols = isp.get("/cordon/collections/").json()
        self.assertEqual([c["id"] for c in cols["collections"]], [COLLECTION])
        self.assertEqual(isp.get(f"/cordon/collections/{SECRET_COLLECTION}/objects/").status, 404)
        # Write is not in its agreement.
        self.assertEqual(isp.post_objects(COLLECTION, [indicator(900)]).status, 403)
        isp.close()

    def test_red_never_leaves_even_under_an_amber_agreement(self):
        foreign = self.node.client("foreign", "foreign-pw")
        seen, _ = self.page_all(foreign, "objects", 7)
        # (Other tests may have added signed objects: compare the fixture's.)
        self.assertEqual(sorted(i for i in seen if i in self.level), self.allowed("AMBER", personal=True))
        manifest, _ = self.page_all(foreign, "manifest", 100)
        reds = [i for i, lvl in self.level.items() if lvl == "RED"]
        for rid in reds:
            self.assertNotIn(rid, seen + manifest)
            self.assertEqual(foreign.get(f"{BASE}/objects/{rid}/").status, 404)
            self.assertEqual(foreign.get(f"{BASE}/objects/{rid}/versions/").status, 404)
            self.assertEqual(foreign.request("DELETE", f"{BASE}/objects/{rid}/").status, 403)
        env = foreign.get(f"{BASE}/objects/?match[id]={','.join(reds)}").json()
        self.assertEqual(env, {"more": False})
        admin = self.node.client()  # still there for the node itself
        self.assertEqual(admin.get(f"{BASE}/objects/{reds[0]}/").status, 200)
        admin.close()
        foreign.close()

    def test_personal_data_redacted_for_the_isp_only(self):
        isp = self.node.client("isp", "isp-pw")
        body = isp.get(f"{BASE}/objects/?limit=1000").body
        self.assertNotIn(b"@cert.example", body)
        self.assertNotIn(b"victim@example.org", body)
        for o in json.loads(body)["objects"]:
            self.assertNotIn("description", o)
            self.assertIn("pattern", o)
        foreign = self.node.client("foreign", "foreign-pw")
        self.assertIn(b"@cert.example", foreign.get(f"{BASE}/objects/?limit=1000").body)
        isp.close()
        foreign.close()

    def test_objects_claiming_the_signing_partner_must_verify(self):
        mine = indicator(500)
        mine["created_by_ref"] = self.foreign_id
        with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as f:
            json.dump({"objects": [mine, dict(indicator(501), created_by_ref=self.foreign_id)]}, f)
        signed = json.loads(cordon("identity", "sign", "--data", self.foreign_data, f.name).stdout)["objects"]
        os.unlink(f.name)
        tampered = dict(signed[1], pattern="[ipv4-addr:value = '203.0.113.66']")
        unsigned = dict(indicator(502), created_by_ref=self.foreign_id)
        foreign = self.node.client("foreign", "foreign-pw")
        r = foreign.post_objects(COLLECTION, [signed[0], tampered, unsigned])
        self.assertEqual(r.status, 202, r.body)
        st = r.json()
        self.assertEqual(st["success_count"], 1)
        self.assertEqual([s["id"] for s in st["successes"]], [signed[0]["id"]])
        reasons = {f["id"]: f["message"] for f in st["failures"]}
        self.assertIn("signature does not match", reasons[tampered["id"]])
        self.assertIn("requires signatures", reasons[tampered["id"]])
        self.assertIn("no signature", reasons[unsigned["id"]])
        # The status resource is the poster's own, and the stored object is the signed one.
        self.assertEqual(foreign.get(f"/cordon/status/{st['id']}/").status, 200)
        self.assertEqual(self.node.client("isp", "isp-pw").get(f"/cordon/status/{st['id']}/").status, 404)
        admin = self.node.client()
        self.assertEqual(admin.get(f"{BASE}/objects/{tampered['id']}/").status, 404)
        # Whoever posts it, a tampered object is rejected.
        self.assertEqual(admin.post_objects(COLLECTION, [tampered]).json()["failure_count"], 1)
        admin.close()
        foreign.close()

    def test_audit_trail_records_partner_requests_and_detects_tampering(self):
        isp = self.node.client("isp", "isp-pw")
        green = next(i for i, lvl in self.level.items() if lvl == "GREEN")
        self.assertEqual(isp.get(f"{BASE}/objects/{green}/").status, 200)
        self.assertEqual(isp.get(f"/cordon/collections/{SECRET_COLLECTION}/").status, 404)
        for _ in range(3):
            self.assertEqual(isp.get(f"{BASE}/manifest/?limit=2").status, 200)
        isp.close()
        data = self.node.data
        shown = cordon("audit", "show", "--data", data, "--peer", "isp").stdout
        self.assertIn(f"isp  taxii.get.object", shown)
        self.assertIn(green, shown)
        self.assertIn('"http_status":404', shown)
        self.assertNotIn("admin", shown)
        ok = cordon("audit", "verify", "--data", data)
        self.assertIn("audit log OK", ok.stdout)
        # Altering a copy of the trail: verification fails and says where.
        copy = tempfile.mkdtemp(prefix="cordon-it-audit-")
        try:
            for name in ("audit.log", "audit.head"):
                if os.path.exists(os.path.join(data, name)):
                    shutil.copy(os.path.join(data, name), copy)
            with open(os.path.join(copy, "audit.log")) as f:
                lines = f.readlines()
            self.assertGreater(len(lines), 2)
            lines[1] = lines[1].replace('"actor":"', '"actor":"x', 1)
            with open(os.path.join(copy, "audit.log"), "w") as f:
                f.writelines(lines)
            bad = cordon("audit", "verify", "--data", copy, check=False)
            self.assertEqual(bad.returncode, 1)
            self.assertIn("line 2", bad.stderr)
            # Removing an entry instead.
            del lines[1]
            with open(os.path.join(copy, "audit.log"), "w") as f:
                f.writelines(lines[:1] + lines[2:])
            self.assertEqual(cordon("audit", "verify", "--data", copy, check=False).returncode, 1)
        finally:
            shutil.rmtree(copy, ignore_errors=True)

    def test_peer_commands(self):
        data = self.node.data
        listed = cordon("peer", "list", "--data", data).stdout
        self.assertIn("foreign", listed)
        self.assertIn("isp", listed)
        shown = json.loads(cordon("peer", "show", "--data", data, "foreign").stdout)
        self.assertEqual(shown["identity_id"], self.foreign_id)
        self.assertTrue(shown["require_signatures"])
        bad = cordon("peer", "add", "--data", data, "x", "--tlp", "RED", check=False)
        self.assertEqual(bad.returncode, 2)
        self.assertIn("TLP:RED never leaves", bad.stderr)
        identity = json.loads(cordon("identity", "show", "--data", data).stdout)
        self.assertEqual(identity["type"], "identity")
        self.assertEqual(identity["x_cordon_country"], "FR")


if __name__ == "__main__":
    unittest.main()
