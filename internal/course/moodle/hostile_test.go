package moodle_test

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/ltipub/ltipub/internal/account"
	"github.com/ltipub/ltipub/internal/course"
	"github.com/ltipub/ltipub/internal/course/moodle"
	"github.com/ltipub/ltipub/internal/store/sqlstore"
	"github.com/ltipub/ltipub/internal/store/sqlstore/sqltest"
)

type entry struct {
	name string
	typ  byte
	body []byte
	link string
}

func tgz(t *testing.T, entries ...entry) []byte {
	t.Helper()
	var buf bytes.Buffer
	gz := gzip.NewWriter(&buf)
	tw := tar.NewWriter(gz)
	for _, e := range entries {
		typ := e.typ
		if typ == 0 {
			typ = tar.TypeReg
		}
		if err := tw.WriteHeader(&tar.Header{Name: e.name, Typeflag: typ, Size: int64(len(e.body)), Linkname: e.link, Mode: 0o644}); err != nil {
			t.Fatal(err)
		}
		if _, err := tw.Write(e.body); err != nil {
			t.Fatal(err)
		}
	}
	tw.Close()
	gz.Close()
	return buf.Bytes()
}

const laughs = `<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>
<quiz><question type="essay"><name><text>&lol3;</text></name><questiontext><text>x</text></questiontext></question></quiz>`

func TestHostileFilesRefused(t *testing.T) {
	t.Parallel()
	small := moodle.Limits{Upload: 1 << 20, Entry: 64 << 10, Total: 128 << 10, Entries: 10}
	zeros := make([]byte, 100<<10) // compresses to almost nothing: a zip bomb in miniature
	tests := []struct {
		name string
		data []byte
		want string
	}{
		{"path traversal", tgz(t, entry{name: "../../etc/cron.d/x", body: []byte("x")}), "path traversal"},
		{"traversal inside", tgz(t, entry{name: "files/../../x", body: []byte("x")}), "path traversal"},
		{"absolute path", tgz(t, entry{name: "/etc/passwd", body: []byte("x")}), "leaves the archive"},
		{"symlink", tgz(t, entry{name: "moodle_backup.xml", typ: tar.TypeSymlink, link: "/etc/passwd"}), "links"},
		{"hard link", tgz(t, entry{name: "a", typ: tar.TypeLink, link: "/etc/passwd"}), "links"},
		{"one file too big", tgz(t, entry{name: "files/aa/big", body: zeros}), "limit for one file"},
		{"unpacks too big", tgz(t, entry{name: "a", body: zeros[:60<<10]}, entry{name: "b", body: zeros[:60<<10]}, entry{name: "c", body: zeros[:60<<10]}), "unpacks to more than"},
		{"too many entries", tgz(t, func() []entry {
			var es []entry
			for i := 0; i < 11; i++ {
				es = append(es, entry{name: "f" + string(rune('a'+i)), body: []byte("x")})
			}
			return es
		}()...), "more than 10 entries"},
		{"billion laughs in the backup", tgz(t, entry{name: "moodle_backup.xml", body: []byte(laughs)}), "DOCTYPE or entity declaration"},
		{"not an archive", []byte("\x1f\x8bnot really gzip"), "not a Moodle backup"},
		{"not Moodle 2", tgz(t, entry{name: "moodle.xml", body: []byte("<MOODLE_BACKUP/>")}), "moodle_backup.xml: is missing"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := moodle.ReadBackup(tt.data, small)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("got %v, want an error saying %q", err, tt.want)
			}
		})
	}
	if _, err := moodle.ParseXML([]byte(laughs)); err == nil || !strings.Contains(err.Error(), "line 3: a DOCTYPE") {
		t.Fatalf("billion laughs in a question file: %v", err)
	}
	// A 200 MB upload is refused after reading the limit, not all of it.
	r := &countingReader{r: io.LimitReader(zeroReader{}, 200<<20)}
	if _, err := moodle.ReadUpload(r, moodle.DefaultLimits.Upload); !errors.Is(err, moodle.ErrTooLarge) || !strings.Contains(err.Error(), "over the 100 MiB limit") {
		t.Fatalf("200 MB upload: %v", err)
	}
	if r.n > moodle.DefaultLimits.Upload+1 {
		t.Fatalf("read %d bytes of a 200 MB upload", r.n)
	}
}

