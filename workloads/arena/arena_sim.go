//go:build sim && linux

package arena

import "github.com/enclavebench/enclavebench/workloads/swepc"

// The sim build backs arenas with the software EPC when Config.CapBytes > 0.
func init() { newBackend = newSoftwareEPC }

// newSoftwareEPC returns a zeroed region of size bytes whose resident pages
// are capped at c.CapBytes. Its errors are one line (e.g. the userfaultfd
// permission that is missing), so the harness can report them and fall back
// to a counts-free mode.
func newSoftwareEPC(size int64, c Config) ([]byte, backend, error) {
	r, err := swepc.New(swepc.Config{Size: size, CapBytes: c.CapBytes})
	if err != nil {
		return nil, nil, err
	}
	return r.Bytes(), swepcBackend{r}, nil
}

type swepcBackend struct{ r *swepc.Region }

// Kind is e.g. "swepc(cap=24.0MiB, clock, aes-gcm, uffd=syscall)".
func (b swepcBackend) Kind() string { return b.r.Kind() }

// Stats has epc_loads and epc_evictions (protocol.EventEPCLoads,
// protocol.EventEPCEvicts) plus the software EPC's other counters.
func (b swepcBackend) Stats() map[string]int64 { return b.r.Stats().Map() }

// Close releases the region; it reports an integrity failure if one was
// detected while the region was in use.
func (b swepcBackend) Close() error { return b.r.Close() }
