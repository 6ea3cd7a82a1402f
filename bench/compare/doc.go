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
// The gate adds what benchstat leaves to the reader:
//
//   - a direction: a unit's better=lower|higher (ns/op, B/op, allocs/op are
//     lower, MB/s higher); units of unknown direction are shown, never gated;
//   - one timed row per cell (ns/op; units derived from the same samples,
//     such as MB/s, are shown, not gated), a minimum effect (default 5%)
//     and a correction over the timed rows (default Benjamini-Hochberg:
//     when nothing changed, a false alarm in at most alpha of comparisons
//     however many cells they hold);
//   - a statement of power before the verdict: whether a regression of one
//     cell could be flagged at all with these samples (p <= alpha/m against
//     the smallest Mann-Whitney p, 2/C(n1+n2, n1)); under --fail-on
//     regression a gate that could not, and found nothing, is bad input
//     naming the rounds needed (Report.Power);
//   - deterministic counts: event units per operation whose values spread
//     by at most half of the count threshold on each side are gated by that
//     threshold (default 1%), shown beside the time verdict; other counts
//     are shown with time's statistics;
//   - bad input: suspect cells (Set.Flaws), what NEW lost, the same run on
//     both sides, swapped --baseline sides.
//
// A timed row is a regression when its p-value, adjusted, is <= alpha and
// its median moved by more than the minimum effect in the worse direction.
//
// Cells match by their full key. Cells of different modes or sizes never
// match unless Options.Ignore drops that component from the keys (a
// golang.org/x/perf/benchproc projection, as benchstat's -ignore); cells of
// the sim mode priced by different cost profiles are refused unless
// "profile" is ignored. Cells or units present on one side only are listed;
// what NEW lost makes the verdict bad input (exit 2), what it added too
// unless AllowUnmatched is set.
package compare
