// Package protocol is the versioned line protocol between the harness and a
// workload process.
//
// A workload writes one message per line on stdout, each line starting with
// Prefix and followed by a JSON object. Every other line is foreign (EGo's
// launcher, a runtime, the workload's own logging) and is ignored, so the
// protocol survives being wrapped by `ego run`.
package protocol

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
)

// Version is the protocol version; it is part of Prefix so that a harness
// never misreads lines from a workload binary of another version.
const Version = 1

// Prefix starts every protocol line.
const Prefix = "@enclavebench/1 "

// Message types.
const (
	TypeHello  = "hello"  // the workload started: environment it sees
	TypeSample = "sample" // one finished repetition
	TypeNA     = "na"     // the workload does not apply here (e.g. seal outside an enclave)
	TypeDone   = "done"   // all repetitions finished
	TypeError  = "error"  // the workload failed; Error says why
	// TypeReady: a driven workload (a server) listens on Addr; the harness
	// applies Load from outside the enclave, writes the samples itself,
	// then closes the workload's stdin, and the workload closes and says done.
	TypeReady = "ready"
)

// Load is the load a driven workload asks the harness to apply.
type Load struct {
	Kind  string `json:"kind"`           // LoadHTTP
	Path  string `json:"path,omitempty"` // request target, for LoadHTTP
	Conns int    `json:"conns"`          // concurrent keep-alive connections
}

// LoadHTTP is HTTP/1.1 GET requests of Path on keep-alive connections.
const LoadHTTP = "http"

// Directions of a metric.
const (
	Lower  = "lower"
	Higher = "higher"
)

// Message is one protocol line.
type Message struct {
	Type string `json:"type"`

	// Hello fields.
	Workload   string `json:"workload,omitempty"`
	PID        int    `json:"pid,omitempty"`
	GOMAXPROCS int    `json:"gomaxprocs,omitempty"`
	CPUs       int    `json:"cpus,omitempty"` // CPUs in the process's affinity mask
	GoVersion  string `json:"go_version,omitempty"`
	InEnclave  bool   `json:"in_enclave,omitempty"`
	Arena      string `json:"arena,omitempty"` // how enclave memory is backed

	// Sample is set for TypeSample.
	Sample *Sample `json:"sample,omitempty"`

	// Error or reason, for TypeError and TypeNA.
	Error string `json:"error,omitempty"`

	// ElapsedNS is the process's lifetime so far, for TypeDone.
	ElapsedNS int64 `json:"elapsed_ns,omitempty"`

	// Addr and Load are set for TypeReady.
	Addr string `json:"addr,omitempty"`
	Load *Load  `json:"load,omitempty"`

	// Extra carries mode-specific data (provenance, emulation cost...).
	Extra map[string]string `json:"extra,omitempty"`
}

// Sample is one repetition measured inside the workload process.
type Sample struct {
	Rep       int              `json:"rep"`
	Iters     int              `json:"iters"`
	ElapsedNS int64            `json:"elapsed_ns"`
	Values    []Value          `json:"values"`
	Events    map[string]int64 `json:"events,omitempty"`
}

// Value is one measured figure with its unit and direction.
type Value struct {
	Value  float64 `json:"value"`
	Unit   string  `json:"unit"`
	Better string  `json:"better"` // Lower or Higher
}

// Well-known event names. Counts are totals over the repetition.
const (
	EventMinorFaults = "minflt"
	EventMajorFaults = "majflt"
	EventVolCtxSw    = "nvcsw"
	EventInvolCtxSw  = "nivcsw"
	EventSyscalls    = "syscalls" // syscalls the workload itself issued
	EventOCalls      = "ocalls"
	EventECalls      = "ecalls"
	EventEPCLoads    = "epc_loads"
	EventEPCEvicts   = "epc_evictions"
	// EventEPCPassOps marks a sim repetition timed on plain memory whose
	// EPC events come from the same operations run right after it on the
	// software EPC: it is how many ran there (counts are scaled to the
	// repetition's when fewer). EventEPCPassNS is that run's duration,
	// emulation included.
	EventEPCPassOps = "epc_pass_ops"
	EventEPCPassNS  = "epc_pass_ns"
	// EventAllocBytes and EventAllocObjects are what the Go runtime
	// allocated on the heap during the repetition (runtime/metrics
	// /gc/heap/allocs:bytes and :objects, every goroutine of the process);
	// measured in the counting pass only (bench run --counts).
	EventAllocBytes   = "alloc_bytes"
	EventAllocObjects = "alloc_objects"
)

