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
	"runtime"
	"strconv"
)

func init() {
	addr := os.Getenv("LTIPUB_PPROF_ADDR")
	if addr == "" {
		return
	}
	if host, _, err := net.SplitHostPort(addr); err != nil || !net.ParseIP(host).IsLoopback() {
		panic("LTIPUB_PPROF_ADDR must be a loopback host:port")
	}
	// LTIPUB_PPROF_BLOCK (nanoseconds) and LTIPUB_PPROF_MUTEX (1 in N) turn on the block and mutex profiles,
	// which find where requests wait (a pool's connection, a lock) rather than where they spend CPU.
	if n, err := strconv.Atoi(os.Getenv("LTIPUB_PPROF_BLOCK")); err == nil && n > 0 {
		runtime.SetBlockProfileRate(n)
	}
	if n, err := strconv.Atoi(os.Getenv("LTIPUB_PPROF_MUTEX")); err == nil && n > 0 {
		runtime.SetMutexProfileFraction(n)
	}
	go func() { _ = http.ListenAndServe(addr, nil) }()
}
