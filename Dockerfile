# stemmen: the API service. Build: docker build -t stemmen .
FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1
WORKDIR /app
RUN useradd --create-home --uid 10001 stemmen
COPY pyproject.toml setup.py README.md alembic.ini ./
COPY stemmen ./stemmen
COPY migrations ./migrations
COPY examples ./examples
# gcc builds the C runs of Equal Shares' add1 search (setup.py), then leaves the image.
RUN apt-get update && apt-get install -y --no-install-recommends gcc libc6-dev \
    && pip install -e . \
    && python -c "from stemmen.budget._mes_floats import available; assert available()" \
    && apt-get purge -y gcc libc6-dev && apt-get autoremove -y && rm -rf /var/lib/apt/lists/*
USER stemmen
EXPOSE 8000
# The same commands as on a developer's machine: see README.md, "The command line".
CMD ["stemmen", "serve", "--host", "0.0.0.0", "--port", "8000", "--workers", "4", "--no-migrate"]
HEALTHCHECK --interval=10s --timeout=3s --retries=5 \
  CMD python -c "import urllib.request,sys; sys.exit(0 if urllib.request.urlopen('http://127.0.0.1:8000/health').status == 200 else 1)"
