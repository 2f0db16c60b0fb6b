"""The worker service: ARQ jobs that investigate and report into Slack threads (see README.md)."""
