package app

import (
	"runtime/debug"
	"strings"
)

// Build is what the binary knows about its own build.
type Build struct {
	// Version is the module version (v1.4.0 from `go install …@v1.4.0`, a pseudo-version from a checkout), or
	// the -ldflags value of Version, or "dev".
	Version string `json:"version"`
	// Revision, Time and Modified are the VCS commit the binary was built from, its time, and whether the work
	// tree had changes; empty when the build did not record them (go install of a module, -buildvcs=false).
	Revision  string `json:"revision,omitempty"`
	Time      string `json:"time,omitempty"`
	Modified  bool   `json:"modified,omitempty"`
	GoVersion string `json:"go_version"`
}

// BuildInfo reads the build information the Go toolchain embeds in the binary.
func BuildInfo() Build {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return Build{Version: Version}
	}
	return buildFrom(bi, Version)
}

func buildFrom(bi *debug.BuildInfo, stamped string) Build {
	b := Build{Version: stamped, GoVersion: bi.GoVersion}
	if stamped == "dev" && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		b.Version = bi.Main.Version
	}
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			b.Revision = s.Value
		case "vcs.time":
			b.Time = s.Value
		case "vcs.modified":
			b.Modified = s.Value == "true"
		}
	}
	return b
}

// String is the one line `ltipub version` prints.
func (b Build) String() string {
	var s strings.Builder
	s.WriteString("ltipub " + b.Version)
	if b.Revision != "" {
		s.WriteString(" (revision " + b.Revision)
		if b.Time != "" {
			s.WriteString(", " + b.Time)
		}
		if b.Modified {
			s.WriteString(", with uncommitted changes")
		}
		s.WriteString(")")
	}
	if b.GoVersion != "" {
		s.WriteString(" " + b.GoVersion)
	}
	return s.String()
}

func init() {
	// The footer and /healthz show Version: give them the build's version when -ldflags did not set one.
	if Version == "dev" {
		Version = BuildInfo().Version
	}
}
