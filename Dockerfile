# creditgate: the `creditgate` command in a small image, run as a non-root user; see docs/operations.md.
#   docker build -t creditgate .
#   docker run -e CREDITGATE_API_KEYS='{"sha256:…": ["decide"]}' -p 8000:8000 -v creditgate-data:/var/lib/creditgate creditgate
# The default command migrates, then serves on $HOST:$PORT (0.0.0.0:8000). Alone it keeps its SQLite file in the
# /var/lib/creditgate volume; with CREDITGATE_DATABASE_URL on PostgreSQL it holds no state (deploy/compose.yaml).
ARG PYTHON_IMAGE=python:3.11-slim

# Build stage: the virtual environment with the pinned dependencies and the package itself.
FROM ${PYTHON_IMAGE} AS build
ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /build
# Dependencies first, in their own layer: it changes only when the lock file does.
COPY requirements.lock ./
RUN python -m venv --without-pip /opt/creditgate \
    && pip --python /opt/creditgate/bin/python install --no-cache-dir -r requirements.lock
COPY pyproject.toml README.md LICENSE ./
COPY app ./app
RUN pip --python /opt/creditgate/bin/python install --no-cache-dir --no-deps .

# Runtime stage: the environment, the migrations, a data volume; no pip, no build tree.
FROM ${PYTHON_IMAGE}
ENV PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    PATH=/opt/creditgate/bin:$PATH \
    HOST=0.0.0.0 \
    PORT=8000 \
    CREDITGATE_DATABASE_URL=sqlite+aiosqlite:////var/lib/creditgate/creditgate.db

RUN groupadd --system --gid 10001 creditgate \
    && useradd --system --uid 10001 --gid creditgate --no-create-home --home-dir /var/lib/creditgate \
        --shell /usr/sbin/nologin creditgate \
    && install -d -o 10001 -g 10001 -m 0750 /var/lib/creditgate

COPY --from=build /opt/creditgate /opt/creditgate
# `creditgate migrate` finds alembic.ini and migrations/ in its working directory.
WORKDIR /srv/creditgate
COPY alembic.ini ./
COPY migrations ./migrations

VOLUME ["/var/lib/creditgate"]
USER 10001:10001
EXPOSE 8000

HEALTHCHECK --interval=10s --timeout=3s --start-period=20s --retries=3 \
    CMD ["python", "-c", "import os, sys, urllib.request; url = 'http://127.0.0.1:%s/health/live' % os.environ.get('PORT', '8000'); sys.exit(urllib.request.urlopen(url, timeout=2).status != 200)"]

# The same command .ci/image-smoke runs from the built wheel where no Docker daemon answers.
CMD ["creditgate", "serve", "--migrate"]
