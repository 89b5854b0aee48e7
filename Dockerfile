# Builds the two services of docker-compose.yml: `--target api` and
# `--target worker`. Each image holds its own binary and nothing else: each
# is built in a stage of its own, so the api image cannot carry the worker,
# and neither carries `tradeloop`, the dev all-in-one with its embedded
# Temporal server (that one is built by `make build`, never here).
FROM golang:1.26.8-bookworm AS source
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .

FROM source AS build-api
RUN CGO_ENABLED=0 go build -trimpath -o /out/api ./cmd/api

FROM source AS build-worker
RUN CGO_ENABLED=0 go build -trimpath -o /out/worker ./cmd/worker

FROM gcr.io/distroless/static-debian12:nonroot AS api
COPY --from=build-api /out/api /usr/local/bin/api
USER nonroot:nonroot
EXPOSE 8080
ENTRYPOINT ["/usr/local/bin/api"]

FROM gcr.io/distroless/static-debian12:nonroot AS worker
COPY --from=build-worker /out/worker /usr/local/bin/worker
USER nonroot:nonroot
ENTRYPOINT ["/usr/local/bin/worker"]
