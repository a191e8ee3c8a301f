// Command server is golb's private-module example: it imports
// golb.test/private/greeting, which only a GOPROXY with a password serves
// (see docs/private-modules.md). It greets on / with the private module's
// greeting, or prints it with -greet, and shuts down gracefully on SIGTERM
// or SIGINT.
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

	"golb.test/private/greeting"
)

// version is set at link time with -ldflags "-X main.version=…".
var version = "dev"

func newMux() *http.ServeMux {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		fmt.Fprintln(w, greeting.Hello())
	})
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		fmt.Fprintln(w, "ok")
	})
	return mux
}

func main() {
	addr := flag.String("addr", ":8080", "address to listen on")
	showVersion := flag.Bool("version", false, "print the version and exit")
	greet := flag.Bool("greet", false, "print the private module's greeting and exit")
	flag.Parse()

	switch {
	case *showVersion:
		fmt.Printf("private %s\n", version)
	case *greet:
		fmt.Println(greeting.Hello())
	default:
		if err := serve(*addr); err != nil {
			log.Fatal(err)
		}
	}
}

// serve runs the HTTP server until SIGTERM or SIGINT, then drains open
// connections for up to ten seconds.
func serve(addr string) error {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()

	srv := &http.Server{
		Addr:              addr,
		Handler:           newMux(),
		ReadHeaderTimeout: 5 * time.Second,
	}

	errc := make(chan error, 1)
	go func() {
		log.Printf("private %s listening on %s", version, addr)
		errc <- srv.ListenAndServe()
	}()

	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}

	log.Print("shutting down")
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil {
		return err
	}
	if err := <-errc; !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}
