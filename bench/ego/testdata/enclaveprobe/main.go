// Command enclaveprobe reports, from inside an EGo enclave, what only a
// real enclave can show: whether EGo's in-enclave detection says it runs
// inside, which of the named environment variables it sees, and where its
// files go. TestRealEGo (bench/ego) builds it with ego-go, signs it with
// the enclave.json the harness generates and runs it with `ego run`.
//
// Usage: enclaveprobe -memfs FILE -hostfs FILE [-env NAME]...
// It writes FILE on memfs and on the host mount, reads the memfs file
// back, and prints one line: "probe: " and a JSON object.
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"strings"

	"github.com/enclavebench/enclavebench/workloads/enclave"
)

type names []string

func (n *names) String() string     { return strings.Join(*n, ",") }
func (n *names) Set(s string) error { *n = append(*n, s); return nil }

type report struct {
	InEnclave   bool               `json:"in_enclave"`
	Simulated   bool               `json:"simulated"`
	MemfsDir    string             `json:"memfs_dir"`
	Env         map[string]*string `json:"env"`
	MemfsWrite  string             `json:"memfs_write"` // "" or the error
	MemfsRead   string             `json:"memfs_read"`  // what was read back
	HostfsWrite string             `json:"hostfs_write"`
}

func main() {
	var env names
	memfs := flag.String("memfs", "", "file to write on memfs")
	hostfs := flag.String("hostfs", "", "file to write through the host mount")
	flag.Var(&env, "env", "environment variable to report (repeatable)")
	flag.Parse()
	r := report{InEnclave: enclave.InEnclave(), Simulated: enclave.Simulated(), MemfsDir: enclave.Memfs(), Env: map[string]*string{}}
	for _, n := range env {
		if v, ok := os.LookupEnv(n); ok {
			r.Env[n] = &v
		} else {
			r.Env[n] = nil
		}
	}
	const content = "written inside the enclave\n"
	if err := os.WriteFile(*memfs, []byte(content), 0o644); err != nil {
		r.MemfsWrite = err.Error()
	} else if b, err := os.ReadFile(*memfs); err != nil {
		r.MemfsRead = "error: " + err.Error()
	} else {
		r.MemfsRead = string(b)
	}
	if err := os.WriteFile(*hostfs, []byte(content), 0o644); err != nil {
		r.HostfsWrite = err.Error()
	}
	b, _ := json.Marshal(r)
	fmt.Printf("probe: %s\n", b)
}
