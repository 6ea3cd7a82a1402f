package sizes

import "testing"

// AddRowsForTest adds rows to the catalog for the length of a test, as
// the "Adding a size family" recipe adds them to the catalog's source.
func AddRowsForTest(t testing.TB, rows ...Size) {
	saved := catalog
	t.Cleanup(func() { catalog = saved })
	catalog = append(append([]Size(nil), saved...), rows...)
}
