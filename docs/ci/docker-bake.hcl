# docker-bake.hcl for a Go service built with golb (docs/install.md).
#   docker buildx bake                 # the image, for amd64 and arm64
#   docker buildx bake test            # go test, coverage.out in reports/
#   VERSION=1.2.3 docker buildx bake --push
# tests/tests/publish.rs builds the `default` and `test` targets of this file.
variable "REGISTRY" {
  default = "registry.example.com/acme"
}
variable "VERSION" {
  default = "dev"
}

target "default" {
  context    = "."
  dockerfile = "golb.toml"
  args       = { VERSION = VERSION }
  platforms  = ["linux/amd64", "linux/arm64"]
  tags       = ["${REGISTRY}/api:${VERSION}"]
}

target "test" {
  inherits  = ["default"]
  target    = "test"
  platforms = []
  tags      = []
  output    = ["type=local,dest=reports"]
}
