FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1
WORKDIR /app

COPY pyproject.toml ./
RUN pip install --no-cache-dir "Django>=5.2,<5.3" "django-environ>=0.11" "celery[redis]>=5.5,<6" \
      "psycopg[binary]>=3.2" "cryptography>=42" "django-axes>=8.0" "django-csp>=4.0" \
      "django-permissions-policy>=4.20" "whitenoise>=6.6" "gunicorn>=22"
COPY . .
# Static files are collected at build time with throw-away keys; real keys come at run time.
RUN DEBUG=False SECRET_KEY="build-only-$(python -c 'import secrets; print(secrets.token_urlsafe(64))')" \
    DEFAULT_PASSWORD_KEYS="$(python -c 'from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())')" \
    python manage.py collectstatic --noinput

RUN useradd --create-home portal && mkdir -p /app/var && chown portal /app/var
USER portal
EXPOSE 8000
CMD ["gunicorn", "ncedcloud.wsgi", "--bind", "0.0.0.0:8000"]
