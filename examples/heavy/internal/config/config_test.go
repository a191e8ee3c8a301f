package config

import (
	"strings"
	"testing"
	"time"
)

func TestParseOverridesDefaults(t *testing.T) {
	cfg, err := Parse([]byte("grpc_addr: \":7000\"\nshutdown_timeout: 3s\n"))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.GRPCAddr != ":7000" || cfg.ShutdownTimeout != 3*time.Second {
		t.Fatalf("got %+v", cfg)
	}
	if cfg.HTTPAddr != Default().HTTPAddr {
		t.Fatalf("http_addr should keep its default, got %q", cfg.HTTPAddr)
	}
}

func TestParseEmptyGivesDefaults(t *testing.T) {
	cfg, err := Parse(nil)
	if err != nil {
		t.Fatal(err)
	}
	if cfg != Default() {
		t.Fatalf("got %+v, want the defaults", cfg)
	}
}

func TestParseRejectsUnknownKeys(t *testing.T) {
	_, err := Parse([]byte("http_port: 80\n"))
	if err == nil || !strings.Contains(err.Error(), "http_port") {
		t.Fatalf("want an error naming http_port, got %v", err)
	}
}
