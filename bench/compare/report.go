package compare

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"strconv"
)

// SchemaVersion is the version of the JSON report (docs/ci.md documents
// it). Fields may be added within a version; none are removed or renamed.
const SchemaVersion = 1

// Kind identifies the JSON document.
const Kind = "enclavebench.compare"

// Report is the result of a comparison; its JSON form is stable.
type Report struct {
	SchemaVersion int           `json:"schema_version"`
	Kind          string        `json:"kind"`
	Verdict       Verdict       `json:"verdict"`
	Old           Side          `json:"old"`
	New           Side          `json:"new"`
	Options       ReportOptions `json:"options"`
	// Tables holds one table per unit, in order of first appearance.
	Tables []Table `json:"tables"`
	// Unmatched lists cells (or units of a cell) present on one side only.
	Unmatched []Unmatched `json:"unmatched"`
	// Refused lists cells that match but must not be compared.
	Refused  []Refused `json:"refused"`
	Warnings []string  `json:"warnings"`
	// Power says what the gate could see: whether a regression of a single
	// cell could be flagged with these samples.
	Power *Power `json:"power,omitempty"`
	// Models are the sim cells' own accounts: the predicted slowdown over
	// their measured base, pair by pair (omitted without sim cells).
	Models []Model `json:"models,omitempty"`
}

// Model is a sim cell's predicted slowdown over its own measured base:
// the median and 95% interval of its per-repetition ratios predicted/base
// (>= 1), and the events that make it up.
type Model struct {
	Side     string      `json:"side"` // "old" or "new"
	Cell     string      `json:"cell"`
	Mode     string      `json:"mode,omitempty"` // the cell's mode (its recorded name)
	Pairs    int         `json:"pairs"`
	Slowdown Num         `json:"slowdown"`
	Lo       Num         `json:"lo"`
	Hi       Num         `json:"hi"`
	Parts    []ModelPart `json:"parts,omitempty"`
	Verdict  string      `json:"verdict"`
}

// ModelPart is one kind of enclave event's share of a prediction's extra time.
type ModelPart struct {
	Event string  `json:"event"`
	Label string  `json:"label"`
	Share float64 `json:"share"`
}

// Power is what the gate can see, stated before its verdict.
type Power struct {
	// TimeRows are the rows in the corrected family: one timed unit per
	// cell (ns/op).
	TimeRows int `json:"time_rows"`
	// CountRows are the deterministic count rows, gated by threshold.
	CountRows int `json:"count_rows"`
	// NeedP is the p-value a regression of one cell alone must reach.
	NeedP Num `json:"need_p"`
	// WorstMinP is the smallest p the worst-sampled timed row can reach
	// (complete separation of its samples); null without timed rows.
	WorstMinP Num `json:"worst_min_p"`
	// Blind counts the timed rows whose smallest p is above NeedP.
	Blind int `json:"blind_rows"`
	// SamplesNeeded is the fewest samples (rounds) per side with which
	// every timed row could reach NeedP; 0 when they can.
	SamplesNeeded int `json:"samples_needed"`
	// CanFlagOne is false when some timed row could not be flagged alone.
	CanFlagOne bool `json:"can_flag_one"`
	// MedianRatio and WorstRatio are the median and the largest over the
	// timed rows of Row.Detectable (WorstCell's); Over2x counts the rows
	// that would not show even a 2x slowdown.
	MedianRatio Num    `json:"median_detectable_ratio"`
	WorstRatio  Num    `json:"worst_detectable_ratio"`
	WorstCell   string `json:"worst_cell,omitempty"`
	Over2x      int    `json:"rows_blind_to_2x"`
	Statement   string `json:"statement"`
}

// Verdict is the outcome of the gate.
type Verdict struct {
	// Status is "ok", "regression" or "bad_input".
	Status string `json:"status"`
	// ExitCode is what bench compare exits with: 0, 1 (a regression and
	// --fail-on regression) or 2 (bad input).
	ExitCode int    `json:"exit_code"`
	Summary  string `json:"summary"`
	// Compared counts the rows of all tables.
	Compared     int      `json:"compared"`
	Regressions  []Ref    `json:"regressions"`
	Improvements []Ref    `json:"improvements"`
	Problems     []string `json:"problems"`
}

