package protocol

import (
	"strings"
	"testing"

	"pgregory.net/rapid"
)

func TestParseSize(t *testing.T) {
	t.Parallel()
	want := Size{Name: "DC2s_v2", VCPUs: 2, EPCBytes: 58720256, MemBytes: 8 << 30}
	for _, v := range []string{
		"DC2s_v2,vcpus=2,epc_bytes=58720256,mem_bytes=8589934592",
		"DC2s_v2,mem_bytes=8589934592,epc_bytes=58720256,vcpus=2",
	} {
		if got, err := ParseSize(v); err != nil || got != want {
			t.Errorf("ParseSize(%q) = %+v, %v; want %+v", v, got, err, want)
		}
	}
	for v, says := range map[string]string{
		"":                                 "want NAME",
		"DC2s_v2":                          "want NAME",
		",vcpus=2,epc_bytes=1,mem_bytes=1": "want NAME",
		"DC2s_v2,vcpus=2,epc_bytes=1":      "want NAME",
		"DC2s_v2,vcpus=0,epc_bytes=1,mem_bytes=1":         "at least 1 vCPU",
		"DC2s_v2,vcpus=2,epc_bytes=-1,mem_bytes=1":        "want a count",
		"DC2s_v2,vcpus=2,epc_bytes=1,mem_bytes=1,vcpus=2": "once",
		"DC2s_v2,vcpus=2,epc_bytes=1,mem_bytes=1,gpus=1":  "unknown field",
		"DC2s_v2,vcpus=2,epc_bytes=1,mem_bytes":           "once",
		"DC2s_v2,vcpus=two,epc_bytes=1,mem_bytes=1":       "want a count",
		"DC 2,vcpus=2,epc_bytes=1,mem_bytes=1":            "want NAME",
	} {
		if _, err := ParseSize(v); err == nil || !strings.Contains(err.Error(), says) {
			t.Errorf("ParseSize(%q): error %v, want one saying %q", v, err, says)
		}
	}
}

// String and ParseSize are inverses.
func TestSizeRoundTrip(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		s := Size{Name: rapid.StringMatching(`[A-Za-z0-9_.-]{1,16}`).Draw(t, "name"),
			VCPUs:    rapid.IntRange(1, 1<<20).Draw(t, "vcpus"),
			EPCBytes: rapid.Int64Min(0).Draw(t, "epc"), MemBytes: rapid.Int64Min(0).Draw(t, "mem")}
		got, err := ParseSize(s.String())
		if err != nil || got != s {
			t.Fatalf("ParseSize(%q) = %+v, %v", s.String(), got, err)
		}
	})
}

// FuzzParseSize: whatever ParseSize accepts, String writes back the same size.
func FuzzParseSize(f *testing.F) {
	f.Add("DC2s_v2,vcpus=2,epc_bytes=58720256,mem_bytes=8589934592")
	f.Add("x,mem_bytes=0,epc_bytes=0,vcpus=1")
	f.Add("DC2s_v2,vcpus=2,vcpus=2")
	f.Fuzz(func(t *testing.T, v string) {
		s, err := ParseSize(v)
		if err != nil {
			return
		}
		if s.VCPUs < 1 || s.EPCBytes < 0 || s.MemBytes < 0 || s.Name == "" {
			t.Fatalf("ParseSize(%q) accepted %+v", v, s)
		}
		again, err := ParseSize(s.String())
		if err != nil || again != s {
			t.Fatalf("ParseSize(%q) = %+v, but its String %q reads as %+v, %v", v, s, s.String(), again, err)
		}
	})
}
