// Package fileio measures file I/O the two ways an EGo enclave offers it:
// host files (fs=host: every pread, pwrite and fsync leaves the enclave as
// an OCALL, and the data is copied across the boundary) and the in-enclave
// memfs (fs=memfs: served inside the enclave from enclave memory, no OCALL,
// but nothing reaches a disk). Sequential and random access, reads, writes
// and writes made durable with fsync, in blocks of 4 KiB or more over a
// file of 16 MiB (in the host's page cache: this isolates the call and copy
// cost, not the disk).
//
// memfs exists only inside an EGo enclave: elsewhere the cell reports "not
// applicable" (protocol na), never a figure.
//
// One operation is one block: pread (read), pwrite (write), or pwrite then
// fsync (fsync). seq walks the file block by block and wraps; random picks
// blocks with a xorshift generator.
package fileio

import (
	"errors"
	"fmt"
	"math/bits"
	"os"
	"syscall"

	"golang.org/x/sys/unix"

	"github.com/enclavebench/enclavebench/workloads/protocol"
	"github.com/enclavebench/enclavebench/workloads/workload"
)

// Spec declares the workload.
var Spec = &workload.Spec{
	Name: "fileio",
	Doc:  "file reads, writes and fsync through host files (OCALLs) or EGo's in-enclave memfs",
	Params: []workload.Param{
		{Name: "fs", Doc: "host: a host file (OCALLs in an enclave); memfs: EGo's in-enclave memfs (enclave only, else na)",
			Range: "host, memfs", Quick: []string{"host", "memfs"}, Full: []string{"host", "memfs"},
			Check: workload.OneOf("host", "memfs")},
		{Name: "access", Doc: "seq: block after block; random: random blocks", Range: "seq, random",
			Quick: []string{"seq", "random"}, Full: []string{"seq", "random"}, Check: workload.OneOf("seq", "random")},
		{Name: "op", Doc: "read (pread), write (pwrite), fsync (pwrite then fsync)", Range: "read, write, fsync",
			Quick: []string{"read", "fsync"}, Full: []string{"read", "write", "fsync"}, Check: workload.OneOf("read", "write", "fsync")},
		{Name: "block", Doc: "bytes per operation", Range: "512B .. 16MiB, no more than the file",
			Quick: []string{"4KiB"}, Full: []string{"4KiB", "64KiB"}, Check: workload.BytesInRange(512, 16<<20)},
		{Name: "file", Doc: "file size", Range: "64KiB .. 64GiB, no more than the host's memory",
			Quick: []string{"16MiB"}, Full: []string{"16MiB"}, Check: workload.BytesInRange(64<<10, 64<<30)},
	},
	Metrics: []workload.Metric{
		{Unit: "MB/s", Better: protocol.Higher, Doc: "bytes read or written per second"},
		{Unit: "ns/op", Better: protocol.Lower, Doc: "time per block"},
	},
	New:         newBench,
	Parallelism: workload.Serial,
	Footprint:   footprint,
}

// footprint: a memfs file lives in enclave memory.
func footprint(env workload.Env) int64 {
	if env.Parameters["fs"] != "memfs" {
		return 0
	}
	n, err := workload.ParseBytes(env.Parameters["file"], env)
	if err != nil {
		return 0
	}
	return n
}

// Config is one fileio cell.
type Config struct {
	Dir    string
	Random bool
	Op     string // read, write, fsync
	Block  int
	File   int64
}

type bench struct {
	f      *os.File
	fd     int
	c      Config
	blocks uint64
	buf    []byte
	pos    uint64
	rng    uint64
}

