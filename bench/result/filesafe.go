package result

import (
	"crypto/sha256"
	"encoding/hex"
	"strings"
)

// FileSafe makes a cell key a file name for the files a run keeps per cell
// (profiles, provenance): characters other than letters, digits and =.-_
// become _, cut at 160, with 8 hex digits of the key's SHA-256 so that two
// keys that sanitize alike stay apart.
func FileSafe(key string) string {
	var b strings.Builder
	for _, r := range key {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '=', r == '.', r == '-', r == '_':
			b.WriteRune(r)
		default:
			b.WriteByte('_')
		}
	}
	name := b.String()
	if len(name) > 160 {
		name = name[:160]
	}
	sum := sha256.Sum256([]byte(key))
	return name + "-" + hex.EncodeToString(sum[:4])
}
