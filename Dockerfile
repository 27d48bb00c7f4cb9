# The remote data plane: `webhost dataplane --embedded` with its PostgreSQL on the /data volume.
# Needs WEBHOST_DATAPLANE_MANAGEMENT_TOKEN; WEBHOST_DATAPLANE_TENANT_ID pins it to one tenant.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    WEBHOST_DATA_DIR=/data \
    WEBHOST_LOG_FORMAT=json

WORKDIR /app
# the locked dependencies first: a change of source alone reuses this layer
COPY requirements/runtime.lock requirements/runtime.lock
RUN pip install --requirement requirements/runtime.lock
COPY pyproject.toml README.md ./
COPY src src
RUN pip install --no-deps .

# PostgreSQL refuses to run as root: the entrypoint starts as root only to hand a freshly
# mounted (root-owned) volume to this user, then runs the plane as it
RUN useradd --system --uid 10001 --home-dir /data --shell /usr/sbin/nologin webhost \
    && mkdir -p /data && chown webhost /data
COPY deploy/entrypoint.sh /usr/local/bin/webhost-entrypoint
VOLUME /data
EXPOSE 8080

HEALTHCHECK --interval=15s --timeout=5s --start-period=60s --retries=3 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8080/health', timeout=4)"]

# a Hetzner host's `docker run <image> dataplane ...` replaces the command, never the entrypoint
ENTRYPOINT ["webhost-entrypoint"]
CMD ["dataplane", "--embedded", "--host", "0.0.0.0", "--port", "8080"]
