# SPDX-License-Identifier: MIT
"""Pipelined requests, answered a turn at a time (issue 12).

A connection's turn in the event loop is 64 KiB of output however many
responses make it up, so a client that sends hundreds of requests at
once is answered over many turns. Whatever the turns, every answer must
come back whole and in order: small files, files sent by sendfile and
files copied (over 512 KiB, across several turns each), to a client that
reads at once and to one that reads slowly through a small window; and a
client that closes with answers still queued costs the others nothing.
Each in every run mode."""

import os
import shutil
import socket
import time
import unittest

from harness import Conn, build, get, start, unique_tmpdir

DEPTH = 300			# requests sent at once
SMALL = 1024
MEDIUM = 100 * 1024		# sendfile (--sendfile auto)
LARGE = 700 * 1024		# copied: over the 512 KiB mark
EPOLL = ("-m", "epoll")
PREFORK = ("-m", "prefork", "-w", "2")
THREADS = ("-m", "threads", "-w", "2")


def content(name, size):
    """Bytes that differ at every offset between files, so a response
    cut, shifted or swapped with another shows."""
    seed = name.encode() + b":"
    out = bytearray()
    i = 0
    while len(out) < size:
        out += seed + b"%08d\n" % i
        i += 1
    return bytes(out[:size])


def plan():
    """The DEPTH paths of one pipeline: mostly small files, every tenth
    a medium one, every fiftieth a large one."""
    paths = []
    for i in range(DEPTH):
        if i % 50 == 49:
            paths.append("/large%d.bin" % (i % 3))
        elif i % 10 == 9:
            paths.append("/medium%d.bin" % (i % 4))
        else:
            paths.append("/small%d.txt" % (i % 7))
    return paths


class Pipelining:
    mode = EPOLL

    @classmethod
    def setUpClass(cls):
        cls.root = unique_tmpdir("pipelining")
        cls.bodies = {}
        for n, size in ([("/small%d.txt" % i, SMALL) for i in range(7)] +
                        [("/medium%d.bin" % i, MEDIUM) for i in range(4)] +
                        [("/large%d.bin" % i, LARGE) for i in range(3)]):
            cls.bodies[n] = content(n, size)
            with open(os.path.join(cls.root, n.lstrip("/")), "wb") as f:
                f.write(cls.bodies[n])
        cls.srv = start(cls.root, *cls.mode, modes=False)

    @classmethod
    def tearDownClass(cls):
        cls.srv.stop()
        shutil.rmtree(cls.root, ignore_errors=True)

    def pipeline(self, paths):
        return b"".join(build("GET", p) for p in paths)

    def check_all(self, c, paths):
        for k, p in enumerate(paths):
            r = c.read_response(timeout=20)
            self.assertEqual(r.status, 200, "answer %d (%s)" % (k, p))
            self.assertEqual(len(r.body), len(self.bodies[p]),
                             "answer %d (%s)" % (k, p))
            self.assertTrue(r.body == self.bodies[p],
                            "answer %d (%s): wrong bytes" % (k, p))

    def test_every_answer_whole_and_in_order(self):
        paths = plan()
        with Conn(self.srv.port, timeout=20) as c:
            c.send(self.pipeline(paths))
            self.check_all(c, paths)
            # The connection is still good for more.
            r = c.request("GET", "/small0.txt")
            self.assertEqual(r.body, self.bodies["/small0.txt"])

    def test_slow_reader_through_a_small_window(self):
        paths = plan()
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        # Before connecting: the window the server sees is small, so
        # its writes stop short (EAGAIN) again and again.
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 8192)
        s.settimeout(20)
        s.connect(("127.0.0.1", self.srv.port))
        with Conn(self.srv.port, sock=s, timeout=20) as c:
            c.send(self.pipeline(paths))
            want = sum(len(self.bodies[p]) for p in paths)
            got = bytearray()
            reads = 0
            # Slowly: 16 KiB at a time, a pause every eighth read, until
            # the bodies' worth has come (the heads come on top).
            while len(got) < want:
                b = s.recv(16384)
                self.assertTrue(b, "closed after %d bytes" % len(got))
                got += b
                reads += 1
                if reads % 8 == 0:
                    time.sleep(0.001)
            c.buf = bytes(got)
            self.check_all(c, paths)

    def test_client_closing_early_costs_the_others_nothing(self):
        paths = plan()
        quitter = Conn(self.srv.port, timeout=20)
        stayer = Conn(self.srv.port, timeout=20)
        try:
            quitter.send(self.pipeline(paths))
            stayer.send(self.pipeline(paths))
            for _ in range(5):
                self.assertEqual(quitter.read_response().status, 200)
            # With answers still queued for it, and requests unread.
            quitter.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                                    b"\x01\x00\x00\x00\x00\x00\x00\x00")
            quitter.close()
            self.check_all(stayer, paths)
        finally:
            quitter.close()
            stayer.close()
        r = get(self.srv.port, "/medium0.bin")
        self.assertEqual(r.status, 200)
        self.assertEqual(r.body, self.bodies["/medium0.bin"])
        self.assertIsNone(self.srv.proc.poll())


class PipeliningEpoll(Pipelining, unittest.TestCase):
    mode = EPOLL


class PipeliningPrefork(Pipelining, unittest.TestCase):
    mode = PREFORK


class PipeliningThreads(Pipelining, unittest.TestCase):
    mode = THREADS


if __name__ == "__main__":
    unittest.main()
