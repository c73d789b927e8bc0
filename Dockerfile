# govwatch: a slim image that runs `govwatch run` as a non-root user.
#   docker build -t govwatch .
#   docker run --env-file govwatch.env govwatch          (SQLite in the /data volume)
# See docker-compose.yml for PostgreSQL.
FROM python:3.11-slim AS build
WORKDIR /src
COPY pyproject.toml README.md ./
COPY bot ./bot
RUN pip wheel --no-cache-dir --wheel-dir /wheels .

FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    GOVWATCH_DATABASE__URL=sqlite+aiosqlite:////data/govwatch.db \
    GOVWATCH_SCHEDULER__HEARTBEAT_FILE=/tmp/govwatch.heartbeat
RUN useradd --create-home --uid 10001 govwatch && mkdir /data && chown govwatch /data
COPY --from=build /wheels /wheels
RUN pip install --no-cache-dir /wheels/*.whl && rm -rf /wheels
USER govwatch
WORKDIR /data
VOLUME ["/data"]
# Healthy while the scheduler ticks: the heartbeat file is touched after every tick.
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
  CMD python -c "import os,sys,time; p=os.environ['GOVWATCH_SCHEDULER__HEARTBEAT_FILE']; sys.exit(0 if time.time()-os.path.getmtime(p) < 120 else 1)"
ENTRYPOINT ["govwatch"]
CMD ["run"]
