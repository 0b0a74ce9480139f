package web_test

import (
	"fmt"
	"net/http"
	"testing"

	"github.com/ltipub/ltipub/internal/app/apptest"
	"github.com/ltipub/ltipub/internal/course"
)

// BenchmarkCourseLists50000: a course of 50,000 members (every 100th a teacher, every 7th suspended, every third
// from a launch) with a quiz grade for each: the enrolments page and the grader report answer with one page.
// Each sub-benchmark reports the page's size (bytes/page) beside ns/op. Issue 18 asks for under 200 ms and
// under 200 KB on the project's machine; run with
//
//	go test ./internal/web/ -run '^$' -bench BenchmarkCourseLists50000 -benchtime 20x
func BenchmarkCourseLists50000(b *testing.B) {
	const n = 50000
	f := newListFixture(b, n, enrolmentKind)
	quiz := apptest.Activity(f.course, course.TypeQuiz)
	seedGrades(b, f.inst.Store, quiz, f.people, func(i int) float64 { return float64(i % 11) })
	cid := f.course.Course.ID
	for _, bm := range []struct{ name, path string }{
		{"enrolments", fmt.Sprintf("/courses/%d/enrolments", cid)},
		{"enrolments_last_page", fmt.Sprintf("/courses/%d/enrolments?page=1001", cid)},
		{"enrolments_search", fmt.Sprintf("/courses/%d/enrolments?q=person+4999&status=active", cid)},
		{"grades", fmt.Sprintf("/courses/%d/grades", cid)},
		{"grades_last_page", fmt.Sprintf("/courses/%d/grades?page=990", cid)}, // 49,500 students (every 100th is a teacher)
		{"grades_csv_all", fmt.Sprintf("/courses/%d/grades.csv", cid)},        // the whole gradebook, streamed: not a page
	} {
		b.Run(bm.name, func(b *testing.B) {
			var size int
			for b.Loop() {
				resp := f.inst.Get(b, f.teacher, bm.path)
				if resp.StatusCode != http.StatusOK {
					b.Fatalf("%s: %d", bm.path, resp.StatusCode)
				}
				size = len(resp.Body)
			}
			if size < 1000 {
				b.Fatalf("%s: only %d bytes", bm.path, size)
			}
			b.ReportMetric(float64(size), "bytes/page")
		})
	}
}
