"""Alerts → incidents: grouping, classification, routing, and the jobs that announce and investigate them."""
