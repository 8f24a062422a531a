# Cohortly's production image: gunicorn for the web, the same image for the Celery worker and
# beat (see docker-compose.yml). Configuration comes from the environment (README.md).

# Bootstrap, htmx and Chart.js come from npm; Django serves them from node_modules
# (STATICFILES_DIRS).
FROM node:20-bookworm-slim AS assets
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund

FROM python:3.11-slim-bookworm
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1
# Pango, HarfBuzz and the DejaVu fonts for rendering agreements from HTML to PDF.
RUN apt-get update \
    && apt-get install -y --no-install-recommends \
        libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz0b fonts-dejavu-core \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --create-home --uid 1000 cohortly
WORKDIR /app

# The dependencies first, exactly as locked (the project's code is not a package: it runs
# from /app).
COPY requirements.lock ./
RUN pip install --require-hashes -r requirements.lock

COPY --from=assets /app/node_modules ./node_modules
COPY . .
# The static files and their manifest are part of the image; these values only let the
# production settings load for collectstatic and are never used at run time.
RUN DJANGO_ENV=production SECRET_KEY=collectstatic-only ALLOWED_HOSTS=localhost \
    DATABASE_URL=postgres://unused@localhost/unused REDIS_URL=redis://localhost:6379/0 \
    EMAIL_URL=consolemail:// LEARNER_MASTER_KEYS= \
    python manage.py collectstatic --noinput \
    && mkdir -p /data/media \
    && chown cohortly:cohortly /data/media

USER cohortly
ENV DJANGO_ENV=production \
    MEDIA_ROOT=/data/media
EXPOSE 8000
CMD ["gunicorn", "config.wsgi", "--bind", "0.0.0.0:8000", "--workers", "3", "--access-logfile", "-"]
