# Switchboard: one image for every process (web, realtime, worker, beat, smtp, migrate).
# The default command serves HTTP and websockets on one port (`manage.py serve`, uvicorn);
# docker-compose.yml runs the same image with other commands: pages and the API on granian
# (`serve --part http`), websockets and webhooks on uvicorn (`serve --part realtime`), the
# Celery worker, beat, the SMTP server and migrations.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    SWITCHBOARD_DATA_DIR=/app/var \
    STATIC_ROOT=/app/static \
    WEB_CONCURRENCY=2

WORKDIR /app

# Dependencies first, in their own layer, so that a code change does not reinstall them.
COPY pyproject.toml README.md ./
RUN python -c "import tomllib; print('\n'.join(tomllib.load(open('pyproject.toml', 'rb'))['project']['dependencies']))" \
        > /tmp/requirements.txt \
    && pip install -r /tmp/requirements.txt \
    && rm /tmp/requirements.txt

COPY . .
RUN pip install . \
    && rm -rf build ./*.egg-info

# Static files are collected at build time with the production storage (hashed names and
# a manifest, served by WhiteNoise). The settings need production mode for that storage:
# the values below exist only for this step; nothing connects to them.
RUN SECRET_KEY=collectstatic-only \
    DATABASE_URL=postgres://build@localhost:5432/build \
    REDIS_URL=redis://localhost:6379/0 \
    python manage.py collectstatic --noinput

RUN useradd --system --user-group --uid 10001 --home-dir /app --no-create-home \
        --shell /usr/sbin/nologin switchboard \
    && mkdir -p /app/var/media \
    && chown -R switchboard:switchboard /app/var
USER switchboard

EXPOSE 8000

CMD ["sh", "-c", "exec python manage.py serve --host 0.0.0.0 --port 8000 --workers ${WEB_CONCURRENCY:-2}"]
