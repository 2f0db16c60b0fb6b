"""The lab's Prometheus: an in-memory PromQL evaluator over `compass_lab.model.Series`."""

from compass_lab.promql.errors import PromQLError
from compass_lab.promql.labels import LabelMatcher
from compass_lab.promql.query import MAX_POINTS, query_instant, query_range
from compass_lab.promql.store import SeriesStore

__all__ = ["MAX_POINTS", "LabelMatcher", "PromQLError", "SeriesStore", "query_instant", "query_range"]
