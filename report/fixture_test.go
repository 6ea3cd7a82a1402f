package report

import (
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/enclavebench/enclavebench/bench/facts"
	"github.com/enclavebench/enclavebench/bench/host"
	"github.com/enclavebench/enclavebench/bench/mode"
	"github.com/enclavebench/enclavebench/bench/plan"
	"github.com/enclavebench/enclavebench/bench/result"
	"github.com/enclavebench/enclavebench/bench/runspec"
	"github.com/enclavebench/enclavebench/bench/sizes"
	"github.com/enclavebench/enclavebench/workloads/protocol"
	"github.com/enclavebench/enclavebench/workloads/suite"
	"github.com/enclavebench/enclavebench/workloads/threads"
	"github.com/enclavebench/enclavebench/workloads/workload"
)

// The fixtures under testdata/fixtures are synthetic result directories
// written by this generator (go test ./report -run TestFixtures -fixtures).
// Their figures follow a simple model of SGX1 costs (a cliff past the EPC,
// expensive OCALLs), with seeded noise, so plots look like the real thing.

const fixtureHarness = "1.0.0"

var fixtureStart = time.Date(2026, 11, 20, 9, 0, 0, 0, time.UTC)

// fixtureHost is the fingerprint of a synthetic Azure DCsv2 VM.
func fixtureHost(name, size string, cpus int) host.Fingerprint {
	return host.Fingerprint{
		Hostname: name, CPUModel: "Intel(R) Xeon(R) E-2288G CPU @ 3.70GHz", CPUVendor: "GenuineIntel",
		Microcode: "0xf8", Hypervisor: "Microsoft Hv", CPUs: cpus, MemBytes: int64(cpus) * 4 << 30,
		Kernel: "6.8.0-1021-azure #25-Ubuntu SMP", OS: "linux", Arch: "amd64", GoVersion: "go1.26.8",
		SGX: host.SGX{SGX1: true, LaunchControl: true, EPCBytes: 168 << 20, Usable: true,
			Devices: []string{"/dev/sgx_enclave", "/dev/sgx_provision"}},
		AzureSize: "Standard_" + size,
		EGo:       host.EGo{Installed: true, Path: "/usr/bin/ego", Version: "1.9.0", Commit: "b2d4c6e"},
	}
}

// gen writes one synthetic result directory.
type gen struct {
	rng     *rand.Rand
	run     result.Run
	store   *result.Store
	reps    int
	clock   time.Time
	samples int
	// countsOnly, when set, makes sim samples unpredicted (Model.CountsOnly).
	countsOnly string
	// unpaired writes sim samples as the model did before it paired each
	// repetition with its own base: the values measured with the software
	// EPC's cost in them (Model.Native) and the emulation's cost recorded.
	unpaired func(s *result.Sample)
	// cells are the planned cells, whose facts the run records.
	cells []plan.Cell
}

func newGen(t testing.TB, dir string, seed uint64, run result.Run, reps int) *gen {
	t.Helper()
	os.RemoveAll(dir)
	st, err := result.OpenStore(dir)
	if err != nil {
		t.Fatal(err)
	}
	run.SchemaVersion = result.SchemaVersion
	run.Status = "complete"
	run.Start = fixtureStart
	run.End = fixtureStart.Add(time.Hour)
	if run.HarnessVersion == "" {
		run.HarnessVersion = fixtureHarness
	}
	run.Plan.Reps = reps
	run.Plan.Profile = "quick"
	return &gen{rng: rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)), run: run, store: st, reps: reps, clock: fixtureStart}
}

func (g *gen) noisy(center, rel float64) float64 {
	v := center * (1 + rel*g.rng.NormFloat64())
	if g.rng.IntN(40) == 0 { // an occasional outlier
		v *= 1.6
	}
	return math.Max(v, center*0.05)
}