type zeroReader struct{}

func (zeroReader) Read(p []byte) (int, error) {
	clear(p)
	return len(p), nil
}

type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

func TestQuestionFileMistakesArePlaced(t *testing.T) {
	t.Parallel()
	tests := []struct{ name, src, want string }{
		{"gift unclosed", "::A::Question {\n=yes\n~no\n\n::B:: Other {=x}", "line 1: this question's { is never closed"},
		{"gift bad numerical", "// x\n\n::N:: How many? {#=seven}", "line 3: numerical answer \"seven\" is not a number"},
		{"xml bad fraction", `<quiz><question type="multichoice"><name><text>a</text></name><questiontext><text>q</text></questiontext><answer fraction="lots"><text>x</text></answer></question></quiz>`, "quiz/question[1]/answer[1]/@fraction"},
		{"xml unknown type", `<quiz><question type="calculated"><questiontext><text>q</text></questiontext></question></quiz>`, "quiz/question[1]/@type"},
		{"xml syntax", "<quiz>\n<question type=\"essay\">\n</quiz>", "line 3: XML syntax"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var err error
			if moodle.DetectQuestions([]byte(tt.src)) == moodle.KindXML {
				_, err = moodle.ParseXML([]byte(tt.src))
			} else {
				_, err = moodle.ParseGIFT([]byte(tt.src))
			}
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("got %v, want %q", err, tt.want)
			}
		})
	}
}

func TestImportsAllOrNothing(t *testing.T) {
	t.Parallel()
	sqltest.Each(t, func(t *testing.T, s *sqlstore.Store) {
		t.Parallel()
		ctx := context.Background()
		svc := &course.Service{Store: s, Users: s, Now: func() time.Time { return time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC) }}
		u := account.User{Username: "teacher", Auth: account.AuthManual, IsCourseCreator: true}
		if err := s.CreateUser(ctx, &u); err != nil {
			t.Fatal(err)
		}
		data, _ := os.ReadFile(testdata + "PHYS101.mbz")
		rep, err := moodle.ImportCourse(ctx, svc, &u, data, moodle.DefaultLimits)
		if err != nil {
			t.Fatal(err)
		}
		if rep.Kind != moodle.KindBackup || len(rep.Result.Activities) != 3 || len(rep.Skipped) != 3 || rep.Course.ShortName != "PHYS101" {
			t.Fatalf("report %+v", rep)
		}
		// Importing it again collides on the short name: nothing more is stored.
		if _, err := moodle.ImportCourse(ctx, svc, &u, data, moodle.DefaultLimits); !errors.Is(err, course.ErrShortNameTaken) {
			t.Fatalf("second import: %v", err)
		}
		// A hostile archive and a bomb are refused before anything is stored.
		evil := tgz(t, entry{name: "../x", body: []byte("x")})
		if _, err := moodle.ImportCourse(ctx, svc, &u, evil, moodle.DefaultLimits); err == nil || !strings.Contains(err.Error(), "path traversal") {
			t.Fatalf("traversal: %v", err)
		}
		bomb := tgz(t, entry{name: "moodle_backup.xml", body: make([]byte, 2<<20)})
		if _, err := moodle.ImportCourse(ctx, svc, &u, bomb, moodle.Limits{Upload: 1 << 20, Entry: 1 << 20, Total: 1 << 20, Entries: 10}); !errors.Is(err, moodle.ErrTooLarge) {
			t.Fatalf("bomb: %v", err)
		}
		if cs, _ := s.ListCourses(ctx); len(cs) != 1 {
			t.Fatalf("%d courses after refused imports", len(cs))
		}
		quiz := rep.Result.Activities[1]
		gift, _ := os.ReadFile(testdata + "PHYS101-questions.gift.txt")
		act, kind, err := moodle.ImportQuestions(ctx, svc, &u, rep.Course.ID, quiz.ID, "", gift, moodle.DefaultLimits)
		if err != nil || kind != moodle.KindGIFT || len(act.Quiz.Questions) != 14 || act.Quiz.Questions[7].ID != "PHYS101-Q7-2" {
			t.Fatalf("GIFT into the quiz: %v %s %d", err, kind, len(act.Quiz.Questions))
		}
		xmlData, _ := os.ReadFile(testdata + "PHYS101-questions.xml")
		act, kind, err = moodle.ImportQuestions(ctx, svc, &u, rep.Course.ID, 0, "", xmlData, moodle.DefaultLimits)
		if err != nil || kind != moodle.KindXML || act.Name != "Forces and Motion Check" || len(act.Quiz.Questions) != 7 || act.MaxGrade != 10 {
			t.Fatalf("XML into a new quiz: %v %s %+v", err, kind, act)
		}
		// A question that breaks a rule is reported at its line, and the quiz is left as it was.
		bad := append(append([]byte{}, gift...), []byte("\n\n::Bad::Pick {~a~b}\n")...)
		_, _, err = moodle.ImportQuestions(ctx, svc, &u, rep.Course.ID, quiz.ID, "", bad, moodle.DefaultLimits)
		if err == nil || !strings.Contains(err.Error(), fmt.Sprintf("line %d choices: ", bytes.Count(gift, []byte("\n"))+3)) {
			t.Fatalf("bad question: %v", err)
		}
		after, _ := s.ActivityByID(ctx, quiz.ID)
		if len(after.Quiz.Questions) != 14 {
			t.Fatalf("a refused import changed the quiz: %d questions", len(after.Quiz.Questions))
		}
	})
}

