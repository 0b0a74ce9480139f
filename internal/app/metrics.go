package app

import (
	"context"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"time"
)

// MetricsHandler is what the --metrics-addr listener serves: /metrics without a token (the listener is meant to be
// reachable only from the monitoring network) and the Go profiler under /debug/pprof/, which never goes on the main
// listener.
func (a *App) MetricsHandler() http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", a.Metrics.Handler())
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "this listener serves /metrics and /debug/pprof/ only", http.StatusNotFound)
	})
	return mux
}

// ServeMetrics serves MetricsHandler on ln until ctx ends.
func (a *App) ServeMetrics(ctx context.Context, ln net.Listener) {
	// No write timeout: a CPU profile takes as long as it is asked to.
	srv := &http.Server{Handler: a.MetricsHandler(), ReadHeaderTimeout: 10 * time.Second,
		ErrorLog: slog.NewLogLogger(a.Log.Handler(), slog.LevelWarn)}
	go func() {
		<-ctx.Done()
		shutdownCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(shutdownCtx)
	}()
	if err := srv.Serve(ln); err != nil && err != http.ErrServerClosed {
		a.Log.Error("metrics listener stopped", slog.Any("error", err))
	}
}
