package ego

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"go/version"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strings"

	"github.com/enclavebench/enclavebench/bench/mode"
	"github.com/enclavebench/enclavebench/bench/result"
	"github.com/enclavebench/enclavebench/workloads/gotest"
)

// artifact is one signed binary and what it was signed with.
type artifact struct {
	exe      string // signed binary
	config   Config
	identity Identity // from the signed binary; empty when unreadable
	idErr    string
}

// buildTags are passed to ego-go; workloads/enclave needs "ego".
var buildTags = []string{"ego"}

// Files the workload binary is built from, besides Go files: cgo and
// assembly sources, and the module files.
var sourceExts = []string{".go", ".s", ".c", ".h", ".syso"}

// Prepare implements mode.Mode: build the workload once with ego-go, then
// sign one copy per distinct enclave configuration. Both steps are cached
// under CacheDir by content hashes, so a second Prepare with the same
// inputs does neither.
func (m *Mode) Prepare(ctx context.Context, cells []mode.Launch) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if !m.checked {
		if err := m.checkLocked(ctx); err != nil {
			return err
		}
	}
	if m.o.SourceDir == "" {
		return errors.New("ego: Options.SourceDir (the module root) is not set")
	}
	for _, d := range []string{m.o.CacheDir, filepath.Join(m.o.CacheDir, "build")} {
		if err := privateDir(d); err != nil {
			return err
		}
	}
	if err := m.prepareUser(ctx, cells); err != nil {
		return err
	}
	// Configurations first: a cell that cannot fit is bad input, reported
	// before a key is created or anything is built.
	for _, l := range cells {
		if _, err := m.config(l, "key.pem"); err != nil {
			return fmt.Errorf("cell %s: %w", l.Cell.Key(), err)
		}
	}
	if len(cells) == 0 {
		return nil
	}
	key, created, err := EnsureKey(m.o.KeyPath)
	if err != nil {
		return err
	}
	if created {
		fmt.Fprintf(m.o.Log, "ego: created enclave signing key %s (signer ID %s)\n", m.o.KeyPath, SignerID(&key.PublicKey))
	}
	for _, d := range []string{m.o.CacheDir, filepath.Join(m.o.CacheDir, "build"), filepath.Join(m.o.CacheDir, "signed")} {
		if err := privateDir(d); err != nil {
			return err
		}
	}
	keyRel, err := keyRelPath(m.o.CacheDir, m.o.KeyPath)
	if err != nil {
		return err
	}
	m.key, m.keyRel = key, keyRel
	type job struct {
		cfg       Config
		json      []byte
		bin, sum  string
		suiteCell bool
	}
	var jobs []job
	seen := map[string]bool{}
	suite := false
	for _, l := range cells {
		cfg, err := m.config(l, keyRel)
		if err != nil {
			return fmt.Errorf("cell %s: %w", l.Cell.Key(), err)
		}
		b, err := cfg.JSON()
		if err != nil {
			return err
		}
		j := job{cfg: cfg, json: b, suiteCell: true}
		if u, ok := gotest.FromArgs(l.Args); ok {
			j.sum = m.userSums[userKey(u)]
			j.bin, j.suiteCell = m.userBins[j.sum], false
		}
		suite = suite || j.suiteCell
		if k := j.sum + "\x00" + string(b); !seen[k] {
			seen[k] = true
			jobs = append(jobs, j)
		}
	}
	if suite {
		bin, err := m.build(ctx)
		if err != nil {
			return err
		}
		binSum, err := result.FileSHA256(bin)
		if err != nil {
			return err
		}
		m.binSum = binSum
		for i := range jobs {
			if jobs[i].suiteCell {
				jobs[i].bin, jobs[i].sum = bin, binSum
			}
		}
	}
	for _, j := range jobs {
		a, err := m.sign(ctx, j.bin, j.sum, j.cfg, j.json)
		if err != nil {
			return err
		}
		m.artifacts[m.artifactKey(j.sum, j.json)] = a
	}
	return nil
}

// BuildPin names the workload build Prepare made: the source tree, the
// digest of its sources (sourceHash: files, go.mod, go.sum, EGo and
// ego-go versions, tags) and the binary's SHA-256; false before a build.
// The session records it in run.json and checks it on --resume.
func (m *Mode) BuildPin() (result.ModeBinary, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.srcSum == "" || m.binSum == "" {
		return result.ModeBinary{}, false
	}
	return result.ModeBinary{Mode: m.Name(), Path: m.builtBin, SHA256: m.binSum, SourceDir: m.o.SourceDir, SourceDigest: m.srcSum}, true
}

