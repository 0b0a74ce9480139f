package web_test

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"os"
	"strings"
	"testing"

	"github.com/ltipub/ltipub/internal/app/apptest"
)

const moodleData = "../course/moodle/testdata/"

func upload(t *testing.T, inst *apptest.Instance, c *http.Client, path, filename string, content io.Reader, fields map[string]string) apptest.Response {
	t.Helper()
	pr, pw := io.Pipe()
	mw := multipart.NewWriter(pw)
	go func() {
		for k, v := range fields {
			_ = mw.WriteField(k, v)
		}
		fw, _ := mw.CreateFormFile("file", filename)
		_, err := io.Copy(fw, content)
		if err == nil {
			err = mw.Close()
		}
		pw.CloseWithError(err)
	}()
	req, _ := http.NewRequest(http.MethodPost, inst.URL+path, pr)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	req.Header.Set("Origin", inst.URL)
	return inst.Do(t, c, req)
}

func TestMoodleUploads(t *testing.T) {
	t.Parallel()
	f := newCourseFixture(t)
	mbz, _ := os.ReadFile(moodleData + "PHYS101.mbz")
	r := upload(t, f.inst, f.teacher, "/courses/import", "PHYS101.mbz", bytes.NewReader(mbz), nil)
	if r.StatusCode != http.StatusSeeOther {
		t.Fatalf("backup upload: %d %s", r.StatusCode, r.Body)
	}
	page := f.inst.Get(t, f.teacher, r.Header.Get("Location"))
	for _, want := range []string{"Imported &#34;Physics Foundations: Forces and Motion&#34; with 3 activities",
		"Skipped (ltipub has no such activity): label &#34;Start here", "forum &#34;Unit 2 Discussion", "the word limit (800) is not kept",
		"Reading: Newton&#39;s Laws of Motion", "Forces and Motion Check", "Lab Report: Measuring Friction"} {
		if !strings.Contains(page.Body, want) {
			t.Fatalf("course page after the backup import lacks %q:\n%s", want, page.Body)
		}
	}
	// A 200 MB upload is refused with a message, and nothing is imported.
	r = upload(t, f.inst, f.teacher, "/courses/import", "huge.mbz", io.LimitReader(zeros{}, 200<<20), nil)
	if r.StatusCode != http.StatusRequestEntityTooLarge || !strings.Contains(r.Body, "over the 100 MiB limit") {
		t.Fatalf("200 MB upload: %d %.300s", r.StatusCode, r.Body)
	}
	r = upload(t, f.inst, f.teacher, "/courses/import", "evil.mbz", bytes.NewReader(evilArchive(t)), nil)
	if r.StatusCode != http.StatusBadRequest || !strings.Contains(r.Body, "path traversal") {
		t.Fatalf("traversal upload: %d %.300s", r.StatusCode, r.Body)
	}

	// Nothing was written by the refused uploads: the fixture's course and PHYS101 only.
	if cs, err := f.inst.Store.ListCourses(context.Background()); err != nil || len(cs) != 2 {
		t.Fatalf("courses after the refused uploads: %d %v", len(cs), err)
	}
	cid := f.res.Course.ID
	xmlData, _ := os.ReadFile(moodleData + "PHYS101-questions.xml")
	if r := upload(t, f.inst, f.student, fmt.Sprintf("/courses/%d/questions/import", cid), "q.xml", bytes.NewReader(xmlData), nil); r.StatusCode != http.StatusForbidden {
		t.Fatalf("a student imported questions: %d", r.StatusCode)
	}
	r = upload(t, f.inst, f.teacher, fmt.Sprintf("/courses/%d/questions/import", cid), "q.xml", bytes.NewReader(xmlData), nil)
	if r.StatusCode != http.StatusSeeOther {
		t.Fatalf("XML upload: %d %s", r.StatusCode, r.Body)
	}
	quizPage := r.Header.Get("Location")
	page = f.inst.Get(t, f.teacher, quizPage)
	if !strings.Contains(page.Body, "Imported the Moodle XML file: &#34;Forces and Motion Check&#34; now has 7 questions") ||
		!strings.Contains(page.Body, "What is the SI unit of <strong>force</strong>?") {
		t.Fatalf("quiz page after the XML import:\n%s", page.Body)
	}
	quizID := strings.TrimPrefix(quizPage, "/activities/")
	bad := []byte("::A:: Pick {\n~a\n~b\n}\n")
	r = upload(t, f.inst, f.teacher, fmt.Sprintf("/courses/%d/questions/import", cid), "q.gift", bytes.NewReader(bad), map[string]string{"quiz": quizID})
	if r.StatusCode != http.StatusBadRequest || !strings.Contains(r.Body, "line 1 choices: at least one choice must be marked correct") {
		t.Fatalf("bad GIFT: %d %s", r.StatusCode, r.Body)
	}
	gift := f.inst.Get(t, f.teacher, quizPage+"/questions.gift")
	if gift.StatusCode != http.StatusOK || !strings.Contains(gift.Body, "// [id:PHYS101-Q1]") || !strings.Contains(gift.Body, "~%-50%Mass#No\\: mass is a scalar.") {
		t.Fatalf("GIFT export: %d %s", gift.StatusCode, gift.Body)
	}
	x := f.inst.Get(t, f.teacher, quizPage+"/questions.xml")
	if x.StatusCode != http.StatusOK || !strings.Contains(x.Body, "<idnumber>PHYS101-Q7</idnumber>") {
		t.Fatalf("XML export: %d %.500s", x.StatusCode, x.Body)
	}
	if r := f.inst.Get(t, f.student, quizPage+"/questions.xml"); r.StatusCode != http.StatusForbidden {
		t.Fatalf("a student exported the questions: %d", r.StatusCode)
	}
}

type zeros struct{}

func (zeros) Read(p []byte) (int, error) {
	clear(p)
	return len(p), nil
}

func evilArchive(t *testing.T) []byte {
	t.Helper()
	var buf bytes.Buffer
	gz := gzip.NewWriter(&buf)
	tw := tar.NewWriter(gz)
	_ = tw.WriteHeader(&tar.Header{Name: "../../../tmp/owned", Typeflag: tar.TypeReg, Size: 1, Mode: 0o644})
	_, _ = tw.Write([]byte("x"))
	tw.Close()
	gz.Close()
	return buf.Bytes()
}
