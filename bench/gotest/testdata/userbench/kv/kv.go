// Package kv is a toy key-value store: the code under test of the
// enclavebench --gotest test module.
package kv

import "crypto/sha256"

// Store maps keys to values.
type Store struct{ m map[string][]byte }

// New returns an empty store.
func New() *Store { return &Store{m: map[string][]byte{}} }

// Put stores a copy of v under k.
func (s *Store) Put(k string, v []byte) { s.m[k] = append([]byte(nil), v...) }

// Get returns the value of k.
func (s *Store) Get(k string) []byte { return s.m[k] }

// Sum hashes b.
func Sum(b []byte) [32]byte { return sha256.Sum256(b) }
