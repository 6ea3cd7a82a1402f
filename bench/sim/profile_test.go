package sim

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestDefaultProfile(t *testing.T) {
	p := Default()
	if p.Ref() != "published/v3" {
		t.Fatalf("Ref = %q", p.Ref())
	}
	for _, fam := range []string{"DCsv2", "DCsv3", "DCdsv3"} {
		pr, err := p.For(fam)
		if err != nil {
			t.Fatal(err)
		}
		// The published ranges bound the chosen prices (HotCalls, VAULT).
		if pr.OCallCycles < 8200 || pr.OCallCycles > 17000 || pr.ECallCycles < 8200 || pr.ECallCycles > 17000 {
			t.Errorf("%s: transition prices %v/%v outside HotCalls' 8,200-17,000 cycles", fam, pr.OCallCycles, pr.ECallCycles)
		}
		if s := pr.EPCLoadCycles + pr.EPCEvictionCycles; s != 40000 {
			t.Errorf("%s: a swap costs %v cycles, VAULT publishes ~40,000", fam, s)
		}
		// A platform with memory encryption prices a simulated miss at
		// its DRAM latency, within the published range it cites.
		if r := pr.Ranges["dram_latency_ns"]; pr.MEEFactor > 1 && (len(r) != 2 || pr.DRAMLatencyNS < r[0] || pr.DRAMLatencyNS > r[1]) {
			t.Errorf("%s: dram_latency_ns %v outside its published range %v", fam, pr.DRAMLatencyNS, r)
		}
		// And a streamed miss at a line's share of its memory bandwidth,
		// which must be far below the DRAM latency (else streams would
		// cost more than dependent misses).
		if pr.MEEFactor > 1 && (pr.MemBandwidthBytesPerS <= 0 || LineBytes/pr.MemBandwidthBytesPerS*1e9 > pr.DRAMLatencyNS/10) {
			t.Errorf("%s: mem_bandwidth_bytes_per_s %v: a line's share must be positive and below a tenth of dram_latency_ns %v", fam, pr.MemBandwidthBytesPerS, pr.DRAMLatencyNS)
		}
	}
	if _, err := p.For("DCasv5"); err == nil || !strings.Contains(err.Error(), "DCsv2") {
		t.Errorf("For(unknown) = %v, want an error listing the families", err)
	}
}

func TestLoadProfileRejectsNamingTheField(t *testing.T) {
	base := func() map[string]any {
		var m map[string]any
		if err := json.Unmarshal(DefaultJSON(), &m); err != nil {
			t.Fatal(err)
		}
		return m
	}
	plat := func(m map[string]any) map[string]any {
		return m["platforms"].(map[string]any)["DCsv2"].(map[string]any)
	}
	cases := []struct {
		name   string
		edit   func(m map[string]any)
		raw    string
		wantIn string
	}{
		{name: "missing price", edit: func(m map[string]any) { delete(plat(m), "ocall_cycles") }, wantIn: "platforms.DCsv2.ocall_cycles is missing"},
		{name: "unknown field", edit: func(m map[string]any) { plat(m)["ocall_cycle"] = 1 }, wantIn: "platforms.DCsv2.ocall_cycle: unknown field"},
		{name: "wrong type", edit: func(m map[string]any) { plat(m)["clock_hz"] = "fast" }, wantIn: "platforms.DCsv2.clock_hz: wrong type"},
		{name: "negative", edit: func(m map[string]any) { plat(m)["epc_load_cycles"] = -1 }, wantIn: "platforms.DCsv2.epc_load_cycles is -1"},
		{name: "mee below 1", edit: func(m map[string]any) { plat(m)["mee_factor"] = 0.5 }, wantIn: "platforms.DCsv2.mee_factor"},
		{name: "no source", edit: func(m map[string]any) { delete(plat(m)["sources"].(map[string]any), "epc_eviction_cycles") }, wantIn: "platforms.DCsv2.sources.epc_eviction_cycles is missing"},
		{name: "no DRAM latency with memory encryption", edit: func(m map[string]any) { delete(plat(m), "dram_latency_ns") }, wantIn: "platforms.DCsv2.dram_latency_ns is missing: with mee_factor > 1"},
		{name: "DRAM latency without a source", edit: func(m map[string]any) { delete(plat(m)["sources"].(map[string]any), "dram_latency_ns") }, wantIn: "platforms.DCsv2.sources.dram_latency_ns is missing"},
		{name: "DRAM latency zero", edit: func(m map[string]any) { plat(m)["dram_latency_ns"] = 0 }, wantIn: "platforms.DCsv2.dram_latency_ns is 0, want a positive"},
		{name: "bandwidth without a source", edit: func(m map[string]any) { delete(plat(m)["sources"].(map[string]any), "mem_bandwidth_bytes_per_s") }, wantIn: "platforms.DCsv2.sources.mem_bandwidth_bytes_per_s is missing"},
		{name: "bandwidth in GB/s", edit: func(m map[string]any) { plat(m)["mem_bandwidth_bytes_per_s"] = 41.6 }, wantIn: "platforms.DCsv2.mem_bandwidth_bytes_per_s is 41.6, want bytes per second"},
		{name: "no version", edit: func(m map[string]any) { delete(m, "version") }, wantIn: "version is missing"},
		{name: "bad format", edit: func(m map[string]any) { m["format"] = "other" }, wantIn: "format is \"other\""},
		{name: "top-level unknown", edit: func(m map[string]any) { m["prices"] = 1 }, wantIn: "prices: unknown field"},
		{name: "no platforms", edit: func(m map[string]any) { m["platforms"] = map[string]any{} }, wantIn: "platforms is missing or empty"},
		{name: "malformed", raw: `{"format": `, wantIn: "unexpected EOF"},
		{name: "trailing", raw: string(DefaultJSON()) + "{}", wantIn: "trailing data"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			data := []byte(c.raw)
			if c.edit != nil {
				m := base()
				c.edit(m)
				data, _ = json.Marshal(m)
			}
			path := filepath.Join(t.TempDir(), "p.json")
			os.WriteFile(path, data, 0o644)
			_, err := LoadProfile(path)
			if err == nil || !strings.Contains(err.Error(), c.wantIn) {
				t.Fatalf("LoadProfile = %v, want an error containing %q", err, c.wantIn)
			}
		})
	}
}

