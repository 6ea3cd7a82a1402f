package main

import (
	"context"
	"encoding/json"
	"io"
	"time"

	"github.com/enclavebench/enclavebench/bench/host"
)

func init() {
	register(command{name: "env", summary: "print this host's fingerprint as JSON (CPU, SGX, EPC, EGo, Azure size)", run: envCmd})
}

func envCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("env", "env [--imds auto|on|off|URL]", `  bench env                     # asks the Azure metadata service only on an Azure VM (SMBIOS)
  bench env --imds off          # never ask it
  ENCLAVEBENCH_IMDS=http://127.0.0.1:8080 bench env
`, stderr)
	o := host.DefaultOptions()
	fs.StringVar(&o.IMDS, "imds", o.IMDS, "Azure instance metadata service: auto (ask only where SMBIOS says this is an Azure VM; the default), on, off, or an address (env "+host.IMDSEnv+")")
	fs.DurationVar(&o.IMDSTimeout, "imds-timeout", time.Second, "how long to wait for the metadata service")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usagef("env takes no arguments")
	}
	if err := o.Check(); err != nil {
		return usageError{err}
	}
	fp := host.Collect(ctx, o)
	enc := json.NewEncoder(stdout)
	enc.SetIndent("", "  ")
	return enc.Encode(fp)
}
