// Package report turns one or more result directories into a comparison
// report: report.html (self-contained: plots embedded as data URIs),
// report.md (the tables, short enough for a pull-request comment), and the
// plots as SVG and PNG (PDF on request) under plots/, with the data fed to
// each plot in plotdata.json.
//
// Write records the plot files it wrote, with their SHA-256, in
// report-files.json. The next report into the same directory removes only
// the plots listed there that it no longer draws and that still hold what
// was written: a file of the user's in plots/ stays, and nothing is written
// or removed through a plots/ that is a symbolic link (refused).
//
// # Inputs
//
// Load reads each directory with result.Load and leaves out, with a
// message per directory, those it cannot use: missing or not a result
// directory, another schema version, a directory given twice or a copy of
// a run already read (same run ID), a harness version other than the one
// most directories share (unless Options.MixedVersions), and directories
// without samples (their failed cells are still listed). A report is made
// when at least one directory has samples.
//
// The report interprets cells only through the facts the run recorded
// (result.Dir.Facts: parameter order, footprints, the figures a workload
// asks for, each mode's kind, rank and label), never through today's
// workloads or modes; schema 1 directories read through the frozen facts
// of that version.
//
// # Merging
//
// Samples are grouped by origin, workload, parameters, size and mode (sim
// figures also by cost profile). Where runs of a mode measured it
// otherwise (run.json mode_settings, or another content of the same cost
// profile), each variant is its own mode label ("ego-sim
// [ego-trace-ocalls=true]"): never pooled, compared with native on its
// own, with a warning. The origin depends on Options.Merge:
//
//   - MergeHost (default): the origin is the host fingerprint (hostname,
//     CPU, microcode, kernel, Azure VM size). Runs on one host pool the
//     samples of the same cell (the pooling is listed in the warnings);
//     runs on different hosts are never pooled, and every figure from them
//     is labelled with its host. Enclave figures are compared with the
//     native figures of the same host only.
//   - MergeRun: every run is its own origin; nothing is pooled.
//   - MergeAll: everything is pooled regardless of host (a warning says so
//     when hosts differ).
//
// # Comparisons
//
// Each enclave figure (sgx, ego-sim, sim) is compared with the native
// figure of the same workload, parameters, size and origin: the ratio of
// medians in the workload's unit, with a conservative 95% interval from the
// two medians' intervals ([lo_e/hi_n, hi_e/lo_n]) and a Mann-Whitney U test
// (stats.Compare). The sim mode's figures are model predictions, compared
// with the native cell of the same run; only where the run has none, with
// the figures the sim pass measured (Sample.Model.Native, which include
// what the emulation cost on this host). The slowdown is
// the ratio turned into time (throughput ratios inverted), so > 1 always
// means the enclave is slower.
package report
