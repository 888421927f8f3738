FROM python:3.11-slim
WORKDIR /app
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1
COPY pyproject.toml README.md ./
COPY gateway gateway
COPY schema schema
COPY resolvers resolvers
COPY integrations integrations
COPY models models
RUN pip install --no-cache-dir .
RUN useradd --system --home /app mcks && mkdir -p /data && chown mcks /data
USER mcks
ENV MCKS_STORAGE_DIR=/data/files MCKS_HOST=0.0.0.0
EXPOSE 8000
CMD ["mcks", "serve"]
