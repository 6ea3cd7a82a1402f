package protocol

import "embed"

// Source is this package's source (it imports only the standard library):
// bench/gotest copies it, with the software EPC's (workloads/swepc.Source),
// beside a user's test binary built for the sim mode.
//
//go:embed protocol.go
var Source embed.FS
