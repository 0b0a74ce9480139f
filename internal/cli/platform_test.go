package cli

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/ltipub/ltipub/internal/app"
	"github.com/ltipub/ltipub/internal/launch"
	"github.com/ltipub/ltipub/internal/logging"
)

func TestPlatformCommands(t *testing.T) {
	t.Parallel()
	db := newDB(t)
	base := "--base-url=https://tool.example.edu"

	out, errOut, code := run(t, "platform", "add", "--db", db, base, "--name", "Moodle", "--json")
	var added registrationJSON
	if code != 0 || json.Unmarshal([]byte(out), &added) != nil || added.ID == 0 || added.Status != "Pending" ||
		!strings.HasPrefix(added.Tool.RegistrationURL, "https://tool.example.edu/lti/register/") || added.Tool.LaunchURL != "https://tool.example.edu/lti/launch" ||
		added.Tool.LoginURL != "https://tool.example.edu/lti/login" || added.Tool.JWKSURL != "https://tool.example.edu/lti/jwks" ||
		added.Tool.DeepLinkingURL != "https://tool.example.edu/lti/deeplink" {
		t.Fatalf("platform add: exit %d %q %s", code, out, errOut)
	}
	if _, errOut, code := run(t, "platform", "add", "--db", db); code == 0 || !strings.Contains(errOut, "Give the platform a name") {
		t.Fatalf("platform add without a name: exit %d %s", code, errOut)
	}

	set := func(id string, extra ...string) (string, string, int) {
		args := append([]string{"platform", "set", id, "--db", db, "--json", "--issuer", "https://moodle.example.edu", "--client-id", "abc",
			"--jwks-url", "https://moodle.example.edu/mod/lti/certs.php", "--token-url", "https://moodle.example.edu/mod/lti/token.php",
			"--auth-url", "https://moodle.example.edu/mod/lti/auth.php"}, extra...)
		return run(t, args...)
	}
	if _, errOut, code := set("1", "--jwks-url", "http://moodle.example.edu/certs"); code != 1 || !strings.Contains(errOut, "must use https") {
		t.Fatalf("platform set with an http URL: exit %d %s", code, errOut)
	}
	out, errOut, code = set("1", base)
	var reg registrationJSON
	if code != 0 || json.Unmarshal([]byte(out), &reg) != nil || reg.Platform.Issuer != "https://moodle.example.edu" ||
		reg.Platform.JWKSURL != "https://moodle.example.edu/mod/lti/certs.php" || reg.Tool.JWKSURL != "https://tool.example.edu/lti/jwks" || reg.Status != "Pending" {
		t.Fatalf("platform set: exit %d %q %s", code, out, errOut)
	}
	// Flags left out keep their values.
	if out, _, code := run(t, "platform", "set", "1", "--db", db, "--json", "--client-id", "abc2"); code != 0 ||
		!strings.Contains(out, `"platform":{"issuer":"https://moodle.example.edu","client_id":"abc2"`) {
		t.Fatalf("partial platform set: %s", out)
	}
	run(t, "platform", "add", "--db", db, "--name", "Second")
	if _, errOut, code := run(t, "platform", "set", "2", "--db", db, "--issuer", "https://moodle.example.edu", "--client-id", "abc2",
		"--jwks-url", "https://moodle.example.edu/k", "--token-url", "https://moodle.example.edu/t", "--auth-url", "https://moodle.example.edu/a"); code != 1 ||
		!strings.Contains(errOut, "already belongs to the registration \"Moodle\"") {
		t.Fatalf("duplicate issuer + client ID: exit %d %s", code, errOut)
	}

	if out, errOut, code := run(t, "deployment", "add", "1", "--db", db, "--deployment-id", "d1", "--name", "Site"); code != 0 ||
		!strings.Contains(out, "now Active") {
		t.Fatalf("deployment add: exit %d %s %s", code, out, errOut)
	}
	run(t, "deployment", "add", "1", "--db", db, "--deployment-id", "d2")

	out, _, code = run(t, "platform", "list", "--db", db, "--json")
	var list []registrationJSON
	if code != 0 || json.Unmarshal([]byte(out), &list) != nil || len(list) != 2 || list[0].Status != "Active" || len(list[0].Deployments) != 2 {
		t.Fatalf("platform list: %s", out)
	}
	if out, _, code := run(t, "platform", "list", "--db", db); code != 0 || !strings.Contains(out, "Active") || !strings.Contains(out, "Pending") {
		t.Fatalf("platform list (text): %s", out)
	}
	out, _, code = run(t, "platform", "show", "1", "--db", db, base, "--json")
	if code != 0 || !strings.Contains(out, `"tool":{"launch_url":"https://tool.example.edu/lti/launch"`) || !strings.Contains(out, `"deployment_id":"d1"`) ||
		strings.Contains(out, "registration_url") {
		t.Fatalf("platform show: %s", out)
	}
	if _, errOut, code := run(t, "platform", "show", "99", "--db", db); code != 1 || !strings.Contains(errOut, "no platform registration with ID 99") {
		t.Fatalf("platform show unknown: %d %s", code, errOut)
	}

	// The last deployment of a registration that has launched goes only with --force.
	st, err := app.OpenStore(context.Background(), db, logging.Discard())
	if err != nil {
		t.Fatal(err)
	}
	err = st.RecordLaunch(context.Background(), &launch.LogEntry{At: time.Now(), RegistrationID: 1, Stage: launch.StageLaunch, Outcome: launch.Accepted})
	st.Close()
	if err != nil {
		t.Fatal(err)
	}
	if _, errOut, code := run(t, "deployment", "remove", "1", "d2", "--db", db); code != 0 {
		t.Fatalf("deployment remove: %d %s", code, errOut)
	}
	if _, errOut, code := run(t, "deployment", "remove", "1", "d1", "--db", db); code != 1 || !strings.Contains(errOut, "--force") {
		t.Fatalf("removing the last deployment in use without --force: %d %s", code, errOut)
	}
	if _, errOut, code := run(t, "deployment", "remove", "1", "d1", "--db", db, "--force"); code != 2 || !strings.Contains(errOut, "add --yes") {
		t.Fatalf("deployment remove --force without a terminal or --yes: %d %s", code, errOut)
	}
	if out, errOut, code := run(t, "deployment", "remove", "1", "d1", "--db", db, "--force", "--yes", "--json"); code != 0 || !strings.Contains(out, `"status":"Pending"`) {
		t.Fatalf("deployment remove --force: %d %s %s", code, out, errOut)
	}

	if _, errOut, code := run(t, "platform", "delete", "1", "--db", db); code != 2 || !strings.Contains(errOut, "add --yes") {
		t.Fatalf("platform delete without a terminal or --yes: %d %s", code, errOut)
	}
	if out, _, code := run(t, "platform", "delete", "1", "--db", db, "--json", "-y"); code != 0 || !strings.Contains(out, `"launch_log_lines_kept":1`) {
		t.Fatalf("platform delete: %s", out)
	}
	if _, _, code := run(t, "platform", "delete", "1", "--db", db, "--yes"); code != 1 {
		t.Fatal("deleting twice succeeded")
	}
	if _, _, code := run(t, "platform", "set", "--db", db); code != 2 {
		t.Fatal("platform set without an ID is a usage error")
	}
}

