# Yardem bot image: non-root, data on one volume, the root key on another (or a secret).
#   docker run -e BOT_TOKEN=... -v yardem-data:/data -v yardem-key:/key yardem
# See the README's Docker section for a secret instead of the key volume.
#
# The base image is pinned by digest: python:3.11.14-slim (Debian trixie), a
# multi-arch index (amd64, arm64). Refresh it with
#   docker buildx imagetools inspect python:3.11-slim
# and update the tag and the digest together.
FROM python:3.11.14-slim@sha256:c8271b1f627d0068857dce5b53e14a9558603b527e46f1f901722f935b786a39

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    DATA_DIR=/data \
    ROOT_KEY_FILE=/key/root.key \
    LOCALES_DIR=/app/locales

# Graphviz draws the flow map coordinators ask for (/texts, python -m flows graph);
# one font so PNG labels have glyphs.
RUN apt-get update \
    && apt-get install -y --no-install-recommends graphviz fonts-dejavu-core \
    && rm -rf /var/lib/apt/lists/*

# uid 10001: a bind-mounted folder for /data or /key must be writable by it.
RUN useradd --system --create-home --uid 10001 yardem \
    && mkdir -p /data /key \
    && chown yardem:yardem /data /key \
    && chmod 700 /data /key

WORKDIR /src
# Dependencies first, exactly as locked (versions and hashes), so code changes
# do not re-download them.
COPY requirements.lock ./
RUN pip install --no-cache-dir --require-hashes -r requirements.lock
COPY pyproject.toml README.md babel.cfg ./
COPY flows ./flows
COPY storage ./storage
COPY bot ./bot
COPY locales ./locales
# A regular (not editable) install of the project alone: its dependencies are
# in already. Only the catalogs stay outside site-packages; the sources go, so
# what runs is what was installed.
RUN pip install --no-cache-dir --no-deps . \
    && mkdir -p /app && mv locales /app/locales \
    && cd / && rm -rf /src
WORKDIR /app

USER yardem
VOLUME ["/data", "/key"]
EXPOSE 8443
STOPSIGNAL SIGTERM
# Healthy: the database reads and the Bot API answered within three minutes.
HEALTHCHECK --interval=60s --timeout=10s --start-period=90s --retries=3 \
    CMD ["python", "-m", "bot", "health"]
CMD ["python", "-m", "bot"]
