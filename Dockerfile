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
    GOVWATCH_OPS__ENABLED=true
RUN useradd --create-home --uid 10001 govwatch && mkdir /data && chown govwatch /data
COPY --from=build /wheels /wheels
RUN pip install --no-cache-dir /wheels/*.whl && rm -rf /wheels
USER govwatch
WORKDIR /data
VOLUME ["/data"]
EXPOSE 9108
# Healthy while /healthz says so: the database answers, the scheduler ticks and the relay
# keeps up ([ops] max_tick_age, max_outbox_age). Its JSON lands in `docker inspect`.
# The port is GOVWATCH_OPS__PORT when set (set it there, not only in govwatch.toml).
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
  CMD ["python", "-c", "import http.client as h,os,sys; c=h.HTTPConnection('127.0.0.1',int(os.environ.get('GOVWATCH_OPS__PORT','9108')),timeout=4); c.request('GET','/healthz'); r=c.getresponse(); print(r.read().decode()); sys.exit(r.status!=200)"]
ENTRYPOINT ["govwatch"]
CMD ["run"]
