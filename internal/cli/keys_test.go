package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"
)

func TestKeysRotate(t *testing.T) {
	t.Parallel()
	db := newDB(t)
	run := func(args ...string) string {
		t.Helper()
		var out, errb bytes.Buffer
		if code := Main(context.Background(), Env{Stdin: strings.NewReader(""), Stdout: &out, Stderr: &errb}, args); code != 0 {
			t.Fatalf("ltipub %v: exit %d: %s", args, code, errb.String())
		}
		return out.String()
	}
	var before []keyJSON
	if err := json.Unmarshal([]byte(run("keys", "list", "--db", db, "--json")), &before); err != nil || len(before) != 1 || before[0].Status != "active" {
		t.Fatalf("a new database gets one active key: %+v %v", before, err)
	}
	var after []keyJSON
	if err := json.Unmarshal([]byte(run("keys", "rotate", "--db", db, "--json", "--overlap", "1h")), &after); err != nil {
		t.Fatal(err)
	}
	if len(after) != 2 || after[0].Status != "active" || after[0].KID == before[0].KID ||
		after[1].KID != before[0].KID || after[1].Status != "previous" || after[1].RetireAt.IsZero() {
		t.Fatalf("after rotation: %+v (before %+v)", after, before)
	}
	// Rotating with no overlap retires the key it replaces at once; the first key keeps its own hour.
	run("keys", "rotate", "--db", db, "--overlap", "0s")
	var last []keyJSON
	_ = json.Unmarshal([]byte(run("keys", "list", "--db", db, "--json")), &last)
	kids := map[string]bool{}
	for _, k := range last {
		kids[k.KID] = true
	}
	if len(last) != 2 || kids[after[0].KID] || !kids[before[0].KID] {
		t.Fatalf("after a rotation without overlap: %+v", last)
	}
}