// keyRelPath is the key's path relative to a signing directory: `ego
// sign` joins the key path onto the directory of enclave.json even when it
// is absolute (ego/cli/sign.go readConfigJSONtoStruct), so it must be
// relative. Every signing directory is <CacheDir>/signed/<name>, so one
// path serves all. Both ends are resolved first: ".." follows the physical
// directory, not a symlinked one.
func keyRelPath(cacheDir, keyPath string) (string, error) {
	signed, err := filepath.EvalSymlinks(filepath.Join(cacheDir, "signed"))
	if err != nil {
		return "", fmt.Errorf("ego: cache directory: %w", err)
	}
	keyDir, err := filepath.EvalSymlinks(filepath.Dir(keyPath))
	if err != nil {
		return "", fmt.Errorf("ego: signing key directory: %w", err)
	}
	rel, err := filepath.Rel(filepath.Join(signed, "x"), filepath.Join(keyDir, filepath.Base(keyPath)))
	if err != nil {
		return "", fmt.Errorf("ego: signing key path: %w", err)
	}
	return rel, nil
}

// config is the enclave.json of a cell.
func (m *Mode) config(l mode.Launch, keyRel string) (Config, error) {
	var names []string
	for _, kv := range l.Env {
		if name, _, ok := strings.Cut(kv, "="); ok {
			names = append(names, name)
		}
	}
	mem, hostDirs := l.Memory, []string(nil)
	if u, ok := gotest.FromArgs(l.Args); ok {
		// go test runs a test binary in its package's directory (testdata).
		mem, hostDirs = m.userMemory(l, u), []string{u.Dir}
	}
	return EnclaveConfig(Params{
		Exe:         "workload",
		Key:         keyRel,
		Debug:       m.o.Debug,
		Memory:      mem,
		HostDirs:    hostDirs,
		Size:        l.Size,
		ScratchRoot: m.o.ScratchRoot,
		FromHost:    names,

		PreciseClock: m.o.PreciseClock,
	})
}

// artifactKey names a signed binary: the unsigned binary, its enclave.json,
// the signer and EGo's version (ego sign embeds enclave.json into the
// binary and writes the SIGSTRUCT; another EGo may do so differently).
func (m *Mode) artifactKey(binSum string, cfg []byte) string {
	h := sha256.New()
	fmt.Fprintf(h, "binary %s\nsigner %s\nego %s %s\n", binSum, SignerID(&m.key.PublicKey), m.version, m.commit)
	h.Write(cfg)
	return hex.EncodeToString(h.Sum(nil))
}

// artifactFor returns the signed binary of a cell prepared earlier.
func (m *Mode) artifactFor(l mode.Launch) (*artifact, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.key == nil {
		return nil, fmt.Errorf("%s: Prepare was not called", m.Name())
	}
	cfg, err := m.config(l, m.keyRel)
	if err != nil {
		return nil, err
	}
	b, err := cfg.JSON()
	if err != nil {
		return nil, err
	}
	sum := m.binSum
	if u, ok := gotest.FromArgs(l.Args); ok {
		sum = m.userSums[userKey(u)]
	}
	a := m.artifacts[m.artifactKey(sum, b)]
	if a == nil {
		return nil, fmt.Errorf("%s: cell %s was not prepared (its enclave configuration has no signed binary)", m.Name(), l.Cell.Key())
	}
	return a, nil
}

// build compiles the workload with ego-go into the cache, unless a binary
// built from the same inputs is there.
func (m *Mode) build(ctx context.Context) (string, error) {
	sum, err := m.sourceHash(ctx)
	if err != nil {
		return "", err
	}
	m.srcSum = sum
	dir := filepath.Join(m.o.CacheDir, "build", sum)
	bin := filepath.Join(dir, "workload")
	m.builtBin = bin
	if ok, err := m.useEntry(dir, "build", buildFiles, nil); ok || err != nil {
		return bin, err
	}
	tmp, err := os.MkdirTemp(filepath.Dir(dir), ".tmp-")
	if err != nil {
		return "", err
	}
	defer os.RemoveAll(tmp)
	fmt.Fprintf(m.o.Log, "ego: building %s with ego-go (%s)\n", m.o.Package, m.goVersion)
	args := []string{"build", "-tags", strings.Join(buildTags, ","), "-trimpath", "-o", filepath.Join(tmp, "workload"), m.o.Package}
	cmd := exec.CommandContext(ctx, m.egoGo, args...)
	cmd.Dir = m.o.SourceDir
	cmd.Env = goEnv(cmd.Environ())
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("ego-go %s failed: %v\n%s", strings.Join(args, " "), err, tail(out, 30))
	}
	if err := sealEntry(tmp, buildFiles, nil); err != nil {
		return "", err
	}
	if err := os.Rename(tmp, dir); err != nil {
		// Another harness made the entry meanwhile: use it if it checks.
		if ok, _ := m.useEntry(dir, "build", buildFiles, nil); !ok {
			return "", err
		}
	}
	return bin, nil
}

