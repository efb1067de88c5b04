# syntax=docker/dockerfile:1
# bousai-bot in a container: `docker compose up` (compose.yaml) runs it with PostgreSQL.
# The image holds the shipped configuration; mount a city's config read-only at
# /etc/bousai and set BOUSAI_CONFIG=/etc/bousai/bousai.toml. Secrets come from the
# environment only.

FROM python:3.11-slim AS build
WORKDIR /src
COPY pyproject.toml README.md ./
COPY bot ./bot
COPY channels ./channels
COPY templates ./templates
COPY config ./config
RUN pip wheel --no-cache-dir --wheel-dir /wheels .

FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    BOUSAI_HTTP_HOST=0.0.0.0 \
    BOUSAI_HTTP_PORT=8080 \
    BOUSAI_CONSOLE_HOST=0.0.0.0 \
    BOUSAI_LOG_FORMAT=json \
    XDG_DATA_HOME=/var/lib
RUN --mount=type=bind,from=build,source=/wheels,target=/wheels \
    pip install --no-cache-dir /wheels/*.whl \
    && groupadd --system --gid 10001 bousai \
    && useradd --system --uid 10001 --gid bousai --home-dir /var/lib/bousai \
       --create-home --shell /usr/sbin/nologin bousai \
    && chmod 0700 /var/lib/bousai
USER 10001:10001
WORKDIR /var/lib/bousai
# 8080: webhooks, /healthz, /readyz, /metrics; 8081: the operators' console
EXPOSE 8080 8081
# ready: the database answers and every readiness check (feeds, channels …) is ok
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:' + os.environ.get('BOUSAI_HTTP_PORT', '8080') + '/readyz', timeout=4)"]
STOPSIGNAL SIGTERM
ENTRYPOINT ["bousai"]
CMD ["run"]
