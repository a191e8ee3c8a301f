package main

import (
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"golang.org/x/time/rate"
)

func status(t *testing.T, srv *httptest.Server, path string) (int, string) {
	t.Helper()
	resp, err := http.Get(srv.URL + path)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body)
}

func TestHelloThenRateLimited(t *testing.T) {
	// One token, never refilled: the first request passes, the second is limited.
	srv := httptest.NewServer(newRouter(rate.NewLimiter(0, 1)))
	defer srv.Close()

	if code, body := status(t, srv, "/hello/gopher"); code != http.StatusOK || body != "Hello, gopher! (ratelimited "+version+")\n" {
		t.Fatalf("first /hello = %d %q", code, body)
	}
	if code, _ := status(t, srv, "/hello/gopher"); code != http.StatusTooManyRequests {
		t.Fatalf("second /hello = %d, want 429", code)
	}
	if code, _ := status(t, srv, "/healthz"); code != http.StatusOK {
		t.Fatalf("/healthz is not limited, got %d", code)
	}
}
