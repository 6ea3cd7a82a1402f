// Package all registers every mode of enclavebench: import it for its side
// effect where the full set of modes must be known (the bench command, and
// tests of packages that validate mode names).
package all

import (
	// Each mode package registers its modes in init.
	_ "github.com/enclavebench/enclavebench/bench/ego"
	_ "github.com/enclavebench/enclavebench/bench/mode"
	_ "github.com/enclavebench/enclavebench/bench/sim"
)
