package report

// The fixture runs record the facts of every mode, as bench run does.
import _ "github.com/enclavebench/enclavebench/bench/mode/all"