// rewriteBackup rebuilds a .mbz with some of its files changed.
func rewriteBackup(t *testing.T, data []byte, change func(name string, body []byte) []byte) []byte {
	t.Helper()
	gz, err := gzip.NewReader(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	tr := tar.NewReader(gz)
	var entries []entry
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(tr)
		if h.Typeflag == tar.TypeReg {
			body = change(h.Name, body)
		}
		entries = append(entries, entry{name: h.Name, typ: h.Typeflag, body: body})
	}
	return tgz(t, entries...)
}

func TestBackupQuestionsLtipubLacks(t *testing.T) {
	t.Parallel()
	data, _ := os.ReadFile(testdata + "PHYS101.mbz")
	changed := rewriteBackup(t, data, func(name string, body []byte) []byte {
		switch name {
		case "questions.xml": // Q5 becomes a calculated question
			return bytes.Replace(body, []byte("<qtype>numerical</qtype>"), []byte("<qtype>calculated</qtype>"), 1)
		case "activities/quiz_71/quiz.xml": // slot 1 draws a random question
			s := string(body)
			i := strings.Index(s, "<question_reference")
			j := strings.Index(s, "</question_reference>") + len("</question_reference>")
			return []byte(s[:i] + `<question_set_reference id="1"><usingcontextid>125</usingcontextid></question_set_reference>` + s[j:])
		}
		return body
	})
	b, err := moodle.ReadBackup(changed, moodle.DefaultLimits)
	if err != nil {
		t.Fatal(err)
	}
	var quiz *course.FileActivity
	for i := range b.File.Activities {
		if b.File.Activities[i].Type == course.TypeQuiz {
			quiz = &b.File.Activities[i]
		}
	}
	if quiz == nil || len(quiz.Questions) != 5 {
		t.Fatalf("quiz %+v", quiz)
	}
	notes := strings.Join(b.Notes, "\n")
	if !strings.Contains(notes, `slot 1 draws a random question`) || !strings.Contains(notes, `slot 5, question "Average speed", is of type calculated`) {
		t.Fatalf("notes:\n%s", notes)
	}
	qs, err := moodle.ParseGIFT([]byte("$CATEGORY: Unit 1\n::A:: Yes? {T}\n"))
	if err != nil || qs.Category != "Unit 1" || len(qs.List) != 1 || qs.Where[0] != "line 2" {
		t.Fatalf("a question right after the category line: %+v %v", qs, err)
	}
}
