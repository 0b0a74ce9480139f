package course

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"path"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/ltipub/ltipub/internal/account"
)

// SubmissionType is a way students hand in an assignment.
type SubmissionType string

const (
	SubmitText SubmissionType = "online_text"
	SubmitFile SubmissionType = "file"
)

// Limits on file submissions. A teacher picks an assignment's own limits up to the caps; the per-submission
// total bounds what one request holds in memory and adds to the database.
const (
	DefaultMaxFiles     = 5
	MaxFilesCap         = 20
	DefaultMaxFileBytes = 5 << 20
	MaxFileBytesCap     = 20 << 20
	MaxSubmissionBytes  = 50 << 20
)

// AssignmentSettings are an assignment's submission settings. The zero value is online text only, as every
// assignment was before file submissions.
type AssignmentSettings struct {
	// SubmissionTypes: online text, file upload or both; empty means online text.
	SubmissionTypes []SubmissionType `json:"submission_types,omitempty"`
	// MaxFiles is how many files a submission may hold (0: DefaultMaxFiles).
	MaxFiles int `json:"max_files,omitempty"`
	// MaxFileBytes is the largest file taken, in bytes (0: DefaultMaxFileBytes).
	MaxFileBytes int64 `json:"max_file_bytes,omitempty"`
}

func (a AssignmentSettings) has(t SubmissionType) bool {
	for _, x := range a.SubmissionTypes {
		if x == t {
			return true
		}
	}
	return false
}

// Text reports whether students may submit online text.
func (a AssignmentSettings) Text() bool { return len(a.SubmissionTypes) == 0 || a.has(SubmitText) }

// Files reports whether students may upload files.
func (a AssignmentSettings) Files() bool { return a.has(SubmitFile) }

// FileLimit is how many files a submission may hold.
func (a AssignmentSettings) FileLimit() int {
	if a.MaxFiles > 0 {
		return a.MaxFiles
	}
	return DefaultMaxFiles
}

// ByteLimit is the largest file taken.
func (a AssignmentSettings) ByteLimit() int64 {
	if a.MaxFileBytes > 0 {
		return a.MaxFileBytes
	}
	return DefaultMaxFileBytes
}

// IsDefault reports whether the settings are those of an assignment of course format versions 1 and 2.
func (a AssignmentSettings) IsDefault() bool {
	return a.Text() && !a.Files() && a.MaxFiles == 0 && a.MaxFileBytes == 0
}

func (a *AssignmentSettings) validate(prefix string) error {
	seen := map[SubmissionType]bool{}
	for _, t := range a.SubmissionTypes {
		if t != SubmitText && t != SubmitFile {
			return invalid(prefix+"submission_types", "submission.types", "must hold %q, %q or both, not %q", "Text", SubmitText, "File", SubmitFile, "Value", t)
		}
		if seen[t] {
			return invalid(prefix+"submission_types", "submission.types_twice", "names %q twice", "Value", t)
		}
		seen[t] = true
	}
	if a.SubmissionTypes != nil && len(a.SubmissionTypes) == 0 {
		return invalid(prefix+"submission_types", "submission.types_none", "must hold %q, %q or both (students need a way to submit)", "Text", SubmitText, "File", SubmitFile)
	}
	if len(a.SubmissionTypes) == 1 && a.SubmissionTypes[0] == SubmitText {
		a.SubmissionTypes = nil // the default, stored and exported as before
	}
	if a.MaxFiles < 0 || a.MaxFiles > MaxFilesCap {
		return invalid(prefix+"max_files", "submission.max_files", "must be between 1 and %d", "Max", MaxFilesCap)
	}
	if a.MaxFileBytes < 0 || a.MaxFileBytes > MaxFileBytesCap {
		return invalid(prefix+"max_file_bytes", "submission.max_file_bytes", "must be between 1 and %d (%s)", "Max", MaxFileBytesCap, "Size", FormatBytes(MaxFileBytesCap))
	}
	if !a.Files() {
		a.MaxFiles, a.MaxFileBytes = 0, 0
	}
	return nil
}

// FormatBytes writes a size for people: 512 bytes, 3.2 KiB, 5 MiB.
func FormatBytes(n int64) string {
	switch {
	case n < 1<<10:
		return fmt.Sprintf("%d bytes", n)
	case n < 1<<20:
		return FormatNumber(float64(n*10/(1<<10))/10) + " KiB"
	default:
		return FormatNumber(float64(n*10/(1<<20))/10) + " MiB"
	}
}

