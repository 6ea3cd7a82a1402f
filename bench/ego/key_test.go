package ego

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
)

// testKeyPEM is one generated signing key shared by the tests (3072-bit
// prime search takes a while).
var testKeyPEM = sync.OnceValue(func() []byte {
	k, err := GenerateKey()
	if err != nil {
		panic(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(k)})
})

// writeTestKey installs the shared key at path (mode 0600, directory 0700).
func writeTestKey(t *testing.T, path string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, testKeyPEM(), 0o600); err != nil {
		t.Fatal(err)
	}
}

func TestEnsureKeyCreates(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	path := filepath.Join(dir, "config", "enclavebench", "enclave-key.pem")
	k, created, err := EnsureKey(path)
	if err != nil || !created {
		t.Fatalf("EnsureKey = %v, created %v", err, created)
	}
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm() != 0o600 {
		t.Errorf("key mode %#o, want 0600", st.Mode().Perm())
	}
	dst, _ := os.Stat(filepath.Dir(path))
	if dst.Mode().Perm() != 0o700 {
		t.Errorf("key directory mode %#o, want 0700", dst.Mode().Perm())
	}
	if k.E != 3 || k.N.BitLen() != 3072 {
		t.Errorf("key has %d bits, exponent %d; SGX needs 3072 and 3", k.N.BitLen(), k.E)
	}
	// It signs and verifies like any RSA key.
	h := sha256.Sum256([]byte("sigstruct"))
	sig, err := rsa.SignPKCS1v15(rand.Reader, k, crypto.SHA256, h[:])
	if err != nil {
		t.Fatal(err)
	}
	if err := rsa.VerifyPKCS1v15(&k.PublicKey, crypto.SHA256, h[:], sig); err != nil {
		t.Fatal(err)
	}
	// No temporary files are left next to it.
	ents, _ := os.ReadDir(filepath.Dir(path))
	if len(ents) != 1 {
		t.Errorf("key directory holds %d entries, want only the key", len(ents))
	}
	// A second call loads the same key.
	k2, created, err := EnsureKey(path)
	if err != nil || created || k2.N.Cmp(k.N) != 0 {
		t.Errorf("second EnsureKey: err %v, created %v, same key %v", err, created, err == nil && k2.N.Cmp(k.N) == 0)
	}
}

func TestEnsureKeyRefusesExposedKeys(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name            string
		dirMode, keyMod os.FileMode
		want            string
	}{
		{"readable key", 0o700, 0o644, "chmod 600"},
		{"open directory", 0o755, 0o600, "chmod 700"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			dir := filepath.Join(t.TempDir(), "keys")
			path := filepath.Join(dir, "k.pem")
			writeTestKey(t, path)
			if err := os.Chmod(path, tt.keyMod); err != nil {
				t.Fatal(err)
			}
			if err := os.Chmod(dir, tt.dirMode); err != nil {
				t.Fatal(err)
			}
			_, _, err := EnsureKey(path)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want it to say %q", err, tt.want)
			}
		})
	}
}

func TestParseKeyRejectsNonSGXKeys(t *testing.T) {
	t.Parallel()
	k1024, err := rsa.GenerateKey(rand.Reader, 1024)
	if err != nil {
		t.Fatal(err)
	}
	p8, _ := x509.MarshalPKCS8PrivateKey(k1024)
	tests := []struct {
		name string
		pem  []byte
		want string
	}{
		{"1024 bits, e=65537", pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: p8}), "3072 bits with exponent 3"},
		{"not PEM", []byte("hello"), "no PEM block"},
		{"public key", pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: []byte{1}}), "not a private key"},
	}
	for _, tt := range tests {
		if _, err := ParseKey(tt.pem); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: err = %v, want it to contain %q", tt.name, err, tt.want)
		}
	}
	if _, err := ParseKey(testKeyPEM()); err != nil {
		t.Errorf("generated key: %v", err)
	}
}

// The key EGo would generate itself (openssl genrsa -out KEY -3 3072,
// ego/cli/sign.go) is accepted too; OpenSSL 3 writes it as PKCS #8.
func TestParseKeyAcceptsEGosOpenSSLKey(t *testing.T) {
	t.Parallel()
	openssl, err := exec.LookPath("openssl")
	if err != nil {
		t.Skip("no openssl")
	}
	path := filepath.Join(t.TempDir(), "private.pem")
	if out, err := exec.Command(openssl, "genrsa", "-out", path, "-3", "3072").CombinedOutput(); err != nil {
		t.Skipf("openssl genrsa: %v\n%s", err, out)
	}
	b, _ := os.ReadFile(path)
	k, err := ParseKey(b)
	if err != nil {
		t.Fatal(err)
	}
	// MRSIGNER as ego signerid computes it: SHA-256 of the modulus, little endian.
	n := k.N.FillBytes(make([]byte, 384))
	slices.Reverse(n)
	sum := sha256.Sum256(n)
	if got := SignerID(&k.PublicKey); got != hex.EncodeToString(sum[:]) {
		t.Errorf("SignerID = %s", got)
	}
}
