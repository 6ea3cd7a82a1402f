package nobuild

import "testing"

// Does not compile: bench run --gotest must show the compiler's message.
func BenchmarkX(b *testing.B) {
	notDefined()
}