// SubmissionFile is a file of a submission. Data is filled only by SubmissionFileData.
type SubmissionFile struct {
	ID           int64
	SubmissionID int64
	Name         string
	Size         int64
	SHA256       string
	UploadedAt   time.Time
	Data         []byte
	// ActivityID and UserID are the submission's, read with the file to check who may download it.
	ActivityID, UserID int64
}

// Upload is a file a student sends.
type Upload struct {
	Name string
	Data []byte
}

// Scanner checks an uploaded file before it is stored: a virus scanner (ClamAV's clamd, say) plugs in here.
// An error refuses the file, and its text is shown to the student. Service.Scanner nil accepts every file.
type Scanner interface {
	Scan(ctx context.Context, name string, data []byte) error
}

var (
	// ErrFileTooLarge refuses a file or a submission over its size limit.
	ErrFileTooLarge = errors.New("over the size limit")
	// ErrFileRefused means the scanner refused a file.
	ErrFileRefused = errors.New("refused by the virus scanner")
	// ErrTooManyFiles refuses a submission over the assignment's file count (checked again in the storing
	// transaction, so two submissions at once cannot pass it together).
	ErrTooManyFiles = errors.New("too many files")
)

// SubmissionInput is what a student sends: online text, files to add (a file of the same name is replaced)
// and the ids of files to remove.
type SubmissionInput struct {
	Text   string
	Files  []Upload
	Remove []int64
}

