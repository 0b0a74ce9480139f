package sqlstore

import (
	"context"
	"io/fs"
	"path/filepath"
	"testing"

	"github.com/pressly/goose/v3"
)

// TestLegacyMigrationKeepsLinks migrates a SQLite database holding LTI 1.3 resource links and rows that refer to
// them up to 00006, then applies 00007 (which rebuilds lti_resource_links): nothing may be lost or cascaded
// away, and foreign keys must be on again afterwards.
func TestLegacyMigrationKeepsLinks(t *testing.T) {
	ctx := context.Background()
	s, err := Open(ctx, filepath.Join(t.TempDir(), "m.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	sub, _ := fs.Sub(migrations, "migrations/sqlite")
	p, err := goose.NewProvider(goose.DialectSQLite3, s.w, sub)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.UpTo(ctx, 6); err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{
		`INSERT INTO registrations (id, name, issuer, client_id, created_at, updated_at) VALUES (1, 'p', 'https://p', 'c', 0, 0)`,
		`INSERT INTO users (id, username, created_at, updated_at) VALUES (1, 'u', 0, 0)`,
		`INSERT INTO courses (id, full_name, short_name, created_at, updated_at) VALUES (1, 'C', 'C', 0, 0)`,
		`INSERT INTO published_resources (id, uuid, course_id, name, created_at, updated_at) VALUES (1, 'x', 1, 'R', 0, 0)`,
		`INSERT INTO lti_resource_links (id, registration_id, deployment_id, link_id, published_resource_id, created_at, updated_at)
			VALUES (7, 1, 'd', 'l', 1, 0, 0)`,
		`INSERT INTO lti_users (id, issuer, subject, registration_id, user_id, created_at, last_launch_at) VALUES (1, 'https://p', 's', 1, 1, 0, 0)`,
		`INSERT INTO lti_user_links (lti_user_id, resource_link_id, created_at, last_launch_at) VALUES (1, 7, 0, 0)`,
		`INSERT INTO sync_links (resource_link_id, updated_at) VALUES (7, 0)`,
	} {
		if _, err := s.w.ExecContext(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	if _, err := p.Up(ctx); err != nil {
		t.Fatal(err)
	}
	var n int
	for _, q := range []string{`SELECT COUNT(*) FROM lti_resource_links WHERE id = 7 AND registration_id = 1`,
		`SELECT COUNT(*) FROM lti_user_links WHERE resource_link_id = 7`, `SELECT COUNT(*) FROM sync_links WHERE resource_link_id = 7`} {
		if err := s.w.QueryRowContext(ctx, q).Scan(&n); err != nil || n != 1 {
			t.Fatalf("%s = %d, %v: the rebuild lost rows", q, n, err)
		}
	}
	// Foreign keys are on again on every connection, and still point at the rebuilt table.
	conns := make([]interface{ Close() error }, 0, 4)
	for range 4 {
		c, err := s.db.Conn(ctx)
		if err != nil {
			t.Fatal(err)
		}
		conns = append(conns, c)
		var on int
		if err := c.QueryRowContext(ctx, `PRAGMA foreign_keys`).Scan(&on); err != nil || on != 1 {
			t.Fatalf("foreign_keys = %d, %v", on, err)
		}
	}
	for _, c := range conns {
		c.Close()
	}
	if _, err := s.w.ExecContext(ctx, `DELETE FROM lti_resource_links WHERE id = 7`); err != nil {
		t.Fatal(err)
	}
	if err := s.w.QueryRowContext(ctx, `SELECT COUNT(*) FROM lti_user_links`).Scan(&n); err != nil || n != 0 {
		t.Fatalf("cascade to lti_user_links: %d %v", n, err)
	}
}
