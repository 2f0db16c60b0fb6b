"""The Grafana datasources a scenario exposes: Prometheus always, Loki / Tempo when it has logs / traces."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from compass_lab.model import Scenario

DatasourceType = Literal["prometheus", "loki", "tempo"]


@dataclass(frozen=True)
class Datasource:
    id: int
    uid: str
    name: str
    type: DatasourceType
    url: str
    is_default: bool
    json_data: dict[str, str]
    health_message: str

    def summary(self) -> dict[str, object]:
        """The shape of one entry of `GET /api/datasources`."""
        return {
            "id": self.id,
            "uid": self.uid,
            "orgId": 1,
            "name": self.name,
            "type": self.type,
            "typeName": self.name,
            "typeLogoUrl": f"public/app/plugins/datasource/{self.type}/img/{self.type}_icon.svg",
            "access": "proxy",
            "url": self.url,
            "user": "",
            "database": "",
            "basicAuth": False,
            "isDefault": self.is_default,
            "jsonData": dict(self.json_data),
            "readOnly": True,
        }

    def detail(self) -> dict[str, object]:
        """The shape of `GET /api/datasources/uid/<uid>`."""
        return {
            **self.summary(),
            "basicAuthUser": "",
            "withCredentials": False,
            "secureJsonFields": {},
            "version": 1,
        }


PROMETHEUS = Datasource(
    1,
    "prometheus",
    "Prometheus",
    "prometheus",
    "http://prometheus:9090",
    True,
    {"httpMethod": "POST"},
    "Successfully queried the Prometheus API.",
)
LOKI = Datasource(
    2,
    "loki",
    "Loki",
    "loki",
    "http://loki:3100",
    False,
    {"maxLines": "1000"},
    "Data source successfully connected.",
)
TEMPO = Datasource(3, "tempo", "Tempo", "tempo", "http://tempo:3200", False, {}, "Data source is working")


def datasources_for(scenario: Scenario) -> list[Datasource]:
    out = [PROMETHEUS]
    if scenario.has_logs:
        out.append(LOKI)
    if scenario.has_traces:
        out.append(TEMPO)
    return out
