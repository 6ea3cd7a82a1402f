//go:build !testhook

package main

import (
	"io"
	"strings"
	"testing"

	"github.com/enclavebench/enclavebench/workloads/measure"
	"github.com/enclavebench/enclavebench/workloads/workload"
)

type nopBench struct{ runs int }

func (b *nopBench) Run(n int, _ *workload.Report) error { b.runs++; return nil }
func (b *nopBench) Close() error                        { return nil }

// A binary built for real measurements refuses the test hook instead of
// quietly measuring an unslowed workload.
func TestSlowdownRefusedWithoutTesthook(t *testing.T) {
	t.Setenv(SlowdownEnv, "syscall=1.2")
	b := &nopBench{}
	err := measureSlowed("syscall", b, measure.Options{Reps: 1, MinTime: 1}, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "-tags testhook") {
		t.Fatalf("error %v, want a refusal naming -tags testhook", err)
	}
	if b.runs != 0 {
		t.Errorf("ran the workload %d times before refusing", b.runs)
	}
}

func TestWorkRefusedWithoutTesthook(t *testing.T) {
	t.Setenv(WorkEnv, "syscall=calls:1")
	b := &nopBench{}
	err := measureSlowed("syscall", b, measure.Options{Reps: 1, MinTime: 1}, io.Discard)
	if err == nil || !strings.Contains(err.Error(), WorkEnv) {
		t.Fatalf("error %v, want a refusal naming %s", err, WorkEnv)
	}
}
