package sim

import (
	"bytes"
	"crypto/sha256"
	_ "embed"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"sort"
	"strings"
)

// ProfileFormat is the "format" of a cost profile file.
const ProfileFormat = "enclavebench-cost-profile"

// Prices is what the model charges for each enclave event on one platform
// (a VM family's CPU). Cycles are the modelled CPU's; ClockHz turns them
// into time.
type Prices struct {
	CPU               string  `json:"cpu"`
	ClockHz           float64 `json:"clock_hz"`
	OCallCycles       float64 `json:"ocall_cycles"`        // per OCALL round trip (EEXIT + EENTER)
	ECallCycles       float64 `json:"ecall_cycles"`        // per ECALL (a thread entering)
	EPCLoadCycles     float64 `json:"epc_load_cycles"`     // per page loaded back into the EPC (ELDU)
	EPCEvictionCycles float64 `json:"epc_eviction_cycles"` // per page evicted (EWB)
	// MEEFactor is how many times longer an access that misses the LLC
	// takes inside the enclave (memory encryption and integrity); 1 is none.
	MEEFactor float64 `json:"mee_factor"`
	// DRAMLatencyNS is the modelled CPU's latency of an access that misses
	// the LLC (ns, not cycles: DRAM does not follow the core's clock). A
	// simulated LLC miss of the counting pass costs (MEEFactor-1) times
	// it in the enclave. Required where MEEFactor > 1 (since published/v2).
	DRAMLatencyNS float64 `json:"dram_latency_ns,omitempty"`
	// MemBandwidthBytesPerS is the modelled CPU's memory bandwidth: a
	// simulated LLC miss that streams (result.EventLLMissesStream)
	// overlaps the stream's other lines and costs (MEEFactor-1) x
	// LineBytes / MemBandwidthBytesPerS more in the enclave, not the DRAM
	// latency (since published/v3; without it every miss is priced at
	// DRAMLatencyNS, as in v2, so v2 files keep their digest and prices).
	MemBandwidthBytesPerS float64 `json:"mem_bandwidth_bytes_per_s,omitempty"`
	// EnclaveOverheadBytes is the runtime's own resident EPC beyond the
	// workload binary's measured baseline (EGo's runtime, TCS/SSA pages).
	EnclaveOverheadBytes int64 `json:"enclave_overhead_bytes"`
	// Sources names the source of every price above.
	Sources map[string]string `json:"sources"`
	// Ranges are published ranges, for reference (not used by the model).
	Ranges map[string][]float64 `json:"ranges,omitempty"`
}

// NS converts cycles of this platform into nanoseconds.
func (p *Prices) NS(cycles float64) float64 { return cycles / p.ClockHz * 1e9 }

// Profile is a versioned set of prices per platform.
type Profile struct {
	Format      string             `json:"format"`
	Name        string             `json:"name"`
	Version     int                `json:"version"`
	Description string             `json:"description,omitempty"`
	Platforms   map[string]*Prices `json:"platforms"`
}

// Digest is the SHA-256 of the profile's content ("sha256:<hex>"), as
// Marshal encodes it: a profile edited under the same name and version
// has another digest, one reformatted or with its fields reordered the
// same. run.json records it (result.CostProfileRef.Digest).
func (p *Profile) Digest() string {
	b, err := p.Marshal()
	if err != nil {
		panic(err) // a Profile is plain data: it always encodes
	}
	sum := sha256.Sum256(b)
	return "sha256:" + hex.EncodeToString(sum[:])
}

// Ref is the profile's label in samples and reports: "<name>/v<version>".
func (p *Profile) Ref() string { return fmt.Sprintf("%s/v%d", p.Name, p.Version) }

// For returns the prices of a VM family (sizes.Size.Family).
func (p *Profile) For(family string) (*Prices, error) {
	if pr, ok := p.Platforms[family]; ok {
		return pr, nil
	}
	var have []string
	for k := range p.Platforms {
		have = append(have, k)
	}
	sort.Strings(have)
	return nil, fmt.Errorf("cost profile %s has no prices for %s (it has %s)", p.Ref(), family, strings.Join(have, ", "))
}

//go:embed profiles/published.json
var publishedJSON []byte

