package main

import (
	"bytes"
	"errors"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// ltipubIn runs the binary with locale variables added to the clean environment ("LANG=es_ES.UTF-8").
func ltipubIn(t *testing.T, dir, stdin string, locale []string, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	cmd := exec.Command(bin, args...)
	cmd.Dir = dir
	cmd.Env = append(cleanEnv(), locale...)
	cmd.Stdin = strings.NewReader(stdin)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return out.String(), errb.String(), ee.ExitCode()
	}
	if err != nil {
		t.Fatal(err)
	}
	return out.String(), errb.String(), 0
}

// TestOperatorLanguage: the command line speaks the operator's locale, chosen the POSIX way (LC_ALL, then
// LC_MESSAGES, then LANG; C is English): messages, refusals of the account rules and command-line mistakes are in
// Spanish under es_ES.UTF-8 and in English when LC_ALL=C overrides it, and --json output is the same in both.
func TestOperatorLanguage(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "ltipub.db")
	es := []string{"LANG=es_ES.UTF-8"}
	c := []string{"LANG=es_ES.UTF-8", "LC_ALL=C"}
	msgs := []string{"LANG=en_US.UTF-8", "LC_MESSAGES=es_ES.UTF-8"}
	check := func(t *testing.T, what, got string, want ...string) {
		t.Helper()
		for _, w := range want {
			if !strings.Contains(got, w) {
				t.Errorf("%s: %q lacks %q", what, got, w)
			}
		}
	}
	out, errOut, code := ltipubIn(t, dir, "", es, "migrate", "--db", db)
	if code != 0 {
		t.Fatalf("migrate: %d %s", code, errOut)
	}
	check(t, "migrate in Spanish", out, "la base de datos está al día (sqlite)")
	out, _, _ = ltipubIn(t, dir, "", c, "migrate", "--db", db)
	check(t, "migrate with LC_ALL=C", out, "database is up to date (sqlite)")

	_, errOut, code = ltipubIn(t, dir, "short\n", es, "user", "create", "--username", "ada", "--db", db)
	if code != 1 {
		t.Fatalf("a short password: %d %s", code, errOut)
	}
	check(t, "short password in Spanish", errOut, "ltipub: password: debe tener al menos 10 caracteres")
	_, errOut, _ = ltipubIn(t, dir, "short\n", c, "user", "create", "--username", "ada", "--db", db)
	check(t, "short password with LC_ALL=C", errOut, "ltipub: password: must be at least 10 characters long")

	out, errOut, code = ltipubIn(t, dir, "a long enough password\n", es, "user", "create", "--username", "ada", "--db", db)
	if code != 0 {
		t.Fatalf("user create in Spanish: %d %s", code, errOut)
	}
	check(t, "user create in Spanish", out, "se ha creado el usuario ada (id 1)")
	out, _, _ = ltipubIn(t, dir, "", msgs, "user", "suspend", "ada", "--db", db)
	check(t, "LC_MESSAGES over LANG", out, "ada (id 1) está suspendido ahora")
	out, _, _ = ltipubIn(t, dir, "", c, "user", "unsuspend", "ada", "--db", db)
	check(t, "unsuspend with LC_ALL=C", out, "ada (id 1) is now active")
	out, _, _ = ltipubIn(t, dir, "", es, "platform", "list", "--db", db)
	check(t, "platform list in Spanish", out, "no hay registros de plataformas; cree uno con: ltipub platform add --name N")

	out, _, _ = ltipubIn(t, dir, "", es, "sync", "grades", "--wait", "--db", db)
	check(t, "sync in Spanish", out, "de la sincronización de calificaciones: correcta en", "enviadas 0, sin cambios 0, fallidas 0")

	// A refusal of the registration rules, worded from its code.
	ltipubIn(t, dir, "", c, "platform", "add", "--name", "Moodle", "--db", db)
	_, errOut, _ = ltipubIn(t, dir, "", es, "deployment", "remove", "1", "9", "--db", db)
	check(t, "unknown deployment in Spanish", errOut, "ltipub: El registro “Moodle” no tiene el ID de despliegue “9”. Compruebe el ID de despliegue en la pestaña Despliegues.")
	_, errOut, _ = ltipubIn(t, dir, "", c, "deployment", "remove", "1", "9", "--db", db)
	check(t, "unknown deployment with LC_ALL=C", errOut, `ltipub: Registration "Moodle" has no deployment ID "9". Check the deployment ID in the Deployments tab.`)

	_, errOut, code = ltipubIn(t, dir, "", es, "user", "frobnicate")
	if code != 2 {
		t.Fatalf("unknown command: %d %s", code, errOut)
	}
	check(t, "unknown command in Spanish", errOut, `orden desconocida "frobnicate"; ltipub user tiene: create`, "Ejecute 'ltipub user --help' para ver cómo se usa.")
	_, errOut, _ = ltipubIn(t, dir, "", c, "user", "show")
	check(t, "missing argument with LC_ALL=C", errOut, "expected the account's ID or username, e.g. ltipub user show alice", "Run 'ltipub user show --help' for its usage.")
	_, errOut, _ = ltipubIn(t, dir, "", es, "user", "show")
	check(t, "missing argument in Spanish", errOut, "falta el ID o el nombre de usuario de la cuenta, p. ej. ltipub user show alice")

	jsonES, _, _ := ltipubIn(t, dir, "", es, "user", "show", "ada", "--json", "--db", db)
	jsonC, _, _ := ltipubIn(t, dir, "", c, "user", "show", "ada", "--json", "--db", db)
	if jsonES != jsonC || !strings.Contains(jsonES, `"username":"ada"`) {
		t.Errorf("--json differs by language:\n%s\n%s", jsonES, jsonC)
	}
}
