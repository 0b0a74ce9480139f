package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
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

	out, _, _ = ltipubIn(t, dir, "", es, "platform", "check", "1", "--db", db)
	check(t, "platform check in Spanish", out, "fallido  Detalles de la plataforma y despliegues\n", "omitido  Solicitud de token de servicio\n",
		"         solución: ")
	out, _, _ = ltipubIn(t, dir, "", c, "platform", "check", "1", "--db", db)
	check(t, "platform check with LC_ALL=C", out, "failed   Platform details and deployments\n", "skipped  Service token request\n", "         fix: ")

	_, errOut, code = ltipubIn(t, dir, "", es, "user", "frobnicate")
	if code != 2 {
		t.Fatalf("unknown command: %d %s", code, errOut)
	}
	check(t, "unknown command in Spanish", errOut, `orden desconocida "frobnicate"; ltipub user tiene: create`, "Ejecute 'ltipub user --help' para ver cómo se usa.")
	_, errOut, _ = ltipubIn(t, dir, "", c, "user", "show")
	check(t, "missing argument with LC_ALL=C", errOut, "expected the account's ID or username, e.g. ltipub user show alice", "Run 'ltipub user show --help' for its usage.")
	_, errOut, _ = ltipubIn(t, dir, "", es, "user", "show")
	check(t, "missing argument in Spanish", errOut, "falta el ID o el nombre de usuario de la cuenta, p. ej. ltipub user show alice")

	// The merge's plan, its question and its outcome.
	ltipubIn(t, dir, "a long enough password\n", c, "user", "create", "--username", "bea", "--db", db)
	_, errOut, code = ltipubIn(t, dir, "", es, "user", "merge", "ada", "bea", "--db", db)
	if code != 2 {
		t.Fatalf("merge without --yes: %d %s", code, errOut)
	}
	check(t, "merge plan in Spanish", errOut, "Se conserva: ada (id 1,", "Se fusiona con ella y se elimina: bea (id 2,",
		"  cuentas de plataforma: 0", "  matriculaciones: 0", "intentos de cuestionario: 0, envíos: 0, calificaciones: 0, lanzamientos: 0",
		"La fusión mueve 0 cuenta(s) de plataforma, 0 matriculación(es), 0 calificación(es), 0 envío(s) y 0 intento(s) de cuestionario.",
		"Fusionar bea con ada y eliminar bea: la entrada estándar no es un terminal, así que nadie puede confirmar; añada --yes")
	_, errOut, _ = ltipubIn(t, dir, "", c, "user", "merge", "ada", "bea", "--db", db)
	check(t, "merge plan with LC_ALL=C", errOut, "Keep: ada (id 1,", "Merge into it, then delete: bea (id 2,",
		"The merge moves moved 0 platform account(s), 0 enrolment(s), 0 grade(s), 0 submission(s), 0 quiz attempt(s).",
		"Merge bea into ada and delete bea: standard input is not a terminal")

	// The keys, and a published resource with its LTI 1.1 details.
	out, _, _ = ltipubIn(t, dir, "", es, "keys", "list", "--db", db)
	check(t, "keys list in Spanish", out, " activa   creada el ")
	out, _, _ = ltipubIn(t, dir, "", c, "keys", "list", "--db", db)
	check(t, "keys list with LC_ALL=C", out, " active   created ")
	example, err := filepath.Abs("../../examples/course.json")
	if err != nil {
		t.Fatal(err)
	}
	if _, errOut, code := ltipubIn(t, dir, "", c, "course", "import", example, "--db", db); code != 0 {
		t.Fatalf("course import: %s", errOut)
	}
	pubJSON, errOut, code := ltipubIn(t, dir, "", es, "publish", "--course", "1", "--json", "--db", db)
	if code != 0 {
		t.Fatalf("publish: %s", errOut)
	}
	var pub struct{ UUID string }
	if err := json.Unmarshal([]byte(pubJSON), &pub); err != nil || pub.UUID == "" {
		t.Fatalf("publish --json: %q %v", pubJSON, err)
	}
	out, _, _ = ltipubIn(t, dir, "", es, "published", "show", pub.UUID, "--db", db)
	check(t, "published show in Spanish", out, "LTI 1.3   URL de lanzamiento        ", "          parámetros personalizados ",
		"          URL del cartucho          ", "          clave de consumidor: cualquier valor no vacío que elija el administrador de la plataforma\n")
	out, _, _ = ltipubIn(t, dir, "", c, "published", "show", pub.UUID, "--db", db)
	check(t, "published show with LC_ALL=C", out, "LTI 1.3   launch URL ", "          custom     ", "          cartridge  ",
		"          secret     ", "          consumer key: ")
	_, errOut, _ = ltipubIn(t, dir, "", es, "published", "show", "nope", "--db", db)
	check(t, "unknown resource in Spanish", errOut, `ltipub: ningún recurso publicado tiene el uuid "nope" (ltipub published list los muestra)`)

	_, errOut, _ = ltipubIn(t, dir, "", es, "course", "import", example, "--db", db)
	check(t, "short name taken in Spanish", errOut, `ltipub: otro curso ya tiene el nombre corto "ASTRO101" (cambie course.short_name en el archivo)`)
	_, errOut, _ = ltipubIn(t, dir, "", c, "course", "import", example, "--db", db)
	check(t, "short name taken with LC_ALL=C", errOut, `ltipub: another course already has that short name: "ASTRO101" (change course.short_name in the file)`)
	data, err := os.ReadFile(example)
	if err != nil {
		t.Fatal(err)
	}
	other := filepath.Join(dir, "other.json")
	if err := os.WriteFile(other, bytes.ReplaceAll(data, []byte(`"ASTRO101"`), []byte(`"ASTRO102"`)), 0o600); err != nil {
		t.Fatal(err)
	}
	out, errOut, _ = ltipubIn(t, dir, "", es, "course", "import", other, "--db", db)
	check(t, "course import in Spanish", out+errOut, "  página       id ", "  cuestionario id ", "  tarea        id ")

	// A confirmation on a terminal: the Spanish prompt takes "s".
	shown, code := termIn(t, es, [][2]string{{"[s/N] ", "s"}}, "user", "delete", "bea", "--db", db)
	if code != 0 || !strings.Contains(shown, "¿Eliminar bea? [s/N] ") || !strings.Contains(shown, "se ha eliminado bea (id 2)") {
		t.Fatalf("user delete answered s: exit %d, the terminal showed %q", code, shown)
	}
	shown, code = termIn(t, es, [][2]string{{"[s/N] ", "n"}}, "user", "delete", "ada", "--db", db)
	if code != 1 || !strings.Contains(shown, "no se ha confirmado; no se ha cambiado nada") {
		t.Fatalf("user delete answered n: exit %d, the terminal showed %q", code, shown)
	}

	jsonES, _, _ := ltipubIn(t, dir, "", es, "user", "show", "ada", "--json", "--db", db)
	jsonC, _, _ := ltipubIn(t, dir, "", c, "user", "show", "ada", "--json", "--db", db)
	if jsonES != jsonC || !strings.Contains(jsonES, `"username":"ada"`) {
		t.Errorf("--json differs by language:\n%s\n%s", jsonES, jsonC)
	}
}
