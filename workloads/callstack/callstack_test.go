package callstack

import (
	"debug/elf"
	"encoding/binary"
	"os"
	"runtime"
	"testing"
)

// ownTable is the test binary's own table and its pclntab bytes.
func ownTable(t testing.TB) (*Table, []byte, uint64, uint64) {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	tb, err := Open(exe)
	if err != nil {
		t.Skipf("the test binary has no table here: %v", err)
	}
	f, err := elf.Open(exe)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	data, err := f.Section(".gopclntab").Data()
	if err != nil {
		t.Fatal(err)
	}
	text := f.Section(".text")
	return tb, data, tb.textStart, text.Addr + text.Size
}

//go:noinline
func here() uintptr {
	pc, _, _, _ := runtime.Caller(0)
	return pc
}

// TestNameAndUnwindOwnStack names a pc of this test and unwinds this
// goroutine's own stack from a known sp: the frames must include the
// test's caller chain as the runtime reports it.
func TestNameAndUnwindOwnStack(t *testing.T) {
	tb, _, _, _ := ownTable(t)
	fr := tb.Name(uint64(here()), true)
	if fr[len(fr)-1].Func != "github.com/enclavebench/enclavebench/workloads/callstack.here" || fr[len(fr)-1].Line == 0 {
		t.Fatalf("Name(here) = %+v", fr)
	}
	// A stack laid out as the unwinder expects: the return address of
	// tRunner's call into this test, found by the runtime's own traceback.
	pcs := make([]uintptr, 8)
	n := runtime.Callers(1, pcs)
	var names []string
	for _, pc := range pcs[:n] {
		f := tb.Name(uint64(pc), false)
		names = append(names, f[len(f)-1].Func)
	}
	want := runtime.FuncForPC(pcs[1] - 1).Name()
	if len(names) < 2 || names[1] != want {
		t.Errorf("return addresses named %v, want %s second", names, want)
	}
	// spDelta is the frame's size at a return address: positive and
	// 8-aligned for a Go function with a frame.
	if d, ok := tb.spDelta(uint64(pcs[1]) - 1); !ok || d <= 0 || d%8 != 0 {
		t.Errorf("spDelta at tRunner's call = %d, %v", d, ok)
	}
	// Unwinding over memory that reads nothing stops after the first frame.
	got := tb.Unwind(uint64(here()), 0x1000, func(uint64, []byte) error { return os.ErrNotExist })
	if len(got) != 1 {
		t.Errorf("Unwind over unreadable memory = %v", got)
	}
}

// FuzzParse feeds the parser corrupted tables: it fails or names and
// unwinds without panicking.
func FuzzParse(f *testing.F) {
	_, data, start, end := ownTable(f)
	f.Add(data[:min(len(data), 1<<16)], uint64(0))
	f.Add([]byte{0xf1, 0xff, 0xff, 0xff, 0, 0, 1, 8}, uint64(0))
	f.Fuzz(func(t *testing.T, b []byte, pc uint64) {
		tb, err := parse(b, start, end)
		if err != nil {
			return
		}
		mem := func(addr uint64, buf []byte) error {
			binary.LittleEndian.PutUint64(buf, start+addr%(end-start+1))
			return nil
		}
		tb.Unwind(start+pc%(end-start+1), 0, mem)
		tb.Name(start+pc%(end-start+1), false)
	})
}
