//go:build ignore

// mkfixtures records the fixtures of the collect tests from real runs:
// for each DCsv2 size it runs
//
//	bench run --modes native --sizes SIZE --workloads syscall,memsweep \
//	    --min-time 5ms --reps 3 --progress never -o -
//
// saves its stdout (the stream, as a pod log holds it) as
// fourSizes/logs/SIZE.log, and copies the result directory that very run
// wrote (run.json, samples.jsonl, cells.jsonl) to fourSizes/want/SIZE/.
// fourSizesSim is the same with the native and sim modes (samples with
// the sim model's predictions) and a smaller memsweep grid. simProfile is
// one sim cell on DC1s_v2 (syscall call=read), whose stream carries the cell's
// OCALL profile (a "profile" record, result.StreamFile); its want/ holds
// the profile file the run wrote too.
//
// `bench run -o -` writes into a temporary directory and removes it when
// it exits. To copy it first, the run's stderr is a pipe filled to the brim
// before the run starts: the run's first write to stderr is the end-of-run
// summary, which comes after the final run.json is written, and it blocks
// there until the copy is done and the pipe is drained.
//
// Usage, from the repository root (the sim mode needs the workload's sim
// build next to it: see bench/sim):
//
//	go build -o bin/bench ./bench && go build -o bin/workload ./workloads/cmd/workload
//	go run bench/fleet/collect/testdata/mkfixtures.go [fourSizes|fourSizesSim]
package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"time"
)

var sizes = []string{"DC1s_v2", "DC2s_v2", "DC4s_v2", "DC8_v2"}

var sets = []struct {
	out   string
	args  []string
	sizes []string // default: sizes
}{
	{"bench/fleet/collect/testdata/fourSizes", []string{"--modes", "native", "--workloads", "syscall,memsweep"}, nil},
	{"bench/fleet/collect/testdata/fourSizesSim", []string{"--modes", "native,sim", "--workloads", "syscall,memsweep",
		"--param", "memsweep.ws=0.5xEPC,1.5xEPC", "--param", "memsweep.access=seq"}, nil},
	{"bench/fleet/collect/testdata/simProfile", []string{"--modes", "sim", "--workloads", "syscall", "--param", "syscall.call=read"}, []string{"DC1s_v2"}},
}

func main() {
	only := ""
	if len(os.Args) > 1 {
		only = os.Args[1] // a set's directory name, e.g. fourSizesSim
	}
	for _, set := range sets {
		if only != "" && filepath.Base(set.out) != only {
			continue
		}
		ss := set.sizes
		if ss == nil {
			ss = sizes
		}
		for _, size := range ss {
			if err := record(set.out, set.args, size); err != nil {
				fmt.Fprintf(os.Stderr, "mkfixtures: %s %s: %v\n", set.out, size, err)
				os.Exit(1)
			}
			fmt.Println("recorded", set.out, size)
		}
	}
}

func record(out string, args []string, size string) error {
	tmp, err := os.MkdirTemp("", "mkfixtures-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	if err := os.MkdirAll(filepath.Join(out, "logs"), 0o755); err != nil {
		return err
	}
	logPath := filepath.Join(out, "logs", size+".log")
	stdout, err := os.Create(logPath)
	if err != nil {
		return err
	}
	defer stdout.Close()

	var fds [2]int
	if err := syscall.Pipe2(fds[:], syscall.O_NONBLOCK|syscall.O_CLOEXEC); err != nil {
		return err
	}
	r := os.NewFile(uintptr(fds[0]), "stderr-r")
	buf := make([]byte, 4096)
	for {
		if _, err := syscall.Write(fds[1], buf); err != nil {
			break
		}
	}
	for {
		if _, err := syscall.Write(fds[1], buf[:1]); err != nil {
			break
		}
	}
	if err := syscall.SetNonblock(fds[1], false); err != nil {
		return err
	}
	w := os.NewFile(uintptr(fds[1]), "stderr-w")

	argv := append([]string{"run", "--sizes", size}, args...)
	argv = append(argv, "--min-time", "5ms", "--reps", "3", "--progress", "never", "-o", "-")
	cmd := exec.Command("bin/bench", argv...)
	cmd.Env = append(os.Environ(), "TMPDIR="+tmp, "ENCLAVEBENCH_IMDS=off")
	cmd.Stdout = stdout
	cmd.Stderr = w
	if err := cmd.Start(); err != nil {
		return err
	}
	w.Close()

	// Wait for the final run.json of the run's own directory.
	var dir string
	deadline := time.Now().Add(10 * time.Minute)
	for {
		if time.Now().After(deadline) {
			cmd.Process.Kill()
			return fmt.Errorf("the run did not finish in time (did it write to stderr early?)")
		}
		m, _ := filepath.Glob(filepath.Join(tmp, "enclavebench-run-*", "run.json"))
		if len(m) == 1 {
			var run struct {
				Status string `json:"status"`
			}
			if b, err := os.ReadFile(m[0]); err == nil && json.Unmarshal(b, &run) == nil && run.Status != "running" {
				dir = filepath.Dir(m[0])
				break
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	want := filepath.Join(out, "want", size)
	os.RemoveAll(want)
	if err := os.MkdirAll(want, 0o755); err != nil {
		return err
	}
	for _, f := range []string{"run.json", "samples.jsonl", "cells.jsonl"} {
		b, err := os.ReadFile(filepath.Join(dir, f))
		if err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(want, f), b, 0o644); err != nil {
			return err
		}
	}
	profiles, _ := filepath.Glob(filepath.Join(dir, "profiles", "*"))
	for _, p := range profiles {
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		if err := os.MkdirAll(filepath.Join(want, "profiles"), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(want, "profiles", filepath.Base(p)), b, 0o644); err != nil {
			return err
		}
	}
	// Drain stderr (the fill, then the summary) and let the run exit.
	summary, _ := io.ReadAll(r)
	if err := cmd.Wait(); err != nil {
		return fmt.Errorf("bench run: %v", err)
	}
	_ = summary
	return nil
}
