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

Exit status: 0 when nothing mismatched (verified or unverified), 1 when a
digest mismatches or a verification fails, 2 on bad input.
`

// verifyCmd implements `bench verify DIR`.
func verifyCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	flags := newFlagSet("verify", "verify [flags] DIR", verifyExamples, stderr)
	all := flags.Bool("all", false, "also list cells without a report (ego-sim, failed reports)")
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
	if !ego.VerifierAvailable && counts[ego.VerdictUnverified] > 0 {
		fmt.Fprintln(stdout, "verify: signatures were not checked: "+ego.ErrNoVerifier.Error())
	}
	if counts[ego.VerdictFailed] > 0 {
		return exitError{code: exitFailed, msg: fmt.Sprintf("%d cells failed verification", counts[ego.VerdictFailed])}
	}
	return nil
}
