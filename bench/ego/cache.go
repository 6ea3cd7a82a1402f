package ego

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"

	"github.com/enclavebench/enclavebench/bench/result"
)

// The build/sign cache (Options.CacheDir) holds binaries that run as
// enclaves and whose measurements are reported, so an entry is used only
// when its bytes are the ones that were made: each entry directory ends
// with a manifest of the SHA-256 of its files and of the inputs it was made
// from, written last and checked before every use. An entry that does not
// match (or predates manifests) is removed and made again, with a warning.
// Everything in the cache is owner-only: directories 0700, executables
// 0700, other files 0600.

// manifestName is the manifest file of a cache entry.
const manifestName = "sha256.json"

// manifest records a cache entry's content hashes (hex SHA-256).
type manifest struct {
	// Files maps each file of the entry directory to its hash.
	Files map[string]string `json:"files"`
	// Inputs maps what the entry was made from to its hash (the unsigned
	// binary and the enclave.json of a signed entry).
	Inputs map[string]string `json:"inputs,omitempty"`
}

// privateDir creates dir (and its parents) owner-only, and takes group and
// other permissions away from dir if it existed with them.
func privateDir(dir string) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	st, err := os.Stat(dir)
	if err != nil {
		return err
	}
	if st.Mode().Perm()&0o077 != 0 {
		return os.Chmod(dir, st.Mode().Perm()&0o700)
	}
	return nil
}

// sealEntry writes dir's manifest over files (names in dir) and inputs,
// after making every file owner-only (exe: 0700, others 0600).
func sealEntry(dir string, files []string, inputs map[string]string) error {
	m := manifest{Files: map[string]string{}, Inputs: inputs}
	for _, name := range files {
		p := filepath.Join(dir, name)
		perm := os.FileMode(0o600)
		if name == "workload" {
			perm = 0o700
		}
		if err := os.Chmod(p, perm); err != nil {
			return err
		}
		sum, err := result.FileSHA256(p)
		if err != nil {
			return err
		}
		m.Files[name] = sum
	}
	b, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, manifestName), append(b, '\n'), 0o600)
}

// errNoEntry: the cache has no entry at the directory.
var errNoEntry = errors.New("no cache entry")

// checkEntry verifies the entry in dir: its manifest names exactly files,
// records inputs, and every file hashes to what it records. It returns
// errNoEntry when dir does not exist, and otherwise says what differs.
func checkEntry(dir string, files []string, inputs map[string]string) error {
	if _, err := os.Stat(dir); errors.Is(err, fs.ErrNotExist) {
		return errNoEntry
	}
	b, err := os.ReadFile(filepath.Join(dir, manifestName))
	if errors.Is(err, fs.ErrNotExist) {
		return errors.New("it has no content hashes (made by an older enclavebench, or unfinished)")
	}
	if err != nil {
		return err
	}
	var m manifest
	if err := json.Unmarshal(b, &m); err != nil {
		return fmt.Errorf("its manifest is unreadable: %v", err)
	}
	if got := slices.Sorted(maps.Keys(m.Files)); !slices.Equal(got, slices.Sorted(slices.Values(files))) {
		return fmt.Errorf("its manifest lists %q, want %q", got, slices.Sorted(slices.Values(files)))
	}
	if !maps.Equal(m.Inputs, inputs) {
		return fmt.Errorf("it was made from other inputs (%v, want %v)", m.Inputs, inputs)
	}
	for _, name := range files {
		sum, err := result.FileSHA256(filepath.Join(dir, name))
		if err != nil {
			return err
		}
		if sum != m.Files[name] {
			return fmt.Errorf("%s has SHA-256 %s, the entry recorded %s", name, sum, m.Files[name])
		}
	}
	return nil
}

// useEntry reports whether the entry in dir can be used. A damaged or
// unverifiable entry is reported on m.o.Log and removed, so that the
// caller makes it again.
func (m *Mode) useEntry(dir, what string, files []string, inputs map[string]string) (bool, error) {
	err := checkEntry(dir, files, inputs)
	switch {
	case err == nil:
		return true, nil
	case errors.Is(err, errNoEntry):
		return false, nil
	}
	fmt.Fprintf(m.o.Log, "ego: warning: cached %s %s cannot be used: %v; making it again\n", what, dir, err)
	if err := os.RemoveAll(dir); err != nil {
		return false, fmt.Errorf("ego: removing the damaged cache entry: %w", err)
	}
	return false, nil
}
