package export

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
)

// GABEntry is one entry of github-action-benchmark's custom JSON.
type GABEntry struct {
	Name  string  `json:"name"`
	Unit  string  `json:"unit"`
	Value float64 `json:"value"`
	Range string  `json:"range,omitempty"`
	Extra string  `json:"extra,omitempty"`
}

// EncodeGAB writes entries as a JSON array. Values must be finite.
func EncodeGAB(w io.Writer, entries []GABEntry) error {
	if entries == nil {
		entries = []GABEntry{}
	}
	for _, e := range entries {
		if err := checkFinite(e.Name, e.Value); err != nil {
			return err
		}
	}
	return writeIndented(w, entries)
}

// DecodeGAB reads a github-action-benchmark custom JSON array. Every entry
// needs a name, a unit and a finite numeric value; other fields the action
// does not know are ignored, as it does.
func DecodeGAB(r io.Reader) ([]GABEntry, error) {
	var raw []struct {
		Name  *string  `json:"name"`
		Unit  *string  `json:"unit"`
		Value *float64 `json:"value"`
		Range string   `json:"range"`
		Extra string   `json:"extra"`
	}
	if err := decodeOne(r, &raw); err != nil {
		return nil, fmt.Errorf("github-action-benchmark JSON: %w", err)
	}
	if raw == nil {
		return nil, errors.New("github-action-benchmark JSON: want an array of entries, got null")
	}
	out := make([]GABEntry, 0, len(raw))
	for i, e := range raw {
		switch {
		case e.Name == nil || *e.Name == "":
			return nil, fmt.Errorf("github-action-benchmark JSON: entry %d: no name", i)
		case e.Unit == nil:
			return nil, fmt.Errorf("github-action-benchmark JSON: entry %d (%s): no unit", i, *e.Name)
		case e.Value == nil:
			return nil, fmt.Errorf("github-action-benchmark JSON: entry %d (%s): no value", i, *e.Name)
		}
		out = append(out, GABEntry{Name: *e.Name, Unit: *e.Unit, Value: *e.Value, Range: e.Range, Extra: e.Extra})
	}
	return out, nil
}

// BMF is a Bencher Metric Format document: benchmark -> measure -> metric.
type BMF map[string]map[string]BMFMetric

// BMFMetric is one metric: a value and an optional interval.
type BMFMetric struct {
	Value      float64  `json:"value"`
	LowerValue *float64 `json:"lower_value,omitempty"`
	UpperValue *float64 `json:"upper_value,omitempty"`
}

// EncodeBMF writes b as JSON (benchmarks and measures in sorted order).
// Values must be finite, names non-empty.
func EncodeBMF(w io.Writer, b BMF) error {
	if b == nil {
		b = BMF{}
	}
	for bench, ms := range b {
		if bench == "" {
			return errors.New("BMF: a benchmark without a name")
		}
		for m, v := range ms {
			if m == "" {
				return fmt.Errorf("BMF: %s: a measure without a name", bench)
			}
			for _, x := range []*float64{&v.Value, v.LowerValue, v.UpperValue} {
				if x != nil {
					if err := checkFinite(bench+" "+m, *x); err != nil {
						return err
					}
				}
			}
		}
	}
	return writeIndented(w, b)
}

// DecodeBMF reads a Bencher Metric Format document: an object of
// benchmarks, each an object of measures, each with a numeric "value" and
// optional "lower_value" and "upper_value"; unknown metric fields are
// errors (Bencher's schema has no others).
func DecodeBMF(r io.Reader) (BMF, error) {
	var raw map[string]map[string]json.RawMessage
	if err := decodeOne(r, &raw); err != nil {
		return nil, fmt.Errorf("BMF: %w", err)
	}
	if raw == nil {
		return nil, errors.New("BMF: want an object of benchmarks, got null")
	}
	out := BMF{}
	for bench, ms := range raw {
		if bench == "" {
			return nil, errors.New("BMF: a benchmark without a name")
		}
		if ms == nil {
			return nil, fmt.Errorf("BMF: %s: want an object of measures, got null", bench)
		}
		out[bench] = map[string]BMFMetric{}
		for m, msg := range ms {
			if m == "" {
				return nil, fmt.Errorf("BMF: %s: a measure without a name", bench)
			}
			var v struct {
				Value      *float64 `json:"value"`
				LowerValue *float64 `json:"lower_value"`
				UpperValue *float64 `json:"upper_value"`
			}
			dec := json.NewDecoder(bytes.NewReader(msg))
			dec.DisallowUnknownFields()
			if err := dec.Decode(&v); err != nil {
				return nil, fmt.Errorf("BMF: %s %s: %w", bench, m, err)
			}
			if v.Value == nil {
				return nil, fmt.Errorf("BMF: %s %s: no value", bench, m)
			}
			out[bench][m] = BMFMetric{Value: *v.Value, LowerValue: v.LowerValue, UpperValue: v.UpperValue}
		}
	}
	return out, nil
}

func checkFinite(what string, v float64) error {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return fmt.Errorf("%s: value %v is not a finite number", what, v)
	}
	return nil
}

func writeIndented(w io.Writer, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	_, err = w.Write(append(b, '\n'))
	return err
}

// decodeOne decodes exactly one JSON value from r.
func decodeOne(r io.Reader, v any) error {
	dec := json.NewDecoder(r)
	if err := dec.Decode(v); err != nil {
		return err
	}
	if dec.More() {
		return errors.New("trailing data after the document")
	}
	return nil
}