// cell writes a cell's samples and outcome. vals returns the values of one
// repetition (and, for sim, the native figures the prediction started
// from).
func (g *gen) cell(t testing.TB, c result.Cell, n int, status result.Status, vals func() (v, native []protocol.Value), cr result.CellResult) {
	t.Helper()
	if spec := suite.Workloads[c.Workload]; spec != nil && g.run.SchemaVersion > 2 {
		// Names in the declared parameter order, as the planner makes
		// them: from schema 3 on, readers derive them so.
		c.ParamOrder = result.ParamOrder(spec.ParamNames(), c.Params)
	}
	key := c.Key()
	g.run.Plan.Cells = append(g.run.Plan.Cells, key)
	g.cells = append(g.cells, planCell(c))
	for rep := 0; rep < n; rep++ {
		v, native := vals()
		g.clock = g.clock.Add(37 * time.Millisecond)
		s := result.Sample{Cell: key, Attempt: 1, Workload: c.Workload, Params: c.Params, Size: c.Size, Mode: c.Mode,
			Rep: rep, Iters: 1000, ElapsedNS: 20_000_000, Values: v, Time: g.clock}
		if native != nil {
			s.Model = &result.Model{Profile: "published/v1", Native: native}
			if g.countsOnly != "" {
				s.Values = native
				s.Model.CountsOnly = g.countsOnly
			} else if g.unpaired != nil {
				g.unpaired(&s)
			} else {
				pairSample(&s, native)
			}
		}
		if err := g.store.AppendSample(&s); err != nil {
			t.Fatal(err)
		}
		g.samples++
	}
	cr.Cell, cr.Attempt, cr.Workload, cr.Params, cr.Size, cr.Mode = key, 1, c.Workload, c.Params, c.Size, c.Mode
	cr.Status, cr.Samples, cr.Start = status, n, g.clock
	if cr.Status == "" {
		return // partial: the harness died before the outcome was written
	}
	if err := g.store.AppendCell(&cr); err != nil {
		t.Fatal(err)
	}
}

// pairSample makes a sim sample what the paired model writes: its
// repetition's measured base, and the prediction = base + the priced
// events that the ratio of its ns/op to the base's stands for (paging for
// memory-bound workloads, OCALLs for the others).
func pairSample(s *result.Sample, native []protocol.Value) {
	nsOf := func(vs []protocol.Value) float64 {
		for _, v := range vs {
			if v.Unit == "ns/op" {
				return v.Value
			}
		}
		return 0
	}
	pred, base := nsOf(s.Values), nsOf(native)
	if !(pred > 0 && base > 0) {
		return
	}
	s.Model.BaseNS = s.ElapsedNS
	s.Model.PredictedNS = int64(math.Round(float64(s.ElapsedNS) * math.Max(pred/base, 1)))
	if extra := s.Model.PredictedNS - s.Model.BaseNS; extra > 0 {
		event := "model_ocall_ns"
		if s.Workload == "memsweep" || s.Workload == "kvstore" {
			event = "model_epc_ns"
		}
		s.Events = map[string]int64{event: extra}
	}
}

// planCell is c as the planner makes it, for its facts.
func planCell(c result.Cell) plan.Cell {
	pc := plan.Cell{Cell: c, Spec: suite.Workloads[c.Workload]}
	pc.SizeInfo, _ = sizes.Lookup(c.Size)
	if pc.Spec != nil && pc.Spec.Footprint != nil {
		pc.Footprint = pc.Spec.Footprint(pc.Env(0))
	}
	return pc
}

func (g *gen) close(t testing.TB) {
	t.Helper()
	if g.run.SchemaVersion >= 2 {
		g.run.Facts = facts.Record(&g.run, g.cells)
	}
	if err := g.store.WriteRun(&g.run); err != nil {
		t.Fatal(err)
	}
	if err := g.store.Close(); err != nil {
		t.Fatal(err)
	}
}

func v(value float64, unit, better string) protocol.Value {
	return protocol.Value{Value: value, Unit: unit, Better: better}
}

// enclaveCost is the model behind the synthetic figures: the factor by
// which an enclave slows a workload down.
func enclaveCost(m string, ws, epc float64, random bool) float64 {
	if m == mode.Native {
		return 1
	}
	f := 1.12
	if random {
		f = 1.9 // memory encryption on every LLC miss
	}
	if ws > 0.75*epc { // past usable EPC: paging
		f *= 1 + 7*math.Min((ws-0.75*epc)/epc, 1.5)
	}
	if m == modeSim {
		f *= 1.08 // the model overestimates slightly
	}
	if m == modeEGoSim {
		f = 1 + (f-1)*0.3
	}
	return f
}

