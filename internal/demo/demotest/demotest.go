// Package demotest runs `ltipub demo` as a child process, built from this checkout, for the tests that need the
// real command: its output, its signals, its temporary folder.
package demotest

import (
	"bufio"
	"context"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// Binary builds cmd/ltipub into the test's temporary folder and returns its path. The Go build cache makes this
// a link, a few seconds; building per test leaves nothing behind.
func Binary(t testing.TB) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "ltipub")
	if out, err := exec.Command("go", "build", "-o", bin, "github.com/ltipub/ltipub/cmd/ltipub").CombinedOutput(); err != nil {
		t.Fatalf("go build ./cmd/ltipub: %v\n%s", err, out)
	}
	return bin
}

// Child is a running `ltipub demo`.
type Child struct {
	URL      string // the demo LMS, without the trailing slash
	Password string // the demo admin's
	Cmd      *exec.Cmd

	mu     sync.Mutex
	output strings.Builder
	done   chan struct{}
	err    error
}

// Output is what the child printed so far (standard output and error).
func (c *Child) Output() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.output.String()
}

// Start runs `ltipub demo args...` with env added to the environment and waits for its URL and password. The child
// is killed when the test ends, if it still runs. bin is from Binary.
func Start(t testing.TB, bin string, env []string, args ...string) *Child {
	t.Helper()
	cmd := exec.Command(bin, append([]string{"demo"}, args...)...)
	// English, whatever the machine's locale: the output is read by its English words.
	cmd.Env = append(append(os.Environ(), "LC_ALL=C"), env...)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	c := &Child{Cmd: cmd, done: make(chan struct{})}
	cmd.Stderr = writerFunc(func(p []byte) (int, error) {
		c.mu.Lock()
		defer c.mu.Unlock()
		return c.output.Write(p)
	})
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	ready := make(chan struct{})
	go func() {
		sc := bufio.NewScanner(stdout)
		signalled := false
		for sc.Scan() {
			line := sc.Text()
			c.mu.Lock()
			c.output.WriteString(line + "\n")
			if strings.HasPrefix(line, "http://") {
				c.URL = strings.TrimSuffix(line, "/")
			}
			if _, pw, ok := strings.Cut(line, "username admin, password "); ok {
				c.Password = pw
			}
			if c.URL != "" && c.Password != "" && !signalled {
				signalled = true
				close(ready)
			}
			c.mu.Unlock()
		}
		_, _ = io.Copy(io.Discard, stdout)
		c.err = cmd.Wait()
		close(c.done)
	}()
	t.Cleanup(func() {
		select {
		case <-c.done:
		default:
			_ = cmd.Process.Kill()
			<-c.done
		}
	})
	select {
	case <-ready:
		c.mu.Lock()
		defer c.mu.Unlock()
		return c
	case <-c.done:
		t.Fatalf("ltipub demo exited before printing its URL and password (%v):\n%s", c.err, c.Output())
	case <-time.After(90 * time.Second):
		t.Fatalf("ltipub demo printed no URL within 90 s:\n%s", c.Output())
	}
	return nil
}

// Interrupt sends SIGINT, as Ctrl-C does, and waits up to timeout for the child to exit; it returns the exit
// error (nil for a clean exit).
func (c *Child) Interrupt(ctx context.Context, timeout time.Duration) error {
	if err := c.Cmd.Process.Signal(syscall.SIGINT); err != nil {
		return err
	}
	select {
	case <-c.done:
		return c.err
	case <-time.After(timeout):
		return errors.New("ltipub demo still runs " + timeout.String() + " after SIGINT")
	case <-ctx.Done():
		return ctx.Err()
	}
}

type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(p []byte) (int, error) { return f(p) }
