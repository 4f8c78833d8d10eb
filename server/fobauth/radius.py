"""A RADIUS front (RFC 2865) for the validation service: VPN gateways and other NASes ask for the code.

An Access-Request carries User-Name and, in User-Password, the one-time code alone (the gateway checks
the first factor itself).  It must carry a valid Message-Authenticator (RFC 3579 section 3.2, the
BlastRADIUS countermeasure); a packet without one, from an address no client entry allows, with a bad
length or anything else malformed is dropped without an answer, as RFC 2865 section 3 says.  The code
goes through AuthService.verify, so one-time use and lockout are the service's.  A Reject never says
why: Reply-Message is not sent.  A retransmission (same source, identifier and Request Authenticator)
gets the answer already sent, so a gateway that missed an Accept still gets an Accept.

Packets are decoded and encoded with pyrad; the UDP loop and the rules above are here.
"""

import collections
import concurrent.futures
import ipaddress
import logging
import os
import selectors
import socket
import stat
import threading
import time

from pyrad import packet

from fobauth import errors
from fobauth.settings import (
    MIN_SECRET_CHARS,
    RADIUS_DUPLICATE_SECONDS,
    RADIUS_MAX_PACKET_BYTES,
    RADIUS_MAX_REMEMBERED,
    RADIUS_MAX_WAITING,
)

log = logging.getLogger("fobauth.radius")

USER_NAME, USER_PASSWORD = 1, 2


class ClientsError(Exception):
    """The clients file cannot be used; says which line and why, never the secret."""


def read_clients(path):
    """[(network, secret bytes)] from ``path``: "ADDRESS[/PREFIX] SECRET" a line, # comments.

    The file holds shared secrets, so it must not be readable by group or others.
    """
    try:
        mode = os.stat(path).st_mode
        text = open(path, encoding="utf-8").read()
    except OSError as error:
        raise ClientsError("%s: %s" % (path, error.strerror)) from None
    except UnicodeDecodeError:
        raise ClientsError("%s: the clients file is not UTF-8 text" % path) from None
    if stat.S_IMODE(mode) & 0o077:
        raise ClientsError("%s holds shared secrets and is readable by others: chmod 600 %s" % (path, path))
    clients = []
    for number, line in enumerate(text.splitlines(), 1):
        fields = line.split("#", 1)[0].split()
        if not fields:
            continue
        if len(fields) != 2:
            raise ClientsError("%s line %d: expected ADDRESS[/PREFIX] SECRET" % (path, number))
        try:
            network = ipaddress.ip_network(fields[0], strict=True)
        except ValueError:
            raise ClientsError("%s line %d: %r is not an address or network" % (path, number, fields[0])) from None
        if len(fields[1]) < MIN_SECRET_CHARS:
            message = "%s line %d: the shared secret must be at least %d characters"
            raise ClientsError(message % (path, number, MIN_SECRET_CHARS))
        clients.append((network, fields[1].encode()))
    if not clients:
        raise ClientsError("%s names no clients" % path)
    return clients


class Answers:
    """Replies already sent, by request, for retransmissions; requests being answered are marked None."""

    def __init__(self, clock=time.monotonic):
        self._clock = clock
        self._replies = collections.OrderedDict()
        self._lock = threading.Lock()

    def claim(self, key):
        """(True, None) to answer ``key`` now; (False, reply or None) for a retransmission."""
        now = self._clock()
        with self._lock:
            while self._replies and (
                len(self._replies) > RADIUS_MAX_REMEMBERED or next(iter(self._replies.values()))[0] < now
            ):
                self._replies.popitem(last=False)
            if key in self._replies:
                return False, self._replies[key][1]
            self._replies[key] = (now + RADIUS_DUPLICATE_SECONDS, None)
            return True, None

    def settle(self, key, reply):
        """Record the reply sent (or forget the request when none was, so a retry is answered afresh)."""
        with self._lock:
            if reply is None:
                self._replies.pop(key, None)
            else:
                self._replies[key] = (self._clock() + RADIUS_DUPLICATE_SECONDS, reply)


