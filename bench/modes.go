package main

import (
	"context"
	"fmt"

	"github.com/spf13/pflag"

	"github.com/enclavebench/enclavebench/bench/host"
	"github.com/enclavebench/enclavebench/bench/mode"
	"github.com/enclavebench/enclavebench/bench/result"
)

// modeOptions are the flags that configure enclave and model modes.
type modeOptions struct{}

func (m *modeOptions) addFlags(fs *pflag.FlagSet) {}

// build constructs and checks the modes a run needs. A mode that cannot
// run on this host is bad input (exit 2), reported before any cell runs.
func (m *modeOptions) build(ctx context.Context, names []string, fp *host.Fingerprint) (map[string]mode.Mode, error) {
	out := map[string]mode.Mode{}
	for _, n := range names {
		if err := mode.Validate(n); err != nil {
			return nil, usageError{err}
		}
		var md mode.Mode
		switch n {
		case mode.Native:
			md = mode.NativeMode{}
		default:
			return nil, usagef("mode %s is not available in this build yet", n)
		}
		if err := md.Check(ctx); err != nil {
			return nil, usagef("mode %s cannot run here: %v", n, err)
		}
		out[n] = md
	}
	return out, nil
}

// describe records mode-specific metadata in run.json.
func (m *modeOptions) describe(run *result.Run, modes map[string]mode.Mode) {}

var _ = fmt.Sprint
