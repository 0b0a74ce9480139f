package moodle

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"github.com/ltipub/ltipub/internal/account"
	"github.com/ltipub/ltipub/internal/course"
)

// Kind is the format of an uploaded file.
type Kind string

const (
	KindCourseFile Kind = "course file"
	KindBackup     Kind = "Moodle backup"
	KindGIFT       Kind = "GIFT"
	KindXML        Kind = "Moodle XML"
)

// DetectCourse tells a course file (JSON) from a Moodle backup (gzip or zip) by their first bytes.
func DetectCourse(data []byte) (Kind, error) {
	switch t := bytes.TrimLeft(data, " \t\r\n\ufeff"); {
	case bytes.HasPrefix(data, []byte{0x1f, 0x8b}), bytes.HasPrefix(data, []byte("PK\x03\x04")):
		return KindBackup, nil
	case bytes.HasPrefix(t, []byte("{")):
		return KindCourseFile, nil
	}
	return "", &Error{Message: "this is neither a course file (JSON, docs/course-format.md) nor a Moodle course backup (.mbz)"}
}

// DetectQuestions tells Moodle XML (it starts with < after spaces) from GIFT.
func DetectQuestions(data []byte) Kind {
	if bytes.HasPrefix(bytes.TrimLeft(bytes.TrimPrefix(data, []byte("\ufeff")), " \t\r\n"), []byte("<")) {
		return KindXML
	}
	return KindGIFT
}

// Report is what a course import did, for people and for --json.
type Report struct {
	Kind     Kind          `json:"kind"`
	Course   course.Course `json:"-"`
	Sections []Section     `json:"sections,omitempty"`
	Skipped  []Skipped     `json:"skipped"`
	Notes    []string      `json:"notes,omitempty"`
	Result   course.ImportResult
}

// ImportCourse creates a course from a course file or a Moodle backup, in one transaction; a mistake is
// reported with its file and place and nothing is stored.
func ImportCourse(ctx context.Context, svc *course.Service, u *account.User, data []byte, lim Limits) (Report, error) {
	if int64(len(data)) > lim.Upload {
		return Report{}, &Error{Message: fmt.Sprintf("the file is over the %d MiB limit: %v", lim.Upload>>20, ErrTooLarge), Err: ErrTooLarge}
	}
	kind, err := DetectCourse(data)
	if err != nil {
		return Report{}, err
	}
	if kind == KindCourseFile {
		res, err := svc.Import(ctx, u, data)
		return Report{Kind: kind, Result: res, Course: res.Course, Skipped: []Skipped{}}, err
	}
	b, err := ReadBackup(data, lim)
	if err != nil {
		return Report{}, err
	}
	res, err := svc.ImportFile(ctx, u, b.File)
	if errors.Is(err, course.ErrShortNameTaken) {
		return Report{}, fmt.Errorf("%w: %q (a course imported from this backup before? Delete it, or change the course's short name in Moodle and back it up again)",
			course.ErrShortNameTaken, b.File.Course.ShortName)
	}
	if err != nil {
		return Report{}, placeBackupError(b, err)
	}
	sk := b.Skipped
	if sk == nil {
		sk = []Skipped{}
	}
	return Report{Kind: kind, Result: res, Course: res.Course, Sections: b.Sections, Skipped: sk, Notes: b.Notes}, nil
}

var fieldIndex = regexp.MustCompile(`^(activities|questions)\[(\d+)\]`)

// placeBackupError names the archive folder of the activity a rule failed in.
func placeBackupError(b *Backup, err error) error {
	var verr *course.ValidationError
	if !errors.As(err, &verr) {
		return err
	}
	m := fieldIndex.FindStringSubmatch(verr.Field)
	if m == nil || m[1] != "activities" {
		return &Error{File: "course/course.xml", Message: verr.Error()}
	}
	i, _ := strconv.Atoi(m[2])
	if i >= len(b.Sources) {
		return err
	}
	return &Error{File: b.Sources[i], Where: strings.TrimPrefix(verr.Field[len(m[0]):], "."), Message: verr.Message}
}

// ImportQuestions reads a GIFT or Moodle XML file and adds its questions to a quiz (quizID), or to a new quiz
// named after the file's category (or name) when quizID is 0.
func ImportQuestions(ctx context.Context, svc *course.Service, u *account.User, courseID, quizID int64, name string, data []byte, lim Limits) (course.Activity, Kind, error) {
	if int64(len(data)) > lim.Entry {
		return course.Activity{}, "", &Error{Message: fmt.Sprintf("the file is over the %d MiB limit: %v", lim.Entry>>20, ErrTooLarge), Err: ErrTooLarge}
	}
	kind := DetectQuestions(data)
	var qs *Questions
	var err error
	if kind == KindXML {
		qs, err = ParseXML(data)
	} else {
		qs, err = ParseGIFT(data)
	}
	if err != nil {
		return course.Activity{}, kind, err
	}
	if quizID == 0 {
		if c := qs.Category; c != "" {
			parts := strings.Split(c, "/")
			name = strings.TrimSpace(parts[len(parts)-1])
			name = strings.TrimPrefix(name, "Default for ")
		}
		if strings.TrimSpace(name) == "" {
			name = "Imported questions"
		}
	}
	offset := 0
	if quizID != 0 {
		if a, _, _, err := svc.Activity(ctx, u, quizID); err == nil {
			offset = len(a.Quiz.Questions)
		}
	}
	act, err := svc.ImportQuestions(ctx, u, courseID, quizID, name, qs.List)
	if err != nil {
		var verr *course.ValidationError
		if errors.As(err, &verr) {
			if m := regexp.MustCompile(`questions\[(\d+)\](.*)`).FindStringSubmatch(verr.Field); m != nil {
				i, _ := strconv.Atoi(m[1])
				if i-offset >= 0 && i-offset < len(qs.Where) {
					return course.Activity{}, kind, &Error{Where: qs.Where[i-offset] + strings.Replace(m[2], ".", " ", 1), Message: verr.Message}
				}
			}
		}
		return course.Activity{}, kind, err
	}
	return act, kind, nil
}