// Default returns the built-in profile: published figures with their
// sources, for DCsv2, DCsv3 and DCdsv3.
func Default() *Profile {
	p, err := ParseProfile(publishedJSON)
	if err != nil {
		panic("sim: the built-in profile is invalid: " + err.Error())
	}
	return p
}

// DefaultJSON is the built-in profile's file, a template for new profiles.
func DefaultJSON() []byte { return append([]byte(nil), publishedJSON...) }

// LoadProfile reads a profile file. Decoding is strict: an unknown field, a
// missing one, a wrong type or a value out of range is an error that names
// the field (e.g. "platforms.DCsv2.ocall_cycles").
func LoadProfile(path string) (*Profile, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	p, err := ParseProfile(b)
	if err != nil {
		return nil, fmt.Errorf("cost profile %s: %w", path, err)
	}
	return p, nil
}

// rawPrices mirrors Prices with pointers, to tell a missing field from 0.
type rawPrices struct {
	CPU                  *string              `json:"cpu"`
	ClockHz              *float64             `json:"clock_hz"`
	OCallCycles          *float64             `json:"ocall_cycles"`
	ECallCycles          *float64             `json:"ecall_cycles"`
	EPCLoadCycles        *float64             `json:"epc_load_cycles"`
	EPCEvictionCycles    *float64             `json:"epc_eviction_cycles"`
	MEEFactor            *float64             `json:"mee_factor"`
	DRAMLatencyNS        *float64             `json:"dram_latency_ns"`
	MemBandwidth         *float64             `json:"mem_bandwidth_bytes_per_s"`
	EnclaveOverheadBytes *int64               `json:"enclave_overhead_bytes"`
	Sources              map[string]string    `json:"sources"`
	Ranges               map[string][]float64 `json:"ranges"`
}

type rawProfile struct {
	Format      *string                    `json:"format"`
	Name        *string                    `json:"name"`
	Version     *int                       `json:"version"`
	Description string                     `json:"description"`
	Platforms   map[string]json.RawMessage `json:"platforms"`
}

// ParseProfile decodes and validates a profile (see LoadProfile).
func ParseProfile(data []byte) (*Profile, error) {
	var r rawProfile
	if err := strictDecode(data, &r, ""); err != nil {
		return nil, err
	}
	switch {
	case r.Format == nil:
		return nil, errors.New(`format is missing (want "` + ProfileFormat + `")`)
	case *r.Format != ProfileFormat:
		return nil, fmt.Errorf("format is %q, want %q", *r.Format, ProfileFormat)
	case r.Name == nil || strings.TrimSpace(*r.Name) == "":
		return nil, errors.New("name is missing")
	case strings.ContainsAny(*r.Name, "/ \t\n"):
		return nil, fmt.Errorf("name %q must not contain '/' or spaces", *r.Name)
	case r.Version == nil:
		return nil, errors.New("version is missing")
	case *r.Version < 1:
		return nil, fmt.Errorf("version is %d, want a positive integer", *r.Version)
	case len(r.Platforms) == 0:
		return nil, errors.New("platforms is missing or empty (want prices for DCsv2, DCsv3 and/or DCdsv3)")
	}
	p := &Profile{Format: *r.Format, Name: *r.Name, Version: *r.Version, Description: r.Description, Platforms: map[string]*Prices{}}
	for fam, raw := range r.Platforms {
		path := "platforms." + fam
		var rp rawPrices
		if err := strictDecode(raw, &rp, path); err != nil {
			return nil, err
		}
		pr, err := rp.validate(path)
		if err != nil {
			return nil, err
		}
		p.Platforms[fam] = pr
	}
	return p, nil
}

