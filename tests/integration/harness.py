"""Test harness: a real `cordon serve` on a loopback port, and a small TAXII client.

Uses only the Python standard library, so the client is independent of cordon's code.
"""
import base64
import http.client
import json
import os
import resource
import shutil
import signal
import ssl
import subprocess
import tempfile
import time

CORDON = os.environ.get("CORDON_BIN", os.path.join(os.path.dirname(__file__), "../../build/cordon"))
SHARED = os.environ.get("CORDON_SHARED_DATA", os.path.join(os.path.dirname(__file__), "../../../shared/data"))
SOURCE = os.environ.get("CORDON_SOURCE", os.path.join(os.path.dirname(__file__), "../.."))

TAXII = "application/taxii+json;version=2.1"
COLLECTION = "91a7b528-80eb-42ed-a74d-c6fbd5a26116"
SECRET_COLLECTION = "52892447-4d7e-4f70-b94d-d7f22742ff63"
WRITE_ONLY_COLLECTION = "3a3b5c6d-7e8f-4a0b-9c1d-2e3f4a5b6c7d"


def raise_fd_limit():
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


def cordon(*args, stdin=None, check=True):
    """Runs the cordon CLI; returns CompletedProcess (text)."""
    p = subprocess.run([CORDON, *args], input=stdin, capture_output=True, text=True, timeout=300)
    if check and p.returncode != 0:
        raise AssertionError(f"cordon {' '.join(args)} failed ({p.returncode}):\n{p.stdout}\n{p.stderr}")
    return p


def make_cert(directory):
    cert, key = os.path.join(directory, "cert.pem"), os.path.join(directory, "key.pem")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
                    "-subj", "/CN=localhost", "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1",
                    "-keyout", key, "-out", cert], check=True, capture_output=True)
    return cert, key


class Node:
    """A data directory with collections and users, and optionally a running server."""

    def __init__(self, max_content_length=None):
        self.dir = tempfile.mkdtemp(prefix="cordon-it-")
        self.data = os.path.join(self.dir, "data")
        args = ["init", "--data", self.data]
        if max_content_length:
            args += ["--max-content-length", str(max_content_length)]
        cordon(*args)
        cordon("collection", "add", "--data", self.data, "--id", COLLECTION, "--title", "Shared indicators",
               "--description", "what partners may read")
        cordon("collection", "add", "--data", self.data, "--id", SECRET_COLLECTION, "--title", "Internal")
        cordon("collection", "add", "--data", self.data, "--id", WRITE_ONLY_COLLECTION, "--title", "Drop box")
        cordon("user", "add", "--data", self.data, "admin", "--password-stdin", "--read", "*", "--write", "*",
               stdin="admin-pw\n")
        cordon("user", "add", "--data", self.data, "reader", "--password-stdin", "--read",
               f"{COLLECTION}", "--write", WRITE_ONLY_COLLECTION, stdin="reader-pw\n")
        self.token = cordon("token", "add", "--data", self.data, "admin", "--label", "tests").stdout.strip()
        self.proc = None
        self.tls = True
        self.cert = self.key = None

    def start(self, tls=True, port=0, extra_args=()):
        self.tls = tls
        args = [CORDON, "serve", "--data", self.data, "--listen", f"127.0.0.1:{port}", *extra_args]
        if tls:
            if not self.cert:
                self.cert, self.key = make_cert(self.dir)
            args += ["--tls-cert", self.cert, "--tls-key", self.key]
        else:
            args += ["--insecure-http"]
        self.proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                     preexec_fn=raise_fd_limit)
        line = self.proc.stdout.readline()
        if "serving" not in line:
            raise AssertionError(f"server did not start: {line}{self.proc.stderr.read()}")
        # "cordon serving TAXII 2.1 on https://127.0.0.1:PORT/taxii2/"
        self.port = int(line.rsplit(":", 1)[1].split("/")[0])
        return self

    def kill(self, sig=signal.SIGTERM):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(sig)
            self.proc.wait(timeout=30)
        if self.proc:
            self.proc.stdout.close()
            self.proc.stderr.close()
        self.proc = None

    def close(self):
        self.kill()
        shutil.rmtree(self.dir, ignore_errors=True)

    def connection(self):
        if self.tls:
            ctx = ssl.create_default_context(cafile=self.cert)
            return http.client.HTTPSConnection("127.0.0.1", self.port, context=ctx, timeout=60)
        return http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)

    def client(self, user="admin", password="admin-pw"):
        return Client(self, basic=(user, password))

    def token_client(self):
        return Client(self, bearer=self.token)


class Response:
    def __init__(self, status, headers, body):
        self.status, self.headers, self.body = status, headers, body

    def json(self):
        return json.loads(self.body)


class Client:
    def __init__(self, node, basic=None, bearer=None):
        self.node = node
        self.conn = node.connection()
        if basic:
            self.auth = "Basic " + base64.b64encode(f"{basic[0]}:{basic[1]}".encode()).decode()
        elif bearer:
            self.auth = "Bearer " + bearer
        else:
            self.auth = None

    def request(self, method, path, body=None, headers=None, accept=TAXII, content_type=TAXII):
        h = {}
        if accept is not None:
            h["Accept"] = accept
        if self.auth:
            h["Authorization"] = self.auth
        if body is not None:
            if not isinstance(body, (bytes, str)):
                body = json.dumps(body)
            if content_type is not None:
                h["Content-Type"] = content_type
        h.update(headers or {})
        for attempt in range(2):
            try:
                self.conn.request(method, path, body=body, headers=h)
                r = self.conn.getresponse()
                return Response(r.status, {k.lower(): v for k, v in r.getheaders()}, r.read())
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
                self.conn.close()
                self.conn = self.node.connection()
                if attempt:
                    raise

    def get(self, path, **kw):
        return self.request("GET", path, **kw)

    def post_objects(self, collection, objects, api_root="cordon"):
        return self.request("POST", f"/{api_root}/collections/{collection}/objects/", body={"objects": objects})

    def close(self):
        self.conn.close()


def indicator(n, modified=None, pattern=None, created="2026-01-01T00:00:00.000Z", marking=None):
    """A valid STIX 2.1 indicator with a deterministic id derived from n."""
    obj = {
        "type": "indicator", "spec_version": "2.1",
        "id": f"indicator--{n:08x}-0000-4000-8000-000000000000",
        "created": created, "modified": modified or created,
        "pattern": pattern or f"[ipv4-addr:value = '198.51.{(n >> 8) & 255}.{n & 255}']",
        "pattern_type": "stix", "valid_from": created,
    }
    if marking:
        obj["object_marking_refs"] = [marking]
    return obj


def read_shared(relative):
    path = os.path.join(SHARED, relative)
    if path.endswith(".zst"):
        return subprocess.run(["zstd", "-dc", path], check=True, capture_output=True).stdout
    with open(path, "rb") as f:
        return f.read()


def wait_until(predicate, timeout=10.0):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return False
