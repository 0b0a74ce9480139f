package web_test

import (
	"bytes"
	"html"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/ltipub/ltipub/internal/app/apptest"
	"github.com/ltipub/ltipub/internal/config"
)

// syncBuffer is a bytes.Buffer the server's goroutines may write to while the test reads it.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

// TestRegistrationPagesHideInternals: the pages a dynamic-registration URL reaches (anyone who holds one) name
// what went wrong in words, without resolver addresses, resolved internal addresses or raw connection errors; the
// log keeps the detail, but never the registration token.
func TestRegistrationPagesHideInternals(t *testing.T) {
	t.Parallel()
	for _, allowPrivate := range []bool{true, false} {
		logs := &syncBuffer{}
		inst := apptest.Start(t, apptest.Options{LogOutput: logs, Configure: func(c *config.Config) { c.AllowPrivateURLs = allowPrivate }})
		_, regURL := createPlatform(t, inst, adminClient(t, inst), "Leaky")
		token := regURL[strings.LastIndex(regURL, "/")+1:]
		anon := inst.Client(t)
		configs := []string{"http://127.0.0.1:1/config", "http://no-such-host.invalid/config", "https://localhost:1/config"}
		if !allowPrivate {
			configs = []string{"https://localhost:1/config", "https://127.0.0.1:1/config"}
		}
		for _, cfgURL := range configs {
			r := inst.Get(t, anon, strings.TrimPrefix(regURL, inst.URL)+"?"+url.Values{"openid_configuration": {cfgURL}}.Encode())
			body := html.UnescapeString(r.Body)
			if r.StatusCode < 400 || !strings.Contains(body, "could not be fetched") {
				t.Fatalf("%s: %d %s", cfgURL, r.StatusCode, body)
			}
			for _, leak := range []string{"dial tcp", "connect:", "lookup ", ":53", "127.0.0.53", "[::1]", "(127.0.0.1)", "no such host", "i/o timeout"} {
				if strings.Contains(body, leak) {
					t.Errorf("allow private %v, %s: the page shows %q: %s", allowPrivate, cfgURL, leak, body)
				}
			}
		}
		if r := inst.Get(t, anon, strings.TrimPrefix(regURL, inst.URL)); r.StatusCode != http.StatusBadRequest {
			t.Fatalf("no openid_configuration: %d", r.StatusCode)
		}
		log := logs.String()
		if !strings.Contains(log, "/lti/register/") {
			t.Fatalf("the access log has no registration request at all:\n%s", log)
		}
		if strings.Contains(log, token) {
			t.Fatalf("the log holds the registration token %s:\n%s", token, log)
		}
	}
}
