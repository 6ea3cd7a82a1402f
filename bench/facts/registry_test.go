package facts

// The tests ask for the facts of every mode, as a run does.
import _ "github.com/enclavebench/enclavebench/bench/mode/all"
