"""larder_server.py - starts and stops a real `larder serve` for the Python
tests: a temporary data directory, a free loopback port (--listen
127.0.0.1:0, the bound port read from the server's first line), optional
keys, and a stop by SIGTERM that must exit 0.
"""
import os
import re
import shutil
import signal
import subprocess
import tempfile
import time

# Requests go to the loopback server directly, never through a proxy.
for _v in ("HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy", "ALL_PROXY", "all_proxy"):
    os.environ.pop(_v, None)
os.environ["NO_PROXY"] = os.environ["no_proxy"] = "127.0.0.1,localhost"

ACCESS_KEY = "AKIDLARDERTEST0001"
SECRET_KEY = "larder/test+secret/KEY0000000000000000000"
REGION = "us-east-1"


def larder_bin():
    b = os.environ.get("LARDER_BIN")
    if b:
        return b
    here = os.path.dirname(os.path.abspath(__file__))
    return os.path.join(here, "..", "..", "build", "larder")


class Server:
    """A running `larder serve`. Use as a context manager."""

    def __init__(self, keys=True, args=(), env=None):
        self.dir = tempfile.mkdtemp(prefix="larder-srv-")
        self.data = os.path.join(self.dir, "data")
        self.keys = keys
        e = dict(os.environ)
        for k in ("LARDER_ACCESS_KEY_ID", "LARDER_SECRET_ACCESS_KEY", "AWS_ACCESS_KEY_ID",
                  "AWS_SECRET_ACCESS_KEY", "LARDER_LISTEN", "LARDER_CONFIG"):
            e.pop(k, None)
        if keys:
            e["LARDER_ACCESS_KEY_ID"] = ACCESS_KEY
            e["LARDER_SECRET_ACCESS_KEY"] = SECRET_KEY
        e["LARDER_REGION"] = REGION
        if env:
            e.update(env)
        self.out = open(os.path.join(self.dir, "stdout.log"), "w+")
        self.err = open(os.path.join(self.dir, "stderr.log"), "w+")
        self.proc = subprocess.Popen(
            [larder_bin(), "--data-dir", self.data, "serve", "--listen", "127.0.0.1:0",
             *args], stdout=self.out, stderr=self.err, env=e)
        self.port = None
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            self.out.seek(0)
            m = re.search(r"listening on http://127\.0\.0\.1:(\d+)", self.out.read())
            if m:
                self.port = int(m.group(1))
                break
            if self.proc.poll() is not None:
                break
            time.sleep(0.05)
        if self.port is None:
            self.stop(check=False)
            raise RuntimeError("larder serve did not start: " + self.stderr())
        self.url = "http://127.0.0.1:%d" % self.port

    def stderr(self):
        self.err.seek(0)
        return self.err.read()

    def stop(self, check=True):
        rc = None
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                rc = self.proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
                raise AssertionError("larder serve did not stop on SIGTERM")
        else:
            rc = self.proc.returncode
        if check and rc != 0:
            raise AssertionError("larder serve exited %s: %s" % (rc, self.stderr()))
        return rc

    def cleanup(self):
        self.out.close()
        self.err.close()
        shutil.rmtree(self.dir, ignore_errors=True)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        try:
            self.stop(check=exc[0] is None)
        finally:
            self.cleanup()
