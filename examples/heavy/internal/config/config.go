// Package config reads the service's YAML configuration.
package config

import (
	"bytes"
	"fmt"
	"os"
	"time"

	"gopkg.in/yaml.v3"
)

// Config is the service's configuration file.
type Config struct {
	// HTTPAddr serves /metrics and /healthz.
	HTTPAddr string `yaml:"http_addr"`
	// GRPCAddr serves the gRPC health service.
	GRPCAddr string `yaml:"grpc_addr"`
	// ShutdownTimeout bounds the graceful shutdown.
	ShutdownTimeout time.Duration `yaml:"shutdown_timeout"`
	// Greeting is returned by GET /.
	Greeting string `yaml:"greeting"`
}

// Default is the configuration used when no file is given.
func Default() Config {
	return Config{
		HTTPAddr:        ":8080",
		GRPCAddr:        ":9090",
		ShutdownTimeout: 10 * time.Second,
		Greeting:        "Hello from heavy",
	}
}

// Parse reads YAML over the defaults; unknown keys are errors.
func Parse(data []byte) (Config, error) {
	cfg := Default()
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&cfg); err != nil && err.Error() != "EOF" {
		return Config{}, fmt.Errorf("config: %w", err)
	}
	if cfg.HTTPAddr == "" || cfg.GRPCAddr == "" {
		return Config{}, fmt.Errorf("config: http_addr and grpc_addr must not be empty")
	}
	if cfg.ShutdownTimeout <= 0 {
		return Config{}, fmt.Errorf("config: shutdown_timeout must be positive, got %s", cfg.ShutdownTimeout)
	}
	return cfg, nil
}

// Load reads a configuration file; an empty path gives the defaults.
func Load(path string) (Config, error) {
	if path == "" {
		return Default(), nil
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return Config{}, fmt.Errorf("config: %w", err)
	}
	return Parse(data)
}
