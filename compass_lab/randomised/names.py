"""Random but realistic component, namespace and host names, outside the library's vocabulary.

The library's systems use a fixed cast (checkout, payments, dispatch, geo-db...). Generated topologies
draw from other word banks and naming styles, so that nothing the engine learnt about the library's
names carries over: a name is only ever a name.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

# Business domains and code names that the library never uses.
DOMAINS = (
    "ledger",
    "billing",
    "invoice",
    "tenant",
    "profile",
    "identity",
    "booking",
    "inventory",
    "shipment",
    "routing",
    "quote",
    "claims",
    "policy",
    "ticket",
    "review",
    "search",
    "media",
    "rewards",
    "loyalty",
    "audit",
    "report",
    "ingest",
    "scoring",
    "tariff",
    "roster",
    "schedule",
    "venue",
    "seat",
    "wallet",
    "kyc",
    "fraud",
    "settlement",
    "refund",
    "offer",
    "bundle",
    "subscription",
    "metering",
    "consent",
    "document",
    "warehouse",
    "parcel",
    "courier",
    "itinerary",
    "fare",
    "menu",
    "kitchen",
    "tips",
    "enrolment",
    "grades",
    "exam",
    "listing",
    "lease",
    "appraisal",
    "underwriting",
    "premium",
)
CODENAMES = (
    "aurora",
    "basalt",
    "cobalt",
    "ember",
    "fjord",
    "garnet",
    "harbor",
    "indigo",
    "juniper",
    "kestrel",
    "lumen",
    "magma",
    "nimbus",
    "onyx",
    "prism",
    "quartz",
    "raven",
    "sierra",
    "tundra",
    "umber",
    "vesper",
    "willow",
    "yarrow",
    "zephyr",
    "alder",
    "bramble",
    "cinder",
    "dune",
    "falcon",
    "glacier",
)
VENDORS = (
    "acquirer",
    "smsrelay",
    "geocoder",
    "taxcalc",
    "mailhub",
    "kycverify",
    "fxrates",
    "carrierlink",
    "pushgw",
    "addressbook",
    "creditbureau",
    "translate",
)

_SERVICE_STYLES: tuple[Callable[[str, str], str], ...] = (
    lambda d, c: d,
    lambda d, c: f"{d}-svc",
    lambda d, c: f"{d}-service",
    lambda d, c: f"{c}-{d}",
    lambda d, c: f"{d}-api",
)
_DB_STYLES: tuple[Callable[[str, str], str], ...] = (
    lambda d, t: f"{d}-{t}",
    lambda d, t: f"{t}-{d}",
    lambda d, t: f"{d}db",
    lambda d, t: f"{d}-store",
)
_DB_TECH_WORD = {"postgres": ("pg", "postgres", "pgsql"), "mysql": ("mysql", "maria")}
_CACHE_STYLES = ("{d}-redis", "redis-{d}", "{d}-kv", "{d}-cache-rd")
_QUEUE_STYLES = ("{d}-events", "{d}-stream", "kafka-{d}", "{d}-bus")
_WORKER_STYLES = ("{d}-worker", "{d}-consumer", "{d}-processor", "{d}-jobs")
_GATEWAY_NAMES = ("ingress-proxy", "edge-router", "public-api", "front-door", "apigw", "bff-web")


class Namer:
    """Draws unique names for one topology in one consistent style."""

    def __init__(self, rng: np.random.Generator) -> None:
        self.rng = rng
        self.used: set[str] = {"coredns"}
        self._domains = list(DOMAINS)
        rng.shuffle(self._domains)
        self.code = str(rng.choice(CODENAMES))
        self._svc_style = _SERVICE_STYLES[int(rng.integers(0, len(_SERVICE_STYLES)))]
        self._db_style = _DB_STYLES[int(rng.integers(0, len(_DB_STYLES)))]
        self._cache_style = _CACHE_STYLES[int(rng.integers(0, len(_CACHE_STYLES)))]
        self._queue_style = _QUEUE_STYLES[int(rng.integers(0, len(_QUEUE_STYLES)))]
        self._worker_style = _WORKER_STYLES[int(rng.integers(0, len(_WORKER_STYLES)))]
        self._host_style = -1
        self._host_count = 0
        self._pool = ""

    def _unique(self, name: str) -> str:
        out, k = name, 2
        while out in self.used:
            out, k = f"{name}-{k}", k + 1
        self.used.add(out)
        return out

    def domain(self) -> str:
        if not self._domains:
            self._domains = [f"{d}{k}" for d in DOMAINS for k in (2, 3)]
        return self._domains.pop()

    def namespace(self) -> str:
        return f"{self.code}-{self.rng.choice(('prod', 'live', 'production', 'p1'))}"

    def gateway(self) -> str:
        return self._unique(str(self.rng.choice(_GATEWAY_NAMES)))

    def service(self, domain: str) -> str:
        return self._unique(self._svc_style(domain, self.code))

    def worker(self, domain: str) -> str:
        return self._unique(self._worker_style.format(d=domain))

    def database(self, domain: str, tech: str) -> str:
        word = str(self.rng.choice(_DB_TECH_WORD[tech]))
        return self._unique(self._db_style(domain, word))

    def cache(self, domain: str) -> str:
        return self._unique(self._cache_style.format(d=domain))

    def queue(self, domain: str) -> str:
        return self._unique(self._queue_style.format(d=domain))

    def external(self) -> str:
        return self._unique(f"{self.rng.choice(VENDORS)}-ext")

    def hosts(self, count: int) -> tuple[str, ...]:
        """`count` more node names, all in one cloud's style (EKS, GKE, AKS, bare metal)."""
        rng = self.rng
        if self._host_style < 0:
            self._host_style = int(rng.integers(0, 4))
            self._pool = f"{rng.integers(10**7, 10**8):08x}"
        out: list[str] = []
        for _ in range(count):
            k = self._host_count
            self._host_count += 1
            if self._host_style == 0:
                name = (
                    f"ip-10-{rng.integers(0, 64)}-{rng.integers(0, 256)}-{rng.integers(2, 255)}.ec2.internal"
                )
            elif self._host_style == 1:
                name = f"gke-{self.code}-pool-2-{self._pool}-{_alnum(rng, 4)}"
            elif self._host_style == 2:
                name = f"aks-nodepool1-{self._pool}-vmss{k:06x}"
            else:
                name = f"node-{k + 1:02d}.{self.code}.dc1.internal"
            out.append(self._unique(name))
        return tuple(out)


def _alnum(rng: np.random.Generator, n: int) -> str:
    alphabet = "abcdefghijklmnopqrstuvwxyz0123456789"
    return "".join(alphabet[int(i)] for i in rng.integers(0, len(alphabet), n))
