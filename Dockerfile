# A minimal image of atomcp: a static binary on distroless, as a non-root
# user. Untested where atomcp is developed (no Docker engine runs there);
# see docs/deployment.md.
FROM golang:1.26 AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG VERSION=dev
RUN CGO_ENABLED=0 go build -trimpath -ldflags "-s -w -X main.version=${VERSION}" -o /out/atomcp ./cmd/atomcp

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/atomcp /usr/local/bin/atomcp
WORKDIR /data
ENV ATOMCP_ADDR=0.0.0.0:8000 \
    ATOMCP_DATABASE_URL=sqlite:///data/atomcp.db
EXPOSE 8000
USER nonroot:nonroot
ENTRYPOINT ["/usr/local/bin/atomcp"]
CMD ["serve"]
