"""Alert webhooks (Alertmanager v4, Grafana unified alerting): authenticate, validate, persist, enqueue."""
