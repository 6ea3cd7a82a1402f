//go:build linux && sim && !cgo

package swepc

import "errors"

// Region is a software EPC region. Without cgo there is none: New fails.
type Region struct{}

// New fails: the software EPC's fault handler is a C thread.
func New(c Config) (*Region, error) {
	if _, _, err := c.geometry(); err != nil {
		return nil, err
	}
	return nil, errors.New("swepc: this binary was built without cgo; the software EPC needs it (C fault-handler thread, OpenSSL): rebuild with CGO_ENABLED=1")
}

// Bytes is the region.
func (r *Region) Bytes() []byte { return nil }

// Pages is the region's size in pages.
func (r *Region) Pages() int64 { return 0 }

// CapPages is how many pages may be resident.
func (r *Region) CapPages() int64 { return 0 }

// Mode says how the userfaultfd was obtained.
func (r *Region) Mode() OpenMode { return OpenAuto }

// Poison reports whether an integrity failure poisons the page.
func (r *Region) Poison() bool { return false }

// Kind names the backing.
func (r *Region) Kind() string { return "swepc(unavailable: no cgo)" }

// Stats returns the counters.
func (r *Region) Stats() Stats { return Stats{} }

// Err returns the first integrity failure.
func (r *Region) Err() error { return nil }

// Close releases the region.
func (r *Region) Close() error { return nil }
