"""Log message texts as real software writes them, per language/runtime, with variable parts.

Only generic runtime/library wording is used (Go net errors, Java exceptions, HikariCP, PostgreSQL,
Kafka clients...), never anything that names a fault id.
"""

from __future__ import annotations

import functools
import time

import numpy as np

from compass_lab.scenarios.topology import Lang


@functools.lru_cache(maxsize=4096)
def _iso_second(sec: int) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(sec))


def iso(ts: float) -> str:
    sec = int(ts)
    ms = min(int((ts - sec) * 1000), 999)
    return f"{_iso_second(sec)}.{ms:03d}Z"


def ip(rng: np.random.Generator) -> str:
    return f"10.{int(rng.integers(1, 4))}.{int(rng.integers(0, 255))}.{int(rng.integers(2, 254))}"


def hexid(rng: np.random.Generator, n: int = 8) -> str:
    return rng.bytes((n + 1) // 2).hex()[:n]


def conn_error(
    lang: Lang, kind: str, host: str, port: int, rng: np.random.Generator, not_after: str = ""
) -> str:
    """The error string a client library reports for a connection-level failure."""
    addr = f"{ip(rng)}:{port}"
    eport = int(rng.integers(32768, 60999))
    if kind == "refused":
        return {
            "go": f"dial tcp {addr}: connect: connection refused",
            "java": f"java.net.ConnectException: Connection refused: {host}/{addr}",
            "node": f"connect ECONNREFUSED {addr}",
            "python": "ConnectionRefusedError: [Errno 111] Connection refused",
        }[lang]
    if kind == "timeout":
        return {
            "go": f'Post "http://{host}:{port}/": context deadline exceeded (Client.Timeout exceeded while '
            "awaiting headers)"
            if port in (80, 8080, 443)
            else f"read tcp {ip(rng)}:{eport}->{addr}: i/o timeout",
            "java": "java.net.SocketTimeoutException: Read timed out",
            "node": f"request to http://{host}:{port}/ failed, reason: ETIMEDOUT",
            "python": f"requests.exceptions.ReadTimeout: HTTPConnectionPool(host='{host}', port={port}): "
            "Read timed out. (read timeout=5)",
        }[lang]
    if kind == "reset":
        return {
            "go": f"read tcp {ip(rng)}:{eport}->{addr}: read: connection reset by peer",
            "java": "java.net.SocketException: Connection reset",
            "node": "read ECONNRESET",
            "python": "ConnectionResetError: [Errno 104] Connection reset by peer",
        }[lang]
    if kind == "dns":
        ext = "." not in host and host.endswith(("api", "gateway"))
        return {
            "go": f"dial tcp: lookup {host} on 10.96.0.10:53: "
            + (
                "server misbehaving"
                if ext or rng.random() < 0.5
                else f"read udp {ip(rng)}:{eport}->10.96.0.10:53: i/o timeout"
            ),
            "java": f"java.net.UnknownHostException: {host}: Temporary failure in name resolution",
            "node": f"getaddrinfo EAI_AGAIN {host}",
            "python": "socket.gaierror: [Errno -3] Temporary failure in name resolution",
        }[lang]
    if kind == "tls":
        return {
            "go": f'Post "https://{host}/": tls: failed to verify certificate: '
            "x509: certificate has expired or "
            f"is not yet valid: current time {{now}} is after {not_after}",
            "java": "javax.net.ssl.SSLHandshakeException: PKIX path validation failed: "
            f"java.security.cert.CertificateExpiredException: NotAfter: {not_after}",
            "node": f"request to https://{host}/ failed, reason: certificate has expired",
            "python": f"ssl.SSLCertVerificationError: [SSL: CERTIFICATE_VERIFY_FAILED] certificate "
            "verify failed: "
            f"certificate has expired (_ssl.c:1006) host={host}",
        }[lang]
    raise ValueError(f"unknown connection error kind {kind!r}")


def pool_timeout(lang: Lang, db: str, max_size: int, waiting: int, timeout_ms: int) -> str:
    return {
        "java": f"HikariPool-1 - Connection is not available, request timed out after {timeout_ms}ms "
        f"(total={max_size}, active={max_size}, idle=0, waiting={waiting})",
        "go": f"failed to acquire connection from pool {db}: timeout acquiring connection after "
        "{timeout_ms}ms "
        f"(max_conns={max_size}, waiting={waiting})",
        "python": f"sqlalchemy.exc.TimeoutError: QueuePool limit of size {max_size} overflow 0 reached, "
        f"connection timed out, timeout {timeout_ms / 1000:.2f}",
        "node": f"TimeoutError: timeout acquiring a connection. The pool is probably full. "
        f"(max={max_size}, pending={waiting})",
    }[lang]


def stack_trace(lang: Lang, service: str, version: str, rng: np.random.Generator) -> tuple[str, str]:
    """(message, stack) for an unhandled error introduced by new code."""
    pkg = service.replace("-", "")
    line = int(rng.integers(40, 400))
    if lang == "java":
        cls = pkg.capitalize()
        msg = (
            f'java.lang.NullPointerException: Cannot invoke "com.acme.{pkg}.model.LineItem.getSku()" because '
            f'"item" is null'
        )
        stack = (
            f"{msg}\n\tat com.acme.{pkg}.service.{cls}Service.price({cls}Service.java:{line})\n"
            f"\tat com.acme.{pkg}.api.{cls}Controller.handle({cls}Controller.java:{line // 3})\n"
            "\tat org.springframework.web.servlet.FrameworkServlet.service(FrameworkServlet.java:885)"
        )
        return msg, stack
    if lang == "go":
        msg = "panic: runtime error: invalid memory address or nil pointer dereference"
        stack = (
            f"{msg}\n[signal SIGSEGV: segmentation violation code=0x1 addr=0x18 pc=0x{hexid(rng, 6)}]\n\n"
            f"goroutine {int(rng.integers(100, 9000))} [running]:\n"
            f"github.com/acme/{service}/internal/handler.(*Handler).Serve(...)\n"
            f"\t/src/internal/handler/handler.go:{line} +0x{hexid(rng, 3)}"
        )
        return msg, stack
    if lang == "python":
        msg = "KeyError: 'shipping_address'"
        stack = (
            "Traceback (most recent call last):\n"
            f'  File "/app/{pkg}/worker.py", line {line}, in handle\n    addr = order["shipping_address"]\n'
            f"{msg}"
        )
        return msg, stack
    msg = "TypeError: Cannot read properties of undefined (reading 'currency')"
    stack = f"{msg}\n    at renderPrice (/app/src/price.js:{line}:17)\n    at /app/src/routes/product.js:88:5"
    return msg, stack


def logger_name(service: str, what: str) -> str:
    return f"com.acme.{service.replace('-', '')}.{what}"