// Ref points at one row of a table.
type Ref struct {
	Cell      string `json:"cell"`
	Unit      string `json:"unit"`
	DeltaPct  Num    `json:"delta_pct"`
	P         Num    `json:"p"`
	PAdjusted Num    `json:"p_adjusted"`
	N1        int    `json:"n_old"`
	N2        int    `json:"n_new"`
	// Gate is the row's gate: "time" or "count".
	Gate string `json:"gate,omitempty"`
	// Time is, for a count, the change of the cell's timed row.
	Time string `json:"time,omitempty"`
	// Basis is, for a count, why it was gated: "deterministic count", or
	// "count moved beyond its spread" (Spread.Separated).
	Basis string `json:"basis,omitempty"`
}

// Side describes one input.
type Side struct {
	Path  string   `json:"path"`
	Runs  []string `json:"runs"`
	Cells int      `json:"cells"`
}

// ReportOptions are the options the comparison ran with.
type ReportOptions struct {
	Alpha        float64 `json:"alpha"`
	Confidence   float64 `json:"confidence"`
	MinEffectPct float64 `json:"min_effect_pct"`
	Correction   string  `json:"correction"`
	GatedTests   int     `json:"gated_tests"`
	// CountThresholdPct is --count-threshold; counts spreading by at most
	// half of it are deterministic.
	CountThresholdPct float64  `json:"count_threshold_pct"`
	Ignore            []string `json:"ignore"`
	AllowUnmatched    bool     `json:"allow_unmatched"`
	FailOn            string   `json:"fail_on"`
}

// Table compares the cells in one unit.
type Table struct {
	Unit string `json:"unit"`
	// Better is "lower", "higher" or "" (unknown: shown, never gated).
	Better  string   `json:"better"`
	Rows    []Row    `json:"rows"`
	Geomean *Geomean `json:"geomean"`
}

// Row is one cell compared in one unit.
type Row struct {
	// Cell is the matching key: the cell key minus ignored components.
	Cell string `json:"cell"`
	// OldCell and NewCell are the full keys when they differ from Cell.
	OldCell string  `json:"old_cell,omitempty"`
	NewCell string  `json:"new_cell,omitempty"`
	Old     Summary `json:"old"`
	New     Summary `json:"new"`
	// DeltaPct is the change of the median in percent (null when the old
	// median is 0 and the new is not).
	DeltaPct Num `json:"delta_pct"`
	// Delta is benchstat's rendering: "~" when not significant, else
	// "+1.23%".
	Delta string `json:"delta"`
	// P is the p-value of the Mann-Whitney U test (exact-value units: 0 or 1).
	P Num `json:"p"`
	// PAdjusted is P after the correction over the gated rows (null for
	// units of unknown direction).
	PAdjusted Num `json:"p_adjusted"`
	// PString is benchstat's "p=0.002 n=6".
	PString     string `json:"p_n"`
	N1          int    `json:"n_old"`
	N2          int    `json:"n_new"`
	Significant bool   `json:"significant"`
	// Gate is "time" (the cell's timed unit, in the corrected family),
	// "count" (a deterministic count, against the count threshold) or ""
	// (shown, not gated; GateNote says why).
	Gate     string `json:"gate"`
	GateNote string `json:"gate_note,omitempty"`
	// Spread is a count's spread on each side (counts only).
	Spread *Spread `json:"count_spread,omitempty"`
	// Detectable is, for a timed row, the smallest factor by which its
	// time would have to grow to be flagged alone, judged from old's
	// spread (null: not a timed row, or no factor would do).
	Detectable Num `json:"detectable_ratio"`
	oldVals    []float64
	Change     string   `json:"change"`
	Warnings   []string `json:"warnings,omitempty"`
}

