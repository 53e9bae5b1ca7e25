"""test_server_rawsock.py - `larder serve` under hostile or broken HTTP
clients, over raw sockets: garbage, oversized headers and bodies, chunked
bodies, pipelining, keep-alive, slow clients, connections closed mid-request,
the connection cap, and 10,000 connections opened and dropped. After each,
the server must still answer a normal request.
"""
import json
import os
import resource
import select
import socket
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import larder_server  # noqa: E402

SRV = None
FG = {"FeatureGroupName": "raw", "RecordIdentifierFeatureName": "id",
      "EventTimeFeatureName": "t",
      "FeatureDefinitions": [{"FeatureName": "id", "FeatureType": "String"},
                             {"FeatureName": "t", "FeatureType": "String"},
                             {"FeatureName": "v", "FeatureType": "String"}],
      "OnlineStoreConfig": {"EnableOnlineStore": True}}


def record(rid, v="x"):
    return {"Record": [{"FeatureName": "id", "ValueAsString": rid},
                       {"FeatureName": "t", "ValueAsString": "2026-01-01T00:00:00Z"},
                       {"FeatureName": "v", "ValueAsString": v}]}


def setUpModule():
    global SRV
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    SRV = larder_server.Server(keys=False, args=("--request-timeout", "1500",
                                                 "--max-header-bytes", "65536",
                                                 "--max-body-bytes", "1048576",
                                                 "--max-connections", "20000"))
    st, _ = request(b"POST / HTTP/1.1\r\nHost: x\r\nX-Amz-Target: SageMaker.CreateFeatureGroup\r\n"
                    b"Content-Type: application/x-amz-json-1.1\r\n", json.dumps(FG).encode())
    assert st == 200, st
    st, _ = request(b"PUT /FeatureGroup/raw HTTP/1.1\r\nHost: x\r\n",
                    json.dumps(record("r1")).encode())
    assert st == 200, st


def tearDownModule():
    SRV.stop()
    SRV.cleanup()


def connect():
    s = socket.create_connection(("127.0.0.1", SRV.port), timeout=30)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return s


def read_response(s, buf=b""):
    """Reads one response; returns (status, body, rest) or (None, b'', b'') on close."""
    while b"\r\n\r\n" not in buf:
        chunk = s.recv(65536)
        if not chunk:
            return None, b"", b""
        buf += chunk
    head, rest = buf.split(b"\r\n\r\n", 1)
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    length = 0
    for line in lines[1:]:
        k, _, v = line.partition(":")
        if k.strip().lower() == "content-length":
            length = int(v.strip())
    while len(rest) < length:
        chunk = s.recv(65536)
        if not chunk:
            break
        rest += chunk
    return status, rest[:length], rest[length:]


def request(head, body=b""):
    s = connect()
    try:
        if body:
            head += b"Content-Length: %d\r\n" % len(body)
        s.sendall(head + b"\r\n" + body)
        st, b, _ = read_response(s)
        return st, b
    finally:
        s.close()


def get_ok():
    st, body = request(b"GET /FeatureGroup/raw?RecordIdentifierValueAsString=r1 HTTP/1.1\r\n"
                       b"Host: x\r\n")
    return st == 200 and b'"r1"' in body


def metric(name):
    st, body = request(b"GET /metrics HTTP/1.1\r\nHost: x\r\n")
    for line in body.decode().splitlines():
        if line.startswith(name + " "):
            return float(line.split()[1])
    return None


