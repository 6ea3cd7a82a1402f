package ssh

// The suites in these tests name the enclave modes, which register from
// their own packages.
import _ "github.com/enclavebench/enclavebench/bench/mode/all"
