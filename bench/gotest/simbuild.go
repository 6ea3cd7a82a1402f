package gotest

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"

	"github.com/enclavebench/enclavebench/bench/result"
	wgotest "github.com/enclavebench/enclavebench/workloads/gotest"
	"github.com/enclavebench/enclavebench/workloads/protocol"
	"github.com/enclavebench/enclavebench/workloads/swepc"
)

// The sim flavour of a user's test binary: the whole process on the
// software EPC, as the workload binary built by scripts/build-sim.sh. Three
// things are added to `go test -c` of the user's package, none of them in
// the user's tree:
//   - -overlay: Go 1.26.8's runtime/mem_linux.go replaced and
//     runtime/procepc_linux.go added (workloads/swepc/_overlay), so that with
//     ENCLAVEBENCH_PROCESS_EPC=1 the runtime takes all its memory from one
//     region;
//   - a module of its own, enclavebench.local/epc, holding copies of
//     workloads/swepc and workloads/protocol (standard library and cgo
//     only), in the gotest cache, required and replaced by an alternate
//     go.mod (-modfile: the user's go.mod plus those two lines, and the
//     user's go.sum), so the user's dependency versions do not move;
//   - -overlay: a test file in the package (EPCTestFile) whose init adopts
//     the region under the software EPC when the paging pass asks
//     (ENCLAVEBENCH_PROCESS_EPC=1) and moves its counters to the file the
//     pass reads after the test binary exits (EPCStatsEnv), and its loads
//     and evictions by region, classified at exit by the runtime overlay's
//     classifier (EPCRegionsEnv, swepc.Region.ShareRegions).

// EPCModule is the module path of the software EPC's copy.
const EPCModule = "enclavebench.local/epc"

// EPCTestFile is the test file added to the user's package.
const EPCTestFile = "zz_enclavebench_epc_test.go"

// processEnv is swepc.ProcessEnv (defined in sim builds only).
const processEnv = "ENCLAVEBENCH_PROCESS_EPC"

// epcInit is EPCTestFile's text; %s is the package name.
const epcInit = `// Added by enclavebench (bench run --gotest, sim mode) to this package's
// test binary; not in your tree.

package %s

import (
	"fmt"
	"os"
	"strconv"

	enclavebenchepc "` + EPCModule + `"
)

func init() {
	if os.Getenv("` + processEnv + `") != "1" {
		return
	}
	capBytes, err := strconv.ParseInt(os.Getenv("` + wgotest.EPCCapEnv + `"), 10, 64)
	if err == nil {
		var r *enclavebenchepc.Region
		if r, err = enclavebenchepc.AdoptProcess(capBytes); err == nil {
			err = r.ShareStats(os.Getenv("` + wgotest.EPCStatsEnv + `"))
		}
		if path := os.Getenv("` + wgotest.EPCRegionsEnv + `"); err == nil && path != "" {
			err = r.ShareRegions(path)
		}
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "enclavebench: the paging pass cannot put this test binary on the software EPC:", err)
		os.Exit(3)
	}
}
`

// goBuildTag matches the build constraint of workloads/swepc's files.
var goBuildTag = regexp.MustCompile(`(?m)^//go:build linux && sim`)

