package main

import (
	"context"
	"fmt"
	"io"
	"sort"

	"github.com/enclavebench/enclavebench/bench/ego"
	"github.com/enclavebench/enclavebench/bench/mode"
	"github.com/enclavebench/enclavebench/bench/result"
)

func init() {
	register(command{name: "verify", summary: "check that enclave samples are bound to their SGX reports", run: verifyCmd})
}

const verifyExamples = `  bench verify results/2026-05-01T10-00-00
  bench verify --all results/latest

Each sgx cell whose workload sent a remote report is checked: the SHA-256 of
its stored sample lines (provenance/*.lines) must equal the report data the
enclave claimed and the report's own data, and the report's identity must
match the claimed unique and signer ID. The report's signature is verified
only in a build with EGo's verification library:
  CGO_CFLAGS=-I/opt/ego/include CGO_LDFLAGS=-L/opt/ego/lib go build -tags egoverify ./bench
(snap: /snap/ego-dev/current/opt/ego/...). Without it each cell says
"unverified" and only the digests are checked.

It says which of these checks ran. Exit status: 0 when at least one cell was
verified (signature included) and none failed; 1 when a digest mismatches, a
verification fails, or nothing was verified (no enclave cell, no report, or
signatures not checked: pass --digests-only to accept the digest and identity
checks alone); 2 on bad input.
`

// verifyCmd implements `bench verify DIR`.
func verifyCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	flags := newFlagSet("verify", "verify [flags] DIR", verifyExamples, stderr)
	all := flags.Bool("all", false, "also list cells without a report (ego-sim, failed reports)")
	digestsOnly := flags.Bool("digests-only", false, "succeed on the digest and identity checks alone when this build cannot check signatures")
	if err := parseFlags(flags, args); err != nil {
		return err
	}
	if flags.NArg() != 1 {
		flags.Usage()
		return usagef("verify needs exactly one result directory, got %d arguments", flags.NArg())
	}
	dir := flags.Arg(0)
	d, err := result.Load(dir)
	if err != nil {
		return usagef("%v", err)
	}
	for _, s := range d.Short {
		fmt.Fprintln(stderr, "bench verify: warning:", s)
	}
	_, cells, problems := result.ReadAll(dir)
	for _, p := range problems {
		fmt.Fprintln(stderr, "bench verify: skipping", p)
	}
	// The provenance lines belong to the latest successful attempt.
	latest := map[string]result.CellResult{}
	for _, c := range cells {
		if d, ok := mode.Lookup(c.Mode); c.Status != result.StatusOK || !ok || d.ProvenancePath == nil {
			continue
		}
		if prev, ok := latest[c.Cell]; !ok || c.Attempt >= prev.Attempt {
			latest[c.Cell] = c
		}
	}
	keys := make([]string, 0, len(latest))
	for k := range latest {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	counts := map[string]int{}
	for _, k := range keys {
		if err := ctx.Err(); err != nil {
			return err
		}
		v := ego.VerifyCell(dir, latest[k], ego.VerifyReport)
		counts[v.Status]++
		if v.Status == ego.VerdictNoReport && !*all {
			continue
		}
		fmt.Fprintf(stdout, "%-10s %s: %s\n", v.Status, v.Cell, v.Detail)
	}
	fmt.Fprintf(stdout, "verify: %d enclave cells: %d verified, %d unverified, %d failed, %d without a report\n",
		len(keys), counts[ego.VerdictOK], counts[ego.VerdictUnverified], counts[ego.VerdictFailed], counts[ego.VerdictNoReport])
	checked := len(keys) - counts[ego.VerdictNoReport]
	fmt.Fprintf(stdout, "verify: checks run on %s with a report: sample lines' SHA-256 against the enclave's report data, "+
		"the report's data and identity against the claimed unique and signer ID\n", countCells(checked, "cell"))
	if ego.VerifierAvailable {
		fmt.Fprintf(stdout, "verify: report signatures (EGo eclient.VerifyRemoteReport): checked on %s\n", countCells(checked, "cell"))
	} else {
		fmt.Fprintln(stdout, "verify: report signatures: not checked: "+ego.ErrNoVerifier.Error())
	}
	note, err := verifyOutcome(dir, len(keys), counts, *digestsOnly)
	if note != "" {
		fmt.Fprintln(stdout, "verify: "+note)
	}
	return err
}

// verifyOutcome decides verify's exit from the verdict counts of n enclave
// cells: a failure fails, and so does a check that verified nothing (a
// gate that passes on an empty check proves nothing), unless digestsOnly
// accepts digest checks where this build cannot check signatures.
func verifyOutcome(dir string, n int, counts map[string]int, digestsOnly bool) (note string, err error) {
	fail := func(msg string) error { return exitError{code: exitFailed, msg: msg} }
	switch {
	case counts[ego.VerdictFailed] > 0:
		return "", fail(fmt.Sprintf("%d cells failed verification", counts[ego.VerdictFailed]))
	case counts[ego.VerdictOK] > 0:
		return "", nil
	case n == 0:
		return "", fail("nothing to verify: " + dir + " has no finished cell of a mode with reports (sgx)")
	case counts[ego.VerdictUnverified] > 0 && digestsOnly:
		return fmt.Sprintf("--digests-only: the digests and identities of %s match; no signature was checked",
			countCells(counts[ego.VerdictUnverified], "cell")), nil
	case counts[ego.VerdictUnverified] > 0:
		return "", fail(fmt.Sprintf("nothing was verified: the digests of %s match, but no report signature was checked "+
			"(rebuild with -tags egoverify, or pass --digests-only to accept the digest checks alone)", countCells(counts[ego.VerdictUnverified], "cell")))
	}
	return "", fail(fmt.Sprintf("nothing was verified: none of the %s carries a report (--all lists why)", countCells(n, "enclave cell")))
}

// countCells counts cells in words: "1 cell", "3 cells"; noun "enclave cell" likewise.
func countCells(n int, noun string) string {
	return fmt.Sprintf("%d %s", n, plural(n, noun, noun+"s"))
}