// ExtraOpsTotal is the done message's count of every operation the
// process ran (calibration, warmup and repetitions): the denominator for
// counts that cover the whole process, like EGo's OCALL table.
const ExtraOpsTotal = "ops_total"

// ExtraUncounted, on a sample message, names the enclave costs the
// workload could not have counted for it (a user's Go benchmark in the sim
// build: the EPC paging of its Go heap); the sim mode records it in the
// sample's model, and readers show it with the prediction.
const ExtraUncounted = "uncounted"

// ExtraGoSysBytes is the done message's count of the bytes the Go runtime
// obtained from the system (runtime.MemStats.Sys) by the end of the run.
const ExtraGoSysBytes = "go_sys_bytes"

// Encode writes m as one protocol line.
func Encode(w io.Writer, m Message) error {
	if err := m.Validate(); err != nil {
		return err
	}
	b, err := json.Marshal(m)
	if err != nil {
		return err
	}
	line := make([]byte, 0, len(Prefix)+len(b)+1)
	line = append(line, Prefix...)
	line = append(line, b...)
	line = append(line, '\n')
	_, err = w.Write(line) // one write: lines from concurrent writers never interleave mid-line
	return err
}

// ErrForeign is returned by Parse for a line that is not a protocol line.
var ErrForeign = errors.New("not a protocol line")

// Parse decodes one line (without or with its trailing newline). It returns
// ErrForeign for foreign lines and a descriptive error for a protocol line
// that is malformed.
func Parse(line []byte) (Message, error) {
	line = bytes.TrimRight(line, "\r\n")
	i := bytes.Index(line, []byte(Prefix))
	if i < 0 {
		if j := bytes.Index(line, []byte("@enclavebench/")); j >= 0 {
			return Message{}, fmt.Errorf("protocol version mismatch: line starts %.24q, this harness speaks %q", line[j:], Prefix)
		}
		return Message{}, ErrForeign
	}
	// A prefix after other text happens when a runtime writes a partial
	// line before ours; accept it, the JSON is self-delimiting.
	var m Message
	dec := json.NewDecoder(bytes.NewReader(line[i+len(Prefix):]))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&m); err != nil {
		return Message{}, fmt.Errorf("malformed protocol line: %v", err)
	}
	if dec.More() {
		return Message{}, errors.New("malformed protocol line: trailing data after JSON")
	}
	if err := m.Validate(); err != nil {
		return Message{}, err
	}
	return m, nil
}

// Validate checks that a message is well formed.
func (m Message) Validate() error {
	switch m.Type {
	case TypeHello, TypeDone:
	case TypeNA, TypeError:
		if m.Error == "" {
			return fmt.Errorf("protocol: %s message without a reason", m.Type)
		}
	case TypeReady:
		if m.Addr == "" || m.Load == nil || m.Load.Kind == "" || m.Load.Conns <= 0 {
			return errors.New("protocol: ready message without an address, a load kind or connections")
		}
	case TypeSample:
		if m.Sample == nil {
			return errors.New("protocol: sample message without a sample")
		}
		return m.Sample.Validate()
	default:
		return fmt.Errorf("protocol: unknown message type %q", m.Type)
	}
	return nil
}

// Validate checks a sample's figures.
func (s *Sample) Validate() error {
	if s.Iters <= 0 {
		return fmt.Errorf("protocol: sample with %d iterations", s.Iters)
	}
	if s.ElapsedNS < 0 {
		return errors.New("protocol: sample with negative elapsed time")
	}
	if len(s.Values) == 0 {
		return errors.New("protocol: sample without values")
	}
	for _, v := range s.Values {
		if err := v.Validate(); err != nil {
			return err
		}
	}
	for k, n := range s.Events {
		if k == "" || n < 0 {
			return fmt.Errorf("protocol: bad event count %q=%d", k, n)
		}
	}
	return nil
}

// Validate checks one value.
func (v Value) Validate() error {
	if math.IsNaN(v.Value) || math.IsInf(v.Value, 0) {
		return fmt.Errorf("protocol: value %v %s is not finite", v.Value, v.Unit)
	}
	if v.Unit == "" {
		return errors.New("protocol: value without a unit")
	}
	if v.Better != Lower && v.Better != Higher {
		return fmt.Errorf("protocol: value %s has direction %q, want %q or %q", v.Unit, v.Better, Lower, Higher)
	}
	return nil
}
