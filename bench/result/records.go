package result

import (
	"encoding/json"
	"fmt"
)

// lastNamedSchema is the last schema version whose record files store each
// record's cell name ("cell") beside the fields it is made of. From the
// next, a record's name is derived from its fields and the run's facts
// (Facts.CellName), so no reader has to check one against the other.
const lastNamedSchema = 2

// namedSample and namedCell are the records as schema versions 1 and 2 and
// the stream (StreamRecord) carry them: with their cell's name. Frozen:
// old directories read through them; the stream keeps the name because a
// log is routed to its run by it before the run's facts are known.
type namedSample struct {
	Cell string `json:"cell"`
	Sample
}

type namedCell struct {
	Cell string `json:"cell"`
	CellResult
}

// CellName is the name of the cell of a record with these fields in a run
// with facts f: Cell.Key() in the declared parameter order f records for
// the workload (sorted where the declaration does not cover them).
func (f *Facts) CellName(workload string, params map[string]string, size, mode string) string {
	var declared []string
	if f != nil {
		declared = f.Workload(workload).Params
	}
	return Cell{Workload: workload, Params: params, Size: size, Mode: mode, ParamOrder: ParamOrder(declared, params)}.Key()
}

// EncodeSample encodes x as a line of samples.jsonl (without the newline)
// of schema version schema: with its cell's name up to lastNamedSchema,
// without from then.
func EncodeSample(x *Sample, schema int) ([]byte, error) {
	if schema <= lastNamedSchema {
		return json.Marshal(namedSample{x.Cell, *x})
	}
	return json.Marshal(x)
}

// EncodeCell encodes c as a line of cells.jsonl of schema version schema.
func EncodeCell(c *CellResult, schema int) ([]byte, error) {
	if schema <= lastNamedSchema {
		return json.Marshal(namedCell{c.Cell, *c})
	}
	return json.Marshal(c)
}

// recordCodec reads the record lines of a run of one schema version, whose
// facts give the declared parameter order of its workloads.
type recordCodec struct {
	schema int
	facts  *Facts
}

// sample decodes and checks one line of samples.jsonl.
func (rc recordCodec) sample(b []byte, s *Sample) error {
	if rc.schema <= lastNamedSchema {
		return DecodeNamedSample(b, s)
	}
	if err := DecodeStrict(b, s); err != nil {
		return err
	}
	if err := checkFields(s.Workload, s.Params, s.Size, s.Mode); err != nil {
		return err
	}
	s.Cell = rc.facts.CellName(s.Workload, s.Params, s.Size, s.Mode)
	return CheckSample(s)
}

// cell decodes and checks one line of cells.jsonl.
func (rc recordCodec) cell(b []byte, c *CellResult) error {
	if rc.schema <= lastNamedSchema {
		return DecodeNamedCell(b, c)
	}
	if err := DecodeStrict(b, c); err != nil {
		return err
	}
	if err := checkFields(c.Workload, c.Params, c.Size, c.Mode); err != nil {
		return err
	}
	c.Cell = rc.facts.CellName(c.Workload, c.Params, c.Size, c.Mode)
	return CheckCell(c)
}

// DecodeNamedSample decodes and checks a sample that carries its cell's
// name (schema 1 and 2 files, the stream): the name must match the fields.
func DecodeNamedSample(b []byte, s *Sample) error {
	var n namedSample
	if err := DecodeStrict(b, &n); err != nil {
		return err
	}
	*s = n.Sample
	s.Cell = n.Cell
	return CheckSample(s)
}

// DecodeNamedCell decodes and checks a cell outcome that carries its
// cell's name.
func DecodeNamedCell(b []byte, c *CellResult) error {
	var n namedCell
	if err := DecodeStrict(b, &n); err != nil {
		return err
	}
	*c = n.CellResult
	c.Cell = n.Cell
	return CheckCell(c)
}

// MarshalJSON encodes the stream line's record with its cell's name.
func (r StreamRecord) MarshalJSON() ([]byte, error) {
	var v struct {
		Run     *Run         `json:"run,omitempty"`
		Sample  *namedSample `json:"sample,omitempty"`
		Cell    *namedCell   `json:"cell,omitempty"`
		Profile *StreamFile  `json:"profile,omitempty"`
	}
	v.Run, v.Profile = r.Run, r.Profile
	if r.Sample != nil {
		v.Sample = &namedSample{r.Sample.Cell, *r.Sample}
	}
	if r.Cell != nil {
		v.Cell = &namedCell{r.Cell.Cell, *r.Cell}
	}
	return json.Marshal(v)
}

// UnmarshalJSON decodes a stream line's record, strictly, with its cell's
// name (the inverse of MarshalJSON).
func (r *StreamRecord) UnmarshalJSON(b []byte) error {
	var v struct {
		Run     *Run            `json:"run"`
		Sample  json.RawMessage `json:"sample"`
		Cell    json.RawMessage `json:"cell"`
		Profile *StreamFile     `json:"profile"`
	}
	if err := DecodeStrict(b, &v); err != nil {
		return err
	}
	*r = StreamRecord{Run: v.Run, Profile: v.Profile}
	if r.Profile != nil {
		if err := CheckStreamFile(r.Profile); err != nil {
			return fmt.Errorf("profile: %w", err)
		}
	}
	if len(v.Sample) > 0 && string(v.Sample) != "null" {
		r.Sample = &Sample{}
		if err := DecodeNamedSample(v.Sample, r.Sample); err != nil {
			return fmt.Errorf("sample: %w", err)
		}
	}
	if len(v.Cell) > 0 && string(v.Cell) != "null" {
		r.Cell = &CellResult{}
		if err := DecodeNamedCell(v.Cell, r.Cell); err != nil {
			return fmt.Errorf("cell outcome: %w", err)
		}
	}
	return nil
}
