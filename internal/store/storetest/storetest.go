// Package storetest is the conformance suite every store implementation passes, on every engine. Each domain adds
// its own file of checks; Run runs them all.
package storetest

import (
	"testing"

	"github.com/ltipub/ltipub/internal/account"
	"github.com/ltipub/ltipub/internal/course"
	"github.com/ltipub/ltipub/internal/jobs"
	"github.com/ltipub/ltipub/internal/keys"
	"github.com/ltipub/ltipub/internal/launch"
	"github.com/ltipub/ltipub/internal/publish"
	"github.com/ltipub/ltipub/internal/site"
	"github.com/ltipub/ltipub/internal/stats"
	"github.com/ltipub/ltipub/internal/tool"
)

// Stores is every store interface the domain packages declare: the suite checks an implementation through them,
// not through its concrete type.
type Stores interface {
	account.Store
	account.FailureStore
	site.Store
	course.Store
	publish.Store
	publish.LegacyStore
	publish.ToolProxyStore
	launch.Store
	tool.Store
	keys.Store
	jobs.Store
	stats.Store
}

// Run runs the whole suite; open gives a fresh, empty, migrated store for each check.
func Run(t *testing.T, open func(t *testing.T) Stores) {
	t.Run("Users", func(t *testing.T) { testUsers(t, open(t)) })
	t.Run("Settings", func(t *testing.T) { testSettings(t, open(t)) })
	t.Run("LoginFailures", func(t *testing.T) { testLoginFailures(t, open(t)) })
	t.Run("ConcurrentWrites", func(t *testing.T) { testConcurrentWrites(t, open(t)) })
	t.Run("Courses", func(t *testing.T) { testCourses(t, open(t)) })
	t.Run("GradeRevisions", func(t *testing.T) { testGradeRevisions(t, open(t)) })
	t.Run("LaunchState", func(t *testing.T) { testLaunchState(t, open(t)) })
	t.Run("Nonces", func(t *testing.T) { testNonces(t, open(t)) })
	t.Run("LaunchLog", func(t *testing.T) { testLaunchLog(t, open(t)) })
	t.Run("KeyRotationByTwoInstances", func(t *testing.T) { testKeyRotation(t, open(t)) })
	t.Run("ServiceTokens", func(t *testing.T) { testServiceTokens(t, open(t)) })
	t.Run("SyncMarks", func(t *testing.T) { testSyncMarks(t, open(t)) })
	t.Run("Registrations", func(t *testing.T) { testRegistrations(t, open(t)) })
	t.Run("PublishLinks", func(t *testing.T) { testPublishLinks(t, open(t)) })
	t.Run("ToolProxies", func(t *testing.T) { testToolProxies(t, open(t)) })
	t.Run("RequestMemo", func(t *testing.T) { testRequestMemo(t, open(t)) })
	t.Run("Notices", func(t *testing.T) { testNotices(t, open(t)) })
	t.Run("PagedLists", func(t *testing.T) { testPagedLists(t, open(t)) })
	t.Run("Stats", func(t *testing.T) { testStats(t, open(t)) })
	t.Run("SubmissionsList", func(t *testing.T) { testSubmissionsList(t, open(t)) })
	t.Run("AttemptsList", func(t *testing.T) { testAttemptsList(t, open(t)) })
}