func strictDecode(data []byte, v any, path string) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		var te *json.UnmarshalTypeError
		var se *json.SyntaxError
		prefix := ""
		if path != "" {
			prefix = path + "."
		}
		switch {
		case errors.As(err, &te):
			return fmt.Errorf("%s%s: wrong type: %s, want %s", prefix, te.Field, te.Value, te.Type)
		case errors.As(err, &se):
			return fmt.Errorf("malformed JSON at byte %d: %v", se.Offset, err)
		case strings.HasPrefix(err.Error(), "json: unknown field "):
			return fmt.Errorf("%s%s: unknown field", prefix, strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`))
		}
		if path != "" {
			return fmt.Errorf("%s: %v", path, err)
		}
		return err
	}
	if dec.More() {
		return errors.New("trailing data after the JSON object")
	}
	return nil
}

func (r *rawPrices) validate(path string) (*Prices, error) {
	num := []struct {
		name string
		v    *float64
		min  float64
	}{
		{"clock_hz", r.ClockHz, 1e6},
		{"ocall_cycles", r.OCallCycles, 0},
		{"ecall_cycles", r.ECallCycles, 0},
		{"epc_load_cycles", r.EPCLoadCycles, 0},
		{"epc_eviction_cycles", r.EPCEvictionCycles, 0},
		{"mee_factor", r.MEEFactor, 1},
	}
	if r.CPU == nil || strings.TrimSpace(*r.CPU) == "" {
		return nil, fmt.Errorf("%s.cpu is missing", path)
	}
	for _, f := range num {
		if f.v == nil {
			return nil, fmt.Errorf("%s.%s is missing", path, f.name)
		}
		if *f.v < f.min || *f.v != *f.v {
			return nil, fmt.Errorf("%s.%s is %v, want at least %v", path, f.name, *f.v, f.min)
		}
		if s := strings.TrimSpace(r.Sources[f.name]); s == "" {
			return nil, fmt.Errorf("%s.sources.%s is missing: every price names its source", path, f.name)
		}
	}
	dram := 0.0
	switch {
	case r.DRAMLatencyNS != nil:
		if *r.DRAMLatencyNS <= 0 || *r.DRAMLatencyNS != *r.DRAMLatencyNS {
			return nil, fmt.Errorf("%s.dram_latency_ns is %v, want a positive number of nanoseconds", path, *r.DRAMLatencyNS)
		}
		if s := strings.TrimSpace(r.Sources["dram_latency_ns"]); s == "" {
			return nil, fmt.Errorf("%s.sources.dram_latency_ns is missing: every price names its source", path)
		}
		dram = *r.DRAMLatencyNS
	case *r.MEEFactor > 1:
		return nil, fmt.Errorf("%s.dram_latency_ns is missing: with mee_factor > 1 it prices each simulated LLC miss of the counting pass, (mee_factor-1) x dram_latency_ns (a profile from before published/v2: add the modelled CPU's DRAM latency with its source, and a new version)", path)
	}
	bw := 0.0
	if r.MemBandwidth != nil {
		if *r.MemBandwidth < 1e9 || *r.MemBandwidth != *r.MemBandwidth {
			return nil, fmt.Errorf("%s.mem_bandwidth_bytes_per_s is %v, want bytes per second, at least 1e9", path, *r.MemBandwidth)
		}
		if s := strings.TrimSpace(r.Sources["mem_bandwidth_bytes_per_s"]); s == "" {
			return nil, fmt.Errorf("%s.sources.mem_bandwidth_bytes_per_s is missing: every price names its source", path)
		}
		bw = *r.MemBandwidth
	}
	over := int64(0)
	if r.EnclaveOverheadBytes != nil {
		if *r.EnclaveOverheadBytes < 0 {
			return nil, fmt.Errorf("%s.enclave_overhead_bytes is %d, want >= 0", path, *r.EnclaveOverheadBytes)
		}
		over = *r.EnclaveOverheadBytes
	}
	return &Prices{CPU: *r.CPU, ClockHz: *r.ClockHz, OCallCycles: *r.OCallCycles, ECallCycles: *r.ECallCycles,
		EPCLoadCycles: *r.EPCLoadCycles, EPCEvictionCycles: *r.EPCEvictionCycles, MEEFactor: *r.MEEFactor,
		DRAMLatencyNS: dram, MemBandwidthBytesPerS: bw, EnclaveOverheadBytes: over, Sources: r.Sources, Ranges: r.Ranges}, nil
}

// Marshal encodes p as an indented profile file.
func (p *Profile) Marshal() ([]byte, error) {
	b, err := json.MarshalIndent(p, "", "  ")
	if err != nil {
		return nil, err
	}
	return append(b, '\n'), nil
}
