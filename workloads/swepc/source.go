package swepc

import "embed"

// Source is this package's own source and the runtime overlay, in every
// build (the emulation itself only in builds with the tag sim): bench/gotest
// builds a user's test binary for the sim mode with them, outside this
// module.
//
//go:embed config.go process.go swepc.go kinds.go kinds_overlay.go nocgo.go handler.c handler.h _overlay/mem_linux.go _overlay/procepc_linux.go _overlay/mem_linux.go.sha256
var Source embed.FS
