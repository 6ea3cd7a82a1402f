package main

import (
	"runtime/debug"
)

// version is set at build time by run.sh (-ldflags "-X main.version=...",
// from git describe --always --dirty).
var version = "dev"

// commit is set at build time by run.sh to the harness's git commit.
var commit = ""

// harnessVersion is the version run.json and every cell record, which
// --resume and the report's version guard compare: run.sh's, else what
// the Go toolchain stamped into the build (the module version, or the VCS
// revision and whether the tree was modified), else "dev".
func harnessVersion() string {
	bi, _ := debug.ReadBuildInfo()
	return versionOf(version, bi)
}

// versionOf derives the harness version from the -X value set and the
// build info.
func versionOf(set string, bi *debug.BuildInfo) string {
	if set != "" && set != "dev" {
		return set
	}
	if bi == nil {
		return "dev"
	}
	// Go 1.24 and later stamp the main module's version from VCS
	// ("v0.0.0-20261207023508-3925c40abcde+dirty"); "(devel)" when they
	// cannot.
	if v := bi.Main.Version; v != "" && v != "(devel)" {
		return v
	}
	var rev, modified string
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.modified":
			modified = s.Value
		}
	}
	if rev == "" {
		return "dev"
	}
	v := "dev-" + rev[:min(12, len(rev))]
	if modified == "true" {
		v += "-dirty"
	}
	return v
}

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
