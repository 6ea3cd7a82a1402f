package ego

import (
	"bytes"
	"context"
	"encoding/json"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/enclavebench/enclavebench/bench/mode"
	"github.com/enclavebench/enclavebench/bench/plan"
	"github.com/enclavebench/enclavebench/bench/result"
	"github.com/enclavebench/enclavebench/bench/runner"
	"github.com/enclavebench/enclavebench/bench/runspec"
)

// appendByte appends one byte to path, keeping its mode.
func appendByte(t *testing.T, path string) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.Write([]byte{0}); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
}

func TestCheckEntry(t *testing.T) {
	t.Parallel()
	files := []string{"workload", "enclave.json"}
	inputs := map[string]string{"unsigned workload": "ab12"}
	newEntry := func(t *testing.T) string {
		dir := filepath.Join(t.TempDir(), "entry")
		if err := os.Mkdir(dir, 0o700); err != nil {
			t.Fatal(err)
		}
		for _, f := range files {
			if err := os.WriteFile(filepath.Join(dir, f), []byte(f+" content"), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		if err := sealEntry(dir, files, inputs); err != nil {
			t.Fatal(err)
		}
		return dir
	}
	tests := []struct {
		name    string
		damage  func(t *testing.T, dir string)
		files   []string
		inputs  map[string]string
		wantErr string
	}{
		{"intact", func(*testing.T, string) {}, files, inputs, ""},
		{"one byte appended", func(t *testing.T, dir string) { appendByte(t, filepath.Join(dir, "workload")) }, files, inputs, "workload has SHA-256"},
		{"same size, other bytes", func(t *testing.T, dir string) {
			if err := os.WriteFile(filepath.Join(dir, "enclave.json"), []byte("enclave.json CONTENT"), 0o600); err != nil {
				t.Fatal(err)
			}
		}, files, inputs, "enclave.json has SHA-256"},
		{"file removed", func(t *testing.T, dir string) { os.Remove(filepath.Join(dir, "workload")) }, files, inputs, "no such file"},
		{"no manifest (older cache)", func(t *testing.T, dir string) { os.Remove(filepath.Join(dir, manifestName)) }, files, inputs, "no content hashes"},
		{"garbled manifest", func(t *testing.T, dir string) {
			os.WriteFile(filepath.Join(dir, manifestName), []byte("{"), 0o600)
		}, files, inputs, "manifest is unreadable"},
		{"other inputs", func(*testing.T, string) {}, files, map[string]string{"unsigned workload": "cd34"}, "other inputs"},
		{"other files", func(*testing.T, string) {}, []string{"workload"}, inputs, "manifest lists"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := newEntry(t)
			tt.damage(t, dir)
			err := checkEntry(dir, tt.files, tt.inputs)
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("intact entry refused: %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("error %v, want %q", err, tt.wantErr)
			}
		})
	}
	if err := checkEntry(filepath.Join(t.TempDir(), "none"), files, inputs); err != errNoEntry {
		t.Errorf("missing entry: %v, want errNoEntry", err)
	}
	// sealEntry makes the files owner-only.
	dir := newEntry(t)
	for _, f := range append(files, manifestName) {
		st, err := os.Stat(filepath.Join(dir, f))
		if err != nil {
			t.Fatal(err)
		}
		want := fs.FileMode(0o600)
		if f == "workload" {
			want = 0o700
		}
		if st.Mode().Perm() != want {
			t.Errorf("%s: mode %v, want %v", f, st.Mode().Perm(), want)
		}
	}
}

func TestPrivateDir(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "a", "b")
	if err := privateDir(dir); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := privateDir(dir); err != nil {
		t.Fatal(err)
	}
	if st, _ := os.Stat(dir); st.Mode().Perm() != 0o700 {
		t.Errorf("mode %v, want 0700", st.Mode().Perm())
	}
}

