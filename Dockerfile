FROM python:3.13-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1

WORKDIR /app
COPY pyproject.toml README.md ./
COPY carelink ./carelink
COPY records ./records
COPY consent ./consent
COPY referrals ./referrals
RUN pip install .
COPY . .
RUN DJANGO_SECRET_KEY=build-only python manage.py collectstatic --noinput --verbosity 0

RUN useradd --system --uid 10001 carelink && chown -R carelink /app
USER carelink
EXPOSE 8000
CMD ["gunicorn", "carelink.wsgi:application", "--bind", "0.0.0.0:8000", "--workers", "3", "--limit-request-line", "0", "--access-logfile", "-"]
