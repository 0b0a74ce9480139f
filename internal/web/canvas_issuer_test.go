package web_test

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"testing"

	"github.com/ltipub/ltipub/internal/app/apptest"
	"github.com/ltipub/ltipub/internal/launch"
	"github.com/ltipub/ltipub/internal/publish"
	"github.com/ltipub/ltipub/lti/ltitest"
)

// TestCanvasSharedIssuer: two Canvas instances share the issuer https://canvas.instructure.com and Canvas's
// signing keys, and differ by their developer key (client_id) and, here, their auth URLs. ltipub keeps the two
// registrations apart: each login goes to its own registration's auth URL with its client_id, each learner's
// launch lands in a resource link of its own registration (even with the same deployment and link IDs), and an
// id_token for the other instance's client_id is refused at the login's registration.
func TestCanvasSharedIssuer(t *testing.T) {
	t.Parallel()
	var canvas ltitest.Profile
	for _, p := range ltitest.Profiles() {
		if p.Name == "canvas" {
			canvas = p
		}
	}
	if canvas.SharedIssuer != ltitest.CanvasIssuer {
		t.Fatalf("the Canvas profile has no shared issuer: %+v", canvas)
	}
	// Canvas's keys are "environment-specific, but not domain-specific": both instances sign with the same key,
	// so only the audience can tell an id_token of one from one of the other.
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	instance := func() *ltitest.Platform {
		cfg := ltitest.Config{SigningKey: key, Issuer: canvas.SharedIssuer}
		canvas.Configure(&cfg)
		return ltitest.NewServer(t, cfg)
	}
	a, b := instance(), instance()
	inst := apptest.Start(t, apptest.Options{})
	const clientA, clientB = "10000000000001", "10000000000002"
	regA := inst.Platform(t, a, clientA, canvas.DeploymentID)
	regB := inst.Platform(t, b, clientB, canvas.DeploymentID)
	if regA.Issuer != regB.Issuer || regA.Issuer != ltitest.CanvasIssuer || a.Issuer() != ltitest.CanvasIssuer {
		t.Fatalf("issuers: %q %q %q", regA.Issuer, regB.Issuer, a.Issuer())
	}
	imported := inst.ExampleCourse(t, "")
	res := inst.Publish(t, publish.NewInput(imported.Course.ID))
	ctx := context.Background()

	learner := func(p *ltitest.Platform, sub, clientID string) ltitest.LaunchSpec {
		s := spec(sub, false, res)
		s.Roles, s.DeploymentID, s.ClientID = canvas.LearnerRoles, canvas.DeploymentID, clientID
		for k, v := range canvas.Custom {
			s.Custom[k] = v
		}
		return s
	}
	for _, c := range []struct {
		p        *ltitest.Platform
		sub, cid string
		regID    int64
	}{{a, "canvas-a-learner", clientA, regA.ID}, {b, "canvas-b-learner", clientB, regB.ID}} {
		w := &world{inst: inst, p: c.p, course: imported.Course}
		s := learner(c.p, c.sub, c.cid)
		if r := w.browser(t).launch(s); r.StatusCode != http.StatusOK {
			t.Fatalf("%s launch: %d %s", c.cid, r.StatusCode, r.Body)
		}
		// The login went to this instance's own auth URL, with its client_id.
		auths := c.p.AuthRequests()
		if len(auths) == 0 || auths[len(auths)-1].Params.Get("client_id") != c.cid || auths[len(auths)-1].Error != "" {
			t.Fatalf("%s: the auth request did not reach its own instance with its client_id: %+v", c.cid, auths)
		}
		e := newestLaunch(t, inst)
		if e.Outcome != launch.Accepted || e.RegistrationID != c.regID || e.ClientID != c.cid {
			t.Fatalf("%s launch logged as %+v, want registration %d", c.cid, e, c.regID)
		}
		link, err := inst.Store.ResourceLink(ctx, c.regID, canvas.DeploymentID, s.ResourceLink.ID)
		if err != nil || link.PublishedResourceID != res.ID {
			t.Fatalf("%s: no resource link of its own registration: %+v %v", c.cid, link, err)
		}
	}
	linkA, _ := inst.Store.ResourceLink(ctx, regA.ID, canvas.DeploymentID, learner(a, "x", clientA).ResourceLink.ID)
	linkB, _ := inst.Store.ResourceLink(ctx, regB.ID, canvas.DeploymentID, learner(b, "x", clientB).ResourceLink.ID)
	if linkA.ID == linkB.ID {
		t.Fatalf("both instances' launches share resource link %d", linkA.ID)
	}

	// A login started by instance A (client_id A) answered with an id_token for instance B's client_id: the
	// signature, issuer and deployment are all right, the audience is not the login's registration.
	jar, _ := cookiejar.New(nil)
	client := &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	ini, err := a.LoginInitiation(learner(a, "canvas-a-learner", clientA))
	if err != nil {
		t.Fatal(err)
	}
	req, err := ini.NewRequest(ctx)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	loc, err := url.Parse(resp.Header.Get("Location"))
	if err != nil || !strings.HasPrefix(loc.String(), a.AuthURL()) || loc.Query().Get("client_id") != clientA {
		t.Fatalf("login of instance A redirected to %q (%d), want %s with client_id %s", resp.Header.Get("Location"), resp.StatusCode, a.AuthURL(), clientA)
	}
	tok, err := b.MintIDToken(learner(b, "canvas-a-learner", clientB), loc.Query().Get("nonce"))
	if err != nil {
		t.Fatal(err)
	}
	r := inst.PostForm(t, client, "/lti/launch", url.Values{"id_token": {tok}, "state": {loc.Query().Get("state")}})
	if r.StatusCode == http.StatusOK || r.StatusCode == http.StatusSeeOther {
		t.Fatalf("an id_token for the other instance's client_id was accepted: %d %s", r.StatusCode, r.Body)
	}
	e := newestLaunch(t, inst)
	if e.Outcome != launch.Refused || e.Code != "aud_mismatch" || e.RegistrationID != regA.ID {
		t.Fatalf("the crossed launch is logged as %+v, want aud_mismatch at registration %d", e, regA.ID)
	}
}
