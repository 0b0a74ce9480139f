package lti2_test

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"testing"

	"github.com/ltipub/ltipub/lti/lti2"
)

var update = flag.Bool("update", false, "rewrite golden files in testdata/")

// The tool proxy ltipub proposes to a Moodle-like profile (secrets blanked: they are random).
func TestToolProxyGolden(t *testing.T) {
	p, err := lti2.ParseProfile([]byte(canvasProfile), "https://canvas.example/x")
	if err != nil {
		t.Fatal(err)
	}
	p.CapabilityOffered = []string{"basic-lti-launch-request", "User.id", "Person.name.full", "Membership.role", "ResourceLink.id",
		"Context.id", "Result.sourcedId", "BasicOutcome.url"}
	tool := lti2.Tool{BaseURL: "https://ltipub.example.edu", GUID: "ltipub.example.edu", VendorCode: "ltipub", VendorName: "ltipub",
		VendorSite: "https://ltipub.example.edu", VendorDescription: "Courses and activities published as LTI tools", ProductCode: "ltipub",
		ProductName: "Solar System quiz", Version: "1.0", ProductDescription: "Solar System quiz, published from ltipub.",
		Handlers: []lti2.Handler{{Code: "3f2a", Name: "Solar System quiz", Path: "/lti/legacy/3f2a", Icon: "/favicon.ico",
			Capabilities: lti2.LaunchCapabilities}}}
	prop, err := lti2.Propose(p, tool)
	if err != nil {
		t.Fatal(err)
	}
	if prop.Split || prop.ToolProxy.SecurityContract.SharedSecret == "" {
		t.Fatalf("a shared secret was expected: %+v", prop.ToolProxy.SecurityContract)
	}
	prop.ToolProxy.SecurityContract.SharedSecret = "<random>"
	got, err := json.MarshalIndent(prop.ToolProxy, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	got = append(got, '\n')
	path := filepath.Join("testdata", "toolproxy.golden.json")
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./lti/lti2 -run %s -update)", err, t.Name())
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from golden file; got:\n%s\nrun go test ./lti/lti2 -run %s -update if intended", path, got, t.Name())
	}
}
