// Command ratelimited is golb's vendored example: a chi router behind a
// token-bucket rate limiter (golang.org/x/time/rate), with its dependencies
// committed in vendor/.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/go-chi/chi/v5/middleware"
	"golang.org/x/time/rate"
)

// version is set at link time with -ldflags "-X main.version=…".
var version = "dev"

// limit answers 429 once the bucket is empty.
func limit(limiter *rate.Limiter) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if !limiter.Allow() {
				http.Error(w, "slow down", http.StatusTooManyRequests)
				return
			}
			next.ServeHTTP(w, r)
		})
	}
}

func newRouter(limiter *rate.Limiter) http.Handler {
	r := chi.NewRouter()
	r.Use(middleware.Recoverer)
	r.Get("/healthz", func(w http.ResponseWriter, _ *http.Request) {
		fmt.Fprintln(w, "ok")
	})
	r.Group(func(r chi.Router) {
		r.Use(limit(limiter))
		r.Get("/hello/{name}", func(w http.ResponseWriter, req *http.Request) {
			fmt.Fprintf(w, "Hello, %s! (ratelimited %s)\n", chi.URLParam(req, "name"), version)
		})
	})
	return r
}

func main() {
	addr := flag.String("addr", ":8080", "address to listen on")
	perSecond := flag.Float64("rate", 10, "requests per second allowed on /hello")
	burst := flag.Int("burst", 20, "burst size of the limiter")
	showVersion := flag.Bool("version", false, "print the version and exit")
	flag.Parse()

	if *showVersion {
		fmt.Printf("ratelimited %s\n", version)
		return
	}
	srv := &http.Server{
		Addr:              *addr,
		Handler:           newRouter(rate.NewLimiter(rate.Limit(*perSecond), *burst)),
		ReadHeaderTimeout: 5 * time.Second,
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	go func() {
		<-ctx.Done()
		shutdownCtx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = srv.Shutdown(shutdownCtx)
	}()
	log.Printf("ratelimited %s listening on %s", version, *addr)
	if err := srv.ListenAndServe(); !errors.Is(err, http.ErrServerClosed) {
		log.Fatal(err)
	}
}