func footprintMiB(w string, params map[string]string, sz sizes.Size) float64 {
	env := workload.Env{Size: protocol.Size{Name: sz.Name, VCPUs: sz.VCPUs, EPCBytes: sz.EPCBytes, MemBytes: sz.MemBytes()}, Parameters: params}
	if s, ok := suite.Workloads[w]; ok && s.Footprint != nil {
		return float64(s.Footprint(env)) / (1 << 20)
	}
	return 0
}

// writeMainFixture writes a run on one host across sizes, in modes native,
// sgx and sim: memsweep, syscall, threads and kvstore, with a failed, a
// partial, a not-applicable, an oversubscribed and a few-sample cell.
// The modes of the fixtures, by name: data here, as in run.json.
const (
	modeSGX    = "sgx"
	modeEGoSim = "ego-sim"
	modeSim    = "sim"
)

func writeMainFixture(t testing.TB, dir string, seed uint64, hostName string, szNames []string, modes []string, reps int, memsweepWS []string) int {
	run := result.Run{ID: "20261120T090000Z-" + hostName, Host: fixtureHost(hostName, "DC4s_v2", 4),
		Command: []string{"bench", "run", "--sizes", strings.Join(szNames, ",")},
		Profile: &result.CostProfileRef{Name: "published", Version: 1, Source: "docs/sgx-facts.md"},
		Plan:    result.Plan{Spec: runspec.Spec{Workloads: []string{"memsweep", "syscall", "threads", "kvstore", "seal"}, Sizes: szNames, Modes: modes}}}
	g := newGen(t, dir, seed, run, reps)
	for _, sn := range szNames {
		sz, _ := sizes.Lookup(sn)
		epc := sz.EPCMiB()
		oversub := sz.VCPUs > g.run.Host.CPUs
		ok := func(extra map[string]string, m string, load float64) result.CellResult {
			cr := result.CellResult{WallNS: 1e9, ChildNS: 9e8, GOMAXPROCS: min(sz.VCPUs, 4), CPUs: min(sz.VCPUs, 4), Oversubscribed: oversub, Extra: extra}
			if m == modeSGX || m == modeEGoSim {
				cr.LoadNS = int64(load * 1e6)
			}
			return cr
		}
		heap := func(fp float64) (map[string]string, float64) {
			h := math.Max(64, math.Ceil(fp*1.5/64)*64)
			load := 35 + h*0.45 + g.rng.Float64()*6
			if h > epc {
				load += (h - epc) * 2.8 // creation pages the heap out
			}
			return map[string]string{"ego_heap_mb": fmt.Sprint(h), "ego_version": "1.9.0"}, load
		}
		for _, m := range modes {
			// memsweep: the EPC cliff.
			for _, access := range []string{"seq", "random"} {
				for _, ws := range memsweepWS {
					p := map[string]string{"ws": ws, "access": access, "op": "read"}
					fp := footprintMiB("memsweep", p, sz)
					base := 21000.0 * (1 - 0.04*math.Log2(fp/16))
					if access == "random" {
						base = 420 * (1 - 0.08*math.Log2(fp/16))
					}
					cost := enclaveCost(m, fp, epc, access == "random")
					extra, load := heap(fp)
					n := reps
					if m == modeSim && sn == szNames[len(szNames)-1] && access == "seq" && ws == memsweepWS[0] {
						n = 3 // too few for a confidence interval
					}
					g.cell(t, result.Cell{Workload: "memsweep", Params: p, Size: sn, Mode: m}, n, result.StatusOK, func() ([]protocol.Value, []protocol.Value) {
						nat := g.noisy(base, 0.03)
						mb := nat / cost
						if m == mode.Native {
							mb = g.noisy(base, 0.03)
						}
						vals := []protocol.Value{v(64000/mb, "ns/op", "lower"), v(mb, "MB/s", "higher")}
						if m == modeSim {
							return vals, []protocol.Value{v(64000/nat, "ns/op", "lower"), v(nat, "MB/s", "higher")}
						}
						return vals, nil
					}, ok(extra, m, load))
				}
			}
			// syscall: transition costs.
			for _, call := range []string{"read", "clock"} {
				p := map[string]string{"call": call}
				nat := map[string]float64{"read": 340, "clock": 55}[call]
				enc := map[string]float64{"read": 9400, "clock": 62}[call]
				center := nat
				switch m {
				case modeSGX:
					center = enc
				case modeSim:
					center = enc * 0.93
				case modeEGoSim:
					center = nat * 1.4
				}
				extra, load := heap(8)
				status := result.StatusOK
				if m == modeSGX && call == "clock" && sn == szNames[1%len(szNames)] {
					status = "" // partial
				}
				if m == modeSim && call == "clock" && sn == szNames[0] {
					g.countsOnly = "OCALLs not counted: perf_event_open is not permitted on this host"
				}
				g.cell(t, result.Cell{Workload: "syscall", Params: p, Size: sn, Mode: m}, reps, status, func() ([]protocol.Value, []protocol.Value) {
					x := g.noisy(center, 0.05)
					if m == modeSim {
						return []protocol.Value{v(x, "ns/op", "lower")}, []protocol.Value{v(g.noisy(nat, 0.05), "ns/op", "lower")}
					}
					return []protocol.Value{v(x, "ns/op", "lower")}, nil
				}, ok(extra, m, load))
				g.countsOnly = ""
			}
			// threads: scaling.
			for _, th := range []string{"1", "vcpus", "2xvcpus"} {
				p := map[string]string{"threads": th, "sharing": "none"}
				n, _ := threads.ParseThreads(th, sz.VCPUs)
				par := math.Min(float64(n), float64(min(sz.VCPUs, g.run.Host.CPUs)))
				base := 48e6 * par * (1 - 0.03*float64(n-1))
				f := 1.0
				if m != mode.Native {
					f = 1.04 + 0.01*float64(n)
				}
				extra, load := heap(4)
				g.cell(t, result.Cell{Workload: "threads", Params: p, Size: sn, Mode: m}, reps, result.StatusOK, func() ([]protocol.Value, []protocol.Value) {
					nat := g.noisy(base, 0.04)
					ops := nat / f
					if m == mode.Native {
						ops = nat
					}
					vals := []protocol.Value{v(ops, "ops/s", "higher"), v(1e9/ops, "ns/op", "lower")}
					if m == modeSim {
						return vals, []protocol.Value{v(nat, "ops/s", "higher"), v(1e9/nat, "ns/op", "lower")}
					}
					return vals, nil
				}, ok(extra, m, load))
			}
			// kvstore: a second working-set sweep; the sgx cell at 2xEPC on
			// the smallest size fails.
			for _, ds := range []string{"0.5xEPC", "2xEPC"} {
				p := map[string]string{"dataset": ds, "dist": "uniform", "mix": "read95"}
				fp := footprintMiB("kvstore", p, sz)
				base := 3.1e6 * (1 - 0.06*math.Log2(fp/16))
				cost := enclaveCost(m, fp, epc, true)
				extra, load := heap(fp)
				if m == modeSGX && ds == "2xEPC" && sn == szNames[0] {
					g.cell(t, result.Cell{Workload: "kvstore", Params: p, Size: sn, Mode: m}, 0, result.StatusFailed, nil,
						result.CellResult{ExitCode: 2, Reason: "the enclave's heap is exhausted: raise the heap size or lower the data set\nruntime: out of memory",
							Stderr: "fatal error: runtime: out of memory\ngoroutine 1 [running]:"})
					continue
				}
				g.cell(t, result.Cell{Workload: "kvstore", Params: p, Size: sn, Mode: m}, reps, result.StatusOK, func() ([]protocol.Value, []protocol.Value) {
					nat := g.noisy(base, 0.04)
					ops := nat / cost
					if m == mode.Native {
						ops = nat
					}
					vals := []protocol.Value{v(ops, "ops/s", "higher"), v(1e9/ops, "ns/op", "lower"), v(1e9/ops*0.8, "p50-ns", "lower"), v(1e9/ops*6, "p99-ns", "lower")}
					if m == modeSim {
						return vals, []protocol.Value{v(nat, "ops/s", "higher"), v(1e9/nat, "ns/op", "lower"), v(1e9/nat*0.8, "p50-ns", "lower"), v(1e9/nat*6, "p99-ns", "lower")}
					}
					return vals, nil
				}, ok(extra, m, load))
			}
			if m == mode.Native {
				g.cell(t, result.Cell{Workload: "seal", Params: map[string]string{"bytes": "4KiB", "op": "seal"}, Size: sn, Mode: m}, 0, result.StatusNA, nil,
					result.CellResult{Reason: "sealing needs an enclave: not applicable natively"})
			}
		}
	}
	g.close(t)
	return g.samples
}

