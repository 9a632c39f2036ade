FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1
WORKDIR /app

COPY requirements.txt .
RUN pip install -r requirements.txt

COPY . .
# collectstatic needs settings that import; these values exist only for this build step.
RUN SECRET_KEY=build JWT_SIGNING_KEY=build python manage.py collectstatic --noinput

RUN useradd --system --uid 1000 shop
USER shop
EXPOSE 8000
# The same image runs the web tier (this), the migration, the Celery worker and beat
# (docker-compose.yml gives each its command). Tuning: GUNICORN_* variables (config/gunicorn.py).
CMD ["gunicorn", "-c", "config/gunicorn.py", "config.wsgi:application"]
