// Package callstack takes the Go call stack of a thread stopped in another
// process, from its stack pointer and program counter alone, and names its
// frames: the sim mode's counting pass uses it to say which Go code makes
// each OCALL (docs/sim.md, "OCALLs by call site").
//
// It unwinds as the Go runtime's own traceback does: the binary's pclntab
// records, for every program counter, how far the stack pointer is from
// the frame's top (the pcsp table), so each frame's return address is read
// at sp + delta and the caller's sp follows. That needs no frame pointer
// (a thread stopped in a system call exposes sp and pc in
// /proc/PID/task/TID/syscall, but not rbp) and works at any instruction,
// prologues included. Frames are named with debug/gosym from the same
// table, inlined calls expanded from the binary's inline trees as the
// runtime's own tracebacks do. Limits: a frame outside the Go text (C code
// of cgo, the vDSO) ends the stack; a stripped binary (-ldflags=-s) has no
// inline trees, so an inlined call is then named after its caller.
package callstack

import (
	"bytes"
	"debug/elf"
	"debug/gosym"
	"encoding/binary"
	"errors"
	"fmt"
	"sort"
	"sync"
)

// MaxDepth bounds an unwound stack.
const MaxDepth = 64

// Table is a Go binary's unwinding and symbol table.
type Table struct {
	textStart, textEnd uint64
	pcln               []byte
	funcs              []funcEntry // sorted by entry
	pctab              []byte
	funcnames          []byte
	gofunc             []byte // from go:func.*: the inline trees
	syms               *gosym.Table

	mu     sync.Mutex
	spMemo map[uint64]int32 // pc -> sp delta
	names  map[uint64][]Frame
}

type funcEntry struct {
	entry uint64
	off   uint32 // of the _func record in pcln's function table
}

// Frame is one named frame.
type Frame struct {
	Func string
	File string
	Line int
}

// Go 1.20+ pclntab (runtime/symtab.go pcHeader, runtime2.go _func).
const (
	magic120           = 0xfffffff1
	headerWords        = 8 // nfunc .. pclnOffset after the 8-byte preamble
	funcPCSPOff        = 16
	funcNPCData        = 28
	funcNFuncData      = 43
	funcSize           = 44
	pcdataInlTreeIndex = 2  // internal/abi.PCDATA_InlTreeIndex
	funcdataInlTree    = 3  // internal/abi.FUNCDATA_InlTree
	inlinedCallSize    = 16 // runtime.inlinedCall
)

// Open reads the table of the Go binary at path (linux/amd64, not a
// position-independent executable: its text runs at the addresses the file
// gives).
func Open(path string) (*Table, error) {
	f, err := elf.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	if f.Machine != elf.EM_X86_64 {
		return nil, fmt.Errorf("callstack: %s is not an x86-64 binary", path)
	}
	if f.Type != elf.ET_EXEC {
		return nil, fmt.Errorf("callstack: %s is position-independent (%v): its stacks are not taken", path, f.Type)
	}
	sec := f.Section(".gopclntab")
	text := f.Section(".text")
	if sec == nil || text == nil {
		return nil, fmt.Errorf("callstack: %s has no .gopclntab: not a Go binary", path)
	}
	data, err := sec.Data()
	if err != nil {
		return nil, fmt.Errorf("callstack: %s: %v", path, err)
	}
	// Function entries are offsets from the module's text (runtime.text),
	// which is .text's start unless the external linker put C code first.
	start := text.Addr
	var gofunc uint64
	if syms, err := f.Symbols(); err == nil {
		for _, s := range syms {
			switch s.Name {
			case "runtime.text":
				start = s.Value
			case "go:func.*":
				gofunc = s.Value
			}
		}
	}
	t, err := parse(data, start, text.Addr+text.Size)
	if err != nil {
		return nil, err
	}
	// Inlined calls are named from the inline trees, which live past the
	// go:func.* symbol (a stripped binary has none: no inlined frames).
	for _, s := range f.Sections {
		if gofunc != 0 && s.Type == elf.SHT_PROGBITS && gofunc >= s.Addr && gofunc < s.Addr+s.Size {
			if b, err := s.Data(); err == nil {
				t.gofunc = b[gofunc-s.Addr:]
			}
		}
	}
	return t, nil
}

