# creditgate: one stateless replica. Configure with CREDITGATE_* variables (see README).
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PYTHONPATH=/srv/creditgate

WORKDIR /srv/creditgate

RUN groupadd --system --gid 10001 creditgate \
    && useradd --system --uid 10001 --gid creditgate --home-dir /srv/creditgate --shell /usr/sbin/nologin creditgate

# Dependencies first, in their own layer: it changes only when the lock file does.
COPY requirements.lock ./
RUN pip install --no-cache-dir -r requirements.lock

COPY alembic.ini pyproject.toml ./
COPY migrations ./migrations
COPY app ./app

USER 10001:10001
EXPOSE 8000

HEALTHCHECK --interval=10s --timeout=3s --start-period=10s --retries=3 \
    CMD ["python", "-c", "import urllib.request, sys; sys.exit(urllib.request.urlopen('http://127.0.0.1:8000/health/live', timeout=2).status != 200)"]

# Migrate, then serve. Several replicas may start together: Alembic's migrations are transactional on PostgreSQL.
CMD ["sh", "-c", "python -m app.cli migrate && exec python -m app.cli serve --host 0.0.0.0 --port 8000"]