// cleanFileName keeps the base name of an uploaded file without control characters, and refuses an empty or
// over-long one; the name is only ever shown and sent as an attachment's name, never used as a path.
func cleanFileName(name string) (string, error) {
	name = strings.ReplaceAll(name, `\`, "/")
	name = path.Base(strings.TrimSpace(name))
	name = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) || r == '"' {
			return -1
		}
		return r
	}, name)
	if name == "" || name == "." || name == "/" || name == ".." {
		return "", invalid("file", "file.no_name", "has no name; choose a file from your computer")
	}
	if !utf8.ValidString(name) || len(name) > 200 {
		return "", invalid("file", "file.bad_name", "name %q is not UTF-8 or longer than 200 bytes; rename the file and send it again", "Value", name)
	}
	return name, nil
}

// SubmitWork saves u's submission to an assignment: its online text (replacing the earlier one) and its files
// (added, replaced by name, removed), under the assignment's submission types and limits, in one transaction.
func (s *Service) SubmitWork(ctx context.Context, u *account.User, activityID int64, in SubmissionInput) (Submission, error) {
	act, err := s.submittable(ctx, u, activityID)
	if err != nil {
		return Submission{}, err
	}
	set := act.Assignment
	text := strings.TrimSpace(in.Text)
	if text != "" && !set.Text() {
		return Submission{}, invalid("text", "submission.no_text", "is not taken: this assignment takes files only")
	}
	if len(text) > 200000 {
		return Submission{}, invalid("text", "submission.text_long", "must be at most 200000 characters long")
	}
	if len(in.Files) > 0 && !set.Files() {
		return Submission{}, invalid("file", "submission.no_file", "is not taken: this assignment takes online text only")
	}
	now := s.now()
	var total int64
	add := make([]SubmissionFile, 0, len(in.Files))
	names := map[string]bool{}
	for _, f := range in.Files {
		name, err := cleanFileName(f.Name)
		if err != nil {
			return Submission{}, err
		}
		if names[name] {
			return Submission{}, invalid("file", "file.twice", "%q is sent twice; send each file once", "Value", name)
		}
		names[name] = true
		if n := int64(len(f.Data)); n > set.ByteLimit() {
			return Submission{}, fmt.Errorf("%w: %q is %s; this assignment takes files up to %s each (make it smaller, or ask your teacher)",
				ErrFileTooLarge, name, FormatBytes(n), FormatBytes(set.ByteLimit()))
		}
		if len(f.Data) == 0 {
			return Submission{}, invalid("file", "file.empty", "%q is empty; choose the file again", "Value", name)
		}
		total += int64(len(f.Data))
		if s.Scanner != nil {
			if err := s.Scanner.Scan(ctx, name, f.Data); err != nil {
				return Submission{}, fmt.Errorf("%w: %q: %v", ErrFileRefused, name, err)
			}
		}
		sum := sha256.Sum256(f.Data)
		add = append(add, SubmissionFile{Name: name, Size: int64(len(f.Data)), SHA256: hex.EncodeToString(sum[:]), UploadedAt: now, Data: f.Data})
	}
	if total > MaxSubmissionBytes {
		return Submission{}, fmt.Errorf("%w: the files add up to %s; one submission takes at most %s", ErrFileTooLarge,
			FormatBytes(total), FormatBytes(MaxSubmissionBytes))
	}
	sub := Submission{ActivityID: act.ID, UserID: u.ID, Text: text, SubmittedAt: now}
	err = s.Store.SaveSubmissionFiles(ctx, &sub, add, in.Remove, func(files []SubmissionFile) error {
		if len(files) > set.FileLimit() {
			return fmt.Errorf("%w: this assignment takes at most %d file(s) and the submission would hold %d; remove one before adding another",
				ErrTooManyFiles, set.FileLimit(), len(files))
		}
		var sum int64
		for _, f := range files {
			sum += f.Size
		}
		if sum > MaxSubmissionBytes {
			return fmt.Errorf("%w: the submission's files would add up to %s; one submission takes at most %s", ErrFileTooLarge,
				FormatBytes(sum), FormatBytes(MaxSubmissionBytes))
		}
		if text == "" && len(files) == 0 {
			if set.Files() && !set.Text() {
				return invalid("file", "submission.file_missing", "is missing: add at least one file before submitting")
			}
			if set.Files() {
				return invalid("text", "submission.empty", "is empty and no file is added: write your answer or add a file")
			}
			return invalid("text", "submission.text_missing", "write your answer before submitting")
		}
		return nil
	})
	if err != nil {
		return Submission{}, err
	}
	if err := s.Store.MarkComplete(ctx, act.ID, u.ID, now); err != nil {
		return sub, fmt.Errorf("record completion: %w", err)
	}
	return sub, nil
}

// submittable loads an assignment u may submit to now.
func (s *Service) submittable(ctx context.Context, u *account.User, activityID int64) (Activity, error) {
	act, _, acc, err := s.Activity(ctx, u, activityID)
	if err != nil {
		return Activity{}, err
	}
	if act.Type != TypeAssignment {
		return Activity{}, ErrWrongType
	}
	if !acc.IsStudent() {
		return Activity{}, fmt.Errorf("%w: only enrolled students submit", ErrForbidden)
	}
	if closes := act.ClosesAt(); !closes.IsZero() && s.now().After(closes) {
		if act.CutoffAt.IsZero() {
			return Activity{}, fmt.Errorf("%w: it was due %s", ErrPastDue, act.DueAt.Format("2006-01-02 15:04 MST"))
		}
		return Activity{}, fmt.Errorf("%w: it was due %s, and late submissions closed %s", ErrPastDue,
			act.DueAt.Format("2006-01-02 15:04 MST"), closes.Format("2006-01-02 15:04 MST"))
	}
	return act, nil
}

// SubmissionFileData gives a submission's file with its content to the student who submitted it and to the
// course's teachers (Access.Edit); anyone else gets ErrNotFound, as for a file that does not exist, so that
// file ids reveal nothing.
func (s *Service) SubmissionFileData(ctx context.Context, u *account.User, fileID int64) (SubmissionFile, error) {
	f, err := s.Store.SubmissionFileData(ctx, fileID)
	if err != nil {
		return SubmissionFile{}, storeErr("file", err)
	}
	if u == nil {
		return SubmissionFile{}, ErrNotFound
	}
	act, err := s.Store.ActivityByID(ctx, f.ActivityID)
	if err != nil {
		return SubmissionFile{}, storeErr("activity", err)
	}
	c, err := s.Store.CourseByID(ctx, act.CourseID)
	if err != nil {
		return SubmissionFile{}, storeErr("course", err)
	}
	acc, err := s.Access(ctx, u, c)
	if err != nil {
		return SubmissionFile{}, err
	}
	if acc.Edit || (f.UserID == u.ID && acc.IsStudent()) {
		return f, nil
	}
	return SubmissionFile{}, ErrNotFound
}
