# Python 2 launcher for Autobahn|Testsuite's `wstest` that keeps every
# listening socket on the loopback interface.
#
# wstest's fuzzingserver binds its WebSocket port (and the optional web port)
# on all interfaces; the tests of this project must only be reachable on
# 127.0.0.1. Twisted's reactor.listenTCP (ws://) and reactor.listenSSL
# (wss://, used when the spec names a "key" and a "cert") take the interface
# as an argument, so wrap both before wstest starts and force 127.0.0.1 when
# none was given.
#
# Usage: wstest-venv/bin/python wstest_local.py <wstest arguments>
import sys

from autobahntestsuite import choosereactor  # noqa: F401  (must install the reactor first)
from twisted.internet import reactor

_listen_tcp = reactor.listenTCP


def _listen_tcp_loopback(port, factory, backlog=50, interface=''):
    return _listen_tcp(port, factory, backlog, interface or '127.0.0.1')


_listen_ssl = reactor.listenSSL


def _listen_ssl_loopback(port, factory, context_factory, backlog=50, interface=''):
    return _listen_ssl(port, factory, context_factory, backlog, interface or '127.0.0.1')


reactor.listenTCP = _listen_tcp_loopback
reactor.listenSSL = _listen_ssl_loopback

from autobahntestsuite.wstest import run  # noqa: E402

if __name__ == '__main__':
    sys.argv[0] = 'wstest'
    sys.exit(run())