class RawSocket(unittest.TestCase):
    def tearDown(self):
        self.assertTrue(get_ok(), "the server stopped answering")

    def test_keepalive_and_pipelining(self):
        s = connect()
        one = b"GET /FeatureGroup/raw?RecordIdentifierValueAsString=r1 HTTP/1.1\r\nHost: x\r\n\r\n"
        put = (b"PUT /FeatureGroup/raw HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n"
               % len(json.dumps(record("p1")))) + json.dumps(record("p1")).encode()
        get_p1 = b"GET /FeatureGroup/raw?RecordIdentifierValueAsString=p1 HTTP/1.1\r\nHost: x\r\n\r\n"
        s.sendall(one + one + put + get_p1 + b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        rest = b""
        got = []
        for _ in range(5):
            st, body, rest = read_response(s, rest)
            got.append((st, body))
        self.assertEqual([g[0] for g in got], [200] * 5)
        self.assertIn(b'"r1"', got[0][1])
        self.assertEqual(got[2][1], b"")
        self.assertIn(b'"p1"', got[3][1])  # the put was applied before the next get
        self.assertEqual(got[4][1], b'{"status":"ok"}')
        # the connection stays usable
        s.sendall(one)
        st, _, _ = read_response(s)
        self.assertEqual(st, 200)
        s.close()

    def test_http10_closes(self):
        s = connect()
        s.sendall(b"GET /healthz HTTP/1.0\r\n\r\n")
        st, _, _ = read_response(s)
        self.assertEqual(st, 200)
        self.assertEqual(s.recv(10), b"")
        s.close()

    def test_chunked_body(self):
        body = json.dumps(record("chunked", "c" * 5000)).encode()
        chunks = b"".join(b"%x\r\n%s\r\n" % (len(body[i:i + 777]), body[i:i + 777])
                          for i in range(0, len(body), 777))
        s = connect()
        s.sendall(b"PUT /FeatureGroup/raw HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
                  + chunks + b"0\r\n\r\n")
        st, _, _ = read_response(s)
        self.assertEqual(st, 200)
        s.sendall(b"GET /FeatureGroup/raw?RecordIdentifierValueAsString=chunked HTTP/1.1\r\n"
                  b"Host: x\r\n\r\n")
        st, out, _ = read_response(s)
        self.assertEqual(st, 200)
        self.assertIn(b"c" * 5000, out)
        s.close()

    def test_garbage(self):
        for junk in (b"\x00\x01\x02garbage\r\n\r\n", b"GET\r\n\r\n", b"HELLO / HTTP/1.1\r\n\r\n",
                     b"GET / HTTP/9.9\r\n\r\n", os.urandom(4096),
                     b"GET /x HTTP/1.1\r\nContent-Length: abc\r\n\r\n",
                     b"POST /BatchGetRecord HTTP/1.1\r\nContent-Length: 5\r\n\r\n{{{{{"):
            s = connect()
            s.sendall(junk)
            st, body, _ = read_response(s)
            self.assertIn(st, (None, 400, 404, 405), junk[:40])
            if st is not None:
                self.assertTrue(json.loads(body)["__type"])
            s.close()

    def test_oversized_header(self):
        s = connect()
        s.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 70000 + b"\r\n\r\n")
        st, body, _ = read_response(s)
        self.assertEqual(st, 431)
        self.assertEqual(json.loads(body)["__type"], "ValidationError")
        s.close()
        # an over-long query (a huge record identifier) too, never a dropped connection
        st, body = request(b"GET /FeatureGroup/raw?RecordIdentifierValueAsString=" + b"a" * 80000
                           + b" HTTP/1.1\r\nHost: x\r\n")
        self.assertEqual(st, 431)
        # many headers
        st, _ = request(b"GET /healthz HTTP/1.1\r\n" + b"".join(b"X-H%d: v\r\n" % i for i in range(150)))
        self.assertEqual(st, 431)

    def test_oversized_body(self):
        s = connect()
        s.sendall(b"PUT /FeatureGroup/raw HTTP/1.1\r\nHost: x\r\nContent-Length: 104857600\r\n\r\n"
                  + b"x" * 10000)
        st, body, _ = read_response(s)
        self.assertEqual(st, 413)
        self.assertIn(b"1048576", body)
        s.close()
        # chunked past the limit
        s = connect()
        s.sendall(b"PUT /FeatureGroup/raw HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n")
        status = None
        try:
            for _ in range(40):
                s.sendall(b"10000\r\n" + b"y" * 65536 + b"\r\n")
                r, _, _ = select.select([s], [], [], 0)
                if r:
                    break
            status, _, _ = read_response(s)
        except (BrokenPipeError, ConnectionResetError):
            pass
        self.assertIn(status, (413, None))
        s.close()

    def test_closed_mid_request(self):
        for part in (b"GET /FeatureGroup/raw?Record", b"PUT /FeatureGroup/raw HTTP/1.1\r\nHost: x\r\n"
                     b"Content-Length: 500\r\n\r\n{\"Record\":"):
            for _ in range(50):
                s = connect()
                s.sendall(part)
                s.close()
        # and with a reset instead of a FIN
        s = connect()
        s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
        s.sendall(b"PUT /FeatureGroup/raw HTTP/1.1\r\nContent-Length: 100\r\n\r\n{")
        s.close()

    def test_slow_clients(self):
        # 200 clients that send half a request head and stall do not block others
        slow = []
        for _ in range(200):
            s = connect()
            s.sendall(b"GET /FeatureGroup/raw?RecordIdentifierValueAsString=r1 HTTP/1.1\r\nHo")
            slow.append(s)
        self.assertTrue(get_ok())
        # each is answered with 408 (or closed) once the request timeout passes
        deadline = time.monotonic() + 30
        answered = 0
        for s in slow:
            s.settimeout(max(0.1, deadline - time.monotonic()))
            try:
                st, _, _ = read_response(s)
            except socket.timeout:
                st = "timeout"
            self.assertIn(st, (408, None))
            answered += 1
            s.close()
        self.assertEqual(answered, 200)

    def test_connection_cap(self):
        srv = larder_server.Server(keys=False, args=("--max-connections", "4", "--threads", "1"))
        try:
            held = [socket.create_connection(("127.0.0.1", srv.port)) for _ in range(4)]
            for h in held:  # make sure each is accepted before the fifth
                h.sendall(b"GET /healthz HTTP/1.1\r\n\r\n")
                self.assertEqual(read_response(h)[0], 200)
            extra = socket.create_connection(("127.0.0.1", srv.port), timeout=30)
            st, body, _ = read_response(extra)
            self.assertEqual(st, 503)
            self.assertEqual(json.loads(body)["__type"], "ServiceUnavailable")
            extra.close()
            for h in held:
                h.close()
        finally:
            srv.stop()
            srv.cleanup()

    def test_ten_thousand_connections(self):
        opened = 0
        batch = []
        for i in range(10000):
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
            s.connect(("127.0.0.1", SRV.port))
            if i % 3 == 1:
                s.sendall(b"GET /healthz HTTP/1.1\r\n")
            elif i % 3 == 2:
                s.sendall(b"GET /healthz HTTP/1.1\r\n\r\n")
            batch.append(s)
            opened += 1
            if len(batch) == 500:
                for b in batch:
                    b.close()
                batch = []
        for b in batch:
            b.close()
        self.assertEqual(opened, 10000)
        self.assertTrue(get_ok())
        # every dropped connection is eventually closed on the server too
        deadline = time.monotonic() + 30
        while True:
            still_open = metric("larder_open_connections")  # counts its own connection
            if still_open <= 1 or time.monotonic() > deadline:
                break
            time.sleep(0.1)
        self.assertLessEqual(still_open, 1)
        self.assertGreaterEqual(metric("larder_connections_accepted_total"), 10000)


if __name__ == "__main__":
    unittest.main(verbosity=2)