// TestPlatformCheckCommand checks a registration whose platform is unreachable: the command reports each step, the
// failed ones with their fix, records the check, and exits 1 only with --strict.
func TestPlatformCheckCommand(t *testing.T) {
	t.Parallel()
	db := newDB(t)
	run(t, "platform", "add", "--db", db, "--name", "Nowhere")
	if _, errOut, code := run(t, "platform", "set", "1", "--db", db, "--allow-private-urls", "--issuer", "http://127.0.0.1:1",
		"--client-id", "c1", "--jwks-url", "http://127.0.0.1:1/jwks", "--token-url", "http://127.0.0.1:1/token", "--auth-url", "http://127.0.0.1:1/auth"); code != 0 {
		t.Fatalf("platform set: %d %s", code, errOut)
	}
	out, errOut, code := run(t, "platform", "check", "1", "--db", db, "--allow-private-urls", "--base-url", "http://127.0.0.1:1", "--json")
	var rep struct {
		Passed bool `json:"passed"`
		Steps  []struct {
			Code, Status, Fix string
		} `json:"steps"`
	}
	if code != 0 || json.Unmarshal([]byte(out), &rep) != nil || rep.Passed || len(rep.Steps) < 5 {
		t.Fatalf("platform check --json: exit %d %q %s", code, out, errOut)
	}
	status := map[string]string{}
	for _, s := range rep.Steps {
		status[s.Code] = s.Status
		if s.Status == "failed" && s.Fix == "" {
			t.Errorf("%s failed without a fix", s.Code)
		}
	}
	if status["platform_details"] != "failed" || status["jwks_fetch"] != "failed" || status["tool_https"] != "failed" ||
		status["token:https://purl.imsglobal.org/spec/lti-ags/scope/lineitem"] != "failed" ||
		status["token:https://purl.imsglobal.org/spec/lti-ags/scope/score"] != "skipped" {
		t.Errorf("steps: %v", status)
	}
	out, errOut, code = run(t, "platform", "check", "1", "--db", db, "--allow-private-urls", "--base-url", "http://127.0.0.1:1", "--strict")
	if code != 1 || !strings.Contains(out, "fix: Add the deployment ID") || !strings.Contains(errOut, "checks failed") {
		t.Fatalf("platform check --strict: exit %d %q %s", code, out, errOut)
	}
}
