package moodle

import (
	"archive/tar"
	"archive/zip"
	"bufio"
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"path"
	"strings"
)

// Limits bound what an import reads, so that a hostile or broken archive cannot fill memory or disk.
type Limits struct {
	// Upload is the most bytes read from the uploaded file (compressed).
	Upload int64
	// Entry is the most bytes of one file inside the archive, once decompressed.
	Entry int64
	// Total is the most bytes of all files inside the archive, once decompressed.
	Total int64
	// Entries is the most files and folders in the archive.
	Entries int
}

// DefaultLimits are far above what a Moodle course backup without user data needs (the PHYS101 test backup is
// 16 KB), and low enough for one server to take a few imports at once.
var DefaultLimits = Limits{Upload: 100 << 20, Entry: 32 << 20, Total: 256 << 20, Entries: 20000}

// ErrTooLarge means an upload or a file in it is over a limit.
var ErrTooLarge = errors.New("too large")

// ReadUpload reads at most limit bytes, refusing a longer upload without reading the rest.
func ReadUpload(r io.Reader, limit int64) ([]byte, error) {
	data, err := io.ReadAll(io.LimitReader(r, limit+1))
	if err != nil {
		return nil, fmt.Errorf("read the upload: %w", err)
	}
	if int64(len(data)) > limit {
		return nil, &Error{Message: fmt.Sprintf("the file is over the %d MiB limit: %v (export less at once, or without user data and files)", limit>>20, ErrTooLarge), Err: ErrTooLarge}
	}
	return data, nil
}

// archive is the files of a backup, by their slash-separated path.
type archive map[string][]byte

// readArchive unpacks a .mbz: a gzip-compressed tar (Moodle's default) or a zip (with $CFG->usezipbackups).
// It refuses, before anything is stored, entries whose names leave the archive (absolute, "..", backslashes),
// links, devices, duplicates, and archives over the limits however well they compress.
func readArchive(data []byte, lim Limits) (archive, error) {
	if int64(len(data)) > lim.Upload {
		return nil, &Error{Message: fmt.Sprintf("the backup is over the %d MiB limit: %v", lim.Upload>>20, ErrTooLarge), Err: ErrTooLarge}
	}
	if bytes.HasPrefix(data, []byte("PK\x03\x04")) {
		return readZip(data, lim)
	}
	gz, err := gzip.NewReader(bytes.NewReader(data))
	if err != nil {
		return nil, &Error{Message: "this is not a Moodle backup (.mbz): it is neither a gzip-compressed tar nor a zip archive"}
	}
	gz.Multistream(false)
	tr := tar.NewReader(bufio.NewReader(gz))
	a := archive{}
	var total int64
	for n := 0; ; n++ {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, &Error{Message: fmt.Sprintf("the backup archive is damaged: %v", err)}
		}
		if n >= lim.Entries {
			return nil, &Error{Message: fmt.Sprintf("the backup has more than %d entries: %v", lim.Entries, ErrTooLarge), Err: ErrTooLarge}
		}
		name, err := entryName(h.Name)
		if err != nil {
			return nil, err
		}
		switch h.Typeflag {
		case tar.TypeDir:
			continue
		case tar.TypeReg:
		default:
			return nil, &Error{File: h.Name, Message: "links, devices and other special entries are refused in a backup"}
		}
		if h.Size > lim.Entry {
			return nil, &Error{File: name, Message: fmt.Sprintf("over the %d MiB limit for one file: %v", lim.Entry>>20, ErrTooLarge), Err: ErrTooLarge}
		}
		body, err := readLimited(tr, name, lim, &total)
		if err != nil {
			return nil, err
		}
		if _, dup := a[name]; dup {
			return nil, &Error{File: name, Message: "appears twice in the archive"}
		}
		a[name] = body
	}
	return a, nil
}

func readZip(data []byte, lim Limits) (archive, error) {
	zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		return nil, &Error{Message: fmt.Sprintf("the backup zip is damaged: %v", err)}
	}
	if len(zr.File) > lim.Entries {
		return nil, &Error{Message: fmt.Sprintf("the backup has more than %d entries: %v", lim.Entries, ErrTooLarge), Err: ErrTooLarge}
	}
	a := archive{}
	var total int64
	for _, f := range zr.File {
		name, err := entryName(f.Name)
		if err != nil {
			return nil, err
		}
		if f.FileInfo().IsDir() {
			continue
		}
		if !f.Mode().IsRegular() {
			return nil, &Error{File: f.Name, Message: "links, devices and other special entries are refused in a backup"}
		}
		rc, err := f.Open()
		if err != nil {
			return nil, &Error{File: name, Message: fmt.Sprintf("cannot be read: %v", err)}
		}
		body, err := readLimited(rc, name, lim, &total)
		rc.Close()
		if err != nil {
			return nil, err
		}
		if _, dup := a[name]; dup {
			return nil, &Error{File: name, Message: "appears twice in the archive"}
		}
		a[name] = body
	}
	return a, nil
}

// readLimited reads one entry, counting what it really decompresses to rather than what its header claims.
func readLimited(r io.Reader, name string, lim Limits, total *int64) ([]byte, error) {
	body, err := io.ReadAll(io.LimitReader(r, lim.Entry+1))
	if err != nil {
		return nil, &Error{File: name, Message: fmt.Sprintf("cannot be read: %v", err)}
	}
	if int64(len(body)) > lim.Entry {
		return nil, &Error{File: name, Message: fmt.Sprintf("over the %d MiB limit for one file: %v", lim.Entry>>20, ErrTooLarge), Err: ErrTooLarge}
	}
	*total += int64(len(body))
	if *total > lim.Total {
		return nil, &Error{File: name, Message: fmt.Sprintf("the backup unpacks to more than %d MiB: %v", lim.Total>>20, ErrTooLarge), Err: ErrTooLarge}
	}
	return body, nil
}

// entryName checks that an archive entry stays inside the archive and gives its clean name.
func entryName(raw string) (string, error) {
	if raw == "" || strings.ContainsRune(raw, '\\') || strings.ContainsRune(raw, 0) || strings.HasPrefix(raw, "/") ||
		(len(raw) > 1 && raw[1] == ':') {
		return "", &Error{File: raw, Message: "an entry name that leaves the archive (absolute, a drive, backslashes) is refused"}
	}
	for _, part := range strings.Split(raw, "/") {
		if part == ".." {
			return "", &Error{File: raw, Message: "an entry name with .. (path traversal) is refused"}
		}
	}
	clean := path.Clean(raw)
	return strings.TrimPrefix(clean, "./"), nil
}
