# Yardem bot image: non-root, data on a volume, long polling by default.
# Pass BOT_TOKEN (and ROOT_KEY from a secret store in production) at run time:
#   docker run -e BOT_TOKEN=... -v yardem-data:/data yardem
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    DATA_DIR=/data

# Graphviz draws the flow map coordinators ask for (/texts, python -m flows graph);
# one font so PNG labels have glyphs.
RUN apt-get update \
    && apt-get install -y --no-install-recommends graphviz fonts-dejavu-core \
    && rm -rf /var/lib/apt/lists/*

RUN useradd --system --create-home --uid 10001 yardem \
    && mkdir -p /data && chown yardem:yardem /data && chmod 700 /data

WORKDIR /app
COPY pyproject.toml README.md babel.cfg ./
COPY flows ./flows
COPY storage ./storage
COPY bot ./bot
COPY locales ./locales
RUN pip install --no-cache-dir -e .

USER yardem
VOLUME ["/data"]
EXPOSE 8443
STOPSIGNAL SIGTERM
CMD ["python", "-m", "bot"]