// writeSecondHost writes a run from another VM (DC8_v2): native and sgx.
func writeSecondHost(t testing.TB, dir string) {
	run := result.Run{ID: "20261121T100000Z-dc8", Host: fixtureHost("dc-b", "DC8_v2", 8),
		Plan: result.Plan{Spec: runspec.Spec{Workloads: []string{"syscall", "memsweep"}, Sizes: []string{"DC8_v2"}, Modes: []string{"native", "sgx"}}}}
	g := newGen(t, dir, 7, run, 6)
	for _, m := range []string{mode.Native, modeSGX} {
		for _, call := range []string{"read", "clock"} {
			center := map[string]float64{"read": 330, "clock": 54}[call]
			if m == modeSGX {
				center = map[string]float64{"read": 8900, "clock": 60}[call]
			}
			g.cell(t, result.Cell{Workload: "syscall", Params: map[string]string{"call": call}, Size: "DC8_v2", Mode: m}, 6, result.StatusOK,
				func() ([]protocol.Value, []protocol.Value) {
					return []protocol.Value{v(g.noisy(center, 0.04), "ns/op", "lower")}, nil
				}, result.CellResult{CPUs: 8, GOMAXPROCS: 8, LoadNS: map[bool]int64{true: 92e6}[m == modeSGX],
					Extra: map[string]string{"ego_heap_mb": "64"}})
		}
	}
	g.close(t)
}

