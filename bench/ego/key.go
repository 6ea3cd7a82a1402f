package ego

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"math/big"
	"os"
	"path/filepath"
	"slices"
)

// The enclave signing key. SGX's SIGSTRUCT takes a 3072-bit RSA key with
// public exponent 3 (Open Enclave host/sgx/sgxsign.c _get_exponent fails
// with OE_INVALID_SGX_SIGNING_KEY otherwise). `ego sign` would create one
// itself with `openssl genrsa -out KEY -3 3072` when the key file is
// missing (ego/cli/sign.go createDefaultKeypair), but with openssl's file
// mode in whatever directory holds it; the harness creates the key first,
// in Go, so its permissions are ours and openssl is not needed.
const (
	keyBits     = 3072
	keyExponent = 3
)

// EnsureKey loads the signing key at path or creates it: mode 0600 in a
// directory of mode 0700 (created if missing). A key or directory others
// can read is refused rather than silently tightened, since the key may
// already have leaked.
func EnsureKey(path string) (key *rsa.PrivateKey, created bool, err error) {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, false, fmt.Errorf("signing key directory: %w", err)
	}
	st, err := os.Stat(dir)
	if err != nil {
		return nil, false, err
	}
	if st.Mode().Perm()&0o077 != 0 {
		return nil, false, fmt.Errorf("signing key directory %s has mode %#o, others can reach the key: chmod 700 %s, or choose a private directory", dir, st.Mode().Perm(), dir)
	}
	b, err := os.ReadFile(path)
	if err == nil {
		st, err := os.Stat(path)
		if err != nil {
			return nil, false, err
		}
		if st.Mode().Perm()&0o077 != 0 {
			return nil, false, fmt.Errorf("signing key %s has mode %#o, others can read it: chmod 600 %s", path, st.Mode().Perm(), path)
		}
		k, err := ParseKey(b)
		if err != nil {
			return nil, false, fmt.Errorf("signing key %s: %w", path, err)
		}
		return k, false, nil
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return nil, false, fmt.Errorf("signing key: %w", err)
	}
	k, err := GenerateKey()
	if err != nil {
		return nil, false, err
	}
	if err := writeKey(path, k); err != nil {
		return nil, false, err
	}
	return k, true, nil
}

// writeKey writes k to path without ever exposing a partial or readable
// file, and without replacing a key another process created meanwhile.
func writeKey(path string, k *rsa.PrivateKey) error {
	f, err := os.CreateTemp(filepath.Dir(path), ".key-*")
	if err != nil {
		return fmt.Errorf("signing key: %w", err)
	}
	tmp := f.Name()
	defer os.Remove(tmp)
	if err := f.Chmod(0o600); err != nil {
		f.Close()
		return err
	}
	block := &pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(k)}
	if err := pem.Encode(f, block); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	if err := os.Link(tmp, path); err != nil {
		if errors.Is(err, fs.ErrExist) {
			return nil // another process created it first; theirs is used
		}
		return fmt.Errorf("signing key: %w", err)
	}
	return nil
}

// GenerateKey creates an SGX signing key: RSA 3072 with exponent 3.
// crypto/rsa.GenerateKey always uses 65537, so the primes are chosen here
// (p-1 and q-1 coprime to 3) and the key is checked with Validate.
func GenerateKey() (*rsa.PrivateKey, error) {
	e := big.NewInt(keyExponent)
	one := big.NewInt(1)
	prime := func() (*big.Int, error) {
		for {
			p, err := rand.Prime(rand.Reader, keyBits/2)
			if err != nil {
				return nil, err
			}
			if new(big.Int).GCD(nil, nil, e, new(big.Int).Sub(p, one)).Cmp(one) == 0 {
				return p, nil
			}
		}
	}
	for {
		p, err := prime()
		if err != nil {
			return nil, err
		}
		q, err := prime()
		if err != nil {
			return nil, err
		}
		n := new(big.Int).Mul(p, q)
		if p.Cmp(q) == 0 || n.BitLen() != keyBits {
			continue
		}
		phi := new(big.Int).Mul(new(big.Int).Sub(p, one), new(big.Int).Sub(q, one))
		d := new(big.Int).ModInverse(e, phi)
		if d == nil {
			continue
		}
		k := &rsa.PrivateKey{PublicKey: rsa.PublicKey{N: n, E: keyExponent}, D: d, Primes: []*big.Int{p, q}}
		k.Precompute()
		if err := k.Validate(); err != nil {
			return nil, fmt.Errorf("generated signing key is invalid: %w", err)
		}
		return k, nil
	}
}

// ParseKey reads a PEM signing key (PKCS #1 or PKCS #8) and checks that SGX
// accepts it.
func ParseKey(b []byte) (*rsa.PrivateKey, error) {
	block, _ := pem.Decode(b)
	if block == nil {
		return nil, errors.New("no PEM block")
	}
	var k *rsa.PrivateKey
	switch block.Type {
	case "RSA PRIVATE KEY":
		var err error
		if k, err = x509.ParsePKCS1PrivateKey(block.Bytes); err != nil {
			return nil, err
		}
	case "PRIVATE KEY":
		key, err := x509.ParsePKCS8PrivateKey(block.Bytes)
		if err != nil {
			return nil, err
		}
		var ok bool
		if k, ok = key.(*rsa.PrivateKey); !ok {
			return nil, fmt.Errorf("a %T key, SGX needs RSA 3072 with exponent 3", key)
		}
	default:
		return nil, fmt.Errorf("PEM block %q is not a private key", block.Type)
	}
	if k.N.BitLen() != keyBits || k.E != keyExponent {
		return nil, fmt.Errorf("RSA %d bits with exponent %d, SGX needs 3072 bits with exponent 3 (openssl genrsa -3 3072)", k.N.BitLen(), k.E)
	}
	return k, nil
}

// SignerID returns the MRSIGNER of enclaves signed with pub: the SHA-256 of
// the modulus in little-endian byte order (ego/cli/signerid.go).
func SignerID(pub *rsa.PublicKey) string {
	n := pub.N.FillBytes(make([]byte, keyBits/8))
	slices.Reverse(n)
	sum := sha256.Sum256(n)
	return hex.EncodeToString(sum[:])
}
