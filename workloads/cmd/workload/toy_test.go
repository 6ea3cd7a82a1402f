package main

import (
	"bufio"
	"bytes"
	"fmt"
	"strconv"
	"strings"
	"testing"

	"github.com/enclavebench/enclavebench/workloads/protocol"
	"github.com/enclavebench/enclavebench/workloads/suite"
	"github.com/enclavebench/enclavebench/workloads/workload"
)

// toySpec is the "Adding a workload" recipe of docs/architecture.md,
// followed in a test: a spec (parameters with their grids and checks,
// metrics, footprint) and a Bench, registered in suite.Workloads.
var toySpec = &workload.Spec{
	Name: "toy",
	Doc:  "sums a buffer: a test of the workload recipe",
	Params: []workload.Param{
		{Name: "kib", Doc: "buffer size", Range: "1..64 KiB", Quick: []string{"4"}, Full: []string{"4", "64"},
			Check: func(v string, _ workload.Env) error {
				if n, err := strconv.Atoi(v); err != nil || n < 1 || n > 64 {
					return fmt.Errorf("not a size in KiB")
				}
				return nil
			}},
		{Name: "where", Doc: "host, or enclave (not applicable outside one)", Range: "host, enclave",
			Quick: []string{"host"}, Full: []string{"host", "enclave"}},
	},
	Metrics: []workload.Metric{{Unit: "ns/op", Better: protocol.Lower}, {Unit: "MB/s", Better: protocol.Higher}},
	New: func(env workload.Env) (workload.Bench, error) {
		if env.Parameters["where"] == "enclave" && !env.InEnclave {
			return nil, workload.NotApplicable{Reason: "toy where=enclave: not in an enclave"}
		}
		kib, _ := strconv.Atoi(env.Parameters["kib"])
		return &toyBench{buf: make([]byte, kib<<10)}, nil
	},
	Footprint: func(env workload.Env) int64 {
		kib, _ := strconv.ParseInt(env.Parameters["kib"], 10, 64)
		return kib << 10
	},
}

type toyBench struct {
	buf []byte
	sum byte
}

func (b *toyBench) Run(n int, r *workload.Report) error {
	for range n {
		for _, x := range b.buf {
			b.sum += x
		}
	}
	r.BytesPerOp = int64(len(b.buf))
	return nil
}

func (b *toyBench) Close() error { return nil }

// TestToyWorkload registers a workload from a test and runs it through the
// workload binary's code: registry lookup, parameter validation, the
// measurement loop and the protocol lines, and the not-applicable outcome.
func TestToyWorkload(t *testing.T) {
	suite.Workloads[toySpec.Name] = toySpec
	t.Cleanup(func() { delete(suite.Workloads, toySpec.Name) })

	lines := func(t *testing.T, args ...string) ([]protocol.Message, error) {
		t.Helper()
		var out, errOut bytes.Buffer
		err := run(&out, &errOut, append([]string{"toy", "--reps", "3", "--warmup", "1", "--min-time", "2ms"}, args...))
		var msgs []protocol.Message
		sc := bufio.NewScanner(&out)
		for sc.Scan() {
			m, perr := protocol.Parse(sc.Bytes())
			if perr != nil {
				t.Fatalf("line %q: %v", sc.Text(), perr)
			}
			msgs = append(msgs, m)
		}
		return msgs, err
	}
	types := func(msgs []protocol.Message) string {
		var ts []string
		for _, m := range msgs {
			ts = append(ts, m.Type)
		}
		return strings.Join(ts, " ")
	}

	msgs, err := lines(t, "--param", "kib=4", "--param", "where=host")
	if err != nil {
		t.Fatal(err)
	}
	if got, want := types(msgs), "hello sample sample sample done"; got != want {
		t.Fatalf("messages %q, want %q", got, want)
	}
	if msgs[0].Workload != "toy" {
		t.Errorf("hello names workload %q", msgs[0].Workload)
	}
	for _, m := range msgs[1:4] {
		s := m.Sample
		if s.Iters < 1 || s.ElapsedNS <= 0 {
			t.Errorf("sample %+v: no work measured", s)
		}
		var units []string
		for _, v := range s.Values {
			units = append(units, v.Unit)
		}
		if !strings.Contains(strings.Join(units, " "), "MB/s") {
			t.Errorf("sample units %v: BytesPerOp gives no MB/s", units)
		}
	}

	msgs, err = lines(t, "--param", "kib=4", "--param", "where=enclave")
	if err != nil || types(msgs) != "hello na" || !strings.Contains(msgs[1].Error, "not in an enclave") {
		t.Errorf("where=enclave outside an enclave: %q (%v), want hello na with the reason", types(msgs), err)
	}

	for _, bad := range []struct {
		args []string
		want string
	}{
		{[]string{"--param", "kib=100", "--param", "where=host"}, "(valid: 1..64 KiB)"},
		{[]string{"--param", "kib=4", "--param", "where=moon"}, "(valid: host, enclave)"},
		{[]string{"--param", "kib=4"}, "parameter where is missing"},
	} {
		msgs, err := lines(t, bad.args...)
		if err == nil || len(msgs) != 0 || !strings.Contains(err.Error(), bad.want) {
			t.Errorf("%v: %d messages, error %v; want an error saying %q before any line", bad.args, len(msgs), err, bad.want)
		}
	}
}
