package session

// The tests construct every mode, as bench run does.
import _ "github.com/enclavebench/enclavebench/bench/mode/all"
