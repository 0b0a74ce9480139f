package web

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/ltipub/ltipub/internal/course"
)

// assignmentSettings reads the assignment form's submission types and file limits (the size in MiB).
func assignmentSettings(r *http.Request) (course.AssignmentSettings, error) {
	var set course.AssignmentSettings
	types := r.PostForm["submission_types"]
	if len(types) == 0 && r.PostFormValue("submission_types_shown") == "" {
		return set, nil // a form (or a client) without the field: online text, as before
	}
	for _, t := range types {
		set.SubmissionTypes = append(set.SubmissionTypes, course.SubmissionType(t))
	}
	if set.SubmissionTypes == nil {
		set.SubmissionTypes = []course.SubmissionType{} // ticked none: refused by validation
	}
	if v := strings.TrimSpace(r.PostFormValue("max_files")); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			return set, &course.ValidationError{Field: "max_files", Message: fmt.Sprintf("must be a whole number from 1 to %d", course.MaxFilesCap),
				Code: "submission.max_files_form", Args: map[string]any{"Max": course.MaxFilesCap}}
		}
		set.MaxFiles = n
	}
	if v := strings.TrimSpace(r.PostFormValue("max_file_mib")); v != "" {
		f, err := strconv.ParseFloat(v, 64)
		if err != nil || !(f > 0) {
			return set, &course.ValidationError{Field: "max_file_mib", Message: fmt.Sprintf("must be a size in MiB above 0, up to %d", course.MaxFileBytesCap>>20),
				Code: "submission.max_file_mib", Args: map[string]any{"Max": course.MaxFileBytesCap >> 20}}
		}
		set.MaxFileBytes = int64(f * (1 << 20))
	}
	return set, nil
}

// readSubmission reads a student's submission form: online text, files (multipart) and the files to remove.
// The body is bounded by what one submission may hold, so an oversized upload is refused while it arrives.
func readSubmission(w http.ResponseWriter, r *http.Request) (course.SubmissionInput, error) {
	var in course.SubmissionInput
	r.Body = http.MaxBytesReader(w, r.Body, course.MaxSubmissionBytes+1<<20)
	var err error
	if strings.HasPrefix(r.Header.Get("Content-Type"), "multipart/form-data") {
		err = r.ParseMultipartForm(8 << 20) // larger parts go to temporary files, removed below
		if r.MultipartForm != nil {
			defer r.MultipartForm.RemoveAll()
		}
	} else {
		err = r.ParseForm()
	}
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return in, fmt.Errorf("%w: the upload is over the %s one submission may hold", course.ErrFileTooLarge,
				course.FormatBytes(course.MaxSubmissionBytes))
		}
		return in, &course.ValidationError{Field: "form", Message: "could not be read (" + err.Error() + ")", Code: "form_unreadable", Args: map[string]any{"Reason": err.Error()}}
	}
	in.Text = r.PostFormValue("text")
	for _, v := range r.PostForm["remove"] {
		if id, err := strconv.ParseInt(v, 10, 64); err == nil {
			in.Remove = append(in.Remove, id)
		}
	}
	if r.MultipartForm != nil {
		for _, fh := range r.MultipartForm.File["files"] {
			if fh.Filename == "" && fh.Size == 0 {
				continue // the file field left empty
			}
			if fh.Size > course.MaxFileBytesCap {
				return in, fmt.Errorf("%w: %q is %s; no assignment takes files over %s", course.ErrFileTooLarge, fh.Filename,
					course.FormatBytes(fh.Size), course.FormatBytes(course.MaxFileBytesCap))
			}
			f, err := fh.Open()
			if err != nil {
				return in, err
			}
			data, err := io.ReadAll(io.LimitReader(f, course.MaxFileBytesCap+1))
			f.Close()
			if err != nil {
				return in, err
			}
			in.Files = append(in.Files, course.Upload{Name: fh.Filename, Data: data})
		}
	}
	return in, nil
}

// submissionFileDownload sends a submission's file to its student or the course's teachers, always as an
// attachment of no particular type, so that an uploaded HTML or SVG file never runs as a page of this site.
func (s *Server) submissionFileDownload(w http.ResponseWriter, r *http.Request) {
	id, ok := s.pathID(w, r, "fid")
	if !ok {
		return
	}
	f, err := s.cfg.Courses.SubmissionFileData(r.Context(), currentUser(r), id)
	if err != nil {
		s.courseFail(w, r, err)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "application/octet-stream")
	h.Set("Content-Disposition", "attachment; filename*=UTF-8''"+url.PathEscape(f.Name))
	h.Set("Content-Length", strconv.Itoa(len(f.Data)))
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Content-Security-Policy", "sandbox; default-src 'none'")
	h.Set("Cache-Control", "private, no-store")
	_, _ = w.Write(f.Data)
}
