package main

import (
	"bufio"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/creack/pty"
	"golang.org/x/sys/unix"
)

// term runs ltipub on a pseudo-terminal, as a person at a shell does: it answers each prompt (a string the
// output must reach) with its line, and returns everything the terminal showed.
func term(t *testing.T, dialogue [][2]string, args ...string) (string, int) {
	t.Helper()
	return termIn(t, nil, dialogue, args...)
}

// termIn is term with locale variables added to the clean environment ("LANG=es_ES.UTF-8").
func termIn(t *testing.T, locale []string, dialogue [][2]string, args ...string) (string, int) {
	t.Helper()
	cmd := exec.Command(bin, args...)
	cmd.Env = append(cleanEnv(), locale...)
	tty, err := pty.Start(cmd)
	if err != nil {
		t.Fatal(err)
	}
	defer tty.Close()
	var shown strings.Builder
	r := bufio.NewReader(tty)
	read := func(until string) {
		t.Helper()
		deadline := time.Now().Add(20 * time.Second)
		for !strings.Contains(shown.String(), until) {
			_ = tty.SetReadDeadline(deadline)
			b, err := r.ReadByte()
			if err != nil {
				t.Fatalf("waiting for %q: %v; the terminal showed %q", until, err, shown.String())
			}
			shown.WriteByte(b)
		}
	}
	for _, step := range dialogue {
		read(step[0])
		if strings.HasPrefix(step[0], "Password") {
			// A person types after the prompt; the test must not be faster than the program turning echo off.
			deadline := time.Now().Add(20 * time.Second)
			for echoOn(t, tty) {
				if time.Now().After(deadline) {
					t.Fatalf("echo stayed on after %q", step[0])
				}
				time.Sleep(5 * time.Millisecond)
			}
		}
		if _, err := tty.Write([]byte(step[1] + "\r")); err != nil {
			t.Fatal(err)
		}
	}
	rest, _ := io.ReadAll(r) // until the process closes the terminal (EIO)
	shown.Write(rest)
	err = cmd.Wait()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	}
	return shown.String(), code
}

// echoOn reports whether the terminal echoes what is typed.
func echoOn(t *testing.T, tty *os.File) bool {
	t.Helper()
	tio, err := unix.IoctlGetTermios(int(tty.Fd()), unix.TCGETS)
	if err != nil {
		t.Fatal(err)
	}
	return tio.Lflag&unix.ECHO != 0
}

// On a terminal, passwords are asked twice and not echoed, and destructive commands ask for confirmation.
func TestTerminalPrompts(t *testing.T) {
	db := filepath.Join(t.TempDir(), "ltipub.db")
	if _, errOut, code := ltipub(t, t.TempDir(), "migrate", "--db", db); code != 0 {
		t.Fatal(errOut)
	}
	const pw = "terminal secret 123"
	shown, code := term(t, [][2]string{{"Password (at least 10 characters): ", pw}, {"Password again: ", pw}},
		"user", "create", "--username", "tess", "--db", db)
	if code != 0 || !strings.Contains(shown, "created user tess") || strings.Contains(shown, pw) {
		t.Fatalf("user create on a terminal: exit %d, the terminal showed %q", code, shown)
	}
	shown, code = term(t, [][2]string{{"Password (at least 10 characters): ", pw}, {"Password again: ", "something else 1"}},
		"user", "set-password", "tess", "--db", db)
	if code != 1 || !strings.Contains(shown, "the two passwords differ") {
		t.Fatalf("different passwords: exit %d %q", code, shown)
	}
	if _, errOut, code := ltipub(t, t.TempDir(), "platform", "add", "--name", "Moodle", "--db", db); code != 0 {
		t.Fatal(errOut)
	}
	shown, code = term(t, [][2]string{{"[y/N] ", "n"}}, "platform", "delete", "1", "--db", db)
	if code != 1 || !strings.Contains(shown, "Delete registration 1 (Moodle)") || !strings.Contains(shown, "nothing was changed") {
		t.Fatalf("platform delete answered no: exit %d %q", code, shown)
	}
	shown, code = term(t, [][2]string{{"[y/N] ", "y"}}, "platform", "delete", "1", "--db", db)
	if code != 0 || !strings.Contains(shown, "deleted registration 1") {
		t.Fatalf("platform delete answered yes: exit %d %q", code, shown)
	}
}
