package kvstore

import (
	"errors"
	"math/bits"
	"sort"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/enclavebench/enclavebench/workloads/arena"
)

// ValueBytes is the size of a value; with its 8-byte key a slot fills one
// 64-byte cache line.
const ValueBytes = 56

// SlotBytes is the arena bytes one slot takes.
const SlotBytes = 8 + ValueBytes

// Value is a stored value.
type Value [ValueBytes]byte

type slot struct {
	key uint64 // 0: empty
	val Value
}

// ErrFull is returned by Put when the table has no free slot left for a
// new key (it keeps one free so that lookups of absent keys end).
var ErrFull = errors.New("kvstore: table is full")

// Table is an open-addressing hash table with linear probing over
// fixed-size slots in one arena. Keys are non-zero uint64s.
type Table struct {
	a     *arena.Arena
	slots []slot
	n     int
}

// NewTable makes an empty table of bytes / SlotBytes slots (at least 2).
func NewTable(bytes int64) (*Table, error) {
	n := bytes / SlotBytes
	if n < 2 {
		return nil, errors.New("kvstore: table needs room for at least 2 slots")
	}
	a, err := arena.New(n * SlotBytes)
	if err != nil {
		return nil, err
	}
	mem := a.Bytes()
	prefault(a)
	return &Table{a: a, slots: unsafe.Slice((*slot)(unsafe.Pointer(unsafe.SliceData(mem))), n)}, nil
}

// Cap is the number of slots.
func (t *Table) Cap() int { return len(t.slots) }

// Len is the number of keys.
func (t *Table) Len() int { return t.n }

// home is key's first slot: a multiplicative hash mapped onto the slots
// with a multiply-high (no power-of-two size needed).
func (t *Table) home(key uint64) int {
	hi, _ := bits.Mul64(key*0x9e3779b97f4a7c15, uint64(len(t.slots)))
	return int(hi)
}

// Get returns key's value in the table (valid until the next Put), or nil.
func (t *Table) Get(key uint64) *Value {
	s := t.slots
	for i := t.home(key); ; {
		k := s[i].key
		if k == key {
			return &s[i].val
		}
		if k == 0 {
			return nil
		}
		if i++; i == len(s) {
			i = 0
		}
	}
}

// Put sets key's value, inserting the key when it is new.
func (t *Table) Put(key uint64, v *Value) error {
	if key == 0 {
		return errors.New("kvstore: key 0 is reserved")
	}
	s := t.slots
	for i := t.home(key); ; {
		k := s[i].key
		if k == key {
			s[i].val = *v
			return nil
		}
		if k == 0 {
			if t.n+1 >= len(s) {
				return ErrFull
			}
			s[i].key, s[i].val = key, *v
			t.n++
			return nil
		}
		if i++; i == len(s) {
			i = 0
		}
	}
}

// homeBuckets is the number of buckets of homeOrder's counting sort.
const homeBuckets = 1 << 16

// homeOrder returns the ranks 0..n-1 ordered by the home slot of their
// keys (a counting sort on the top bits of the home), so that filling the
// table walks its memory once in order instead of jumping at random: the
// table ends up the same up to the order of keys within a probe run, and
// the fill no longer takes seconds of cache and TLB misses on large tables.
func (t *Table) homeOrder(n int) []uint32 {
	const buckets = homeBuckets
	scale := t.homeScale()
	counts := make([]uint32, buckets+1)
	for r := 0; r < n; r++ {
		counts[uint64(t.home(KeyOf(uint64(r))))/scale+1]++
	}
	for i := 1; i <= buckets; i++ {
		counts[i] += counts[i-1]
	}
	order := make([]uint32, n)
	for r := 0; r < n; r++ {
		b := uint64(t.home(KeyOf(uint64(r)))) / scale
		order[counts[b]] = uint32(r)
		counts[b]++
	}
	return order
}

// homeScale is the slots of one of homeOrder's buckets.
func (t *Table) homeScale() uint64 { return uint64(len(t.slots))/homeBuckets + 1 }

// homeTail returns the index of order (homeOrder's over this table) from
// which on the keys are those of the buckets from the one holding slot
// from: every key whose home is from or later, and the keys of that
// bucket homed before from (at most a bucket of scale slots).
func (t *Table) homeTail(order []uint32, from int) int {
	scale := t.homeScale()
	b := uint64(max(from, 0)) / scale
	return sort.Search(len(order), func(i int) bool {
		return uint64(t.home(KeyOf(uint64(order[i]))))/scale >= b
	})
}

// prefault asks the kernel to back a plain arena at once
// (MADV_POPULATE_WRITE, Linux 5.14+): far cheaper than one fault per page
// on first touch, which made filling a 2xEPC table take seconds. Errors
// (older kernels, EGo's in-enclave madvise) are ignored: the pages then
// fault in as they are filled. The sim build's software EPC is left alone,
// so that its paging counts stay those of the workload.
func prefault(a *arena.Arena) {
	if a.Kind() == "plain" {
		_ = unix.Madvise(a.Bytes(), unix.MADV_POPULATE_WRITE)
	}
}

// Close releases the arena.
func (t *Table) Close() error { return t.a.Close() }
