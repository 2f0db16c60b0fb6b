"""The REST API (`/api/v1`): incidents and their alerts, investigations, feedback, costs, patterns, health."""
