//go:build !amd64

package valgrind

// Outside amd64 the requests do nothing: the counting pass runs on amd64.
func clientRequest(*[6]uintptr) uintptr { return 0 }

func addr(*byte) uintptr     { return 0 }
func addr2(*uintptr) uintptr { return 0 }
func keep([]byte)            {}

// HasSHA reports false outside amd64.
func HasSHA() bool { return false }
