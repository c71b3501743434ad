"""Where a webhook may call: public http(s) addresses only, checked when the URL is registered and
again, address by address, at every delivery, which then connects to the very address it checked.

A URL is refused when its host is, or resolves to, ANY address that is not a public unicast one:
loopback (``localhost``, ``127.1``, ``2130706433``, ``[::1]``), private, shared (100.64/10),
link-local (``169.254.169.254``), multicast, reserved, unspecified (``0.0.0.0``), site-local, or an
IPv6 form of one of those (IPv4-mapped, NAT64, 6to4). ``WEBHOOK_ALLOW_PRIVATE`` lifts the rule (tests,
an intranet). At registration the name is resolved for at most ``REGISTRATION_RESOLVE_SECONDS``: a
name that does not resolve (yet) is accepted and checked at delivery. At delivery the name is
resolved again and the connection goes to the checked address (``Host`` and TLS SNI and certificate
check keep the name), so a DNS answer that changes between the check and the call (DNS rebinding)
cannot send the call elsewhere. Redirects are never followed (http.client follows none).
"""
import http.client
import ipaddress
import socket
import ssl
import threading
from dataclasses import dataclass
from urllib.parse import urlsplit

MAX_URL_LENGTH = 2000
REGISTRATION_RESOLVE_SECONDS = 2.0
# What an endpoint's answer may weigh: the rest is not read.
MAX_RESPONSE_BYTES = 64 * 1024

_NAT64 = ipaddress.ip_network("64:ff9b::/96")
_SSL_CONTEXT = ssl.create_default_context()


class Refused(Exception):
    """The URL's host is, or resolves to, an address webhooks may not call."""


@dataclass(frozen=True)
class Target:
    scheme: str
    host: str  # the name (or literal address) as written, without brackets
    port: int
    path: str  # path and query, "/" at least


def parse(url: str) -> Target:
    """The parts of an http(s) URL; ValueError saying what is wrong with it."""
    if len(url) > MAX_URL_LENGTH:
        raise ValueError(f"must be at most {MAX_URL_LENGTH} characters")
    if any(ch.isspace() or ord(ch) < 32 or ord(ch) == 127 for ch in url):
        raise ValueError("must not contain spaces or control characters")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise ValueError("must be a valid URL") from None
    if parts.scheme not in ("http", "https"):
        raise ValueError("must be an http or https URL")
    if parts.username is not None or parts.password is not None or "@" in parts.netloc:
        raise ValueError("must not contain a user name or password")
    host = parts.hostname
    if not host:
        raise ValueError("must name a host")
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return Target(parts.scheme, host, port or (443 if parts.scheme == "https" else 80), path)


def _embedded_ipv4(ip: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    if ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    if ip in _NAT64:
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    return ip.sixtofour


def is_public(ip: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    """A public unicast address (``is_global`` also excludes 100.64/10 and the IANA special ranges)."""
    if ip.version == 6:
        if ip.is_site_local or ip.teredo is not None:
            return False
        embedded = _embedded_ipv4(ip)
        if embedded is not None and not is_public(embedded):
            return False
    return (ip.is_global and not ip.is_multicast and not ip.is_reserved and not ip.is_loopback
            and not ip.is_link_local and not ip.is_unspecified and not ip.is_private)


def literal(host: str):
    """The address a host written as an address means (``127.1`` and ``2130706433`` included), or None."""
    try:
        return ipaddress.ip_address(host.split("%", 1)[0] if ":" in host else host)
    except ValueError:
        pass
    if host and all(ch in "0123456789abcdefxABCDEFX." for ch in host) and host[0].isdigit():
        try:  # the legacy forms inet_aton (and so getaddrinfo) accepts: 127.1, 0x7f.1, 2130706433
            return ipaddress.IPv4Address(socket.inet_aton(host))
        except OSError:
            return None
    return None


def resolve(host: str, port: int) -> list:
    """Every address ``host`` resolves to (OSError when it does not)."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    seen = []
    for info in infos:
        ip = ipaddress.ip_address(info[4][0].split("%", 1)[0])
        if ip not in seen:
            seen.append(ip)
    return seen


def _resolve_bounded(host: str, port: int, seconds: float) -> list | None:
    """``resolve`` in a thread for at most ``seconds``; None when it fails or takes longer."""
    outcome: list = []

    def work():
        try:
            outcome.append(resolve(host, port))
        except (OSError, UnicodeError):
            pass

    thread = threading.Thread(target=work, name="webhook-resolve", daemon=True)
    thread.start()
    thread.join(seconds)
    return outcome[0] if outcome else None


def _is_local_name(host: str) -> bool:
    name = host.rstrip(".").lower()
    return name == "localhost" or name.endswith(".localhost")


def registration_problem(url: str, allow_private: bool) -> str | None:
    """Why ``url`` may not be registered, or None."""
    try:
        target = parse(url)
    except ValueError as error:
        return str(error)
    if allow_private:
        return None
    ip = literal(target.host)
    if ip is not None:
        return None if is_public(ip) else "must not be a loopback, private or link-local address"
    if _is_local_name(target.host):
        return "must not be a loopback, private or link-local address"
    addresses = _resolve_bounded(target.host, target.port, REGISTRATION_RESOLVE_SECONDS)
    if addresses and not all(is_public(address) for address in addresses):
        return "must not resolve to a loopback, private or link-local address"
    return None


def checked_address(target: Target, allow_private: bool) -> str:
    """The address to connect to, every address of the host checked; Refused or OSError otherwise."""
    ip = literal(target.host)
    if ip is None and _is_local_name(target.host) and not allow_private:
        raise Refused(f"{target.host} is a loopback name")
    addresses = [ip] if ip is not None else resolve(target.host, target.port)
    if not addresses:
        raise OSError(f"{target.host} has no address")
    if not allow_private:
        for address in addresses:
            if not is_public(address):
                raise Refused(f"{target.host} resolves to {address}, not a public address")
    return str(addresses[0])


def _pinned(target: Target, address: str, timeout: float) -> http.client.HTTPConnection:
    """A connection to ``address`` that speaks to ``target.host`` (Host header, TLS SNI and certificate)."""
    if target.scheme == "https":
        connection = http.client.HTTPSConnection(target.host, target.port, timeout=timeout,
                                                 context=_SSL_CONTEXT)
    else:
        connection = http.client.HTTPConnection(target.host, target.port, timeout=timeout)
    connection._create_connection = (  # type: ignore[attr-defined]
        lambda _address, timeout_, source=None: socket.create_connection((address, target.port),
                                                                         timeout_, source))
    return connection


def post(url: str, body: bytes, headers: dict, timeout: float, allow_private: bool) -> int:
    """POST ``body`` to ``url`` at a checked address; the answer's status. Raises Refused, OSError
    (timeouts included) or http.client.HTTPException."""
    target = parse(url)
    address = checked_address(target, allow_private)
    connection = _pinned(target, address, timeout)
    try:
        connection.request("POST", target.path, body=body, headers=headers)
        response = connection.getresponse()
        response.read(MAX_RESPONSE_BYTES)
        return response.status
    finally:
        connection.close()