// Spread is how far a count's values spread on each side: the range in
// percent of the median (null: values around a zero median).
type Spread struct {
	Old Num `json:"old_pct"`
	New Num `json:"new_pct"`
	// BoundPct is the largest spread of a deterministic count.
	BoundPct float64 `json:"bound_pct"`
	// IndependentOld and IndependentNew count the independent values the
	// spread is judged from: samples; for the counting pass's events the
	// pass's values (run.json counts.values per run, at most the samples);
	// for -benchmem's B/op and allocs/op runs.
	IndependentOld int  `json:"independent_old"`
	IndependentNew int  `json:"independent_new"`
	Deterministic  bool `json:"deterministic"`
	// Separated is set for a count that spreads more than the bound but
	// whose sides lie apart by more than either side's own range (max -
	// min), from MinCountSamples independent values a side: a shift much
	// larger than the count's noise (one more system call per operation
	// on a count that wobbles by 1-2%).
	Separated bool `json:"separated,omitempty"`
}

// Summary is a median and its confidence interval (null bounds: too few
// samples for an interval).
type Summary struct {
	N      int    `json:"n"`
	Median Num    `json:"median"`
	Lo     Num    `json:"lo"`
	Hi     Num    `json:"hi"`
	Range  string `json:"range"` // benchstat's "±3%"
}

// Geomean is the summary row of a table.
type Geomean struct {
	Old      Num      `json:"old"`
	New      Num      `json:"new"`
	DeltaPct Num      `json:"delta_pct"`
	Warnings []string `json:"warnings,omitempty"`
}

// Unmatched is a cell, or a unit of a cell, present on one side only.
type Unmatched struct {
	Side   string `json:"side"` // where it is: "old" or "new"
	Cell   string `json:"cell"`
	Unit   string `json:"unit,omitempty"`
	Reason string `json:"reason"`
}

// Refused is a pair of cells that must not be compared, and why.
type Refused struct {
	Cell   string `json:"cell"`
	Reason string `json:"reason"`
}

// Num is a float64 whose JSON form is a number, or null when it is not
// finite (an unbounded interval, an undefined change).
type Num float64

// MarshalJSON implements json.Marshaler.
func (n Num) MarshalJSON() ([]byte, error) {
	f := float64(n)
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return []byte("null"), nil
	}
	return strconv.AppendFloat(nil, f, 'g', -1, 64), nil
}

// UnmarshalJSON implements json.Unmarshaler; null reads as NaN.
func (n *Num) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		*n = Num(math.NaN())
		return nil
	}
	var f float64
	if err := json.Unmarshal(b, &f); err != nil {
		return err
	}
	*n = Num(f)
	return nil
}

// Finite reports whether n is a number (not null in JSON).
func (n Num) Finite() bool { return !math.IsNaN(float64(n)) && !math.IsInf(float64(n), 0) }

// WriteJSON writes the report as indented JSON.
func WriteJSON(w io.Writer, r *Report) error {
	r.Kind = Kind
	b, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return err
	}
	_, err = w.Write(append(b, '\n'))
	return err
}

// ReadJSON decodes a report written by WriteJSON. It rejects unknown
// fields, other kinds and newer schema versions.
func ReadJSON(r io.Reader) (*Report, error) {
	dec := json.NewDecoder(r)
	dec.DisallowUnknownFields()
	var rep Report
	if err := dec.Decode(&rep); err != nil {
		return nil, fmt.Errorf("compare report: %w", err)
	}
	if dec.More() {
		return nil, fmt.Errorf("compare report: trailing data after the report")
	}
	if rep.Kind != Kind {
		return nil, fmt.Errorf("compare report: kind %q, want %q", rep.Kind, Kind)
	}
	if rep.SchemaVersion < 1 || rep.SchemaVersion > SchemaVersion {
		return nil, fmt.Errorf("compare report: schema version %d, this harness reads version %d", rep.SchemaVersion, SchemaVersion)
	}
	return &rep, nil
}
