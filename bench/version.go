package main

import (
	"runtime/debug"
)

// version is set at build time by run.sh (-ldflags "-X main.version=...").
var version = "dev"

// commit is set at build time by run.sh to the harness's git commit.
var commit = ""

func harnessVersion() string { return version }

// harnessCommit returns the git commit the harness was built from.
func harnessCommit() string {
	if commit != "" {
		return commit
	}
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, s := range bi.Settings {
			if s.Key == "vcs.revision" {
				return s.Value
			}
		}
	}
	return ""
}
