package web_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/ltipub/ltipub/internal/app/apptest"
	"github.com/ltipub/ltipub/internal/config"
	"github.com/ltipub/ltipub/internal/publish"
	"github.com/ltipub/ltipub/lti/ltitest"
)

// TestLaunchStaleIDToken: an id_token issued 20 minutes ago is refused with iat_too_old even though its exp is
// an hour away (a platform whose clock lags, or a token kept and replayed); --max-token-age raises the bound.
func TestLaunchStaleIDToken(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name     string
		maxAge   time.Duration
		wantCode string
	}{
		{"default 10m", 0, "iat_too_old"},
		{"max-token-age 30m", 30 * time.Minute, ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			inst := apptest.Start(t, apptest.Options{Configure: func(c *config.Config) { c.MaxTokenAge = tt.maxAge; c.ClockSkew = time.Minute }})
			p := ltitest.NewServer(t, ltitest.Config{Now: func() time.Time { return time.Now().Add(-20 * time.Minute) }, IDTokenTTL: time.Hour})
			in := publish.NewInput(inst.ExampleCourse(t, "").Course.ID)
			publishedUUID.Store(t.Name()[:len("TestLaunchStaleIDToken")], inst.Publish(t, in).UUID)
			inst.Platform(t, p, "client-1")
			res, err := p.Launch(context.Background(), newLaunchClient(), learnerSpec(t))
			if err != nil {
				t.Fatal(err)
			}
			if tt.wantCode == "" {
				if res.Response.StatusCode != http.StatusOK {
					t.Fatalf("a 20-minute-old token under a 30-minute bound: %d %s", res.Response.StatusCode, res.Body)
				}
				return
			}
			if code, problem := readProblem(t, inst, res); res.Response.StatusCode != http.StatusUnauthorized || code != tt.wantCode {
				t.Fatalf("status %d, code %q (%s); want 401 %s", res.Response.StatusCode, code, problem, tt.wantCode)
			}
		})
	}
}
