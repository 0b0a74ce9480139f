//go:build pprof

package main

// Profiling builds only (go build -tags pprof ./cmd/ltipub): LTIPUB_PPROF_ADDR=127.0.0.1:6060 serves
// net/http/pprof there, so that docs/performance.md's profiles come from the real server under load. Release
// builds have no such listener.

import (
	"net"
	"net/http"
	_ "net/http/pprof"
	"os"
)

func init() {
	addr := os.Getenv("LTIPUB_PPROF_ADDR")
	if addr == "" {
		return
	}
	if host, _, err := net.SplitHostPort(addr); err != nil || !net.ParseIP(host).IsLoopback() {
		panic("LTIPUB_PPROF_ADDR must be a loopback host:port")
	}
	go func() { _ = http.ListenAndServe(addr, nil) }()
}