func parse(data []byte, textAddr, textEnd uint64) (*Table, error) {
	le := binary.LittleEndian
	if len(data) < 8+8*headerWords || le.Uint32(data) != magic120 || data[7] != 8 {
		return nil, errors.New("callstack: unknown pclntab format (this reads Go 1.20 and later, 64-bit)")
	}
	word := func(i int) uint64 { return le.Uint64(data[8+8*i:]) }
	nfunc := int(word(0))
	textStart := textAddr // word(2) is no longer set (Go 1.26 pcHeader)
	namesOff, pctabOff, pclnOff := word(3), word(6), word(7)
	if pclnOff >= uint64(len(data)) || pctabOff >= uint64(len(data)) || namesOff >= uint64(len(data)) {
		return nil, errors.New("callstack: pclntab offsets out of range")
	}
	t := &Table{textStart: textStart, textEnd: textEnd, pcln: data[pclnOff:], pctab: data[pctabOff:],
		funcnames: data[namesOff:], spMemo: map[uint64]int32{}, names: map[uint64][]Frame{}}
	if uint64(len(t.pcln)) < uint64(nfunc+1)*8 {
		return nil, errors.New("callstack: pclntab function table cut short")
	}
	t.funcs = make([]funcEntry, nfunc)
	for i := range t.funcs {
		t.funcs[i] = funcEntry{entry: textStart + uint64(le.Uint32(t.pcln[8*i:])), off: le.Uint32(t.pcln[8*i+4:])}
	}
	if !sort.SliceIsSorted(t.funcs, func(i, j int) bool { return t.funcs[i].entry < t.funcs[j].entry }) {
		return nil, errors.New("callstack: pclntab functions out of order")
	}
	syms, err := gosym.NewTable(nil, gosym.NewLineTable(data, textAddr))
	if err != nil {
		return nil, fmt.Errorf("callstack: symbols: %v", err)
	}
	t.syms = syms
	return t, nil
}

// find returns the function holding pc.
func (t *Table) find(pc uint64) (funcEntry, bool) {
	if pc < t.textStart || pc >= t.textEnd || len(t.funcs) == 0 {
		return funcEntry{}, false
	}
	i := sort.Search(len(t.funcs), func(i int) bool { return t.funcs[i].entry > pc }) - 1
	if i < 0 {
		return funcEntry{}, false
	}
	return t.funcs[i], true
}

// spDelta is the distance from the stack pointer at pc to its frame's
// return address (runtime.funcspdelta).
func (t *Table) spDelta(pc uint64) (int32, bool) {
	t.mu.Lock()
	d, ok := t.spMemo[pc]
	t.mu.Unlock()
	if ok {
		return d, d >= 0
	}
	d = -1
	if f, ok := t.find(pc); ok {
		if v, ok := t.value(f, t.u32(f, funcPCSPOff), pc); ok {
			d = v
		}
	}
	t.mu.Lock()
	t.spMemo[pc] = d
	t.mu.Unlock()
	return d, d >= 0
}

// u32 reads a 32-bit field of f's _func record (0 when out of range).
func (t *Table) u32(f funcEntry, off uint32) uint32 {
	if uint64(f.off)+uint64(off)+4 > uint64(len(t.pcln)) {
		return 0
	}
	return binary.LittleEndian.Uint32(t.pcln[f.off+off:])
}

// value is f's pc-value table at offset tab (into pctab) at pc.
func (t *Table) value(f funcEntry, tab uint32, pc uint64) (int32, bool) {
	if tab == 0 || uint64(tab) >= uint64(len(t.pctab)) {
		return 0, false
	}
	return pcvalue(t.pctab[tab:], f.entry, pc)
}

// inlined returns the calls inlined at pc, innermost first, each as its
// callee's name and the pc of its call site in the caller.
func (t *Table) inlined(pc uint64) (names []string, parents []uint64) {
	f, ok := t.find(pc)
	if !ok || t.gofunc == nil || uint64(f.off)+funcSize > uint64(len(t.pcln)) {
		return nil, nil
	}
	npcdata := t.u32(f, funcNPCData)
	nfuncdata := uint32(t.pcln[f.off+funcNFuncData])
	if npcdata <= pcdataInlTreeIndex || nfuncdata <= funcdataInlTree {
		return nil, nil
	}
	idxTab := t.u32(f, funcSize+4*pcdataInlTreeIndex)
	treeOff := t.u32(f, funcSize+4*npcdata+4*funcdataInlTree)
	if treeOff == ^uint32(0) {
		return nil, nil
	}
	for q := pc; len(names) < MaxDepth; {
		ix, ok := t.value(f, idxTab, q)
		if !ok || ix < 0 {
			break
		}
		at := uint64(treeOff) + uint64(ix)*inlinedCallSize
		if at+inlinedCallSize > uint64(len(t.gofunc)) {
			break
		}
		call := t.gofunc[at : at+inlinedCallSize]
		nameOff := binary.LittleEndian.Uint32(call[4:])
		parentPC := binary.LittleEndian.Uint32(call[8:])
		names = append(names, t.funcName(nameOff))
		q = f.entry + uint64(parentPC)
		parents = append(parents, q)
	}
	return names, parents
}

