// Package compare compares two sets of benchmark results cell by cell, the
// way benchstat does, and turns the comparison into a CI verdict.
//
// Inputs (Load) are result directories, files in the Go benchmark format
// (bench.txt, `go test -bench` output, concatenations of them), or
// directories of result directories (the rounds of an interleaved run),
// pooled. A result directory is read from its records (samples.jsonl), never
// through text made from them, and yields what its bench.txt holds: the
// measured values and the event counts per operation.
//
// Statistics are benchstat's (golang.org/x/perf/benchmath, AssumeNothing
// unless a unit says assume=exact): per cell and unit the median with its
// order-statistic 95% confidence interval, the change of the median in
// percent, and the p-value of a two-sided Mann-Whitney U test. A row is
// significant when p <= alpha (benchstat prints "~" otherwise), so the
// table agrees with `benchstat -format csv` row by row.
//
// The gate adds two things benchstat leaves to the reader:
//
//   - a direction: a unit's better=lower|higher (ns/op, B/op, allocs/op are
//     lower, MB/s higher); units of unknown direction are shown, never gated;
//   - a minimum effect (default 5%) and a correction for multiple
//     comparisons (default Holm-Bonferroni over the gated rows), so that
//     two runs of the same build raise a false alarm in at most alpha of
//     comparisons however many cells they hold.
//
// A row is a regression when its p-value, adjusted, is <= alpha and its
// median moved by more than the minimum effect in the worse direction.
//
// Cells match by their full key. Cells of different modes or sizes never
// match unless Options.Ignore drops that component from the keys (a
// golang.org/x/perf/benchproc projection, as benchstat's -ignore); cells of
// the sim mode priced by different cost profiles are refused unless
// "profile" is ignored. Cells or units present on one side only are listed
// and make the verdict bad input (exit 2) unless AllowUnmatched is set.
package compare