class RadiusFront:
    """Answers Access-Requests for ``service`` from the ``clients`` (read_clients) over UDP."""

    def __init__(self, service, clients, workers=8):
        self._service = service
        self._clients = clients
        self._answers = Answers()
        self._pool = concurrent.futures.ThreadPoolExecutor(workers, "radius")
        self._waiting = threading.BoundedSemaphore(workers * RADIUS_MAX_WAITING)
        self._stop = threading.Event()

    def _secret(self, address):
        try:
            source = ipaddress.ip_address(address)
        except ValueError:
            return None
        for network, secret in self._clients:
            if source.version == network.version and source in network:
                return secret
        return None

    def decode(self, data, address):
        """The Access-Request in ``data`` from ``address``, or None when it is to be dropped (logged)."""
        secret = self._secret(address)
        if secret is None:
            log.warning("RADIUS: dropped a packet from %s, which no client entry allows", address)
            return None
        if not 20 <= len(data) <= RADIUS_MAX_PACKET_BYTES or data[0] != packet.AccessRequest:
            log.warning("RADIUS: dropped a packet from %s: not an Access-Request of 20 to 4096 bytes", address)
            return None
        try:
            request = packet.AuthPacket(secret=secret, packet=data)
        except packet.PacketError as error:
            log.warning("RADIUS: dropped a malformed packet from %s (%s)", address, error)
            return None
        if not request.message_authenticator or len(request[80][0]) != 16:
            log.warning("RADIUS: dropped an Access-Request from %s without a Message-Authenticator", address)
            return None
        if not request.verify_message_authenticator():
            log.warning("RADIUS: dropped an Access-Request from %s: wrong Message-Authenticator", address)
            return None
        return request

    def answer(self, request, address):
        """The reply bytes to a decoded request (Accept or Reject), or None when the service failed."""
        user, code = self._credentials(request)
        accepted = False
        if user is not None:
            try:
                self._service.verify(user, code)
                accepted = True
            except errors.AuthError as refusal:
                log.info("RADIUS: %s refused for %s (%s)", address, user, refusal.code)
            except Exception as error:  # the database is away: no answer, so the gateway tries again or elsewhere
                log.error("RADIUS: verification failed for %s (%s)", user, type(error).__name__)
                return None
        reply = request.CreateReply()
        reply.code = packet.AccessAccept if accepted else packet.AccessReject
        return reply.ReplyPacket()

    @staticmethod
    def _credentials(request):
        """(user, code) from User-Name and User-Password, or (None, None) when either is unusable."""
        names, passwords = request.get(USER_NAME, []), request.get(USER_PASSWORD, [])
        if len(names) != 1 or len(passwords) != 1:
            return None, None
        try:
            user = names[0].decode("utf-8", "strict")
            code = request.PwDecrypt(passwords[0])
        except (UnicodeDecodeError, packet.PacketError):
            return None, None
        return user, code

    def handle(self, data, address, send):
        """Decode, answer and ``send(reply)``; retransmissions get the reply already sent."""
        request = self.decode(data, address[0])
        if request is None:
            return
        key = (address, request.id, request.authenticator)
        fresh, reply = self._answers.claim(key)
        if not fresh:
            if reply is not None:
                send(reply)
            return  # still being answered: the first answer will do
        reply = None
        try:
            reply = self.answer(request, address[0])
        finally:
            self._answers.settle(key, reply)
        if reply is not None:
            send(reply)

    def _work(self, data, address, send):
        try:
            self.handle(data, address, send)
        except Exception:  # one request's failure must not go unseen, nor stop the others
            log.exception("RADIUS: a request from %s failed", address[0])
        finally:
            self._waiting.release()

    def serve(self, sock):
        """Receive on the bound UDP ``sock`` until stop(); each request is answered on the pool."""
        with selectors.DefaultSelector() as selector:
            selector.register(sock, selectors.EVENT_READ)
            while not self._stop.is_set():
                if not selector.select(0.2):
                    continue
                data, address = sock.recvfrom(RADIUS_MAX_PACKET_BYTES + 1)
                if not self._waiting.acquire(blocking=False):
                    continue  # overloaded: the client retransmits, or tries another server
                self._pool.submit(self._work, data, address, lambda reply, to=address: sock.sendto(reply, to))
        self._pool.shutdown(wait=True)

    def stop(self):
        self._stop.set()


def bind(host, port):
    """A UDP socket bound to (host, port), IPv4 or IPv6."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_DGRAM)
    sock.bind((host, port))
    return sock
