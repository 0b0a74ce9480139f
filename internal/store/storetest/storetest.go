// Package storetest is the conformance suite every store implementation passes, on every engine. Each domain adds
// its own file of checks; Run runs them all.
package storetest

import (
	"testing"

	"github.com/ltipub/ltipub/internal/store/sqlstore"
)

// Run runs the whole suite; open gives a fresh, empty, migrated store for each check.
func Run(t *testing.T, open func(t *testing.T) *sqlstore.Store) {
	t.Run("Users", func(t *testing.T) { testUsers(t, open(t)) })
	t.Run("Settings", func(t *testing.T) { testSettings(t, open(t)) })
	t.Run("LoginFailures", func(t *testing.T) { testLoginFailures(t, open(t)) })
	t.Run("ConcurrentWrites", func(t *testing.T) { testConcurrentWrites(t, open(t)) })
	t.Run("Courses", func(t *testing.T) { testCourses(t, open(t)) })
	t.Run("GradeRevisions", func(t *testing.T) { testGradeRevisions(t, open(t)) })
}
