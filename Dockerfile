# Multi-stage build of the single kfp-driver-plugin binary. The build command
# is the Makefile's `build` line; TestBuildCommandsMatch keeps them equal.
FROM golang:1.26 AS build
WORKDIR /src
ENV GONOSUMDB=github.com/kubeflow/pipelines
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG VERSION=0.1.0
RUN CGO_ENABLED=0 go build -trimpath -ldflags "-s -w -X main.version=${VERSION}" -o bin/kfp-driver-plugin .
# KFP's compiled workflows run `driver` in the driver image: the same binary
# under that name is the one-shot mode (a drop-in for V2_DRIVER_IMAGE).
RUN mkdir -p /out/usr/local/bin && ln -s /kfp-driver-plugin /out/usr/local/bin/driver

# Static binary on distroless: no shell, no package manager. Runs as the uid
# that owns Argo's token file, so the sidecar can read it (mode 0440).
FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /src/bin/kfp-driver-plugin /kfp-driver-plugin
COPY --from=build /out/ /
USER 8737:8737
EXPOSE 7492
ENTRYPOINT ["/kfp-driver-plugin"]
CMD ["serve"]