// writeBadDirs writes directories the report must leave out or warn about.
func writeBadDirs(t testing.TB, root string) {
	// Another schema version.
	bad := filepath.Join(root, "bad-schema")
	os.RemoveAll(bad)
	os.MkdirAll(bad, 0o755)
	os.WriteFile(filepath.Join(bad, result.RunFile), []byte(`{"schema_version": 99, "id": "future", "harness_version": "99.0.0"}`+"\n"), 0o644)
	os.WriteFile(filepath.Join(bad, result.SamplesFile), nil, 0o644)

	// An older harness version, with samples.
	run := result.Run{ID: "20261001T080000Z-old", HarnessVersion: "0.9.0", Host: fixtureHost("dc-old", "DC2s_v2", 2),
		Plan: result.Plan{Spec: runspec.Spec{Workloads: []string{"syscall"}, Sizes: []string{"DC2s_v2"}, Modes: []string{"native"}}}}
	g := newGen(t, filepath.Join(root, "old-harness"), 11, run, 6)
	g.cell(t, result.Cell{Workload: "syscall", Params: map[string]string{"call": "read"}, Size: "DC2s_v2", Mode: mode.Native}, 6, result.StatusOK,
		func() ([]protocol.Value, []protocol.Value) {
			return []protocol.Value{v(g.noisy(500, 0.05), "ns/op", "lower")}, nil
		}, result.CellResult{})
	g.close(t)

	// No samples: every cell failed.
	run = result.Run{ID: "20261122T070000Z-empty", Host: fixtureHost("dc-c", "DC1s_v2", 1),
		Plan: result.Plan{Spec: runspec.Spec{Workloads: []string{"memsweep"}, Sizes: []string{"DC1s_v2"}, Modes: []string{"sgx"}}}}
	g = newGen(t, filepath.Join(root, "empty"), 13, run, 6)
	g.cell(t, result.Cell{Workload: "memsweep", Params: map[string]string{"ws": "2xEPC", "access": "seq", "op": "read"}, Size: "DC1s_v2", Mode: modeSGX}, 0, result.StatusFailed, nil,
		result.CellResult{ExitCode: 1, Reason: "ego run: /dev/sgx_enclave: permission denied"})
	g.close(t)
	// A bad line in an otherwise good file is reported, not fatal.
	f, _ := os.OpenFile(filepath.Join(root, "empty", result.SamplesFile), os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	f.WriteString("{\"cell\": \"trunc\n")
	f.Close()
}

// Hostile names: markup and Markdown in every user-controlled string.
const (
	hostileHost   = `<script>alert("host")</script>`
	hostileParam  = `"><img/src=x/onerror=alert(1)>` // no space: names with spaces are refused
	hostileWL     = "evil|wl<b>"
	hostileReason = "<iframe src=javascript:alert(2)></iframe> | `code` *bold*"
)

func writeHostile(t testing.TB, dir string) {
	h := fixtureHost(hostileHost, "DC1s_v2", 1)
	h.CPUModel = `<svg onload=alert(3)>`
	h.EGo.Version = `1.9.0"><script>x()</script>`
	run := result.Run{ID: `run<script>`, Host: h, Profile: &result.CostProfileRef{Name: `<i>prof</i>`, Version: 1},
		Plan: result.Plan{Spec: runspec.Spec{Workloads: []string{hostileWL}, Sizes: []string{"DC1s_v2"}, Modes: []string{"native", "sim"}}}}
	g := newGen(t, dir, 17, run, 6)
	for _, m := range []string{mode.Native, modeSim} {
		for _, p := range []string{hostileParam, "ok"} {
			c := result.Cell{Workload: hostileWL, Params: map[string]string{"name<x>": p, "ws": "0.5xEPC"}, Size: "DC1s_v2", Mode: m}
			g.cell(t, c, 6, result.StatusOK, func() ([]protocol.Value, []protocol.Value) {
				x := g.noisy(1000, 0.05)
				if m == modeSim {
					return []protocol.Value{v(x*2, "ns/op", "lower")}, []protocol.Value{v(x, "ns/op", "lower")}
				}
				return []protocol.Value{v(x, "ns/op", "lower")}, nil
			}, result.CellResult{})
		}
	}
	g.cell(t, result.Cell{Workload: hostileWL, Params: map[string]string{"name<x>": "f", "ws": "0.5xEPC"}, Size: "DC1s_v2", Mode: modeSim}, 0, result.StatusFailed, nil,
		result.CellResult{Reason: hostileReason, Stderr: "</pre><script>alert(4)</script>"})
	g.close(t)
}

// fixtureDirs are the directories the golden test reads, in order.
var fixtureDirs = []string{"dc-a", "dc-b", "bad-schema", "old-harness", "empty", "missing"}

func fixturePath(name string) string { return filepath.Join("testdata", "fixtures", name) }

// TestFixtures regenerates testdata/fixtures with -fixtures.
func TestFixtures(t *testing.T) {
	if !*regenFixtures {
		t.Skip("run with -fixtures to regenerate testdata/fixtures")
	}
	root := filepath.Join("testdata", "fixtures")
	writeMainFixture(t, fixturePath("dc-a"), 1, "dc-a", []string{"DC1s_v2", "DC2s_v2", "DC4s_v2", "DC8_v2"},
		[]string{mode.Native, modeSGX, modeSim}, 6, []string{"0.25xEPC", "0.5xEPC", "1xEPC", "2xEPC"})
	writeSecondHost(t, fixturePath("dc-b"))
	writeBadDirs(t, root)
	writeHostile(t, fixturePath("hostile"))
	// Keep the fixtures small and stable: drop derived files.
	ents, _ := os.ReadDir(root)
	var names []string
	for _, e := range ents {
		names = append(names, e.Name())
	}
	sort.Strings(names)
	b, _ := json.Marshal(names)
	t.Logf("fixtures: %s", b)
}