// TestCacheRebuildsDamagedEntries damages the cached binaries the way a
// disk, a tool or a person might (one byte appended) and checks that
// Prepare notices, says so and makes them again, and that the cell then
// runs; every file of the cache is owner-only.
func TestCacheRebuildsDamagedEntries(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the workload binary")
	}
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	log := standIn(t, root)
	tmp := t.TempDir()
	key := filepath.Join(tmp, "keys", "enclave-key.pem")
	writeTestKey(t, key)
	scratch := filepath.Join(tmp, "scratch")
	if err := os.MkdirAll(scratch, 0o755); err != nil {
		t.Fatal(err)
	}
	cache := filepath.Join(tmp, "cache")
	if err := os.MkdirAll(cache, 0o755); err != nil { // a user's directory, too open
		t.Fatal(err)
	}
	var notes bytes.Buffer
	newMode := func() *Mode {
		return New(Options{SourceDir: root, CacheDir: cache, KeyPath: key, ScratchRoot: scratch,
			HostSGX: func() bool { return true }, Log: &notes})
	}
	ctx := context.Background()
	cells := []plan.Cell{testCell(t, "read", "DC2s_v2", SGX)}
	rc := &runner.Config{Spec: runspec.Spec{Reps: 2, Warmup: new(0), MinTimeNS: int64(time.Millisecond), TimeoutNS: int64(2 * time.Minute)}, ScratchDir: scratch}
	launches := []mode.Launch{rc.Launch(cells[0], "")}
	prepare := func(t *testing.T) *Mode {
		t.Helper()
		notes.Reset()
		m := newMode()
		if err := m.Check(ctx); err != nil {
			t.Fatalf("Check: %v", err)
		}
		if err := m.Prepare(ctx, launches); err != nil {
			if strings.Contains(err.Error(), "missing go.sum entry") {
				t.Skipf("the module cannot build with -tags ego yet: %v", err)
			}
			t.Fatalf("Prepare: %v\nnotes:\n%s", err, notes.String())
		}
		return m
	}
	counts := func(t *testing.T, wantBuilds, wantSigns int) {
		t.Helper()
		if b, s := invocations(t, log, "ego-go build"), invocations(t, log, "ego sign"); b != wantBuilds || s != wantSigns {
			t.Fatalf("%d builds and %d signatures in all, want %d and %d; notes:\n%s", b, s, wantBuilds, wantSigns, notes.String())
		}
	}
	only := func(t *testing.T, pattern string) string {
		t.Helper()
		m, err := filepath.Glob(filepath.Join(cache, pattern))
		if err != nil || len(m) != 1 {
			t.Fatalf("%s in the cache: %v (%v), want one", pattern, m, err)
		}
		return m[0]
	}

	m := prepare(t)
	counts(t, 1, 1)
	signed := only(t, "signed/*/workload")
	built := only(t, "build/*/workload")
	a, err := m.artifactFor(launches[0])
	if err != nil || a.exe != signed {
		t.Fatalf("artifact %v (%v), want %s", a, err, signed)
	}

	t.Run("owner-only", func(t *testing.T) {
		err := filepath.WalkDir(cache, func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			st, err := d.Info()
			if err != nil {
				return err
			}
			if perm := st.Mode().Perm(); perm&0o077 != 0 || (d.IsDir() && perm != 0o700) {
				t.Errorf("%s: mode %v, want owner-only (0700 directories, 0600/0700 files)", p, perm)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	})

	t.Run("signed binary with one byte appended", func(t *testing.T) {
		appendByte(t, signed)
		prepare(t)
		counts(t, 1, 2)
		if !strings.Contains(notes.String(), "warning: cached signed enclave") || !strings.Contains(notes.String(), "workload has SHA-256") {
			t.Errorf("no warning naming the damaged signed binary:\n%s", notes.String())
		}
		b, err := os.ReadFile(filepath.Join(filepath.Dir(signed), manifestName))
		if err != nil {
			t.Fatal(err)
		}
		var man manifest
		if err := json.Unmarshal(b, &man); err != nil {
			t.Fatal(err)
		}
		if sum, err := result.FileSHA256(signed); err != nil || sum != man.Files["workload"] {
			t.Errorf("the signed binary hashes to %s (%v), its manifest says %s", sum, err, man.Files["workload"])
		}
	})

	t.Run("built binary with one byte appended", func(t *testing.T) {
		before, err := result.FileSHA256(built)
		if err != nil {
			t.Fatal(err)
		}
		appendByte(t, built)
		prepare(t)
		after, err := result.FileSHA256(built)
		if err != nil {
			t.Fatal(err)
		}
		// Go builds are reproducible: the same binary again, whose signed
		// entry still serves (were it not, it would be signed anew).
		signs := 2
		if after != before {
			signs = 3
		}
		counts(t, 2, signs)
		if !strings.Contains(notes.String(), "warning: cached build") {
			t.Errorf("no warning naming the damaged build:\n%s", notes.String())
		}
	})

	t.Run("intact cache is used as is", func(t *testing.T) {
		b0, s0 := invocations(t, log, "ego-go build"), invocations(t, log, "ego sign")
		prepare(t)
		counts(t, b0, s0)
		if strings.Contains(notes.String(), "warning") {
			t.Errorf("warning on an intact cache:\n%s", notes.String())
		}
	})

	t.Run("the cell runs", func(t *testing.T) {
		m := prepare(t)
		store, err := result.OpenStore(t.TempDir())
		if err != nil {
			t.Fatal(err)
		}
		defer store.Close()
		cfg := *rc
		cfg.Cells, cfg.Store, cfg.Attempts = cells, store, map[string]int{}
		cfg.Modes = map[string]mode.Mode{m.Name(): m}
		sum, err := runner.Run(ctx, &cfg)
		if err != nil {
			t.Fatal(err)
		}
		if sum.Done != 1 || sum.Failed != 0 {
			t.Errorf("run summary %+v, want the one cell done", sum)
		}
	})
}
