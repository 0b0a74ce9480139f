package app

import (
	"runtime/debug"
	"testing"
)

func TestBuildFrom(t *testing.T) {
	installed := &debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Path: "github.com/ltipub/ltipub", Version: "v1.4.0"}}
	if got := buildFrom(installed, "dev").String(); got != "ltipub v1.4.0 go1.26.8" {
		t.Errorf("go install build: %q", got)
	}
	checkout := &debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Version: "(devel)"}, Settings: []debug.BuildSetting{
		{Key: "vcs.revision", Value: "0123abcd"}, {Key: "vcs.time", Value: "2026-12-01T15:00:00Z"}, {Key: "vcs.modified", Value: "true"}}}
	if got := buildFrom(checkout, "dev").String(); got != "ltipub dev (revision 0123abcd, 2026-12-01T15:00:00Z, with uncommitted changes) go1.26.8" {
		t.Errorf("checkout build: %q", got)
	}
	if got := buildFrom(installed, "v9.9.9").Version; got != "v9.9.9" {
		t.Errorf("-ldflags version: %q", got)
	}
}
