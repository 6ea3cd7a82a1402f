package result

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"strings"
)

// StreamFile is a file of the result directory carried by the stream (a
// cell's profile, written before its cell outcome), so that a run
// collected from pod logs has it too: its cell, its path relative to the
// result directory, the SHA-256 of its bytes, and the bytes (base64 in
// JSON). Collect refuses one whose digest does not match its data.
type StreamFile struct {
	Cell   string `json:"cell"`
	Path   string `json:"path"`
	SHA256 string `json:"sha256"`
	Data   []byte `json:"data"`
}

// MaxStreamFile bounds the bytes of a file sent through the stream: its
// base64 line must stay under the log reader's line limit (16 MiB). A
// larger profile stays in the run's own directory only.
const MaxStreamFile = 8 << 20

// NewStreamFile makes the stream record of a cell's file.
func NewStreamFile(cell, rel string, data []byte) *StreamFile {
	sum := sha256.Sum256(data)
	return &StreamFile{Cell: cell, Path: rel, SHA256: hex.EncodeToString(sum[:]), Data: data}
}

// CheckStreamFile checks a streamed file: a cell, a path that names a
// file directly under ProfileDir (nothing that could leave the result
// directory), and bytes whose SHA-256 is the recorded one.
func CheckStreamFile(f *StreamFile) error {
	if f.Cell == "" {
		return errors.New("no cell")
	}
	dir, name := path.Split(f.Path)
	if dir != ProfileDir+"/" || name == "" || name != path.Clean(name) || strings.HasPrefix(name, ".") || strings.ContainsAny(name, `\`) {
		return fmt.Errorf("path %q is not a file name under %s/", f.Path, ProfileDir)
	}
	if len(f.Data) == 0 {
		return fmt.Errorf("%s: no data", f.Path)
	}
	sum := sha256.Sum256(f.Data)
	if got := hex.EncodeToString(sum[:]); got != f.SHA256 {
		return fmt.Errorf("%s: the SHA-256 of its %d bytes is %s, the record says %q (corrupt or edited in the log): refused", f.Path, len(f.Data), got, f.SHA256)
	}
	return nil
}

// WriteProfile stores a cell's profile as DIR/rel (rel under ProfileDir)
// and, when the run is streamed, sends it as a stream record first, so a
// collected run has the file its cell outcome names.
func (s *Store) WriteProfile(cell, rel string, data []byte) error {
	f := NewStreamFile(cell, filepath.ToSlash(rel), data)
	if err := CheckStreamFile(f); err != nil {
		return fmt.Errorf("results: refusing profile of %s: %w", cell, err)
	}
	if err := os.MkdirAll(filepath.Join(s.Dir, ProfileDir), 0o755); err != nil {
		return err
	}
	if err := WriteFileAtomic(filepath.Join(s.Dir, filepath.FromSlash(f.Path)), data); err != nil {
		return err
	}
	if s.Tee == nil || len(data) > MaxStreamFile {
		return nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return EncodeStream(s.Tee, StreamRecord{Profile: f})
}
