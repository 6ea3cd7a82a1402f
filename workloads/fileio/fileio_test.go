package fileio

import (
	"fmt"
	"strings"
	"syscall"
	"testing"

	"github.com/enclavebench/enclavebench/workloads/workload"
)

func TestOps(t *testing.T) {
	t.Parallel()
	for _, random := range []bool{false, true} {
		for _, op := range []string{"read", "write", "fsync"} {
			t.Run(fmt.Sprintf("random=%v/%s", random, op), func(t *testing.T) {
				t.Parallel()
				b, err := New(Config{Dir: t.TempDir(), Random: random, Op: op, Block: 4096, File: 64 << 10})
				if err != nil {
					t.Fatal(err)
				}
				defer b.Close()
				var r workload.Report
				if err := b.Run(40, &r); err != nil { // wraps around the 16 blocks
					t.Fatal(err)
				}
				if r.BytesPerOp != 4096 {
					t.Errorf("bytes per op %d", r.BytesPerOp)
				}
			})
		}
	}
}

func TestMemfsOutsideEnclaveIsNA(t *testing.T) {
	t.Parallel()
	env := workload.Env{TempDir: t.TempDir(), Parameters: map[string]string{
		"fs": "memfs", "access": "seq", "op": "read", "block": "4KiB", "file": "64KiB"}}
	if err := Spec.Validate(env.Parameters, env); err != nil {
		t.Fatal(err)
	}
	_, err := Spec.New(env)
	if !workload.IsNotApplicable(err) {
		t.Fatalf("want a not-applicable error, got %v", err)
	}
	env.Parameters["fs"] = "host"
	b, err := Spec.New(env)
	if err != nil {
		t.Fatal(err)
	}
	b.Close()
}

func TestClearErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		err  error
		want string
	}{
		{syscall.ENOSPC, "is full"},
		{fmt.Errorf("write: %w", syscall.EROFS), "read-only file system"},
		{syscall.EACCES, "not writable"},
	}
	for _, tt := range tests {
		if got := explain(tt.err, "/data"); !strings.Contains(got.Error(), tt.want) || !strings.Contains(got.Error(), "/data") {
			t.Errorf("%v: got %q, want %q", tt.err, got, tt.want)
		}
	}
	if _, err := New(Config{Dir: "/nonexistent/dir", Op: "read", Block: 4096, File: 1 << 16}); err == nil {
		t.Error("a missing directory was accepted")
	}
}

func TestValidate(t *testing.T) {
	t.Parallel()
	env := workload.Env{HostMem: 1 << 30}
	base := map[string]string{"fs": "host", "access": "seq", "op": "read", "block": "4KiB", "file": "16MiB"}
	tests := []struct{ key, val, want string }{
		{"block", "0", "fileio.block=0"},
		{"block", "100", "512B .. 16MiB"},
		{"file", "64GiB", "more than this host's memory"},
		{"op", "append", "read, write, fsync"},
		{"fs", "nfs", "host, memfs"},
	}
	for _, tt := range tests {
		p := map[string]string{}
		for k, v := range base {
			p[k] = v
		}
		p[tt.key] = tt.val
		if err := Spec.Validate(p, env); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s=%s: got %v, want %q", tt.key, tt.val, err, tt.want)
		}
	}
}
