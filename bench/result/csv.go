package result

import (
	"encoding/csv"
	"io"
	"sort"
	"strconv"
	"strings"
)

// CSVHeader is the column list of results.csv (long format: one row per
// sample and unit). Documented in the README.
var CSVHeader = []string{
	"run_id", "cell", "workload", "params", "size", "mode", "attempt", "rep", "iters",
	"elapsed_ns", "unit", "value", "better", "events", "model_profile", "time",
}

// WriteCSV writes samples in long format: their figures (Sample.Figures;
// a sample a model could not predict has none).
func WriteCSV(w io.Writer, runID string, samples []Sample) error {
	cw := csv.NewWriter(w)
	if err := cw.Write(CSVHeader); err != nil {
		return err
	}
	row := make([]string, len(CSVHeader))
	for _, s := range samples {
		profile := ""
		if s.Model != nil {
			profile = s.Model.Profile
		}
		for _, v := range s.Figures() {
			row = append(row[:0], runID, s.Cell, s.Workload, joinMap(s.Params), s.Size, s.Mode,
				strconv.Itoa(s.Attempt), strconv.Itoa(s.Rep), strconv.Itoa(s.Iters),
				strconv.FormatInt(s.ElapsedNS, 10), v.Unit, strconv.FormatFloat(v.Value, 'g', -1, 64),
				v.Better, joinCounts(s.Events), profile, s.Time.UTC().Format("2006-01-02T15:04:05.000000000Z"))
			if err := cw.Write(row); err != nil {
				return err
			}
		}
	}
	cw.Flush()
	return cw.Error()
}

func joinMap(m map[string]string) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = k + "=" + m[k]
	}
	return strings.Join(parts, ";")
}

func joinCounts(m map[string]int64) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = k + "=" + strconv.FormatInt(m[k], 10)
	}
	return strings.Join(parts, ";")
}
