"""Acknowledged means durable: kill -9 of the server in the middle of a large load."""
import os
import signal
import sqlite3
import threading
import time
import unittest

from harness import COLLECTION, Node, indicator


class KillNineTest(unittest.TestCase):
    def test_kill_9_loses_nothing_acknowledged(self):
        node = Node().start(tls=True)
        try:
            acknowledged = []
            errors = []
            stop = threading.Event()

            def load(worker):
                c = node.token_client()
                batch_no = 0
                while not stop.is_set():
                    objs = [indicator(worker * 10_000_000 + batch_no * 500 + i) for i in range(500)]
                    try:
                        r = c.post_objects(COLLECTION, objs)
                    except Exception:  # the server died mid-request: not acknowledged
                        break
                    if r.status == 202 and r.json()["success_count"] == len(objs):
                        acknowledged.extend(o["id"] for o in objs)
                    else:
                        errors.append(r.body[:200])
                    batch_no += 1
                c.close()

            threads = [threading.Thread(target=load, args=(w,)) for w in range(3)]
            for t in threads:
                t.start()
            # Let the load run, then kill the server while requests are in flight.
            deadline = time.time() + 30
            while len(acknowledged) < 20_000 and time.time() < deadline:
                time.sleep(0.05)
            node.kill(signal.SIGKILL)
            stop.set()
            for t in threads:
                t.join()
            self.assertEqual(errors, [])
            self.assertGreater(len(acknowledged), 5_000)

            db = sqlite3.connect(os.path.join(node.data, "cordon.db"))
            self.assertEqual(db.execute("PRAGMA integrity_check").fetchone()[0], "ok")
            db.close()

            node.start(tls=True)
            c = node.token_client()
            seen = set()
            nxt = None
            while True:
                q = f"/cordon/collections/{COLLECTION}/manifest/?limit=1000" + (f"&next={nxt}" if nxt else "")
                env = c.get(q).json()
                seen.update(o["id"] for o in env.get("objects", []))
                if not env["more"]:
                    break
                nxt = env["next"]
            c.close()
            missing = set(acknowledged) - seen
            self.assertEqual(len(missing), 0, f"{len(missing)} acknowledged objects lost")
        finally:
            node.close()


if __name__ == "__main__":
    unittest.main()
