package course_test

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/ltipub/ltipub/internal/course"
	"github.com/ltipub/ltipub/internal/store/sqlstore"
	"github.com/ltipub/ltipub/internal/store/sqlstore/sqltest"
)

type refuseEICAR struct{ seen []string }

func (r *refuseEICAR) Scan(_ context.Context, name string, data []byte) error {
	r.seen = append(r.seen, name)
	if strings.Contains(string(data), "EICAR") {
		return errors.New("Eicar-Test-Signature FOUND")
	}
	return nil
}

// TestSubmissionTypesScannerAndFormat: files-only and text-only assignments refuse the other kind; the scanner
// sees every file and its refusal stores nothing; the settings survive export and import as format version 3,
// and a version 2 file using them is refused by its version.
func TestSubmissionTypesScannerAndFormat(t *testing.T) {
	t.Parallel()
	sqltest.Each(t, func(t *testing.T, s *sqlstore.Store) {
		t.Parallel()
		ctx := context.Background()
		f := newFixture(t, s)
		scan := &refuseEICAR{}
		f.svc.Scanner = scan
		teacher, student := f.user(t, "teacher", true), f.user(t, "student", false)
		c, err := f.svc.CreateCourse(ctx, teacher, course.CourseInput{FullName: "Physics", ShortName: "PHY", Visible: true})
		if err != nil {
			t.Fatal(err)
		}
		f.enrol(t, teacher, c.ID, student, course.RoleStudent)
		var verr *course.ValidationError
		if _, err := f.svc.CreateActivity(ctx, teacher, c.ID, course.ActivityInput{Type: course.TypeAssignment, Name: "Bad", MaxGrade: 1,
			Assignment: course.AssignmentSettings{SubmissionTypes: []course.SubmissionType{"video"}}}); !errors.As(err, &verr) || verr.Field != "submission_types" {
			t.Fatalf("an unknown submission type: %v", err)
		}
		if _, err := f.svc.CreateActivity(ctx, teacher, c.ID, course.ActivityInput{Type: course.TypeAssignment, Name: "Bad", MaxGrade: 1,
			Assignment: course.AssignmentSettings{SubmissionTypes: []course.SubmissionType{course.SubmitFile}, MaxFiles: 21}}); !errors.As(err, &verr) || verr.Field != "max_files" {
			t.Fatalf("21 files: %v", err)
		}
		files, err := f.svc.CreateActivity(ctx, teacher, c.ID, course.ActivityInput{Type: course.TypeAssignment, Name: "Files", Visible: true, MaxGrade: 10,
			Assignment: course.AssignmentSettings{SubmissionTypes: []course.SubmissionType{course.SubmitFile}, MaxFiles: 3, MaxFileBytes: 1 << 20}})
		if err != nil {
			t.Fatal(err)
		}
		text, err := f.svc.CreateActivity(ctx, teacher, c.ID, course.ActivityInput{Type: course.TypeAssignment, Name: "Text", Visible: true, MaxGrade: 10})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := f.svc.SubmitWork(ctx, student, files.ID, course.SubmissionInput{Text: "an essay"}); !errors.As(err, &verr) || !strings.Contains(verr.Message, "files only") {
			t.Fatalf("text to a files-only assignment: %v", err)
		}
		if _, err := f.svc.SubmitWork(ctx, student, files.ID, course.SubmissionInput{}); !errors.As(err, &verr) || !strings.Contains(verr.Message, "add at least one file") {
			t.Fatalf("an empty submission: %v", err)
		}
		if _, err := f.svc.SubmitWork(ctx, student, text.ID, course.SubmissionInput{Text: "x", Files: []course.Upload{{Name: "a.txt", Data: []byte("a")}}}); !errors.As(err, &verr) || !strings.Contains(verr.Message, "online text only") {
			t.Fatalf("a file to a text-only assignment: %v", err)
		}
		_, err = f.svc.SubmitWork(ctx, student, files.ID, course.SubmissionInput{Files: []course.Upload{{Name: "ok.txt", Data: []byte("fine")},
			{Name: "eicar.com", Data: []byte(`X5O!P%@AP[4\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*`)}}})
		if !errors.Is(err, course.ErrFileRefused) || !strings.Contains(err.Error(), `"eicar.com"`) || !strings.Contains(err.Error(), "FOUND") {
			t.Fatalf("a file the scanner refuses: %v", err)
		}
		if _, err := f.svc.SubmissionOf(ctx, student, files.ID); !errors.Is(err, course.ErrNotFound) {
			t.Fatalf("a refused upload stored a submission: %v", err)
		}
		sub, err := f.svc.SubmitWork(ctx, student, files.ID, course.SubmissionInput{Files: []course.Upload{{Name: "../../etc/passwd", Data: []byte("root")}}})
		if err != nil || len(sub.Files) != 1 || sub.Files[0].Name != "passwd" || strings.Join(scan.seen, ",") != "ok.txt,eicar.com,passwd" {
			t.Fatalf("a file: %+v %v (scanned %q)", sub, err, scan.seen)
		}
		if _, err := f.svc.SubmissionFileData(ctx, teacher, sub.Files[0].ID); err != nil {
			t.Fatalf("the teacher's download: %v", err)
		}

		// Export writes version 3 for the files assignment; the import keeps the settings.
		file, err := f.svc.Export(ctx, teacher, c.ID)
		if err != nil || file.Format != course.FormatVersion {
			t.Fatalf("export: %s %v", file.Format, err)
		}
		if got := file.Activities[0]; len(got.SubmissionTypes) != 1 || got.MaxFiles != 3 || got.MaxFileBytes != 1<<20 || file.Activities[1].SubmissionTypes != nil {
			t.Fatalf("exported %+v / %+v", got, file.Activities[1])
		}
		file.Course.ShortName = "PHY2"
		data, _ := json.Marshal(file)
		res, err := f.svc.Import(ctx, teacher, data)
		if err != nil || !res.Activities[0].Assignment.Files() || res.Activities[0].Assignment.Text() || res.Activities[0].Assignment.FileLimit() != 3 {
			t.Fatalf("import: %+v %v", res.Activities, err)
		}
		file.Format, file.Course.ShortName = course.FormatVersion2, "PHY3"
		data, _ = json.Marshal(file)
		if _, err := f.svc.Import(ctx, teacher, data); !errors.As(err, &verr) || !strings.Contains(verr.Message, "ltipub-course/3") {
			t.Fatalf("a version 2 file with submission types: %v", err)
		}
		// Without files the export stays at the oldest version that holds the course.
		if _, err := f.svc.DeleteActivity(ctx, teacher, files.ID); err != nil {
			t.Fatal(err)
		}
		if file, err := f.svc.Export(ctx, teacher, c.ID); err != nil || file.Format != course.FormatVersion1 {
			t.Fatalf("export without file submissions: %s %v", file.Format, err)
		}
	})
}
