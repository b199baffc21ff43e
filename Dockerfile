# syntax=docker/dockerfile:1
#
# Production image for the Dynamic Support Register. One image runs every role; the command
# decides which (see docker-compose.yml):
#   web      gunicorn dsr.wsgi:application        (the default CMD below)
#   worker   celery -A dsr worker --loglevel=INFO
#   beat     celery -A dsr beat --loglevel=INFO --schedule <writable path>   (exactly one)
#   migrate  python manage.py migrate --noinput    (one-shot, before web/worker start)
# Configuration comes from the environment only: see .env.example.

# --- Stage 1: front-end assets. Node exists only in this stage. ----------------------------
# nhsuk-frontend 10 needs Node ^20.9, ^22.11 or >=24.11.
FROM node:22-slim AS assets
WORKDIR /build
COPY package.json package-lock.json ./
# The lock file pins nhsuk-frontend exactly; no package here needs an install script.
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund

# --- Stage 2: the project and its runtime dependencies, installed into a virtualenv. -------
FROM python:3.11-slim AS python-build
ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1
RUN python -m venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH
WORKDIR /build
# Only what `pip install .` needs, so code-only changes do not always rebuild this layer.
# README.m[d] copies README.md when it exists (pyproject names it) and nothing otherwise.
COPY pyproject.toml README.m[d] ./
COPY dsr ./dsr
COPY referrals ./referrals
COPY reviews ./reviews
COPY escalation ./escalation
# No [dev] extras: the production image carries no test or lint tools.
RUN pip install .

# --- Stage 3: the runtime image. -------------------------------------------------------------
FROM python:3.11-slim AS runtime

# PYTHONPATH=/app: the code under /app (next to templates/, static/ and manage.py, which
# settings find through BASE_DIR) is the copy that runs, never the one in site-packages.
# WEB_CONCURRENCY is gunicorn's worker count (about 2 x CPU + 1; 3 suits a small host).
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PATH=/opt/venv/bin:$PATH \
    PYTHONPATH=/app \
    DJANGO_SETTINGS_MODULE=dsr.settings \
    WEB_CONCURRENCY=3

# WeasyPrint renders letters to PDF with Pango; slim images ship neither it nor a font.
RUN apt-get update \
    && apt-get install -y --no-install-recommends libpango-1.0-0 libpangoft2-1.0-0 \
        fonts-liberation \
    && rm -rf /var/lib/apt/lists/*

# A system user with no login shell and no home. /var/lib/dsr is the only path it may write:
# beat keeps its schedule there, and imports/ holds register spreadsheets being imported (named
# volumes in docker-compose.yml take this ownership).
RUN groupadd --system --gid 10001 app \
    && useradd --system --uid 10001 --gid app --no-create-home --home-dir /nonexistent \
        --shell /usr/sbin/nologin app \
    && install -d -o app -g app -m 0750 /var/lib/dsr \
    && install -d -o app -g app -m 0700 /var/lib/dsr/imports

COPY --from=python-build /opt/venv /opt/venv

WORKDIR /app
# The source tree, filtered by .dockerignore; owned by root, so the app cannot change its code.
COPY . .
# nhsuk-frontend only; settings collect it from node_modules/nhsuk-frontend/dist/nhsuk.
COPY --from=assets /build/node_modules/nhsuk-frontend ./node_modules/nhsuk-frontend

# Hashed, compressed static files for WhiteNoise. Settings refuse to load with DEBUG off unless
# the variables production needs are set, so this step alone gets throwaway values. They are not
# set in the image's environment, but `docker history` shows them: never put a real key here.
RUN DEBUG=false \
    SECRET_KEY=build-only-collectstatic-key-not-a-secret-never-used-at-runtime \
    ALLOWED_HOSTS=build.invalid \
    REDIS_URL=redis://build.invalid:6379/0 \
    EMAIL_URL=consolemail:// \
    DEFAULT_FROM_EMAIL=build@build.invalid \
    SITE_URL=https://build.invalid \
    python manage.py collectstatic --noinput

USER app:app

EXPOSE 8000

# slim has no curl: ask /health/ with Python. The Host header is the first ALLOWED_HOSTS entry,
# because Django answers 400 to a host it does not serve. /health/ is exempt from the HTTPS
# redirect and returns 503 when the database or the broker does not answer.
HEALTHCHECK --interval=30s --timeout=10s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import os, sys, urllib.request as u; h = (os.environ.get('ALLOWED_HOSTS') or 'localhost').split(',')[0].strip().lstrip('.'); h = 'localhost' if h in ('', '*') else h; sys.exit(0 if u.urlopen(u.Request('http://127.0.0.1:8000/health/', headers={'Host': h}), timeout=5).status == 200 else 1)"]

# Workers: WEB_CONCURRENCY (above). Heartbeat files in /dev/shm avoid stalls on overlay disks.
# No access log: request paths can carry password-reset tokens; the TLS proxy logs requests.
CMD ["gunicorn", "dsr.wsgi:application", \
     "--bind", "0.0.0.0:8000", \
     "--worker-tmp-dir", "/dev/shm", \
     "--timeout", "30", \
     "--graceful-timeout", "30", \
     "--max-requests", "1000", \
     "--max-requests-jitter", "100"]