// simBuild builds p's sim flavour into the cache beside b and records it
// in b (SimBinary, SimSHA256).
func simBuild(ctx context.Context, r Request, p pkg, b *result.GoTestBuild) error {
	if p.Module == nil || p.Module.Dir == "" {
		return inputf("--gotest %s with the sim mode: the package is not in a module (the sim build adds one requirement to a module's go.mod)", p.ImportPath)
	}
	dir, err := cacheDir(r)
	if err != nil {
		return err
	}
	goroot, err := goEnv(ctx, p.Dir, "GOROOT")
	if err != nil {
		return err
	}
	// The runtime overlay is for one release's mem_linux.go (as build-sim.sh checks).
	want, err := fs.ReadFile(swepc.Source, "_overlay/mem_linux.go.sha256")
	if err != nil {
		return err
	}
	orig, err := os.ReadFile(filepath.Join(goroot, "src", "runtime", "mem_linux.go"))
	if err != nil {
		return err
	}
	if got := sha256.Sum256(orig); hex.EncodeToString(got[:]) != strings.TrimSpace(string(want)) {
		v, _ := goEnv(ctx, p.Dir, "GOVERSION")
		return inputf("--gotest %s with the sim mode: the process-EPC overlay is made for Go 1.26.8's runtime/mem_linux.go, and this module builds with %s (%s): build your module with go1.26.8 for sim (GOTOOLCHAIN=go1.26.8), or leave sim out", p.ImportPath, v, goroot)
	}
	src, err := writeEPCModule(dir, p.Name)
	if err != nil {
		return err
	}
	// The alternate go.mod and go.sum (the user's, plus the EPC module).
	work, err := os.MkdirTemp(dir, "simbuild-*")
	if err != nil {
		return err
	}
	defer os.RemoveAll(work)
	mod, err := os.ReadFile(filepath.Join(p.Module.Dir, "go.mod"))
	if err != nil {
		return err
	}
	altMod := filepath.Join(work, "go.mod")
	if err := os.WriteFile(altMod, mod, 0o644); err != nil {
		return err
	}
	sum, err := os.ReadFile(filepath.Join(p.Module.Dir, "go.sum"))
	if err != nil && !os.IsNotExist(err) {
		return err
	}
	if err := os.WriteFile(filepath.Join(work, "go.sum"), sum, 0o644); err != nil {
		return err
	}
	edit := exec.CommandContext(ctx, "go", "mod", "edit", "-modfile="+altMod, "-require="+EPCModule+"@v0.0.0", "-replace="+EPCModule+"="+src)
	edit.Dir = p.Module.Dir
	if out, err := edit.CombinedOutput(); err != nil {
		return fmt.Errorf("--gotest %s: go mod edit of the sim build's go.mod: %v: %s", p.ImportPath, err, strings.TrimSpace(string(out)))
	}
	ov := map[string]map[string]string{"Replace": {
		filepath.Join(goroot, "src", "runtime", "mem_linux.go"):     filepath.Join(src, "runtime", "mem_linux.go"),
		filepath.Join(goroot, "src", "runtime", "procepc_linux.go"): filepath.Join(src, "runtime", "procepc_linux.go"),
		filepath.Join(p.Dir, EPCTestFile):                           filepath.Join(src, "inject", EPCTestFile),
	}}
	ovb, err := json.Marshal(ov)
	if err != nil {
		return err
	}
	ovPath := filepath.Join(work, "overlay.json")
	if err := os.WriteFile(ovPath, ovb, 0o644); err != nil {
		return err
	}
	bin, digest, err := compileTest(ctx, r, p, dir, "sim", "-overlay", ovPath, "-modfile", altMod)
	if err != nil {
		return err
	}
	b.SimBinary, b.SimSHA256 = bin, digest
	return nil
}

// writeEPCModule writes the sim build's EPC module (the software EPC and the
// protocol from their embedded sources, the runtime overlay, and the test
// file that adopts the process EPC in package pkgName) under dir, in a
// directory named by the files' digest, and returns that directory.
func writeEPCModule(dir, pkgName string) (string, error) {
	files := map[string][]byte{}
	for _, f := range []string{"config.go", "process.go", "swepc.go", "kinds.go", "kinds_overlay.go", "nocgo.go", "handler.c", "handler.h"} {
		t, err := fs.ReadFile(swepc.Source, f)
		if err != nil {
			return "", err
		}
		// go1.21 in the constraint sets these files' language version (the
		// module's go line is 1.11, see go.mod below).
		t = goBuildTag.ReplaceAll(t, []byte("//go:build go1.21 && linux"))
		// The build has the runtime overlay, so the region classifier.
		t = bytes.Replace(t, []byte(" && procepc\n"), []byte("\n"), 1)
		t = bytes.ReplaceAll(t, []byte(`"github.com/enclavebench/enclavebench/workloads/protocol"`), []byte(`"`+EPCModule+`/protocol"`))
		files[f] = t
	}
	proto, err := fs.ReadFile(protocol.Source, "protocol.go")
	if err != nil {
		return "", err
	}
	files["protocol/protocol.go"] = append([]byte("//go:build go1.21\n\n"), proto...)
	// The oldest go directive a module can have: Go refuses a dependency
	// that needs a newer Go than the main module's go line, and raising the
	// user's line would change their code's language version.
	files["go.mod"] = []byte("module " + EPCModule + "\n\ngo 1.11\n")
	for _, f := range []string{"mem_linux.go", "procepc_linux.go"} {
		t, err := fs.ReadFile(swepc.Source, "_overlay/"+f)
		if err != nil {
			return "", err
		}
		files["runtime/"+f] = t
	}
	files["inject/"+EPCTestFile] = fmt.Appendf(nil, epcInit, pkgName)
	h := sha256.New()
	for _, f := range slices.Sorted(maps.Keys(files)) {
		fmt.Fprintf(h, "%s %d\n", f, len(files[f]))
		h.Write(files[f])
	}
	src := filepath.Join(dir, "epc-"+hex.EncodeToString(h.Sum(nil))[:16])
	for f, t := range files {
		full := filepath.Join(src, filepath.FromSlash(f))
		if old, err := os.ReadFile(full); err == nil && bytes.Equal(old, t) {
			continue
		}
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			return "", err
		}
		if err := os.WriteFile(full, t, 0o644); err != nil {
			return "", err
		}
	}
	return src, nil
}

// goEnv is `go env NAME` in dir.
func goEnv(ctx context.Context, dir, name string) (string, error) {
	cmd := exec.CommandContext(ctx, "go", "env", name)
	cmd.Dir = dir
	out, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("go env %s: %v", name, err)
	}
	return strings.TrimSpace(string(out)), nil
}
