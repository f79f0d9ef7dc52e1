"""TAXII 2.1 API of a real `cordon serve` over HTTPS: every endpoint, filter and error path."""
import json
import os
import socket
import ssl
import threading
import time
import unittest

from harness import (COLLECTION, SECRET_COLLECTION, TAXII, WRITE_ONLY_COLLECTION, Node, cordon, indicator,
                     raise_fd_limit)

VERSIONS_COLLECTION = "7d1c2b3a-4e5f-4a6b-8c7d-9e0f1a2b3c4d"

OBJECTS = f"/cordon/collections/{COLLECTION}/objects/"


class TaxiiApiTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.node = Node(max_content_length=200_000)
        cordon("collection", "add", "--data", cls.node.data, "--id", VERSIONS_COLLECTION, "--title", "Versions")
        cls.node.start(tls=True)
        cls.admin = cls.node.client()

    @classmethod
    def tearDownClass(cls):
        cls.admin.close()
        cls.node.close()

    def assertError(self, r, status):
        self.assertEqual(r.status, status, r.body)
        self.assertTrue(r.headers["content-type"].startswith("application/taxii+json"), r.headers)
        err = r.json()
        self.assertIn("title", err)
        self.assertEqual(err["http_status"], str(status))
        return err

    # --- discovery, API root, collections ---

    def test_discovery_and_api_root(self):
        r = self.admin.get("/taxii2/")
        self.assertEqual(r.status, 200)
        self.assertEqual(r.headers["content-type"], TAXII)
        d = r.json()
        self.assertIn("title", d)
        root_url = f"https://127.0.0.1:{self.node.port}/cordon/"
        self.assertEqual(d["api_roots"], [root_url])
        self.assertEqual(d["default"], root_url)
        r = self.admin.get("/cordon/")
        self.assertEqual(r.status, 200)
        root = r.json()
        self.assertEqual(root["versions"], [TAXII])
        self.assertEqual(root["max_content_length"], 200_000)

    def test_collections_show_only_what_the_user_may_see(self):
        ids = {c["id"]: c for c in self.admin.get("/cordon/collections/").json()["collections"]}
        self.assertEqual(set(ids), {COLLECTION, SECRET_COLLECTION, WRITE_ONLY_COLLECTION, VERSIONS_COLLECTION})
        reader = self.node.client("reader", "reader-pw")
        cols = {c["id"]: c for c in reader.get("/cordon/collections/").json()["collections"]}
        self.assertEqual(set(cols), {COLLECTION, WRITE_ONLY_COLLECTION})
        self.assertTrue(cols[COLLECTION]["can_read"])
        self.assertFalse(cols[COLLECTION]["can_write"])
        self.assertFalse(cols[WRITE_ONLY_COLLECTION]["can_read"])
        self.assertTrue(cols[WRITE_ONLY_COLLECTION]["can_write"])
        self.assertIn("application/stix+json;version=2.1", cols[COLLECTION]["media_types"])
        c = reader.get(f"/cordon/collections/{COLLECTION}/").json()
        self.assertEqual(c["title"], "Shared indicators")
        # A collection the user may not see at all is indistinguishable from a missing one.
        hidden = reader.get(f"/cordon/collections/{SECRET_COLLECTION}/")
        missing = reader.get("/cordon/collections/00000000-0000-4000-8000-000000000000/")
        self.assertError(hidden, 404)
        self.assertError(missing, 404)
        for path in ("objects/", "manifest/", "objects/indicator--00000000-0000-4000-8000-000000000001/"):
            self.assertError(reader.get(f"/cordon/collections/{SECRET_COLLECTION}/{path}"), 404)
        reader.close()

    # --- objects: POST, GET, filters, versions, pagination ---

    def test_post_then_read_back_with_filters_and_versions(self):
        col = VERSIONS_COLLECTION
        base = f"/cordon/collections/{col}"
        v1 = indicator(0x100, created="2026-02-01T00:00:00.000Z")
        v2 = dict(v1, modified="2026-02-02T00:00:00.000Z", name="second")
        v3 = dict(v1, modified="2026-02-03T00:00:00.000Z", name="third")
        other = indicator(0x101, created="2026-02-01T00:00:00.000Z")
        malware = {"type": "malware", "spec_version": "2.1", "id": "malware--0c7b5b88-8ff7-4a4d-aa9d-feb398cd0061",
                   "created": "2026-02-01T00:00:00.000Z", "modified": "2026-02-01T00:00:00.000Z",
                   "name": "x", "is_family": False}
        r = self.admin.request("POST", f"{base}/objects/", body={"objects": [v1, other, malware]})
        self.assertEqual(r.status, 202, r.body)
        status = r.json()
        self.assertEqual(status["status"], "complete")
        self.assertEqual((status["total_count"], status["success_count"], status["failure_count"]), (3, 3, 0))
        self.assertEqual({s["id"] for s in status["successes"]}, {v1["id"], other["id"], malware["id"]})
        # The status resource can be read back.
        st = self.admin.get(f"/cordon/status/{status['id']}/")
        self.assertEqual(st.status, 200)
        self.assertEqual(st.json()["success_count"], 3)
        self.admin.post_objects(col, [v2])
        self.admin.post_objects(col, [v3])

        r = self.admin.get(f"{base}/objects/")
        self.assertEqual(r.status, 200)
        env = r.json()
        self.assertFalse(env["more"])
        got = {o["id"]: o for o in env["objects"]}
        self.assertEqual(len(env["objects"]), 3)  # latest version of each
        self.assertEqual(got[v1["id"]]["modified"], v3["modified"])
        self.assertIn("x-taxii-date-added-first", r.headers)
        self.assertIn("x-taxii-date-added-last", r.headers)

        # The stored bytes are served as they arrived.
        self.assertEqual(got[malware["id"]], malware)

        def ids(query):
            resp = self.admin.get(f"{base}/objects/?{query}")
            self.assertEqual(resp.status, 200, resp.body)
            return [(o["id"], o.get("modified")) for o in resp.json().get("objects", [])]

        self.assertEqual(ids("match[type]=malware"), [(malware["id"], malware["modified"])])
        self.assertEqual(len(ids("match[type]=indicator,malware")), 3)
        self.assertEqual(ids(f"match[id]={other['id']}"), [(other["id"], other["modified"])])
        self.assertEqual(sorted(m for i, m in ids(f"match[id]={v1['id']}&match[version]=all")),
                         [v1["modified"], v2["modified"], v3["modified"]])
        self.assertEqual(ids(f"match[id]={v1['id']}&match[version]=first"), [(v1["id"], v1["modified"])])
        self.assertEqual(ids(f"match[id]={v1['id']}&match[version]={v2['modified']}"), [(v1["id"], v2["modified"])])
        self.assertEqual(len(ids(f"match[id]={v1['id']}&match[version]=first,last")), 2)
        self.assertEqual(len(ids("match[spec_version]=2.1")), 3)
        self.assertEqual(ids("match[spec_version]=2.0"), [])
        # URL-encoded brackets, as HTTP libraries send them.
        self.assertEqual(ids("match%5Btype%5D=malware"), [(malware["id"], malware["modified"])])

        # added_after: only what was added later than the first page's last date_added.
        first = self.admin.get(f"{base}/objects/?match[version]=all&limit=1")
        after = first.headers["x-taxii-date-added-last"]
        rest = self.admin.get(f"{base}/objects/?match[version]=all&added_after={after}").json()["objects"]
        self.assertEqual(len(rest), 4)

        # Object endpoint, versions endpoint, manifest.
        r = self.admin.get(f"{base}/objects/{v1['id']}/")
        self.assertEqual([o["modified"] for o in r.json()["objects"]], [v3["modified"]])
        r = self.admin.get(f"{base}/objects/{v1['id']}/?match[version]=all")
        self.assertEqual(len(r.json()["objects"]), 3)
        r = self.admin.get(f"{base}/objects/{v1['id']}/versions/")
        self.assertEqual(r.status, 200)
        self.assertEqual(sorted(r.json()["versions"]), [v1["modified"], v2["modified"], v3["modified"]])
        r = self.admin.get(f"{base}/manifest/?match[version]=all")
        man = r.json()["objects"]
        self.assertEqual(len(man), 5)
        for m in man:
            self.assertEqual(set(m), {"id", "date_added", "version", "media_type"})
            self.assertEqual(m["media_type"], "application/stix+json;version=2.1")
        self.assertError(self.admin.get(f"{base}/objects/indicator--99999999-0000-4000-8000-000000000000/"), 404)

        # DELETE one version, then the whole object.
        r = self.admin.request("DELETE", f"{base}/objects/{v1['id']}/?match[version]={v3['modified']}")
        self.assertEqual(r.status, 200, r.body)
        r = self.admin.get(f"{base}/objects/{v1['id']}/")
        self.assertEqual([o["modified"] for o in r.json()["objects"]], [v2["modified"]])
        r = self.admin.request("DELETE", f"{base}/objects/{v1['id']}/?match[version]=all")
        self.assertEqual(r.status, 200)
        self.assertError(self.admin.get(f"{base}/objects/{v1['id']}/"), 404)
        self.assertError(self.admin.request("DELETE", f"{base}/objects/{v1['id']}/"), 404)

    def test_repost_is_idempotent_and_conflicts_are_reported(self):
        obj = indicator(0x200)
        first = self.admin.post_objects(COLLECTION, [obj]).json()
        again = self.admin.post_objects(COLLECTION, [obj]).json()
        self.assertEqual((first["success_count"], again["success_count"]), (1, 1))
        r = self.admin.get(f"{OBJECTS}?match[id]={obj['id']}&match[version]=all")
        self.assertEqual(len(r.json()["objects"]), 1)
        changed = dict(obj, name="same id and modified, different content")
        st = self.admin.post_objects(COLLECTION, [changed]).json()
        self.assertEqual(st["failure_count"], 1)
        self.assertIn("already stored", st["failures"][0]["message"])

    def test_pagination_walks_everything_once(self):
        col = WRITE_ONLY_COLLECTION  # admin can read it
        objs = [indicator(0x1000 + i) for i in range(250)]
        st = self.admin.post_objects(col, objs).json()
        self.assertEqual(st["success_count"], 250)
        seen, nxt, pages = [], None, 0
        while True:
            q = f"/cordon/collections/{col}/objects/?limit=40" + (f"&next={nxt}" if nxt else "")
            env = self.admin.get(q).json()
            pages += 1
            seen += [o["id"] for o in env.get("objects", [])]
            if not env["more"]:
                self.assertNotIn("next", env)
                break
            nxt = env["next"]
        self.assertGreaterEqual(pages, 7)
        self.assertEqual(len(seen), len(set(seen)), "an object was served twice")
        self.assertTrue({o["id"] for o in objs} <= set(seen))
        # Manifest paginates the same way.
        env = self.admin.get(f"/cordon/collections/{col}/manifest/?limit=100").json()
        self.assertTrue(env["more"])
        self.assertEqual(len(env["objects"]), 100)

    def test_pagination_stays_correct_while_objects_are_added(self):
        col = SECRET_COLLECTION
        initial = [indicator(0x5000 + i, created="2026-03-01T00:00:00.000Z") for i in range(300)]
        self.admin.post_objects(col, initial)
        stop = threading.Event()
        writer_errors = []

        def writer():
            w = self.node.client()
            n = 0
            while not stop.is_set() and n < 60:
                r = w.post_objects(col, [indicator(0x9000 + n * 10 + k, created="2026-03-02T00:00:00.000Z")
                                         for k in range(10)])
                if r.status != 202:
                    writer_errors.append(r.body)
                n += 1
            w.close()

        t = threading.Thread(target=writer)
        t.start()
        seen, nxt = [], None
        reader = self.node.client()
        while True:
            q = f"/cordon/collections/{col}/objects/?limit=25&match[type]=indicator" + (f"&next={nxt}" if nxt else "")
            env = reader.get(q).json()
            seen += [o["id"] for o in env.get("objects", [])]
            if not env["more"]:
                break
            nxt = env["next"]
        stop.set()
        t.join()
        reader.close()
        self.assertEqual(writer_errors, [])
        self.assertEqual(len(seen), len(set(seen)), "an object was served twice")
        self.assertTrue({o["id"] for o in initial} <= set(seen), "an object present from the start was skipped")

    # --- errors ---

    def test_bad_json_invalid_stix_and_no_partial_write(self):
        r = self.admin.request("POST", OBJECTS, body='{"objects": [ {"type": "indicator", ')
        err = self.assertError(r, 400)
        self.assertIn("JSON", err["description"].upper())
        r = self.admin.request("POST", OBJECTS, body='{"objects": {"not": "a list"}}')
        self.assertError(r, 400)
        bad = indicator(0x300)
        bad["pattern"] = "[ipv4-addr:value = '1.2.3.4'"
        bad2 = indicator(0x301)
        del bad2["created"]
        good = indicator(0x302)
        st = self.admin.post_objects(COLLECTION, [bad, bad2, good])
        self.assertEqual(st.status, 202)
        st = st.json()
        self.assertEqual((st["success_count"], st["failure_count"]), (1, 2))
        failures = {f["id"]: f["message"] for f in st["failures"]}
        self.assertIn("pattern", failures[bad["id"]])
        self.assertIn("column", failures[bad["id"]])
        self.assertIn("created", failures[bad2["id"]])
        for o in (bad, bad2):
            self.assertError(self.admin.get(f"{OBJECTS}{o['id']}/"), 404)
        self.assertEqual(self.admin.get(f"{OBJECTS}{good['id']}/").status, 200)

    def test_repeated_member_names_are_refused_per_object(self):
        # Python's json keeps the last "pattern", cordon's parser the first: such
        # an object must not be stored, or partners would read another indicator.
        dup = indicator(0x310)
        dup_text = json.dumps(dup)
        dup_text = dup_text[:-1] + ', "pattern": "[domain-name:value = \'other.example\']"}'
        good = indicator(0x311)
        body = '{"objects": [' + dup_text + ", " + json.dumps(good) + "]}"
        st = self.admin.request("POST", OBJECTS, body=body)
        self.assertEqual(st.status, 202)
        st = st.json()
        self.assertEqual((st["success_count"], st["failure_count"]), (1, 1))
        self.assertEqual(st["failures"][0]["id"], dup["id"])
        self.assertIn("pattern: appears more than once", st["failures"][0]["message"])
        self.assertError(self.admin.get(f"{OBJECTS}{dup['id']}/"), 404)
        self.assertEqual(self.admin.get(f"{OBJECTS}{good['id']}/").status, 200)

    def test_media_types(self):
        r = self.admin.get("/taxii2/", accept="application/xml")
        self.assertError(r, 406)
        r = self.admin.get("/taxii2/", accept="application/taxii+json;version=2.0")
        self.assertError(r, 406)
        self.assertEqual(self.admin.get("/taxii2/", accept="application/taxii+json").status, 200)
        self.assertEqual(self.admin.get("/taxii2/", accept="*/*").status, 200)
        r = self.admin.request("POST", OBJECTS, body={"objects": [indicator(0x400)]}, content_type="application/json")
        self.assertError(r, 415)
        self.assertError(self.admin.get(f"{OBJECTS}{indicator(0x400)['id']}/"), 404)

    def test_oversized_body_is_413(self):
        objs = [indicator(0x6000 + i) for i in range(1000)]  # ~250 KB > 200,000
        r = self.admin.post_objects(COLLECTION, objs)
        self.assertError(r, 413)
        self.assertError(self.admin.get(f"{OBJECTS}{objs[0]['id']}/"), 404)

    def test_authentication(self):
        for user, pw in (("admin", "wrong"), ("nobody", "admin-pw")):
            c = self.node.client(user, pw)
            r = c.get("/taxii2/")
            self.assertError(r, 401)
            self.assertIn("www-authenticate", r.headers)
            c.close()
        c = self.node.client()
        c.auth = None
        self.assertError(c.get(f"{OBJECTS}"), 401)
        c.auth = "Bearer cordon_not-a-token"
        self.assertError(c.get(f"{OBJECTS}"), 401)
        c.close()
        t = self.node.token_client()
        self.assertEqual(t.get(OBJECTS).status, 200)
        t.close()

    def test_permissions(self):
        reader = self.node.client("reader", "reader-pw")
        # Read-only collection: reading works, writing is forbidden.
        self.assertEqual(reader.get(OBJECTS).status, 200)
        self.assertError(reader.post_objects(COLLECTION, [indicator(0x700)]), 403)
        self.assertError(reader.request("DELETE", f"{OBJECTS}{indicator(0x700)['id']}/"), 403)
        # Write-only collection: writing works, reading is forbidden.
        wo = f"/cordon/collections/{WRITE_ONLY_COLLECTION}"
        st = reader.post_objects(WRITE_ONLY_COLLECTION, [indicator(0x701)])
        self.assertEqual(st.status, 202)
        for path in ("/objects/", "/manifest/", f"/objects/{indicator(0x701)['id']}/",
                     f"/objects/{indicator(0x701)['id']}/versions/"):
            self.assertError(reader.get(wo + path), 403)
        # Another user's status resource is not visible.
        self.assertError(self.admin.get(f"/cordon/status/{st.json()['id']}/"), 404)
        self.assertEqual(reader.get(f"/cordon/status/{st.json()['id']}/").status, 200)
        reader.close()

    def test_unknown_paths_and_methods(self):
        self.assertError(self.admin.get("/nope/"), 404)
        self.assertError(self.admin.get("/cordon/collections/x/y/z/w/v/u/"), 404)
        r = self.admin.request("PUT", OBJECTS, body="{}")
        self.assertError(r, 405)
        self.assertIn("allow", r.headers)
        self.assertError(self.admin.get(f"{OBJECTS}?added_after=yesterday"), 400)
        self.assertError(self.admin.get(f"{OBJECTS}?limit=-3"), 400)
        self.assertError(self.admin.get(f"{OBJECTS}?match[version]=newest"), 400)
        self.assertError(self.admin.get(f"{OBJECTS}?match[colour]=red"), 400)
        # A parameter that is not UTF-8 is quoted as U+FFFD: the error stays JSON (it was not).
        err = self.assertError(self.admin.get(f"{OBJECTS}?match[version]=%FFx"), 400)
        self.assertIn("'\ufffdx'", err["description"])

    def tls_socket(self, version):
        ctx = ssl.create_default_context(cafile=self.node.cert)
        ctx.minimum_version = ctx.maximum_version = version
        raw = socket.create_connection(("127.0.0.1", self.node.port), timeout=30)
        return ctx.wrap_socket(raw, server_hostname="127.0.0.1")

    @staticmethod
    def read_until_closed(s):
        data = b""
        while chunk := s.recv(65536):
            data += chunk
        return data

    def test_tls_12_and_13_with_pipelined_requests_and_multi_record_bodies(self):
        # The server's own TLS stream: both protocol versions; two requests in
        # one TLS record (the second must wait in the buffer, not be lost); a
        # request body and a response of many records each.
        objects = [indicator(0x7e0000 + i) for i in range(300)]  # ~120 KB: eight records
        body = json.dumps({"objects": objects}).encode()
        self.assertGreater(len(body), 5 * 16384)
        for version in (ssl.TLSVersion.TLSv1_2, ssl.TLSVersion.TLSv1_3):
            with self.tls_socket(version) as s:
                self.assertEqual(s.version(), "TLSv1.2" if version == ssl.TLSVersion.TLSv1_2 else "TLSv1.3")
                auth = self.admin.auth
                post = (f"POST {OBJECTS} HTTP/1.1\r\nHost: x\r\nAuthorization: {auth}\r\nAccept: {TAXII}\r\n"
                        f"Content-Type: {TAXII}\r\nContent-Length: {len(body)}\r\n\r\n").encode() + body
                s.sendall(post)
                get = (f"GET {OBJECTS}?limit=300&match[id]=" + ",".join(o["id"] for o in objects) +
                       f" HTTP/1.1\r\nHost: x\r\nAuthorization: {auth}\r\nAccept: {TAXII}\r\n")
                # Pipelined: this request and the closing one leave in one record.
                s.sendall((get + "\r\n" + get + "Connection: close\r\n\r\n").encode())
                responses = self.read_until_closed(s).split(b"HTTP/1.1 ")[1:]
            self.assertEqual(len(responses), 3, [r[:80] for r in responses])
            self.assertTrue(responses[0].startswith(b"202"), responses[0][:200])
            status = json.loads(responses[0].split(b"\r\n\r\n", 1)[1])
            self.assertEqual(status["failure_count"], 0, status)
            for r in responses[1:]:
                self.assertTrue(r.startswith(b"200"), r[:200])
                head, payload = r.split(b"\r\n\r\n", 1)
                self.assertGreater(len(payload), 3 * 16384)
                self.assertEqual({o["id"] for o in json.loads(payload)["objects"]}, {o["id"] for o in objects})

    def test_broken_handshakes_leave_the_server_serving(self):
        # Garbage instead of a ClientHello, a ClientHello cut short, and a
        # client that leaves after the handshake without a close_notify.
        with socket.create_connection(("127.0.0.1", self.node.port), timeout=10) as s:
            s.sendall(b"\x16\x03\x01\x02\x00" + os.urandom(512))
            self.assertEqual(self.read_until_closed(s)[:1], b"\x15")  # an alert, then the close
        with socket.create_connection(("127.0.0.1", self.node.port), timeout=10) as s:
            s.sendall(b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03")
        with self.tls_socket(ssl.TLSVersion.TLSv1_3) as s:
            s.do_handshake()
            s.sendall(b"GET /taxii2/ HTT")
        self.assertEqual(self.admin.get("/taxii2/").status, 200)
        fresh = self.node.token_client()
        self.assertEqual(fresh.get(OBJECTS + "?limit=1").status, 200)
        fresh.close()

    def test_plain_http_is_refused_on_the_tls_port(self):
        with socket.create_connection(("127.0.0.1", self.node.port), timeout=10) as s:
            s.sendall(b"GET /taxii2/ HTTP/1.1\r\nHost: x\r\n\r\n")
            data = s.recv(100)
        self.assertFalse(data.startswith(b"HTTP/1.1 200"))


class FailedLoginThrottleTest(unittest.TestCase):
    BURST = 10  # Authenticator::kFailedLoginBurst
    REFILL_SECONDS = 6  # Authenticator::kFailedLoginRefillSeconds

    def test_failed_basic_logins_are_throttled_per_address(self):
        node = Node().start(tls=False)
        try:
            token = node.token_client()
            admin = node.client()
            self.assertEqual(admin.get("/taxii2/").status, 200)  # verified once, then cached
            # The burst: each wrong password (or unknown user) is checked and answered 401.
            for i in range(self.BURST):
                c = node.client("admin" if i % 2 else "nobody", f"wrong-{i}")
                r = c.get("/taxii2/")
                self.assertEqual(r.status, 401, r.body)
                c.close()
            # Beyond it: 429 with Retry-After, before any password check; even a right password.
            for user, password in (("admin", "wrong-again"), ("reader", "reader-pw")):
                c = node.client(user, password)
                r = c.get("/taxii2/")
                self.assertEqual(r.status, 429, r.body)
                self.assertEqual(r.json()["http_status"], "429")
                self.assertIn("too many failed logins", r.json()["description"])
                self.assertLessEqual(int(r.headers["retry-after"]), self.REFILL_SECONDS)
                c.close()
            # Credentials verified before, and bearer tokens, keep working.
            self.assertEqual(admin.get("/taxii2/").status, 200)
            self.assertEqual(token.get("/taxii2/").status, 200)
            # The bucket refills: one attempt is allowed again after the refill period.
            time.sleep(self.REFILL_SECONDS + 0.5)
            reader = node.client("reader", "reader-pw")
            self.assertEqual(reader.get("/taxii2/").status, 200)
            for c in (reader, admin, token):
                c.close()
        finally:
            node.close()


class AccessLogTest(unittest.TestCase):
    def test_every_request_is_logged_with_its_user_and_status(self):
        node = Node()
        log = os.path.join(node.dir, "access.log")
        node.start(tls=False, extra_args=["--access-log", log])
        try:
            token = node.token_client()
            self.assertEqual(token.get(f"{OBJECTS}?limit=1&match[type]=indicator").status, 200)
            wrong = node.client("admin", "not-the-password")
            self.assertEqual(wrong.get("/taxii2/").status, 401)
            self.assertEqual(token.get("/cordon/collections/no-such-collection/").status, 404)
            for c in (token, wrong):
                c.close()
        finally:
            node.kill()
            with open(log) as f:
                lines = [json.loads(line) for line in f]
            node.close()
        self.assertEqual([(r["method"], r["status"], r["user"]) for r in lines],
                         [("GET", 200, "admin"), ("GET", 401, ""), ("GET", 404, "admin")])
        first = lines[0]
        self.assertEqual(first["target"], f"{OBJECTS}?limit=1&match[type]=indicator")
        self.assertEqual(first["remote"], "127.0.0.1")
        self.assertGreater(first["bytes"], 0)
        self.assertGreaterEqual(first["ms"], 0)
        self.assertRegex(first["time"], r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")


class PlainHttpAndConnectionsTest(unittest.TestCase):
    def test_insecure_http_and_1000_keepalive_connections(self):
        raise_fd_limit()
        node = Node().start(tls=False)
        try:
            c = node.token_client()
            self.assertEqual(c.get("/taxii2/").status, 200)
            c.close()
            socks = []
            request = (f"GET /cordon/collections/{COLLECTION}/ HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                       f"Authorization: Bearer {node.token}\r\nAccept: {TAXII}\r\n\r\n").encode()

            def read_response(s):
                buf = b""
                while b"\r\n\r\n" not in buf:
                    chunk = s.recv(65536)
                    if not chunk:
                        raise AssertionError("connection closed")
                    buf += chunk
                head, body = buf.split(b"\r\n\r\n", 1)
                length = int([l for l in head.split(b"\r\n") if l.lower().startswith(b"content-length")][0]
                             .split(b":")[1])
                while len(body) < length:
                    body += s.recv(65536)
                return head.split(b"\r\n")[0]

            for _ in range(1000):
                s = socket.create_connection(("127.0.0.1", node.port), timeout=30)
                socks.append(s)
            # All 1000 connections are open at once; each is served twice on the same socket.
            for round_ in range(2):
                for s in socks:
                    s.sendall(request)
                for s in socks:
                    self.assertEqual(read_response(s), b"HTTP/1.1 200 OK")
            for s in socks:
                s.close()
        finally:
            node.close()


if __name__ == "__main__":
    unittest.main()