func TestProfileRoundTrip(t *testing.T) {
	p := Default()
	b, err := p.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	q, err := ParseProfile(b)
	if err != nil {
		t.Fatal(err)
	}
	a, _ := json.Marshal(p)
	c, _ := json.Marshal(q)
	if string(a) != string(c) {
		t.Fatalf("round trip changed the profile:\n%s\n%s", a, c)
	}
}

// A profile's digest follows its content: an edit under the same name and
// version changes it, a reformatted file keeps it.
func TestProfileDigest(t *testing.T) {
	p := Default()
	d := p.Digest()
	if !strings.HasPrefix(d, "sha256:") || len(d) != len("sha256:")+64 {
		t.Fatalf("digest %q", d)
	}
	var m map[string]any
	if err := json.Unmarshal(DefaultJSON(), &m); err != nil {
		t.Fatal(err)
	}
	compact, _ := json.Marshal(m) // another layout and field order
	same, err := ParseProfile(compact)
	if err != nil {
		t.Fatal(err)
	}
	if same.Digest() != d {
		t.Errorf("a reformatted profile has digest %s, want %s", same.Digest(), d)
	}
	m["platforms"].(map[string]any)["DCsv2"].(map[string]any)["ocall_cycles"] = 126.0 // the edit: 12600 -> 126
	edited, _ := json.Marshal(m)
	e, err := ParseProfile(edited)
	if err != nil {
		t.Fatal(err)
	}
	if e.Ref() != p.Ref() || e.Digest() == d {
		t.Errorf("edited profile %s: digest %s, the original's %s", e.Ref(), e.Digest(), d)
	}
}

// The previous built-in profile stays in the repository, unchanged: runs
// priced by published/v2 record its digest, and a resume must be given
// the same profile (TestResumeRefusesEditedProfile), so the file must
// still load, under its name and version, to the digest those runs
// recorded, with no memory bandwidth (every miss at DRAM latency, as v2
// priced them).
func TestPublishedV2Kept(t *testing.T) {
	p, err := LoadProfile("profiles/published-v2.json")
	if err != nil {
		t.Fatal(err)
	}
	const recorded = "sha256:d166be1486d5f8d40a4c05b2a36b34cbff0ba698d2d3013b475a75b9744fb2c9" // run.json of a published/v2 run
	if p.Ref() != "published/v2" || p.Digest() != recorded {
		t.Errorf("%s digest %s, want published/v2 %s", p.Ref(), p.Digest(), recorded)
	}
	for fam, pr := range p.Platforms {
		if pr.MemBandwidthBytesPerS != 0 {
			t.Errorf("%s: v2 has a memory bandwidth %v", fam, pr.MemBandwidthBytesPerS)
		}
	}
	if Default().Digest() == recorded {
		t.Error("the built-in profile still has v2's digest")
	}
}
