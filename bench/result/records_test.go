package result

import (
	"bytes"
	"maps"
	"math/rand/v2"
	"reflect"
	"strconv"
	"testing"
	"time"

	"github.com/enclavebench/enclavebench/workloads/protocol"
)

// randomSample is a valid sample of a random cell of a workload whose
// declared parameters are declared (some of them set), as a writer names it.
func randomSample(r *rand.Rand, declared []string) Sample {
	params := map[string]string{}
	for _, p := range declared {
		if r.IntN(3) > 0 {
			params[p] = "v" + strconv.Itoa(r.IntN(100))
		}
	}
	s := Sample{Attempt: 1 + r.IntN(3), Workload: "wl", Params: params, Size: "DC" + strconv.Itoa(1+r.IntN(8)) + "s_v2",
		Mode: []string{"native", "sim", "toy"}[r.IntN(3)], Rep: r.IntN(50), Iters: 1 + r.IntN(1e6),
		ElapsedNS: r.Int64N(1e12), Values: []protocol.Value{{Value: r.Float64() * 1e6, Unit: "ns/op", Better: protocol.Lower}},
		Time: time.Unix(r.Int64N(2e9), 0).UTC()}
	if len(params) == 0 {
		s.Params = nil
	}
	if r.IntN(2) == 0 {
		s.Events = map[string]int64{"ocalls": r.Int64N(1e9)}
	}
	s.Cell = Cell{Workload: s.Workload, Params: s.Params, Size: s.Size, Mode: s.Mode, ParamOrder: ParamOrder(declared, s.Params)}.Key()
	return s
}

// TestRecordCodecRoundTrip: a sample or cell outcome written in any schema
// version this harness writes or reads back reads as the record it was,
// its cell's name included: stored up to schema 2, derived from its fields
// and the run's declared parameter order from schema 3 on.
func TestRecordCodecRoundTrip(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 19))
	declared := []string{"ws", "access", "op"} // not sorted: the name follows the declaration
	facts := &Facts{Workloads: map[string]WorkloadFacts{"wl": {Params: declared}}}
	for i := range 2000 {
		s := randomSample(r, declared)
		c := CellResult{Cell: s.Cell, Attempt: s.Attempt, Workload: s.Workload, Params: maps.Clone(s.Params), Size: s.Size,
			Mode: s.Mode, Status: StatusOK, Samples: 1 + r.IntN(9), WallNS: r.Int64N(1e12), Extra: map[string]string{"k": "v"}}
		for _, schema := range []int{1, 2, SchemaVersion} {
			rc := recordCodec{schema, facts}
			b, err := EncodeSample(&s, schema)
			if err != nil {
				t.Fatal(err)
			}
			if named := bytes.Contains(b, []byte(`"cell":`)); named != (schema <= lastNamedSchema) {
				t.Fatalf("schema %d: sample line names its cell: %v (%s)", schema, named, b)
			}
			var back Sample
			if err := rc.sample(b, &back); err != nil {
				t.Fatalf("sample %d, schema %d: %v (%s)", i, schema, err, b)
			}
			if !reflect.DeepEqual(back, s) {
				t.Fatalf("sample %d, schema %d:\n got %+v\nwant %+v", i, schema, back, s)
			}
			b, err = EncodeCell(&c, schema)
			if err != nil {
				t.Fatal(err)
			}
			var cb CellResult
			if err := rc.cell(b, &cb); err != nil || !reflect.DeepEqual(cb, c) {
				t.Fatalf("cell %d, schema %d: %v\n got %+v\nwant %+v", i, schema, err, cb, c)
			}
		}
		// The stream keeps the name whatever the files' schema.
		var buf bytes.Buffer
		if err := EncodeStream(&buf, StreamRecord{Sample: &s}); err != nil {
			t.Fatal(err)
		}
		var rec StreamRecord
		if err := rec.UnmarshalJSON(bytes.TrimPrefix(bytes.TrimSpace(buf.Bytes()), []byte(StreamPrefix))); err != nil ||
			!reflect.DeepEqual(*rec.Sample, s) {
			t.Fatalf("stream sample %d: %v", i, err)
		}
	}
}

// TestSchema3RefusesNames: a schema 3 record that carries a name is not of
// that schema (refused as an unknown field), so a name can never disagree
// with the fields it is derived from.
func TestSchema3RefusesNames(t *testing.T) {
	s := randomSample(rand.New(rand.NewPCG(1, 2)), []string{"ws"})
	b, _ := EncodeSample(&s, 2)
	if err := (recordCodec{SchemaVersion, nil}).sample(b, &Sample{}); err == nil {
		t.Fatalf("schema %d read a named record: %s", SchemaVersion, b)
	}
}

// FuzzRecordLine: any line either fails with a line-numbered error or reads
// as a valid record whose name is its fields' (schema 3) or matches them
// (schema 2).
func FuzzRecordLine(f *testing.F) {
	r := rand.New(rand.NewPCG(3, 4))
	for _, schema := range []int{2, SchemaVersion} {
		s := randomSample(r, []string{"ws", "access"})
		b, _ := EncodeSample(&s, schema)
		f.Add(schema, b)
		c := CellResult{Cell: s.Cell, Attempt: 1, Workload: s.Workload, Params: s.Params, Size: s.Size, Mode: s.Mode, Status: StatusNA}
		b, _ = EncodeCell(&c, schema)
		f.Add(schema, b)
	}
	f.Add(3, []byte(`{"attempt":1,"workload":"w","params":{"a/b":"c"},"size":"s","mode":"m","rep":0,"iters":1,"elapsed_ns":1,"values":[{"value":1,"unit":"ns/op","better":"lower"}],"time":"2026-01-01T00:00:00Z"}`))
	facts := &Facts{Workloads: map[string]WorkloadFacts{"wl": {Params: []string{"ws", "access"}}}}
	f.Fuzz(func(t *testing.T, schema int, line []byte) {
		if schema != 2 {
			schema = SchemaVersion
		}
		rc := recordCodec{schema, facts}
		samples, _, bad := readNumbered(bytes.NewReader(line), "samples.jsonl", rc.sample)
		cells, _, bad2 := readNumbered(bytes.NewReader(line), "cells.jsonl", rc.cell)
		for _, e := range append(bad, bad2...) {
			if le, ok := e.(*LineError); !ok || le.Line < 1 {
				t.Fatalf("error without a line: %v", e)
			}
		}
		for _, s := range samples {
			if err := CheckSample(&s); err != nil {
				t.Fatalf("accepted an invalid sample: %v", err)
			}
			if schema > lastNamedSchema && s.Cell != facts.CellName(s.Workload, s.Params, s.Size, s.Mode) {
				t.Fatalf("name %q is not its fields'", s.Cell)
			}
		}
		for _, c := range cells {
			if err := CheckCell(&c); err != nil {
				t.Fatalf("accepted an invalid cell outcome: %v", err)
			}
		}
	})
}