// Files of cache entries (see cache.go).
var (
	buildFiles  = []string{"workload"}
	signedFiles = []string{"workload", "enclave.json", "identity.json"}
)

// goEnv fixes the toolchain: GOTOOLCHAIN=local keeps the go command from
// downloading a stock toolchain when go.mod asks for a newer Go than
// ego-go's, which would silently build a binary EGo cannot run; EGo
// binaries need cgo.
func goEnv(base []string) []string {
	out := base[:0:0]
	for _, kv := range base {
		name, _, _ := strings.Cut(kv, "=")
		if name != "GOTOOLCHAIN" && name != "CGO_ENABLED" {
			out = append(out, kv)
		}
	}
	return append(out, "GOTOOLCHAIN=local", "CGO_ENABLED=1")
}

// sourceHash hashes what the workload binary is built from: the files of
// every package of the module it depends on (as ego-go lists them with the
// build tags), go.mod, go.sum, the toolchain, EGo's version and the tags.
func (m *Mode) sourceHash(ctx context.Context) (string, error) {
	cmd := exec.CommandContext(ctx, m.egoGo, "list", "-deps", "-tags", strings.Join(buildTags, ","), "-f", "{{if not .Standard}}{{.Dir}}{{end}}", m.o.Package)
	cmd.Dir = m.o.SourceDir
	cmd.Env = goEnv(cmd.Environ())
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("ego-go list %s failed: %v\n%s", m.o.Package, err, tail(stderr.Bytes(), 30))
	}
	var dirs []string
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		if d := strings.TrimSpace(sc.Text()); d != "" && within(d, m.o.SourceDir) {
			dirs = append(dirs, d) // packages outside the module are pinned by go.sum
		}
	}
	files := []string{filepath.Join(m.o.SourceDir, "go.mod"), filepath.Join(m.o.SourceDir, "go.sum")}
	for _, d := range dirs {
		ents, err := os.ReadDir(d)
		if err != nil {
			return "", err
		}
		for _, e := range ents {
			n := e.Name()
			if e.Type().IsRegular() && slices.Contains(sourceExts, filepath.Ext(n)) && !strings.HasSuffix(n, "_test.go") {
				files = append(files, filepath.Join(d, n))
			}
		}
	}
	sort.Strings(files)
	h := sha256.New()
	fmt.Fprintf(h, "enclavebench ego build v1\nego %s %s\nego-go %s\ntags %s\npackage %s\n",
		m.version, m.commit, m.goVersion, strings.Join(buildTags, ","), m.o.Package)
	for _, f := range files {
		sum, err := result.FileSHA256(f)
		if errors.Is(err, fs.ErrNotExist) {
			sum = "absent"
		} else if err != nil {
			return "", err
		}
		rel, _ := filepath.Rel(m.o.SourceDir, f)
		fmt.Fprintf(h, "%s %s\n", filepath.ToSlash(rel), sum)
	}
	return hex.EncodeToString(h.Sum(nil))[:32], nil
}