func (t *Table) funcName(off uint32) string {
	if uint64(off) >= uint64(len(t.funcnames)) {
		return "?"
	}
	b := t.funcnames[off:]
	if i := bytes.IndexByte(b, 0); i >= 0 {
		b = b[:i]
	}
	return string(b)
}

// pcvalue decodes a pc-value table (runtime.pcvalue/step): pairs of a
// zig-zag value delta and a pc delta, both varints, from entry on.
func pcvalue(p []byte, entry, target uint64) (int32, bool) {
	pc, val := entry, int32(-1)
	first := true
	for len(p) > 0 {
		uv, n := binary.Uvarint(p)
		if n <= 0 {
			return 0, false
		}
		if uv == 0 && !first {
			return 0, false
		}
		p = p[n:]
		val += int32(-(uint32(uv) & 1) ^ (uint32(uv) >> 1))
		pd, n := binary.Uvarint(p)
		if n <= 0 {
			return 0, false
		}
		p = p[n:]
		pc += pd // PCQuantum is 1 on amd64
		first = false
		if target < pc {
			return val, true
		}
	}
	return 0, false
}

// ReadFunc reads len(buf) bytes of the stopped thread's memory at addr.
type ReadFunc func(addr uint64, buf []byte) error

// Unwind returns the program counters of the stack of a thread stopped at
// pc with stack pointer sp, innermost first: pc itself, then each
// caller's return address. It stops at MaxDepth, at a frame outside the Go
// text, or at the outermost frame (runtime.goexit, runtime.mstart).
func (t *Table) Unwind(pc, sp uint64, read ReadFunc) []uint64 {
	out := make([]uint64, 0, 16)
	var word [8]byte
	for len(out) < MaxDepth {
		out = append(out, pc)
		if t.outermost(pc) {
			break
		}
		d, ok := t.spDelta(pcForLookup(pc, len(out) == 1))
		if !ok {
			break
		}
		ra := sp + uint64(d)
		if read(ra, word[:]) != nil {
			break
		}
		next := binary.LittleEndian.Uint64(word[:])
		if _, ok := t.find(next - 1); !ok {
			break
		}
		pc, sp = next, ra+8
	}
	return out
}

// pcForLookup is the pc whose table entry describes a frame: a return
// address points after the call, possibly at the next function's first
// instruction, so a caller's frame is looked up at pc-1.
func pcForLookup(pc uint64, innermost bool) uint64 {
	if innermost {
		return pc
	}
	return pc - 1
}

func (t *Table) outermost(pc uint64) bool {
	fr := t.Name(pc, true)
	switch fr[len(fr)-1].Func {
	case "runtime.goexit", "runtime.mstart", "runtime.mstart0", "runtime.rt0_go", "runtime.morestack", "runtime.systemstack_switch":
		return true
	}
	return false
}

// Name names the frames at pc, innermost first: the calls inlined there,
// then the function holding pc. innermost says pc is where the thread
// stopped, not a return address (which is named at pc-1, the call).
func (t *Table) Name(pc uint64, innermost bool) []Frame {
	q := pcForLookup(pc, innermost)
	t.mu.Lock()
	fr, ok := t.names[q]
	t.mu.Unlock()
	if ok {
		return fr
	}
	names, parents := t.inlined(q)
	at := q
	for i, name := range names {
		file, line, _ := t.syms.PCToLine(at)
		fr = append(fr, Frame{Func: name, File: file, Line: line})
		at = parents[i]
	}
	file, line, fn := t.syms.PCToLine(at)
	outer := Frame{File: file, Line: line, Func: fmt.Sprintf("0x%x", pc)}
	if fn != nil {
		outer.Func = fn.Name
	}
	fr = append(fr, outer)
	t.mu.Lock()
	t.names[q] = fr
	t.mu.Unlock()
	return fr
}
