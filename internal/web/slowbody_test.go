package web_test

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/ltipub/ltipub/internal/app/apptest"
)

// waitForLog polls logs until it holds want, or fails the test after a deadline.
func waitForLog(t *testing.T, logs *syncBuffer, want string) string {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		s := logs.String()
		if strings.Contains(s, want) {
			return s
		}
		if time.Now().After(deadline) {
			t.Fatalf("no %q in the log:\n%s", want, s)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func partialLogin(addr, origin string) (net.Conn, error) {
	c, err := net.Dial("tcp", addr)
	if err != nil {
		return nil, err
	}
	_, err = fmt.Fprintf(c, "POST /login HTTP/1.1\r\nHost: %s\r\nOrigin: %s\r\nContent-Type: application/x-www-form-urlencoded\r\n"+
		"Content-Length: 1000\r\n\r\nusername=admin&password=", addr, origin)
	return c, err
}

// TestSlowBodyAndClientGone: a sign-in whose body stops coming (the server's read timeout ends it) gets a 4xx or a
// quiet close, and a client that goes away halfway leaves no trace above a warning; neither writes an ERROR line.
func TestSlowBodyAndClientGone(t *testing.T) {
	t.Parallel()
	logs := &syncBuffer{}
	inst := apptest.Start(t, apptest.Options{LogOutput: logs})
	// The same server with a short read timeout, as production has a 30 s one.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: inst.App.Web, ReadTimeout: 300 * time.Millisecond, ReadHeaderTimeout: time.Second}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })

	t.Run("slow body", func(t *testing.T) {
		c, err := partialLogin(ln.Addr().String(), "http://"+ln.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		_ = c.SetReadDeadline(time.Now().Add(10 * time.Second))
		resp, err := http.ReadResponse(bufio.NewReader(c), nil)
		switch {
		case err == nil:
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode < 400 || resp.StatusCode > 499 {
				t.Fatalf("a body that never finished: %d, want a 4xx", resp.StatusCode)
			}
		case err == io.EOF || strings.Contains(err.Error(), "connection reset"):
			// A quiet close is fine too.
		default:
			t.Fatalf("reading the answer: %v", err)
		}
	})
	t.Run("client goes away", func(t *testing.T) {
		u := strings.TrimPrefix(inst.URL, "http://")
		c, err := partialLogin(u, inst.URL)
		if err != nil {
			t.Fatal(err)
		}
		c.Close()
	})
	waitForLog(t, logs, "The request did not arrive whole")
	// Both requests have been answered once both access-log lines are there.
	deadline := time.Now().Add(10 * time.Second)
	for strings.Count(logs.String(), "path=/login status=400") < 2 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	all := logs.String()
	if n := strings.Count(all, "path=/login status=400"); n < 2 {
		t.Fatalf("%d of 2 cut-short sign-ins logged with 400:\n%s", n, all)
	}
	if strings.Contains(all, "level=ERROR") {
		t.Fatalf("an ERROR line for a client's doing:\n%s", all)
	}
	if n, _ := inst.Store.LoginFailures(t.Context(), "admin", "127.0.0.1", time.Time{}, time.Time{}); n.Account.N != 0 {
		t.Fatalf("a cut-short sign-in counted as a failure: %+v", n)
	}
}

// TestFormTooLarge: a form over the limit is refused with 413 before any handler reads it.
func TestFormTooLarge(t *testing.T) {
	t.Parallel()
	inst := apptest.Start(t, apptest.Options{})
	big := "username=admin&password=" + strings.Repeat("x", 2<<20)
	req, _ := http.NewRequest(http.MethodPost, inst.URL+"/login", strings.NewReader(big))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", inst.URL)
	if r := inst.Do(t, inst.Client(t), req); r.StatusCode != http.StatusRequestEntityTooLarge {
		t.Fatalf("a 2 MiB sign-in form: %d, want 413", r.StatusCode)
	}
}