// sign makes a signed copy of bin for cfg, unless the cache has it. `ego
// sign` rewrites the binary in place (it appends enclave.json as the
// payload and writes the SIGSTRUCT: ego/cli/elf.go embedConfigAsPayload),
// hence the copy.
func (m *Mode) sign(ctx context.Context, bin, binSum string, cfg Config, cfgJSON []byte) (*artifact, error) {
	name := m.artifactKey(binSum, cfgJSON)[:32]
	dir := filepath.Join(m.o.CacheDir, "signed", name)
	a := &artifact{exe: filepath.Join(dir, "workload"), config: cfg}
	inputs := map[string]string{"unsigned workload": binSum, "enclave.json": hexSHA256(cfgJSON)}
	if ok, err := m.useEntry(dir, "signed enclave", signedFiles, inputs); err != nil {
		return nil, err
	} else if ok {
		a.identity, a.idErr = readIdentityFile(dir)
		return a, nil
	}
	// The temporary directory is a sibling, so the key's relative path in
	// enclave.json holds for both.
	tmp, err := os.MkdirTemp(filepath.Dir(dir), ".tmp-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(tmp)
	if err := copyFile(bin, filepath.Join(tmp, "workload"), 0o700); err != nil {
		return nil, err
	}
	if err := os.WriteFile(filepath.Join(tmp, "enclave.json"), cfgJSON, 0o600); err != nil {
		return nil, err
	}
	fmt.Fprintf(m.o.Log, "ego: signing an enclave with heapSize %d MB, %s\n", cfg.HeapSize, envSummary(cfg))
	// Relative paths only: ego sign resolves exe and key against the
	// directory of enclave.json and embeds the paths in the payload, so
	// the signed binary does not depend on where the cache lives.
	cmd := exec.CommandContext(ctx, m.ego, "sign", "enclave.json")
	cmd.Dir = tmp
	out, err := cmd.CombinedOutput()
	if err != nil {
		msg := ExplainText(string(out), 1)
		if msg == "" {
			msg = "see its output"
		}
		return nil, fmt.Errorf("ego sign failed (%v): %s\n%s", err, msg, tail(out, 30))
	}
	id, idErr := ReadIdentity(filepath.Join(tmp, "workload"))
	rec := identityRecord{Identity: id}
	if idErr != nil {
		rec.Error = idErr.Error()
	}
	b, _ := json.MarshalIndent(rec, "", "  ")
	if err := os.WriteFile(filepath.Join(tmp, "identity.json"), append(b, '\n'), 0o600); err != nil {
		return nil, err
	}
	if err := sealEntry(tmp, signedFiles, inputs); err != nil {
		return nil, err
	}
	if err := os.Rename(tmp, dir); err != nil {
		// Another harness made the entry meanwhile: use it if it checks.
		if ok, _ := m.useEntry(dir, "signed enclave", signedFiles, inputs); !ok {
			return nil, err
		}
	}
	a.identity, a.idErr = readIdentityFile(dir)
	return a, nil
}

type identityRecord struct {
	Identity
	Error string `json:"error,omitempty"`
}

func readIdentityFile(dir string) (Identity, string) {
	b, err := os.ReadFile(filepath.Join(dir, "identity.json"))
	if err != nil {
		return Identity{}, err.Error()
	}
	var r identityRecord
	if err := json.Unmarshal(b, &r); err != nil {
		return Identity{}, err.Error()
	}
	return r.Identity, r.Error
}

func envSummary(c Config) string {
	var parts []string
	for _, e := range c.Env {
		if !e.FromHost {
			parts = append(parts, e.Name+"="+e.Value)
		}
	}
	return strings.Join(parts, " ")
}

func copyFile(src, dst string, perm os.FileMode) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_EXCL, perm)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

func hexSHA256(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// tail returns the last n lines of out.
func tail(out []byte, n int) string {
	lines := strings.Split(strings.TrimRight(string(out), "\n"), "\n")
	if len(lines) > n {
		lines = append([]string{"..."}, lines[len(lines)-n:]...)
	}
	return strings.Join(lines, "\n")
}

// goDirective returns the go version go.mod in dir declares ("" if none).
func goDirective(dir string) string {
	b, err := os.ReadFile(filepath.Join(dir, "go.mod"))
	if err != nil {
		return ""
	}
	for _, line := range strings.Split(string(b), "\n") {
		f := strings.Fields(line)
		if len(f) == 2 && f[0] == "go" {
			return f[1]
		}
	}
	return ""
}

// goAtLeast reports whether the toolchain version have ("go1.26.1", maybe
// with a suffix) is at least the go.mod version need ("1.26.0").
func goAtLeast(have, need string) bool {
	have, _, _ = strings.Cut(strings.TrimSpace(have), " ")
	if !version.IsValid(have) {
		// An EGo fork may add a suffix version.IsValid rejects; compare
		// the release numbers.
		return CompareVersions(strings.TrimPrefix(have, "go"), need) >= 0
	}
	return version.Compare(have, "go"+need) >= 0
}
