// Command server is golb's heavier example: an HTTP endpoint with Prometheus
// metrics next to a gRPC health service, configured from YAML, run together
// with errgroup and shut down gracefully on SIGTERM or SIGINT.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"golang.org/x/sync/errgroup"
	"google.golang.org/grpc"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/reflection"

	"example.com/heavy/internal/config"
)

// version is set at link time with -ldflags "-X main.version=…".
var version = "dev"

// service holds what the handlers share.
type service struct {
	cfg      config.Config
	registry *prometheus.Registry
	requests *prometheus.CounterVec
	health   *health.Server
}

func newService(cfg config.Config) *service {
	registry := prometheus.NewRegistry()
	registry.MustRegister(
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
	)
	requests := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "heavy_http_requests_total",
		Help: "HTTP requests served, by path and status code.",
	}, []string{"path", "code"})
	registry.MustRegister(requests)
	info := prometheus.NewGauge(prometheus.GaugeOpts{
		Name:        "heavy_build_info",
		Help:        "Always 1; the version is a label.",
		ConstLabels: prometheus.Labels{"version": version},
	})
	info.Set(1)
	registry.MustRegister(info)
	return &service{cfg: cfg, registry: registry, requests: requests, health: health.NewServer()}
}

func (s *service) mux() *http.ServeMux {
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", promhttp.HandlerFor(s.registry, promhttp.HandlerOpts{Registry: s.registry}))
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, _ *http.Request) {
		s.requests.WithLabelValues("/", "200").Inc()
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		fmt.Fprintf(w, "%s %s!\n", s.cfg.Greeting, version)
	})
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		s.requests.WithLabelValues("/healthz", "200").Inc()
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		fmt.Fprintln(w, "ok")
	})
	return mux
}

func (s *service) grpcServer() *grpc.Server {
	srv := grpc.NewServer()
	healthpb.RegisterHealthServer(srv, s.health)
	reflection.Register(srv)
	s.health.SetServingStatus("", healthpb.HealthCheckResponse_SERVING)
	return srv
}

func main() {
	configPath := flag.String("config", "", "YAML configuration file (defaults when empty)")
	showVersion := flag.Bool("version", false, "print the version and exit")
	flag.Parse()

	if *showVersion {
		fmt.Printf("heavy %s\n", version)
		return
	}
	cfg, err := config.Load(*configPath)
	if err != nil {
		log.Fatal(err)
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	if err := run(ctx, newService(cfg)); err != nil {
		log.Fatal(err)
	}
}

// run serves HTTP and gRPC until ctx ends or one of them fails.
func run(ctx context.Context, s *service) error {
	httpSrv := &http.Server{Addr: s.cfg.HTTPAddr, Handler: s.mux(), ReadHeaderTimeout: 5 * time.Second}
	grpcSrv := s.grpcServer()
	lis, err := net.Listen("tcp", s.cfg.GRPCAddr)
	if err != nil {
		return err
	}

	g, ctx := errgroup.WithContext(ctx)
	g.Go(func() error {
		log.Printf("heavy %s: HTTP on %s", version, s.cfg.HTTPAddr)
		if err := httpSrv.ListenAndServe(); !errors.Is(err, http.ErrServerClosed) {
			return err
		}
		return nil
	})
	g.Go(func() error {
		log.Printf("heavy %s: gRPC on %s", version, lis.Addr())
		return grpcSrv.Serve(lis)
	})
	g.Go(func() error {
		<-ctx.Done()
		log.Print("shutting down")
		s.health.Shutdown()
		shutdownCtx, cancel := context.WithTimeout(context.Background(), s.cfg.ShutdownTimeout)
		defer cancel()
		grpcSrv.GracefulStop()
		return httpSrv.Shutdown(shutdownCtx)
	})
	return g.Wait()
}