func newBench(env workload.Env) (workload.Bench, error) {
	dir := env.TempDir
	if env.Parameters["fs"] == "memfs" {
		if !env.InEnclave {
			return nil, workload.NotApplicable{Reason: "fileio fs=memfs: EGo's memfs exists only inside an enclave"}
		}
		if env.MemfsDir == "" {
			return nil, workload.NotApplicable{Reason: "fileio fs=memfs: the enclave mode gave no memfs directory (--memfs-dir)"}
		}
		dir = env.MemfsDir
	}
	block, err := workload.ParseBytes(env.Parameters["block"], env)
	if err != nil {
		return nil, err
	}
	file, err := workload.ParseBytes(env.Parameters["file"], env)
	if err != nil {
		return nil, err
	}
	return New(Config{Dir: dir, Random: env.Parameters["access"] == "random", Op: env.Parameters["op"],
		Block: int(block), File: file})
}

// New creates and fills the file of c.
func New(c Config) (workload.Bench, error) {
	if c.Block <= 0 || int64(c.Block) > c.File {
		return nil, fmt.Errorf("fileio: block of %d bytes does not fit a file of %d bytes", c.Block, c.File)
	}
	if c.Dir == "" {
		c.Dir = os.TempDir()
	}
	f, err := os.CreateTemp(c.Dir, "fileio-*.dat")
	if err != nil {
		return nil, explain(err, c.Dir)
	}
	os.Remove(f.Name()) // the descriptor stays usable; nothing is left behind
	b := &bench{f: f, fd: int(f.Fd()), c: c, blocks: uint64(c.File / int64(c.Block)),
		buf: make([]byte, c.Block), rng: 0x9e3779b97f4a7c15}
	chunk := make([]byte, 1<<20)
	for i := range chunk {
		chunk[i] = byte(i)
	}
	for off := int64(0); off < c.File; off += int64(len(chunk)) {
		if _, err := f.WriteAt(chunk[:min(int64(len(chunk)), c.File-off)], off); err != nil {
			f.Close()
			return nil, explain(err, c.Dir)
		}
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return nil, explain(err, c.Dir)
	}
	return b, nil
}

// explain turns a full or read-only file system into an error that says so.
func explain(err error, dir string) error {
	switch {
	case errors.Is(err, syscall.ENOSPC), errors.Is(err, syscall.EDQUOT):
		return fmt.Errorf("fileio: the file system of %s is full (%v): free space or point --tmpdir at another directory", dir, err)
	case errors.Is(err, syscall.EROFS):
		return fmt.Errorf("fileio: %s is on a read-only file system: point --tmpdir at a writable directory", dir)
	case errors.Is(err, syscall.EACCES), errors.Is(err, syscall.EPERM):
		return fmt.Errorf("fileio: %s is not writable (%v): point --tmpdir at a writable directory", dir, err)
	}
	return fmt.Errorf("fileio: %w", err)
}

func (b *bench) next() int64 {
	if b.c.Random {
		x := b.rng
		x ^= x << 13
		x ^= x >> 7
		x ^= x << 17
		b.rng = x
		i, _ := bits.Mul64(x, b.blocks)
		return int64(i) * int64(b.c.Block)
	}
	off := int64(b.pos) * int64(b.c.Block)
	if b.pos++; b.pos == b.blocks {
		b.pos = 0
	}
	return off
}

func (b *bench) Run(n int, r *workload.Report) error {
	r.BytesPerOp = int64(b.c.Block)
	calls := int64(n)
	for i := 0; i < n; i++ {
		off := b.next()
		var err error
		switch b.c.Op {
		case "read":
			_, err = unix.Pread(b.fd, b.buf, off)
		case "write":
			_, err = unix.Pwrite(b.fd, b.buf, off)
		case "fsync":
			if _, err = unix.Pwrite(b.fd, b.buf, off); err == nil {
				err = unix.Fsync(b.fd)
			}
		default:
			return fmt.Errorf("fileio: unknown op %q", b.c.Op)
		}
		if err != nil {
			return explain(fmt.Errorf("%s at offset %d: %w", b.c.Op, off, err), b.c.Dir)
		}
	}
	if b.c.Op == "fsync" {
		calls *= 2
	}
	r.Event(protocol.EventSyscalls, calls)
	return nil
}

func (b *bench) Close() error { return b.f.Close() }
